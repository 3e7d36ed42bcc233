#pragma once
// Every shard lock of every database in shared mode, for a point-in-time snapshot: while they are held no
// writer is inside a table (readers go on), so a fork() taken then, or a SAVE written then, sees each table
// whole and all of them at the same instant. Locked in (database, shard) order like ShardLocks, so it can
// never wait in a cycle with a multi-key command.
#include <cstddef>
#include <shared_mutex>
#include <vector>

#include "store/keyspace.h"
#include "store/ready_keys.h"

namespace rc::rdb {

// Whether this thread holds a SnapshotLocks (the AOF counts disk I/O made meanwhile: there should be none).
inline thread_local bool t_holding_snapshot_locks = false;

class SnapshotLocks {
 public:
  explicit SnapshotLocks(Keyspace& keyspace) : keyspace_(keyspace) {
    for (int db = 0; db < keyspace_.database_count(); ++db) {
      for (size_t shard = 0; shard < Database::kShardCount; ++shard) {
        std::shared_mutex& mutex = keyspace_.db(db).shard(shard).mutex;
        // Held exclusively by this thread already (a BGSAVE inside EXEC): no writer can be inside it either.
        if (HeldShards::holds(mutex)) continue;
        mutex.lock_shared();
        locked_.push_back(&mutex);
      }
    }
    held_ = true;
    t_holding_snapshot_locks = true;
  }
  SnapshotLocks(const SnapshotLocks&) = delete;
  SnapshotLocks& operator=(const SnapshotLocks&) = delete;
  ~SnapshotLocks() { release(); }

  // Unlocks in reverse order; idempotent.
  void release() {
    if (!held_) return;
    held_ = false;
    t_holding_snapshot_locks = false;
    for (auto it = locked_.rbegin(); it != locked_.rend(); ++it) (*it)->unlock_shared();
    locked_.clear();
  }

 private:
  Keyspace& keyspace_;
  std::vector<std::shared_mutex*> locked_;
  bool held_ = false;
};

}  // namespace rc::rdb
