#include "store/ready_keys.h"

#include <algorithm>
#include <deque>
#include <utility>

#include "store/database.h"

namespace rc {
namespace {

struct ReadyKey {
  Database* db;
  std::string key;
};

KeyWaiters* g_waiters = nullptr;
// Keys this thread made ready inside its current lock scope, in the order they became ready.
thread_local std::deque<ReadyKey> t_ready;

}  // namespace

void ready_keys::set_waiters(KeyWaiters* waiters) { g_waiters = waiters; }

void ready_keys::note_ready(Database& db, std::string_view key) {
  if (g_waiters == nullptr) return;
  for (const ReadyKey& ready : t_ready) {
    if (ready.db == &db && ready.key == key) return;  // noted once, as Redis's db->ready_keys
  }
  t_ready.push_back({&db, std::string(key)});
  rc::detail::t_has_ready = true;
}

void ready_keys::note_existing_waited_keys(Database& db) {
  if (g_waiters == nullptr || g_waiting_clients.load(std::memory_order_relaxed) == 0) return;
  for (const std::string& key : g_waiters->keys_waited_in(db.index())) {
    const uint64_t hash = hash_key(key);
    if (db.shard(Database::shard_index(hash)).table.find(key, hash) != nullptr) note_ready(db, key);
  }
}

void ready_keys::serve_pending(std::span<std::shared_mutex* const> held) {
  if (t_ready.empty() || g_waiters == nullptr) return;
  // Inside a scope (a waiter's handler ending a lock scope of its own, or a command inside EXEC) the scope
  // serves them when it ends.
  if (rc::detail::t_held_shards != nullptr) return;
  HeldShardsScope scope(held);
  scope.serve_ready();
}

HeldShardsScope::HeldShardsScope(std::span<std::shared_mutex* const> held) : outer_(rc::detail::t_held_shards) {
  shards_.held_.assign(held.begin(), held.end());
  rc::detail::t_held_shards = &shards_;
}

HeldShardsScope::~HeldShardsScope() {
  rc::detail::t_held_shards = outer_;
  for (auto it = shards_.acquired_.rbegin(); it != shards_.acquired_.rend(); ++it) (*it)->unlock();
}

void HeldShardsScope::serve_ready() {
  if (g_waiters == nullptr) return;
  while (!t_ready.empty()) {
    ReadyKey ready = std::move(t_ready.front());
    t_ready.pop_front();
    rc::detail::t_has_ready = !t_ready.empty();
    g_waiters->serve(*ready.db, ready.key);
  }
}

bool HeldShards::contains(const std::shared_mutex* mutex) const {
  return std::find(held_.begin(), held_.end(), mutex) != held_.end() ||
         std::find(acquired_.begin(), acquired_.end(), mutex) != acquired_.end();
}

bool HeldShards::try_acquire(std::shared_mutex& mutex) {
  HeldShards* scope = rc::detail::t_held_shards;
  if (scope == nullptr) return false;
  if (scope->contains(&mutex)) return true;
  if (!mutex.try_lock()) return false;
  scope->acquired_.push_back(&mutex);
  return true;
}

}  // namespace rc
