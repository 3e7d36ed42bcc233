#pragma once
// Every shard lock of every database in shared mode, for a point-in-time snapshot: while they are held no
// writer is inside a table (readers go on), so a fork() taken then, or a SAVE written then, sees each table
// whole and all of them at the same instant. Locked in (database, shard) order like ShardLocks, so it can
// never wait in a cycle with a multi-key command.
#include <cstddef>
#include <shared_mutex>

#include "store/keyspace.h"

namespace rc::rdb {

// Whether this thread holds a SnapshotLocks (the AOF counts disk I/O made meanwhile: there should be none).
inline thread_local bool t_holding_snapshot_locks = false;

class SnapshotLocks {
 public:
  explicit SnapshotLocks(Keyspace& keyspace) : keyspace_(keyspace) {
    for (int db = 0; db < keyspace_.database_count(); ++db) {
      for (size_t shard = 0; shard < Database::kShardCount; ++shard) {
        keyspace_.db(db).shard(shard).mutex.lock_shared();
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
    for (int db = keyspace_.database_count(); db-- > 0;) {
      for (size_t shard = Database::kShardCount; shard-- > 0;) keyspace_.db(db).shard(shard).mutex.unlock_shared();
    }
  }

 private:
  Keyspace& keyspace_;
  bool held_ = false;
};

}  // namespace rc::rdb
