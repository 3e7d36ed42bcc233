#include "store/watched_keys.h"

#include <algorithm>
#include <map>
#include <mutex>
#include <vector>

#include "store/database.h"
#include "store/db_key.h"

namespace rc::watched_keys {
namespace {

struct Watch {
  Watcher* watcher;
  bool expired_at_watch;
};

std::mutex g_mutex;
std::map<KeyRef, std::vector<Watch>, KeyOrder> g_watchers;

// The key's entry, if any, is past its time (the caller holds the watch mutex; the shard is read under its lock).
bool key_expired(Database& db, std::string_view key) {
  const uint64_t hash = hash_key(key);
  Shard& shard = db.shard(Database::shard_index(hash));
  auto lock = shared_lock_unless_held(shard.mutex);
  const Entry* entry = shard.table.find(key, hash);
  return entry != nullptr && entry->expired_now();
}

auto find_watch(std::vector<Watch>& watches, Watcher* watcher) {
  return std::find_if(watches.begin(), watches.end(), [&](const Watch& w) { return w.watcher == watcher; });
}

// For FLUSHDB/SWAPDB, whose caller holds every shard: whether the key is in the table (expired or not), and
// whether it is there but past its time.
bool exists(const Database& db, std::string_view key) {
  const uint64_t hash = hash_key(key);
  return db.shard(Database::shard_index(hash)).table.find(key, hash) != nullptr;
}
bool expired_entry(const Database& db, std::string_view key) {
  const uint64_t hash = hash_key(key);
  const Entry* entry = db.shard(Database::shard_index(hash)).table.find(key, hash);
  return entry != nullptr && entry->expired_now();
}

}  // namespace

void watch(Database& db, std::string_view key, Watcher* watcher) {
  const bool expired = key_expired(db, key);
  std::lock_guard lock(g_mutex);
  auto it = g_watchers.find(KeyView{db.index(), key});
  if (it == g_watchers.end()) {
    it = g_watchers.emplace(KeyRef{db.index(), std::string(key)}, std::vector<Watch>()).first;
  }
  if (find_watch(it->second, watcher) != it->second.end()) return;
  it->second.push_back({watcher, expired});
  g_watched.fetch_add(1, std::memory_order_relaxed);
}

void unwatch(int db, std::string_view key, Watcher* watcher) {
  std::lock_guard lock(g_mutex);
  const auto it = g_watchers.find(KeyView{db, key});
  if (it == g_watchers.end()) return;
  auto& watches = it->second;
  const auto found = find_watch(watches, watcher);
  if (found == watches.end()) return;
  watches.erase(found);
  g_watched.fetch_sub(1, std::memory_order_relaxed);
  if (watches.empty()) g_watchers.erase(it);
}

bool expired_since_watch(Database& db, std::string_view key, Watcher* watcher) {
  {
    std::lock_guard lock(g_mutex);
    const auto it = g_watchers.find(KeyView{db.index(), key});
    if (it == g_watchers.end()) return false;
    const auto found = find_watch(it->second, watcher);
    if (found == it->second.end() || found->expired_at_watch) return false;
  }
  return key_expired(db, key);
}

void touch(int db, std::string_view key, bool expired_deletion) {
  std::lock_guard lock(g_mutex);
  const auto it = g_watchers.find(KeyView{db, key});
  if (it == g_watchers.end()) return;
  for (Watch& watch : it->second) {
    if (expired_deletion && watch.expired_at_watch) {
      watch.expired_at_watch = false;  // deleted now: no longer an expired key, and logically no change
      continue;
    }
    watch.watcher->dirty.store(true, std::memory_order_relaxed);
  }
}

void touch_existing(Database& db, Database* other) {
  if (g_watched.load(std::memory_order_relaxed) == 0) return;
  std::lock_guard lock(g_mutex);
  for (auto it = g_watchers.lower_bound(KeyView{db.index(), std::string_view()});
       it != g_watchers.end() && it->first.db == db.index(); ++it) {
    const std::string& key = it->first.key;
    const bool in_emptied = exists(db, key);
    const bool in_replacement = other != nullptr && exists(*other, key);
    if (!in_emptied && !in_replacement) continue;
    const bool replacement_expired = in_replacement && expired_entry(*other, key);
    for (Watch& watch : it->second) {
      if (watch.expired_at_watch) {
        // An expired key that goes away is no change; one replaced by another expired key neither.
        if (!in_replacement) {
          watch.expired_at_watch = false;
          continue;
        }
        if (replacement_expired) continue;
      } else if (!in_emptied && replacement_expired) {
        watch.expired_at_watch = true;  // nothing replaced by an expired key: still nothing, logically
        continue;
      }
      watch.watcher->dirty.store(true, std::memory_order_relaxed);
    }
  }
}

}  // namespace rc::watched_keys
