#include "store/keyspace.h"

#include <string>

#include "store/mutation_counter.h"
#include "store/shard_locks.h"
#include "store/watched_keys.h"

namespace rc {

Keyspace::Keyspace(int database_count) {
  databases_.reserve(static_cast<size_t>(database_count));
  for (int i = 0; i < database_count; ++i) databases_.push_back(std::make_unique<Database>(i, changes_));
}

void Keyspace::dispose(Garbage garbage, bool async) {
  if (async) {
    lazy_free_.submit(std::move(garbage));
  } else {
    garbage.clear();
  }
}

void Keyspace::flush(int index, bool async) {
  Garbage garbage;
  {
    ShardLocks locks;
    locks.add_all(db(index));
    locks.lock();
    watched_keys::touch_existing(db(index));
    db(index).clear_locked(garbage);
    changes_.publish(index, {"FLUSHDB"});
  }
  dispose(std::move(garbage), async);
}

void Keyspace::flush_all(int selected_db, bool async) {
  Garbage garbage;
  {
    ShardLocks locks;
    for (auto& database : databases_) locks.add_all(*database);
    locks.lock();
    for (auto& database : databases_) watched_keys::touch_existing(*database);
    for (auto& database : databases_) database->clear_locked(garbage);
    changes_.publish(selected_db, {"FLUSHALL"});
  }
  dispose(std::move(garbage), async);
}

void Keyspace::discard_all_for_reload() {
  const uint64_t mutations_before = t_store_mutations;
  Garbage garbage;
  {
    ShardLocks locks;
    for (auto& database : databases_) locks.add_all(*database);
    locks.lock();
    for (auto& database : databases_) database->clear_locked(garbage);
  }
  t_store_mutations = mutations_before;
  dispose(std::move(garbage), false);
}

uint64_t Keyspace::expired_keys() const {
  uint64_t total = 0;
  for (const auto& database : databases_) total += database->expired_total();
  return total;
}

void Keyspace::swap(int selected_db, int a, int b) {
  ShardLocks locks;
  if (a != b) {
    locks.add_all(db(a));
    locks.add_all(db(b));
    locks.lock();
    watched_keys::touch_existing(db(a), &db(b));
    watched_keys::touch_existing(db(b), &db(a));
    db(a).swap_contents_locked(db(b));
    // Clients blocked on a key of either database are served if the key exists in its new contents.
    ready_keys::note_existing_waited_keys(db(a));
    ready_keys::note_existing_waited_keys(db(b));
  } else {
    ++t_store_mutations;  // Redis counts (and logs) swapping a database with itself as a change too
  }
  changes_.publish(selected_db, {"SWAPDB", std::to_string(a), std::to_string(b)});
}

}  // namespace rc
