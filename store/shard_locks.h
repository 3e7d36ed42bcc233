#pragma once
// Exclusive locks on several shards at once, for commands that must be atomic across keys (MSET, RENAME,
// MOVE, COPY, SWAPDB, FLUSHDB). Shards are always locked in (database index, shard index) order, so two
// such commands can never wait for each other in a cycle.
#include <algorithm>
#include <mutex>
#include <shared_mutex>
#include <string_view>
#include <utility>
#include <vector>

#include "store/database.h"

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
      item.db->shard(item.shard).mutex.lock();
      ++locked_;
    }
  }

  void unlock() {
    while (locked_ > 0) {
      --locked_;
      const Item& item = wanted_[locked_];
      item.db->shard(item.shard).mutex.unlock();
    }
  }

 private:
  struct Item {
    int db_index;
    size_t shard;
    Database* db;
  };
  std::vector<Item> wanted_;
  size_t locked_ = 0;
};

// A KeySlot for `key` in `db`, whose shard the caller has locked with ShardLocks.
inline KeySlot slot_in_locked_shard(Database& db, std::string_view key, int64_t now_ms, Garbage& garbage) {
  const uint64_t hash = hash_key(key);
  return KeySlot(db, db.shard(Database::shard_index(hash)), key, hash, now_ms, garbage);
}

}  // namespace rc
