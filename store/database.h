#pragma once
// One of the numbered databases (SELECT 0..15): its keys spread over a fixed, power-of-two number of
// shards, each a hash table under its own std::shared_mutex. Readers of a key share its shard's lock,
// writers take it alone, and nothing on the path of a single-key command touches a global lock.
// Multi-key commands lock their shards through ShardLocks, always in (database, shard) order.
#include <algorithm>
#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <optional>
#include <span>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>

#include "store/change_stream.h"
#include "store/clock.h"
#include "store/entry.h"
#include "store/garbage.h"
#include "store/hash_table.h"
#include "store/ready_keys.h"

namespace rc {

struct alignas(64) Shard {
  mutable std::shared_mutex mutex;
  HashTable table;
  // Entries with a TTL (INFO keyspace "expires"). Changed only under the exclusive lock; atomic so that
  // the expiry pass can skip shards without any TTL without locking them.
  std::atomic<size_t> expiring{0};
  uint64_t expiry_cursor = 0;   // where the active expiry pass resumes in this shard
  // Keys removed because their time ran out, on access or by the expiry pass (INFO stats expired_keys).
  std::atomic<uint64_t> expired_total{0};
};

// How much one scan_slice call may do while it holds a shard's lock. Both limits are checked after each
// bucket, so a call visits at least one bucket (when the shard has any).
struct ScanLimits {
  size_t max_buckets;
  size_t max_entries;  // entries examined, expired ones included
};

struct ScanProgress {
  uint64_t cursor = 0;  // where to resume: the next bucket, the next shard's start, or 0 when done
  size_t buckets = 0;
  size_t entries = 0;
};

// What one active expiry slice saw.
struct ExpirySliceResult {
  size_t examined = 0;
  size_t expired = 0;
  double ttl_sum = 0;      // over the keys with a TTL still in the future, for INFO's avg_ttl
  size_t ttl_samples = 0;
};

class Database;

// The place of one key inside a shard whose lock the caller holds exclusively. An expired entry is
// removed on construction, and its deletion published to the change stream (before whatever the command
// then does to the key, as Redis's expireIfNeeded), so get() only ever sees live keys.
class KeySlot {
 public:
  KeySlot(Database& db, Shard& shard, std::string_view key, uint64_t hash, int64_t now_ms, Garbage& garbage);

  Entry* get() const { return link_ ? *link_ : nullptr; }
  std::string_view key() const { return key_; }
  int64_t now_ms() const { return now_ms_; }

  // Creates or replaces the key's entry with a string value.
  Entry* set(std::string_view value, int64_t expire_at_ms);
  // Replaces the entry with one whose value has `length` bytes (the old bytes kept up to that length)
  // and returns it for the caller to fill; the expiry and encoding flags stay.
  Entry* resize_value(size_t length);
  // Sets or clears (Entry::kNoExpiry) the existing entry's expiry.
  void set_expiry(int64_t expire_at_ms);
  // Removes the key, if present; returns whether it was.
  bool erase();
  // Removes the key, if present, and hands its entry over (to free it elsewhere: UNLINK's lazy free). A
  // change, as erase().
  EntryPtr remove();
  // Takes the entry out without freeing it (for moving it to another slot).
  EntryPtr take();
  // Inserts an entry taken elsewhere (the key must be absent here and equal to key()).
  void adopt(EntryPtr entry);
  // The existing entry, for an in-place edit of its value's bytes (the length stays).
  Entry* edit();

 private:
  // A key changed through this slot counts once in t_store_mutations, however many edits it took
  // (SETRANGE on a missing key creates it, then sizes it).
  void count_change();
  void install(Entry* fresh);
  // Removes the entry from the table and returns it, without counting a mutation.
  Entry* unlink();
  Database& db_;
  Shard& shard_;
  std::string_view key_;
  uint64_t hash_;
  int64_t now_ms_;
  Garbage& garbage_;
  Entry** link_;
  bool changed_ = false;
};

class Database {
 public:
  static constexpr unsigned kShardBits = 8;
  static constexpr size_t kShardCount = size_t{1} << kShardBits;

