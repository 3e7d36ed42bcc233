#pragma once
// The numbered databases of one server (16 by default, `--databases`), and the operations that span them.
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

#include "store/change_stream.h"
#include "store/database.h"
#include "store/encoding_limits.h"
#include "store/garbage.h"
#include "store/lazy_free.h"

namespace rc {

class Keyspace {
 public:
  explicit Keyspace(int database_count = 16);

  int database_count() const { return static_cast<int>(databases_.size()); }
  Database& db(int index) { return *databases_[static_cast<size_t>(index)]; }
  const Database& db(int index) const { return *databases_[static_cast<size_t>(index)]; }

  // FLUSHDB: atomic (every shard is locked at once, only for the time it takes to detach the tables, and
  // the flush is published then); the keys are then freed by the caller's thread, or by the background
  // freer when `async`.
  void flush(int index, bool async);
  // FLUSHALL: the same over every database at once. `selected_db`: the database the change is published
  // in (the client's, as Redis logs it after its SELECT).
  void flush_all(int selected_db, bool async);
  // DEBUG RELOAD: removes every key without publishing or counting it as a change, since the same data is
  // loaded back at once from the file just saved.
  void discard_all_for_reload();
  // SWAPDB: atomic, under every shard lock of both databases, and published then.
  void swap(int selected_db, int a, int b);

  LazyFree& lazy_free() { return lazy_free_; }
  // Where every change to these databases is published (store/change_stream.h).
  ChangeStream& changes() { return changes_; }
  EncodingLimits& limits() { return limits_; }
  const EncodingLimits& limits() const { return limits_; }

  // Keys reclaimed after their time ran out, over every database (INFO stats expired_keys).
  uint64_t expired_keys() const;

  // DEBUG SET-ACTIVE-EXPIRE: whether the background expiry pass runs (keys still expire on access).
  bool active_expire_enabled() const { return active_expire_.load(std::memory_order_relaxed); }
  void set_active_expire(bool enabled) { active_expire_.store(enabled, std::memory_order_relaxed); }

 private:
  void dispose(Garbage garbage, bool async);
  ChangeStream changes_;  // before the databases, which publish into it
  EncodingLimits limits_;
  std::vector<std::unique_ptr<Database>> databases_;
  LazyFree lazy_free_;
  std::atomic<bool> active_expire_{true};
};

}  // namespace rc
