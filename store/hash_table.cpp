#include "store/hash_table.h"

#include <cstring>
#include <random>
#include <utility>

namespace rc {
namespace {

uint64_t process_seed() {
  static const uint64_t seed = [] {
    std::random_device device;
    return (static_cast<uint64_t>(device()) << 32) ^ device();
  }();
  return seed;
}

uint64_t mix(uint64_t value) {
  // Final avalanche of MurmurHash3 (fmix64).
  value ^= value >> 33;
  value *= 0xff51afd7ed558ccdULL;
  value ^= value >> 33;
  value *= 0xc4ceb9fe1a85ec53ULL;
  value ^= value >> 33;
  return value;
}

uint64_t reverse_bits(uint64_t v) {
  v = ((v >> 1) & 0x5555555555555555ULL) | ((v & 0x5555555555555555ULL) << 1);
  v = ((v >> 2) & 0x3333333333333333ULL) | ((v & 0x3333333333333333ULL) << 2);
  v = ((v >> 4) & 0x0F0F0F0F0F0F0F0FULL) | ((v & 0x0F0F0F0F0F0F0F0FULL) << 4);
  v = ((v >> 8) & 0x00FF00FF00FF00FFULL) | ((v & 0x00FF00FF00FF00FFULL) << 8);
  v = ((v >> 16) & 0x0000FFFF0000FFFFULL) | ((v & 0x0000FFFF0000FFFFULL) << 16);
  return (v >> 32) | (v << 32);
}

constexpr size_t kMinBuckets = 4;

}  // namespace

uint64_t hash_key(std::string_view key) {
  // 8 bytes at a time, each word mixed into the state; short keys (the common case) take one or two rounds.
  uint64_t state = process_seed() ^ (key.size() * 0x9e3779b97f4a7c15ULL);
  const char* data = key.data();
  size_t remaining = key.size();
  while (remaining >= 8) {
    uint64_t word;
    std::memcpy(&word, data, 8);
    state = mix(state ^ word) + 0x9e3779b97f4a7c15ULL;
    data += 8;
    remaining -= 8;
  }
  uint64_t tail = 0;
  if (remaining > 0) std::memcpy(&tail, data, remaining);
  return mix(state ^ tail ^ (static_cast<uint64_t>(remaining) << 59));
}

HashTable::HashTable(HashTable&& other) noexcept
    : buckets_(std::move(other.buckets_)), size_(std::exchange(other.size_, 0)) {
  other.buckets_.clear();
}

HashTable& HashTable::operator=(HashTable&& other) noexcept {
  if (this != &other) {
    HashTable doomed(std::move(*this));
    buckets_ = std::move(other.buckets_);
    other.buckets_.clear();
    size_ = std::exchange(other.size_, 0);
  }
  return *this;
}

HashTable::~HashTable() {
  // Entries are freed in bucket order. A table built in that order (a copy, a stored SUNIONSTORE result:
  // set_value::for_each) has them at ascending addresses, which is also the cheap order for glibc: freeing
  // the bucket array at the end makes it coalesce every freed chunk (malloc_consolidate), and chunks freed
  // in ascending order merge one by one into the top of the heap, where scattered ones each need a cache
  // miss and an unlink from a free list (that cost a million-member set's DEL four times Redis's time).
  // A table filled member by member has its entries spread over memory in no order the buckets follow, so
  // each one is a cache miss: asking for the entries some buckets ahead lets those misses overlap.
  constexpr size_t kPrefetchDistance = 32;
  const size_t count = buckets_.size();
  for (size_t i = 0; i < count; ++i) {
    if (i + kPrefetchDistance < count && buckets_[i + kPrefetchDistance] != nullptr) {
      __builtin_prefetch(buckets_[i + kPrefetchDistance]);
    }
    Entry* head = buckets_[i];
    while (head != nullptr) {
      Entry* next = head->next;
      Entry::destroy(head);
      head = next;
    }
  }
}

Entry** HashTable::find_link(std::string_view key, uint64_t hash) {
  if (buckets_.empty()) return nullptr;
  Entry** link = &buckets_[hash & (buckets_.size() - 1)];
  while (*link != nullptr) {
    if ((*link)->key() == key) return link;
    link = &(*link)->next;
  }
  return nullptr;
}

Entry* HashTable::find(std::string_view key, uint64_t hash) const {
  if (buckets_.empty()) return nullptr;
  for (Entry* entry = buckets_[hash & (buckets_.size() - 1)]; entry != nullptr; entry = entry->next) {
    if (entry->key() == key) return entry;
  }
  return nullptr;
}

void HashTable::insert(Entry* entry, uint64_t hash) {
  grow_if_needed();
  Entry*& head = buckets_[hash & (buckets_.size() - 1)];
  entry->next = head;
  head = entry;
  ++size_;
}

Entry* HashTable::replace(Entry** link, Entry* replacement) {
  Entry* old = *link;
  replacement->next = old->next;
  old->next = nullptr;
  *link = replacement;
  return old;
}

Entry* HashTable::remove(Entry** link) {
  Entry* old = *link;
  *link = old->next;
  old->next = nullptr;
  --size_;
  shrink_if_sparse();
  return old;
}

HashTable HashTable::copy() const {
  HashTable duplicate;
  duplicate.buckets_.assign(buckets_.size(), nullptr);
  for (size_t i = 0; i < buckets_.size(); ++i) {
    // Same bucket count, so every copy goes to the same bucket: no rehash.
    for (const Entry* entry = buckets_[i]; entry != nullptr; entry = entry->next) {
      Entry* twin = Entry::create(entry->key(), entry->value());
      twin->next = duplicate.buckets_[i];
      duplicate.buckets_[i] = twin;
    }
  }
  duplicate.size_ = size_;
  return duplicate;
}

size_t HashTable::allocated_bytes() const {
  size_t total = buckets_.capacity() * sizeof(Entry*);
  for (const Entry* head : buckets_) {
    for (const Entry* entry = head; entry != nullptr; entry = entry->next) total += entry->allocated_size();
  }
  return total;
}

HashTable HashTable::take_all() {
  HashTable taken(std::move(*this));
  buckets_.clear();
  size_ = 0;
  return taken;
}

uint64_t HashTable::next_cursor(uint64_t cursor, uint64_t mask) {
  // Increment the cursor's bits from the top down (Redis's dictScan): buckets of a grown or shrunk table
  // that correspond to visited ones keep being skipped, so nothing present throughout is missed.
  cursor |= ~mask;
  cursor = reverse_bits(cursor);
  ++cursor;
  return reverse_bits(cursor);
}

bool HashTable::covered_before(const Entry* entry, uint64_t cursor) {
  return reverse_bits(hash_key(entry->key())) < reverse_bits(cursor);
}

void HashTable::resize(size_t bucket_count) {
  std::vector<Entry*> fresh(bucket_count, nullptr);
  const uint64_t mask = bucket_count - 1;
  for (Entry* head : buckets_) {
    while (head != nullptr) {
      Entry* next = head->next;
      Entry*& slot = fresh[hash_key(head->key()) & mask];
      head->next = slot;
      slot = head;
      head = next;
    }
  }
  buckets_.swap(fresh);
}

void HashTable::grow_if_needed() {
  if (buckets_.empty()) {
    buckets_.assign(kMinBuckets, nullptr);
  } else if (size_ >= buckets_.size()) {
    resize(buckets_.size() * 2);
  }
}

void HashTable::shrink_if_sparse() {
  // Below 1/8 full, halve until the table is at least 1/2 full again (never below the minimum).
  if (buckets_.size() <= kMinBuckets || size_ * 8 >= buckets_.size()) return;
  size_t target = buckets_.size();
  while (target > kMinBuckets && size_ * 2 < target) target /= 2;
  if (size_ == 0) {
    buckets_.clear();
    buckets_.shrink_to_fit();
    return;
  }
  resize(target);
}

}  // namespace rc