  // Changes made here (by commands through KeySlot, by expiry) are published to `changes`.
  Database(int index, ChangeStream& changes) : index_(index), changes_(changes) {}
  Database(const Database&) = delete;
  Database& operator=(const Database&) = delete;

  int index() const { return index_; }
  ChangeStream& changes() const { return changes_; }
  static size_t shard_index(uint64_t hash) { return static_cast<size_t>(hash >> (64 - kShardBits)); }
  Shard& shard(size_t index) { return shards_[index]; }
  const Shard& shard(size_t index) const { return shards_[index]; }

  // Calls fn(const Entry*) under the key's shard lock in shared mode; nullptr when the key is absent or
  // expired. An expired key found here is deleted right after (Redis deletes on access too).
  template <typename Fn>
  auto read(std::string_view key, Fn&& fn) const -> std::invoke_result_t<Fn, const Entry*>;

  // Calls fn(KeySlot&) under the key's shard lock in exclusive mode; anything removed is freed after
  // the lock is released.
  template <typename Fn>
  auto write(std::string_view key, Fn&& fn) -> std::invoke_result_t<Fn, KeySlot&>;

  // Keys present, including expired ones not yet reclaimed (as Redis's DBSIZE). Not a snapshot: each
  // shard is counted under its own lock in turn, so no lock is held for more than a moment.
  size_t size() const;
  size_t expiring() const;
  // Whether any shard holds a key with a TTL (lock-free, approximate: for the expiry pass).
  bool has_expiring() const;
  // Keys reclaimed after their time ran out (lazily or actively), since the server started.
  uint64_t expired_total() const;

  // SCAN over the whole database: visits the bucket(s) named by the cursor, in one shard, under its shared
  // lock, calling visit(const Entry*) for live entries; returns the next cursor, 0 when done. The cursor
  // holds the shard index in its low bits and the shard table's reverse-binary cursor above them.
  template <typename Visit>
  uint64_t scan_step(uint64_t cursor, int64_t now_ms, Visit&& visit) const;

  // Like scan_step, but visits buckets of one shard under one hold of its shared lock until the shard is
  // done or `limits` are reached. KEYS, SCAN and RANDOMKEY walk the database with it, releasing the lock
  // between slices so that writers are never held up for more than a slice. Every key present throughout
  // a walk from cursor 0 to 0 is visited exactly once (see HashTable::scan).
  template <typename Visit>
  ScanProgress scan_slice(uint64_t cursor, int64_t now_ms, const ScanLimits& limits, Visit&& visit) const;

  // A random live key, or nullopt when there is none. A shard is picked with probability proportional to
  // its size, then a bucket and an entry in it, each under one shard lock; a pick that turns out expired
  // is deleted and another one drawn (as Redis's dbRandomKey). Bounded: after many expired picks it falls
  // back to a sliced walk for the first live key.
  std::optional<std::string> random_key();

  // MEMORY USAGE: the bytes the key's entry takes from the allocator plus its share of the bucket array;
  // nullopt when the key is absent.
  std::optional<size_t> memory_usage(std::string_view key) const;

  // INFO keyspace avg_ttl: a running estimate of the remaining TTL of keys with one, in ms, fed by the
  // active expiry pass with the TTLs it samples (Redis's activeExpireCycle: 2% weight per sample batch).
  int64_t avg_ttl() const { return avg_ttl_.load(std::memory_order_relaxed); }
  void record_ttl_samples(double ttl_sum, size_t samples);
  void reset_avg_ttl() { avg_ttl_.store(0, std::memory_order_relaxed); }

  // Removes every key; the caller frees the returned garbage (after the locks are gone). The caller must
  // hold every shard's lock exclusively (see ShardLocks::all).
  void clear_locked(Garbage& garbage);

  // Exchanges the contents of two databases; the caller holds every shard lock of both.
  void swap_contents_locked(Database& other);

  // Removes up to a slice of expired entries from one shard (active expiry), publishing each deletion.
  ExpirySliceResult expire_slice(size_t shard_index, size_t buckets, int64_t now_ms, Garbage& garbage);

