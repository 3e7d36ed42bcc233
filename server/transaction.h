#pragma once
// A client's MULTI/EXEC state (Redis's multi.c): the commands queued since MULTI, whether queueing failed (EXEC
// then answers EXECABORT), and the keys it WATCHes. Owned by the client's connection thread; the watcher's flag
// is set by whichever thread changes a watched key (store/watched_keys.h).
#include <string>
#include <utility>
#include <vector>

#include "store/watched_keys.h"

namespace rc {

struct TransactionState {
  bool active = false;     // between MULTI and EXEC/DISCARD
  bool aborted = false;    // a command was refused while queueing
  bool executing = false;  // inside EXEC: a blocking command answers as if it timed out, as Redis's DENY_BLOCKING
  std::vector<std::vector<std::string>> queued;
  watched_keys::Watcher watcher;
  std::vector<std::pair<int, std::string>> watched;  // database, key

  // UNWATCH (and after EXEC, DISCARD, RESET, a disconnect).
  void unwatch_all() {
    for (const auto& [db, key] : watched) watched_keys::unwatch(db, key, &watcher);
    watched.clear();
    watcher.dirty.store(false, std::memory_order_relaxed);
  }
  // DISCARD: the queue goes, and the watches with it.
  void discard() {
    active = false;
    aborted = false;
    queued.clear();
    unwatch_all();
  }
};

}  // namespace rc
