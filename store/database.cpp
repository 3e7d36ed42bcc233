#include "store/database.h"
#include "store/mutation_counter.h"
#include "store/watched_keys.h"
#include "store/thread_random.h"

#include <vector>

namespace rc {

KeySlot::KeySlot(Database& db, Shard& shard, std::string_view key, uint64_t hash, int64_t now_ms, Garbage& garbage)
    : db_(db), shard_(shard), key_(key), hash_(hash), now_ms_(now_ms), garbage_(garbage),
      link_(shard.table.find_link(key, hash)) {
  if (link_ != nullptr && (*link_)->expired(now_ms)) {
    // Not a change of the command's (no mutation counted, as Redis does not count it in server.dirty):
    // the key was already gone for every reader. But a replay has no clock, so the deletion is published.
    garbage_.add(unlink());
    shard.expired_total.fetch_add(1, std::memory_order_relaxed);
    db_.changes().publish_expired(db_.index(), key_);
    watched_keys::note_expired(db_.index(), key_);
  }
}

void KeySlot::count_change() {
  if (changed_) return;
  changed_ = true;
  ++t_store_mutations;
  watched_keys::note_changed(db_.index(), key_);
}

Entry* KeySlot::edit() {
  count_change();
  return get();
}

void KeySlot::install(Entry* fresh) {
  count_change();
  // The table may resize on insert, so the link is looked up again afterwards.
  if (link_ != nullptr) {
    Entry* old = shard_.table.replace(link_, fresh);
    if (old->has_expiry()) --shard_.expiring;
    garbage_.add(old);
  } else {
    shard_.table.insert(fresh, hash_);
    link_ = shard_.table.find_link(key_, hash_);
    ready_keys::note_created(db_, key_);  // a client may be blocked waiting for it (BLPOP)
  }
  if (fresh->has_expiry()) ++shard_.expiring;
}

Entry* KeySlot::set(std::string_view value, int64_t expire_at_ms) {
  Entry* fresh = Entry::create(key_, value, expire_at_ms);
  install(fresh);
  return fresh;
}

Entry* KeySlot::resize_value(size_t length) {
  count_change();
  Entry* current = get();
  if (current->resize_in_place(length)) return current;
  // A value that grows (APPEND, SETRANGE) gets room to grow again, as Redis's sds does: doubled up to
  // 1 MB, then 1 MB more, so that appending in a loop costs amortized O(1) per byte, not a copy each time.
  constexpr size_t kGreedyLimit = 1024 * 1024;
  const size_t old_length = current->value().size();
  size_t capacity = length;
  if (length > old_length) capacity = length < kGreedyLimit ? length * 2 : length + kGreedyLimit;
  Entry* fresh = Entry::resized(*current, length, current->expire_at(), capacity);
  install(fresh);
  return fresh;
}

void KeySlot::set_expiry(int64_t expire_at_ms) {
  Entry* current = get();
  if (current == nullptr) return;
  count_change();
  const bool wants_expiry = expire_at_ms != Entry::kNoExpiry;
  if (current->has_expiry() == wants_expiry) {
    current->set_expire_at(expire_at_ms);
    return;
  }
  install(Entry::resized(*current, current->value().size(), expire_at_ms));
}

Entry* KeySlot::unlink() {
  Entry* old = shard_.table.remove(link_);
  link_ = nullptr;
  if (old->has_expiry()) --shard_.expiring;
  return old;
}

bool KeySlot::erase() {
  EntryPtr removed = remove();
  if (!removed) return false;
  garbage_.add(removed.release());
  return true;
}

EntryPtr KeySlot::remove() {
  if (link_ == nullptr) return nullptr;
  count_change();
  return EntryPtr(unlink());
}

EntryPtr KeySlot::take() {
  // Not counted: the entry moves to another key or database, whose adopt() counts the one change.
  if (link_ == nullptr) return nullptr;
  return EntryPtr(unlink());
}

void KeySlot::adopt(EntryPtr entry) {
  Entry* fresh = entry.release();
  install(fresh);
}

size_t Database::size() const {
  size_t total = 0;
  for (const Shard& s : shards_) {
    auto lock = shared_lock_unless_held(s.mutex);
    total += s.table.size();
  }
  return total;
}

size_t Database::expiring() const {
  // Each shard's count is atomic: no lock needed for a figure that is stale the moment it is read.
  size_t total = 0;
  for (const Shard& s : shards_) total += s.expiring.load(std::memory_order_relaxed);
  return total;
}

void Database::clear_locked(Garbage& garbage) {
  for (Shard& s : shards_) {
    t_store_mutations += s.table.size();
    if (s.table.size() > 0) garbage.add(s.table.take_all());
    s.expiring = 0;
    s.expiry_cursor = 0;
  }
  avg_ttl_.store(0, std::memory_order_relaxed);
}

void Database::swap_contents_locked(Database& other) {
  ++t_store_mutations;
  for (size_t i = 0; i < kShardCount; ++i) {
    std::swap(shards_[i].table, other.shards_[i].table);
    const size_t mine = shards_[i].expiring.load();
    shards_[i].expiring.store(other.shards_[i].expiring.load());
    other.shards_[i].expiring.store(mine);
    shards_[i].expiry_cursor = 0;
    other.shards_[i].expiry_cursor = 0;
  }
  const int64_t my_avg_ttl = avg_ttl_.load();
  avg_ttl_.store(other.avg_ttl_.load());
  other.avg_ttl_.store(my_avg_ttl);
}

ExpirySliceResult Database::expire_slice(size_t shard_index, size_t buckets, int64_t now_ms, Garbage& garbage) {
  Shard& s = shards_[shard_index];
  ExpirySliceResult result;
  if (s.expiring.load(std::memory_order_relaxed) == 0) return result;
  std::vector<Entry*> removed;
  double ttl_sum = 0;  // a double: a few TTLs near INT64_MAX would overflow an integer sum
  {
    std::unique_lock lock(s.mutex);  // the expiry thread: never inside a scope
    if (s.expiring == 0) return result;
    uint64_t cursor = s.expiry_cursor;
    const auto expired_or_sample = [&](const Entry* entry) {
      ++result.examined;
      if (!entry->has_expiry()) return false;
      if (entry->expired(now_ms)) return true;
      ttl_sum += static_cast<double>(entry->expire_at() - now_ms);
      ++result.ttl_samples;
      return false;
    };
    for (size_t i = 0; i < buckets; ++i) {
      cursor = s.table.scan_remove(cursor, expired_or_sample, removed);
      if (cursor == 0) break;
    }
    s.expiry_cursor = cursor;
    for (const Entry* entry : removed) {
      changes_.publish_expired(index_, entry->key());
      watched_keys::note_expired(index_, entry->key());
    }
    s.expiring -= removed.size();
    s.expired_total.fetch_add(removed.size(), std::memory_order_relaxed);
    if (!removed.empty()) s.table.shrink_if_sparse();
  }
  result.expired = removed.size();
  result.ttl_sum = ttl_sum;
  for (Entry* entry : removed) garbage.add(entry);
  return result;
}

bool Database::has_expiring() const {
  return std::any_of(shards_.begin(), shards_.end(),
                     [](const Shard& s) { return s.expiring.load(std::memory_order_relaxed) != 0; });
}

uint64_t Database::expired_total() const {
  uint64_t total = 0;
  for (const Shard& s : shards_) total += s.expired_total.load(std::memory_order_relaxed);
  return total;
}

void Database::record_ttl_samples(double ttl_sum, size_t samples) {
  if (samples == 0) return;
  // Clamped: TTLs near INT64_MAX may round up past it as doubles.
  const auto sample_avg = static_cast<int64_t>(std::min(ttl_sum / static_cast<double>(samples), 9.2e18));
  // Redis weighs the new batch at 2% and starts from the first batch's average.
  int64_t current = avg_ttl_.load(std::memory_order_relaxed);
  int64_t next = 0;
  do {
    const int64_t base = current == 0 ? sample_avg : current;
    next = base / 50 * 49 + sample_avg / 50;
  } while (!avg_ttl_.compare_exchange_weak(current, next, std::memory_order_relaxed));
}

std::optional<std::string> Database::random_key() {
  // Each pick that lands on an expired key deletes it; after this many, walk for a live one instead.
  constexpr int kMaxExpiredPicks = 100;
  for (int attempt = 0; attempt < kMaxExpiredPicks; ++attempt) {
    std::array<size_t, kShardCount> sizes{};
    size_t total = 0;
    for (size_t i = 0; i < kShardCount; ++i) {
      auto lock = shared_lock_unless_held(shards_[i].mutex);
      sizes[i] = shards_[i].table.size();
      total += sizes[i];
    }
    if (total == 0) return std::nullopt;
    uint64_t pick = thread_random() % total;
    size_t shard = 0;
    while (pick >= sizes[shard]) pick -= sizes[shard++];
    std::string key;
    bool expired = false;
    {
      const Shard& s = shards_[shard];
      auto lock = shared_lock_unless_held(s.mutex);
      const Entry* entry = s.table.random_entry(thread_random);
      if (entry == nullptr) continue;  // emptied since it was counted
      key = entry->key();
      expired = entry->expired_now();
    }
    if (!expired) return key;
    delete_if_expired(key);
  }
  return first_live_key();
}

std::optional<std::string> Database::first_live_key() const {
  std::optional<std::string> found;
  uint64_t cursor = 0;
  do {
    cursor = scan_slice(cursor, unix_time_ms(), {1000, 1000}, [&](const Entry* entry) {
      if (!found) found.emplace(entry->key());
    }).cursor;
  } while (cursor != 0 && !found);
  return found;
}

std::optional<size_t> Database::memory_usage(std::string_view key) const {
  const uint64_t hash = hash_key(key);
  const Shard& s = shards_[shard_index(hash)];
  auto lock = shared_lock_unless_held(s.mutex);
  const Entry* entry = s.table.find(key, hash);
  if (entry == nullptr || entry->expired_now()) return std::nullopt;
  // Redis adds its dictEntry; ours is inside the entry, but the bucket array is shared by the shard's keys.
  const size_t keys = s.table.size();
  const size_t bucket_share = (s.table.bucket_count() * sizeof(Entry*) + keys - 1) / keys;
  return entry->allocated_size() + bucket_share;
}

void Database::delete_if_expired(std::string_view key) const {
  // KeySlot's constructor removes the key if it is (still) expired; const_cast because a read that finds
  // an expired key is allowed to reclaim it, as in Redis.
  const_cast<Database*>(this)->write(key, [](KeySlot&) {});
}

}  // namespace rc
