#pragma once
// Exclusive locks on several shards at once, for commands that must be atomic across keys (MSET, RENAME,
// MOVE, COPY, SWAPDB, FLUSHDB). Shards are always locked in (database index, shard index) order, so two
// such commands can never wait for each other in a cycle.
#include <algorithm>
#include <mutex>
#include <shared_mutex>
#include <span>
#include <string_view>
#include <utility>
#include <vector>

#include "store/clock.h"
#include "store/database.h"
#include "store/ready_keys.h"

namespace rc {

class ShardLocks {
 public:
  ShardLocks() = default;
  ShardLocks(const ShardLocks&) = delete;
  ShardLocks& operator=(const ShardLocks&) = delete;
  ~ShardLocks() { unlock(); }

  // Adds the shard of `key` in `db` (before lock()).
  void add(Database& db, std::string_view key) { add_shard(db, Database::shard_index(hash_key(key))); }
  void add_shard(Database& db, size_t shard) { wanted_.push_back({db.index(), shard, &db}); }
  // Adds every shard of `db`.
  void add_all(Database& db) {
    for (size_t i = 0; i < Database::kShardCount; ++i) add_shard(db, i);
  }

  void lock() {
    std::sort(wanted_.begin(), wanted_.end(), [](const Item& a, const Item& b) {
      return std::pair(a.db_index, a.shard) < std::pair(b.db_index, b.shard);
    });
    wanted_.erase(std::unique(wanted_.begin(), wanted_.end(),
                              [](const Item& a, const Item& b) {
                                return a.db_index == b.db_index && a.shard == b.shard;
                              }),
                  wanted_.end());
    for (const Item& item : wanted_) {
      std::shared_mutex& mutex = item.db->shard(item.shard).mutex;
      // Held already when a waiter's handler runs on the thread that serves it (store/ready_keys.h).
      if (HeldShards::holds(mutex)) continue;
      mutex.lock();
      locked_.push_back(&mutex);
    }
  }

  // The shards this object locked (not those that were held already), in locking order.
  std::span<std::shared_mutex* const> locked() const { return locked_; }

  // Clients blocked on keys created under these locks are served first, while the locks are still held.
  void unlock() {
    if (ready_keys::pending()) [[unlikely]] ready_keys::serve_pending(locked_);
    while (!locked_.empty()) {
      locked_.back()->unlock();
      locked_.pop_back();
    }
  }

 private:
  struct Item {
    int db_index;
    size_t shard;
    Database* db;
  };
  std::vector<Item> wanted_;
  std::vector<std::shared_mutex*> locked_;  // in locking order
};

// A KeySlot for `key` in `db`, whose shard the caller has locked with ShardLocks.
inline KeySlot slot_in_locked_shard(Database& db, std::string_view key, int64_t now_ms, Garbage& garbage) {
  const uint64_t hash = hash_key(key);
  return KeySlot(db, db.shard(Database::shard_index(hash)), key, hash, now_ms, garbage);
}

// The shards of a command's keys in one database, locked from construction until unlock() or destruction,
// with one clock reading for all of them; whatever the command removes is freed after they are released.
class LockedKeys {
 public:
  LockedKeys(Database& db, std::span<const std::string_view> keys) : db_(db) {
    for (const std::string_view key : keys) locks_.add(db, key);
    locks_.lock();
    now_ms_ = unix_time_ms();
  }
  // The key's slot. Use one at a time: a change through one may move another's link.
  KeySlot slot(std::string_view key) { return slot_in_locked_shard(db_, key, now_ms_, garbage_); }
  void unlock() { locks_.unlock(); }

 private:
  Database& db_;
  Garbage garbage_;  // declared before the locks: freed after they are released
  ShardLocks locks_;
  int64_t now_ms_ = 0;
};

}  // namespace rc
