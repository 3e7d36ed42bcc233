#pragma once
// The background pass that reclaims expired keys nobody touches again. Ten times a second it walks the
// shards that hold keys with a TTL, a slice of buckets at a time under the shard's lock (so no client waits
// long), and keeps going while it finds many expired keys, up to a time budget per run, as Redis's
// activeExpireCycle does.
#include <condition_variable>
#include <cstddef>
#include <mutex>
#include <thread>

#include "store/keyspace.h"

namespace rc {

class ActiveExpiry {
 public:
  explicit ActiveExpiry(Keyspace& keyspace);
  ~ActiveExpiry();
  ActiveExpiry(const ActiveExpiry&) = delete;
  ActiveExpiry& operator=(const ActiveExpiry&) = delete;

  // One run (public for tests; it runs even when DEBUG SET-ACTIVE-EXPIRE 0 pauses the background loop):
  // returns the number of keys reclaimed. It also feeds each database's avg_ttl estimate.
  size_t run_once();

 private:
  void loop();
  void gather_ttl_samples(Database& db, const ExpirySliceResult& slice, bool database_done);
  Keyspace& keyspace_;
  size_t next_db_ = 0;
  size_t next_shard_ = 0;
  // TTLs sampled in the current database and not yet folded into its avg_ttl.
  double pending_ttl_sum_ = 0;
  size_t pending_ttl_samples_ = 0;
  std::mutex mutex_;
  std::condition_variable wake_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace rc
