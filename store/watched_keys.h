#pragma once
// WATCH: the keys clients watch, and the hooks through which every change marks their transactions dirty, as
// Redis's touchWatchedKey (multi.c). A change costs one relaxed load while nobody watches anything.
//
// A key is touched when a command changes it through its KeySlot (set, edit, delete, expiry set), when its
// time runs out and it is deleted (on access or by the expiry pass), and by FLUSHDB/FLUSHALL/SWAPDB when it
// exists in a database they empty or swap (touch_existing). EXEC also fails when a watched key that was live
// at WATCH time has expired since (Redis's isWatchedKeyExpired): the watcher checks that itself.
#include <atomic>
#include <cstddef>
#include <string>
#include <string_view>

namespace rc {

class Database;

namespace watched_keys {

// What a watching client owns: set once any watched key changes.
struct Watcher {
  std::atomic<bool> dirty{false};
};

// Watched (database, key) pairs, over every client.
inline std::atomic<size_t> g_watched{0};

// WATCH of `key` in `db`; `expired` when it was already past its time (then its deletion is no change).
void watch(Database& db, std::string_view key, Watcher* watcher);
void unwatch(int db, std::string_view key, Watcher* watcher);
// EXEC: whether `key`, live when `watcher` watched it, is past its time now.
bool expired_since_watch(Database& db, std::string_view key, Watcher* watcher);

void touch(int db, std::string_view key, bool expired_deletion);
// A command changed the key.
inline void note_changed(int db, std::string_view key) {
  if (g_watched.load(std::memory_order_relaxed) != 0) [[unlikely]] touch(db, key, false);
}
// The key was deleted because its time ran out: a change for those who watched it live, not for those who
// watched it already expired (Redis's touchWatchedKey).
inline void note_expired(int db, std::string_view key) {
  if (g_watched.load(std::memory_order_relaxed) != 0) [[unlikely]] touch(db, key, true);
}
// FLUSHDB/FLUSHALL (before the database is emptied) and SWAPDB (before the swap, `other` being what replaces
// `db`'s contents): touches the watched keys of `db` that exist in it or in `other`, except where an expired key
// only goes away or is replaced by another expired one (Redis's touchAllWatchedKeysInDb). The caller holds
// every shard of both.
void touch_existing(Database& db, Database* other = nullptr);

}  // namespace watched_keys
}  // namespace rc