 private:
  void delete_if_expired(std::string_view key) const;
  std::optional<std::string> first_live_key() const;
  int index_;
  ChangeStream& changes_;
  std::array<Shard, kShardCount> shards_;
  std::atomic<int64_t> avg_ttl_{0};
};

// ---- templates ----

template <typename Fn>
auto Database::read(std::string_view key, Fn&& fn) const -> std::invoke_result_t<Fn, const Entry*> {
  const uint64_t hash = hash_key(key);
  const Shard& s = shards_[shard_index(hash)];
  bool found_expired = false;
  auto run = [&]() -> decltype(auto) {
    // A waiter's handler run by the thread serving it already holds the shard (store/ready_keys.h).
    std::shared_lock lock(s.mutex, std::defer_lock);
    if (!HeldShards::holds(s.mutex)) [[likely]] lock.lock();
    const Entry* entry = s.table.find(key, hash);
    if (entry != nullptr && entry->expired_now()) {
      found_expired = true;
      entry = nullptr;
    }
    return fn(entry);
  };
  if constexpr (std::is_void_v<std::invoke_result_t<Fn, const Entry*>>) {
    run();
    if (found_expired) delete_if_expired(key);
  } else {
    auto result = run();
    if (found_expired) delete_if_expired(key);
    return result;
  }
}

template <typename Fn>
auto Database::write(std::string_view key, Fn&& fn) -> std::invoke_result_t<Fn, KeySlot&> {
  const uint64_t hash = hash_key(key);
  Shard& s = shards_[shard_index(hash)];
  Garbage garbage;  // declared before the lock: destroyed (freed) after it is released
  if (HeldShards::holds(s.mutex)) [[unlikely]] {
    // A waiter's handler run by the thread serving it, which holds the shard (store/ready_keys.h).
    KeySlot slot(*this, s, key, hash, unix_time_ms(), garbage);
    return fn(slot);
  }
  std::unique_lock lock(s.mutex);
  KeySlot slot(*this, s, key, hash, unix_time_ms(), garbage);
  // Clients blocked on a key this write created are served before the lock is released.
  struct ServeBeforeUnlock {
    std::shared_mutex* mutex;
    ~ServeBeforeUnlock() {
      if (ready_keys::pending()) [[unlikely]] ready_keys::serve_pending(std::span(&mutex, 1));
    }
  } serve{&s.mutex};
  return fn(slot);
}

template <typename Visit>
uint64_t Database::scan_step(uint64_t cursor, int64_t now_ms, Visit&& visit) const {
  size_t shard = cursor & (kShardCount - 1);
  uint64_t inner = cursor >> kShardBits;
  {
    const Shard& s = shards_[shard];
    auto lock = shared_lock_unless_held(s.mutex);
    inner = s.table.scan(inner, [&](const Entry* entry) {
      if (!entry->expired(now_ms)) visit(entry);
    });
  }
  if (inner != 0) return (inner << kShardBits) | shard;
  ++shard;
  return shard == kShardCount ? 0 : shard;
}

template <typename Visit>
ScanProgress Database::scan_slice(uint64_t cursor, int64_t now_ms, const ScanLimits& limits,
                                  Visit&& visit) const {
  size_t shard = cursor & (kShardCount - 1);
  uint64_t inner = cursor >> kShardBits;
  ScanProgress progress;
  {
    const Shard& s = shards_[shard];
    auto lock = shared_lock_unless_held(s.mutex);
    do {
      if (s.table.bucket_count() == 0) {
        inner = 0;
        break;
      }
      inner = s.table.scan(inner, [&](const Entry* entry) {
        ++progress.entries;
        if (!entry->expired(now_ms)) visit(entry);
      });
      ++progress.buckets;
    } while (inner != 0 && progress.buckets < limits.max_buckets && progress.entries < limits.max_entries);
  }
  if (inner != 0) {
    progress.cursor = (inner << kShardBits) | shard;
  } else {
    ++shard;
    progress.cursor = shard == kShardCount ? 0 : shard;
  }
  return progress;
}

}  // namespace rc
