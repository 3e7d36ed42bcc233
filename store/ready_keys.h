#pragma once
// The store's side of blocking commands (BLPOP, BZPOPMIN, ...): a client that waits for a key to appear is
// registered with a KeyWaiters (the server's blocking registry). When a command creates a key while anybody
// waits, the creating thread notes the key as ready and, before it releases the shard locks it holds, has the
// waiters served: so a waiter gets the pushed element before any other command can see it, as Redis serves
// blocked clients right after the command that made their key ready.
//
// While the waiters are served, their handlers run on the serving thread with the shards it holds: the
// HeldShards of this thread tell Database::read/write and ShardLocks not to lock those again.
#include <atomic>
#include <cstddef>
#include <mutex>
#include <shared_mutex>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace rc {

class Database;
class HeldShards;

namespace detail {
// Defined here (not in a .cpp) so that the checks on every write are plain thread-local loads.
inline thread_local HeldShards* t_held_shards = nullptr;
inline thread_local bool t_has_ready = false;
}  // namespace detail

class KeyWaiters {
 public:
  virtual ~KeyWaiters() = default;
  // Serves, in the order they blocked, the clients waiting on `key` of `db`; the calling thread holds the
  // key's shard exclusively (see HeldShards).
  virtual void serve(Database& db, std::string_view key) = 0;
  // The keys of `db` that clients wait on (SWAPDB makes those that exist in the new contents ready).
  virtual std::vector<std::string> keys_waited_in(int db) = 0;
};

namespace ready_keys {

// Clients blocked on keys, over every database: a key's creation costs one relaxed load while it is 0.
inline std::atomic<size_t> g_waiting_clients{0};

// Called when a key is created (KeySlot); notes it as ready when anybody waits.
inline void note_created(Database& db, std::string_view key);
void note_ready(Database& db, std::string_view key);
// Whether this thread has ready keys to serve (one thread-local load: every write scope asks).
inline bool pending();
// Serves this thread's ready keys, the calling thread holding `held` exclusively (the shards of the lock
// scope that is about to end). Keys made ready while serving (a BLMOVE's destination) are served too.
void serve_pending(std::span<std::shared_mutex* const> held);

// Installed once by the server.
void set_waiters(KeyWaiters* waiters);

inline void note_created(Database& db, std::string_view key) {
  if (g_waiting_clients.load(std::memory_order_relaxed) != 0) [[unlikely]] note_ready(db, key);
}

inline bool pending() { return rc::detail::t_has_ready; }

// SWAPDB: notes the waited-on keys of `db` that exist in its new contents (every shard of it held).
void note_existing_waited_keys(Database& db);

}  // namespace ready_keys

// The shard locks this thread holds while it serves waiters, so that their handlers do not lock them again.
// Outside of serving the list is empty and the check costs one thread-local load.
class HeldShards {
 public:
  static bool holds(const std::shared_mutex& mutex);
  // While serving: takes `mutex` exclusively if it is free right now (never waits, so the lock order cannot be
  // broken); false when another thread holds it. The lock is released when the serving ends.
  static bool try_acquire(std::shared_mutex& mutex);

 private:
  friend class HeldShardsScope;
  bool contains(const std::shared_mutex* mutex) const;
  std::vector<std::shared_mutex*> held_;
  std::vector<std::shared_mutex*> acquired_;  // by try_acquire: released at the end
};

inline bool HeldShards::holds(const std::shared_mutex& mutex) {
  return detail::t_held_shards != nullptr && detail::t_held_shards->contains(&mutex);
}

// A shared lock on a shard, or none when this thread already holds it exclusively (serving waiters, EXEC).
inline std::shared_lock<std::shared_mutex> shared_lock_unless_held(std::shared_mutex& mutex) {
  std::shared_lock lock(mutex, std::defer_lock);
  if (!HeldShards::holds(mutex)) [[likely]] lock.lock();
  return lock;
}
inline std::unique_lock<std::shared_mutex> unique_lock_unless_held(std::shared_mutex& mutex) {
  std::unique_lock lock(mutex, std::defer_lock);
  if (!HeldShards::holds(mutex)) [[likely]] lock.lock();
  return lock;
}

// Makes `held` (shards this thread has locked exclusively, e.g. every shard an EXEC's commands name) the
// shards its handlers do not lock again, for the scope's life. serve_ready() then serves the clients blocked on
// keys created meanwhile, still under those locks; try_acquire()d shards are released at the end.
class HeldShardsScope {
 public:
  explicit HeldShardsScope(std::span<std::shared_mutex* const> held);
  ~HeldShardsScope();
  HeldShardsScope(const HeldShardsScope&) = delete;
  HeldShardsScope& operator=(const HeldShardsScope&) = delete;
  void serve_ready();

 private:
  HeldShards shards_;
  HeldShards* outer_;
};

}  // namespace rc
