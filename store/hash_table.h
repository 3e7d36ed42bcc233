#pragma once
// A chained hash table of Entry with a power-of-two bucket count, as Redis's dict: it supports the
// reverse-binary SCAN cursor, which returns every key present for a whole scan at least once even when the
// table grows or shrinks between calls. One table lives in each shard and is only touched under the
// shard's lock; it resizes all at once, which stays short because a shard holds a small part of the keys.
#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

#include "store/entry.h"

namespace rc {

// Seeded 64-bit hash of a key (the seed is random per process, so bucket collisions cannot be planned).
uint64_t hash_key(std::string_view key);

class HashTable {
 public:
  HashTable() = default;
  HashTable(const HashTable&) = delete;
  HashTable& operator=(const HashTable&) = delete;
  HashTable(HashTable&& other) noexcept;
  HashTable& operator=(HashTable&& other) noexcept;
  ~HashTable();

  size_t size() const { return size_; }
  size_t bucket_count() const { return buckets_.size(); }

  // The link (bucket slot or a `next` field) that points at the key's entry, or nullptr.
  Entry** find_link(std::string_view key, uint64_t hash);
  Entry* find(std::string_view key, uint64_t hash) const;

  // Adds an entry whose key is not present.
  void insert(Entry* entry, uint64_t hash);
  // Puts `replacement` (same key) where *link's entry was and returns the old one (not freed).
  Entry* replace(Entry** link, Entry* replacement);
  // Unlinks *link's entry and returns it (not freed). Invalidates other links.
  Entry* remove(Entry** link);

  // Calls visit(Entry*) for each entry in the bucket `cursor` names and returns the next cursor (0 when the
  // scan is complete). `visit` must not modify the table. A scan visits every entry present throughout it
  // exactly once, even when the table grows or shrinks between calls: the cursor covers all hashes whose
  // bit-reversed value is below reverse_bits(cursor), so after a shrink the entries of the merged bucket
  // that an earlier call already covered are skipped (Redis's dictScan returns them again).
  template <typename Visit>
  uint64_t scan(uint64_t cursor, Visit&& visit) const;

  // Like scan, but the visitor may unlink entries: remove_if(Entry*) returning true unlinks it and appends
  // it to `removed`. Shrinking is deferred to the caller's next insert or remove.
  template <typename Predicate>
  uint64_t scan_remove(uint64_t cursor, Predicate&& remove_if, std::vector<Entry*>& removed);

  // Empties the table, handing every entry over to the returned table (to free outside the lock).
  HashTable take_all();

  // An aggregate's scan (HSCAN, SSCAN): as Redis's scanGenericCommand, up to count*10 buckets, stopping
  // once `count` entries were visited; returns the next cursor (0 when done).
  template <typename Visit>
  uint64_t scan_some(uint64_t cursor, size_t count, Visit&& visit) const;

  // A deep copy of a table of string entries (a hash's fields, a set's members: COPY of such a key).
  HashTable copy() const;

  // The bytes of the bucket array and of every entry (MEMORY USAGE of an aggregate held as a table).
  size_t allocated_bytes() const;

  // Halves the bucket array while the table is under 1/8 full (after removals).
  void shrink_if_sparse();

  // A random entry, each equally likely, or nullptr when empty. (A bucket then a place in its chain would
  // favour entries alone in their bucket: HRANDFIELD and SRANDMEMBER are checked for uniformity.)
  template <typename Random>
  Entry* random_entry(Random&& random) const;

 private:
  static uint64_t next_cursor(uint64_t cursor, uint64_t mask);
  // Whether an earlier step of the scan that produced `cursor` already covered `entry` (see scan).
  static bool covered_before(const Entry* entry, uint64_t cursor);
  void resize(size_t bucket_count);
  void grow_if_needed();
  std::vector<Entry*> buckets_;
  size_t size_ = 0;
};

template <typename Visit>
uint64_t HashTable::scan(uint64_t cursor, Visit&& visit) const {
  if (buckets_.empty()) return 0;
  const uint64_t mask = buckets_.size() - 1;
  // Bits above the mask mean the table shrank since the cursor was made: part of this bucket is covered.
  const bool shrunk = (cursor & ~mask) != 0;
  for (const Entry* entry = buckets_[cursor & mask]; entry != nullptr; entry = entry->next) {
    if (shrunk && covered_before(entry, cursor)) continue;
    visit(entry);
  }
  return next_cursor(cursor, mask);
}

template <typename Visit>
uint64_t HashTable::scan_some(uint64_t cursor, size_t count, Visit&& visit) const {
  size_t seen = 0;
  for (size_t buckets = 0; buckets < count * 10 && seen < count; ++buckets) {
    cursor = scan(cursor, [&](const Entry* entry) {
      ++seen;
      visit(entry);
    });
    if (cursor == 0) break;
  }
  return cursor;
}

template <typename Predicate>
uint64_t HashTable::scan_remove(uint64_t cursor, Predicate&& remove_if, std::vector<Entry*>& removed) {
  if (buckets_.empty()) return 0;
  const uint64_t mask = buckets_.size() - 1;
  Entry** link = &buckets_[cursor & mask];
  while (*link != nullptr) {
    Entry* entry = *link;
    if (remove_if(entry)) {
      *link = entry->next;
      entry->next = nullptr;
      --size_;
      removed.push_back(entry);
    } else {
      link = &entry->next;
    }
  }
  return next_cursor(cursor, mask);
}

template <typename Random>
Entry* HashTable::random_entry(Random&& random) const {
  if (size_ == 0) return nullptr;
  // Rejection sampling: a bucket and one of 8 places in its chain, drawn again when the place is past the
  // chain's end, gives every entry of a chain of at most 8 the same chance. The table is kept at least 1/8
  // full, so a draw succeeds about once in 64 tries at worst; longer chains are rare enough at that load
  // that the slight bias they get does not matter.
  const uint64_t mask = buckets_.size() - 1;
  for (int attempt = 0; attempt < 4096; ++attempt) {
    const uint64_t draw = random();
    uint64_t place = draw >> 61;  // 0..7, from bits the bucket index does not use
    const Entry* entry = buckets_[draw & mask];
    while (entry != nullptr && place-- > 0) entry = entry->next;
    if (entry != nullptr) return const_cast<Entry*>(entry);
  }
  for (Entry* head : buckets_) {
    if (head != nullptr) return head;
  }
  return nullptr;
}

}  // namespace rc
