#include "store/active_expiry.h"

#include <chrono>

#include "store/clock.h"

namespace rc {
namespace {

constexpr auto kPeriod = std::chrono::milliseconds(100);
// Up to 25% of one core, as Redis's ACTIVE_EXPIRE_CYCLE_SLOW_TIME_PERC.
constexpr auto kBudget = std::chrono::milliseconds(25);
// Buckets examined per lock hold: a few dozen entries, a few microseconds.
constexpr size_t kBucketsPerSlice = 32;
// Keys whose TTLs are averaged together before the average updates avg_ttl (ACTIVE_EXPIRE_CYCLE_KEYS_PER_LOOP).
constexpr size_t kTtlBatch = 20;

}  // namespace

ActiveExpiry::ActiveExpiry(Keyspace& keyspace) : keyspace_(keyspace), thread_([this] { loop(); }) {}

ActiveExpiry::~ActiveExpiry() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  thread_.join();
}

size_t ActiveExpiry::run_once() {
  const auto deadline = std::chrono::steady_clock::now() + kBudget;
  const size_t databases = static_cast<size_t>(keyspace_.database_count());
  const size_t total_shards = databases * Database::kShardCount;
  size_t reclaimed = 0;
  size_t examined_in_round = 0;
  size_t expired_in_round = 0;
  // Visit shards round robin, resuming where the last run stopped. A full round over every shard ends the
  // run unless more than a tenth of what it examined had expired (then another round is worth it).
  size_t visited = 0;
  size_t round_end = total_shards;
  while (std::chrono::steady_clock::now() < deadline) {
    if (visited >= round_end) {
      if (expired_in_round * 10 <= examined_in_round) break;
      examined_in_round = expired_in_round = 0;
      round_end = visited + total_shards;
    }
    Database& db = keyspace_.db(static_cast<int>(next_db_));
    if (next_shard_ == 0 && !db.has_expiring()) {
      // As Redis, a database without keys with a TTL has no average TTL. Its shards are skipped as a
      // whole (counted as visited), so an idle server spends a few atomic loads per run, not a clock
      // read and a slice call for each of its thousands of shards.
      db.reset_avg_ttl();
      visited += Database::kShardCount;
      next_db_ = (next_db_ + 1) % databases;
      continue;
    }
    Garbage garbage;
    const ExpirySliceResult slice = db.expire_slice(next_shard_, kBucketsPerSlice, unix_time_ms(), garbage);
    examined_in_round += slice.examined;
    expired_in_round += slice.expired;
    reclaimed += slice.expired;
    ++visited;
    const bool database_done = ++next_shard_ == Database::kShardCount;
    gather_ttl_samples(db, slice, database_done);
    if (database_done) {
      next_shard_ = 0;
      next_db_ = (next_db_ + 1) % databases;
    }
  }
  return reclaimed;
}

void ActiveExpiry::gather_ttl_samples(Database& db, const ExpirySliceResult& slice, bool database_done) {
  // Redis averages the TTLs of a batch of up to 20 sampled keys, then folds that average into the estimate;
  // our slices see fewer keys with a TTL each, so they are pooled into batches of that size (or whatever
  // one pass over the database's shards found).
  pending_ttl_sum_ += slice.ttl_sum;
  pending_ttl_samples_ += slice.ttl_samples;
  if (pending_ttl_samples_ >= kTtlBatch || (database_done && pending_ttl_samples_ > 0)) {
    db.record_ttl_samples(pending_ttl_sum_, pending_ttl_samples_);
    pending_ttl_sum_ = 0;
    pending_ttl_samples_ = 0;
  }
}

void ActiveExpiry::loop() {
  std::unique_lock lock(mutex_);
  while (!stopping_) {
    lock.unlock();
    if (keyspace_.active_expire_enabled()) run_once();
    lock.lock();
    wake_.wait_for(lock, kPeriod, [this] { return stopping_; });
  }
}

}  // namespace rc
