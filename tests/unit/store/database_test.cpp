// A sharded database: sliced scans (also while other threads insert and delete), random keys, expiry
// bookkeeping, and the avg_ttl estimate.
#include <catch2/catch.hpp>

#include <atomic>
#include <barrier>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "store/active_expiry.h"
#include "store/clock.h"
#include "store/database.h"
#include "store/keyspace.h"

namespace {

// prefix + number (built with += : GCC 12 warns falsely (-Wrestrict) about std::string + std::string).
std::string key_name(std::string_view prefix, int i) {
  std::string text(prefix);
  text += std::to_string(i);
  return text;
}

void put(rc::Database& db, const std::string& key, int64_t expire_at = rc::Entry::kNoExpiry) {
  db.write(key, [&](rc::KeySlot& slot) { slot.set("value", expire_at); });
}

void erase(rc::Database& db, const std::string& key) {
  db.write(key, [](rc::KeySlot& slot) { slot.erase(); });
}

// A whole walk with scan_slice, counting each key's visits.
std::map<std::string, int> walk(const rc::Database& db, rc::ScanLimits limits) {
  std::map<std::string, int> seen;
  uint64_t cursor = 0;
  do {
    cursor = db.scan_slice(cursor, rc::unix_time_ms(), limits, [&](const rc::Entry* entry) {
                 ++seen[std::string(entry->key())];
               }).cursor;
  } while (cursor != 0);
  return seen;
}

}  // namespace

TEST_CASE("database: scan_slice walks every live key once and respects its limits") {
  rc::ChangeStream changes;
  rc::Database db(0, changes);
  for (int i = 0; i < 3000; ++i) put(db, key_name("k", i));
  put(db, "gone", rc::unix_time_ms() - 1);  // expired: never visited
  const auto seen = walk(db, {1000, 1000});
  CHECK(seen.size() == 3000);
  for (const auto& [key, visits] : seen) CHECK(visits == 1);
  CHECK(walk(db, {1, 1}).size() == 3000);

  // One slice stays in one shard and stops at its limits.
  const rc::ScanProgress first = db.scan_slice(0, rc::unix_time_ms(), {2, 1000}, [](const rc::Entry*) {});
  CHECK(first.buckets <= 2);
  const rc::ScanProgress few = db.scan_slice(0, rc::unix_time_ms(), {1000, 1}, [](const rc::Entry*) {});
  CHECK(few.entries <= 8);  // stops after the first bucket holding an entry
}

TEST_CASE("database: a scan returns every key present throughout while others insert and delete keys", "[concurrency]") {
  rc::ChangeStream changes;
  rc::Database db(0, changes);
  constexpr int kStable = 500;
  constexpr int kWriters = 3;
  constexpr int kWave = 20000;
  for (int i = 0; i < kStable; ++i) put(db, key_name("stable:", i));
  std::atomic<bool> stop{false};
  // The writers insert and then delete in lockstep waves, so that the shard tables grow to many times
  // their size and shrink back again and again while the scans run. The barrier's completion step reads
  // `stop` once for all writers, so they agree on when to leave.
  bool running = true;
  std::barrier wave(kWriters, [&]() noexcept { running = !stop.load(); });
  std::vector<std::thread> writers;
  for (int w = 0; w < kWriters; ++w) {
    writers.emplace_back([&, w] {
      const std::string prefix = key_name("volatile:", w) + ":";
      do {
        for (int i = 0; i < kWave; ++i) put(db, key_name(prefix, i));
        wave.arrive_and_wait();
        for (int i = 0; i < kWave; ++i) erase(db, key_name(prefix, i));
        wave.arrive_and_wait();
      } while (running);
    });
  }
  for (int round = 0; round < 5; ++round) {
    // Small slices: many lock releases, so the tables change a lot between them.
    const auto seen = walk(db, {1, 1});
    for (int i = 0; i < kStable; ++i) {
      const auto it = seen.find(key_name("stable:", i));
      REQUIRE(it != seen.end());
      CHECK(it->second == 1);  // at least once as Redis promises; exactly once in fact
    }
  }
  stop = true;
  for (std::thread& writer : writers) writer.join();
}

TEST_CASE("database: random_key") {
  rc::ChangeStream changes;
  rc::Database db(0, changes);
  CHECK_FALSE(db.random_key().has_value());
  put(db, "only");
  CHECK(db.random_key() == "only");

  SECTION("expired keys are never returned, and are deleted when picked") {
    for (int i = 0; i < 50; ++i) put(db, key_name("old", i), 1);
    for (int i = 0; i < 20; ++i) CHECK(db.random_key() == "only");
    erase(db, "only");
    CHECK_FALSE(db.random_key().has_value());
    CHECK(db.size() == 0);
  }
  SECTION("every key can come out") {
    for (int i = 0; i < 20; ++i) put(db, key_name("k", i));
    std::set<std::string> picked;
    for (int i = 0; i < 2000; ++i) picked.insert(*db.random_key());
    CHECK(picked.size() == 21);
  }
}

TEST_CASE("database: memory_usage counts the entry and its share of the buckets") {
  rc::ChangeStream changes;
  rc::Database db(0, changes);
  CHECK_FALSE(db.memory_usage("missing").has_value());
  put(db, "k");
  const auto small = db.memory_usage("k");
  REQUIRE(small.has_value());
  CHECK(*small >= sizeof(void*) + 7);
  db.write("big", [](rc::KeySlot& slot) { slot.set(std::string(10000, 'x'), rc::Entry::kNoExpiry); });
  CHECK(*db.memory_usage("big") >= 10000);
  put(db, "old", 1);
  CHECK_FALSE(db.memory_usage("old").has_value());
}

TEST_CASE("database: keys that expire are counted once, lazily or actively") {
  rc::ChangeStream changes;
  rc::Database db(0, changes);
  const int64_t past = rc::unix_time_ms() - 10;
  for (int i = 0; i < 10; ++i) put(db, key_name("k", i), past);
  CHECK(db.size() == 10);
  CHECK(db.expiring() == 10);
  CHECK(db.has_expiring());
  // Read access reclaims one.
  CHECK(db.read("k0", [](const rc::Entry* entry) { return entry == nullptr; }));
  CHECK(db.expired_total() == 1);
  // The expiry pass reclaims the rest.
  rc::Garbage garbage;
  size_t expired = 0;
  for (size_t shard = 0; shard < rc::Database::kShardCount; ++shard) {
    expired += db.expire_slice(shard, 1000, rc::unix_time_ms(), garbage).expired;
  }
  CHECK(expired == 9);
  CHECK(db.size() == 0);
  CHECK(db.expiring() == 0);
  CHECK_FALSE(db.has_expiring());
  CHECK(db.expired_total() == 10);
}

TEST_CASE("database: avg_ttl follows Redis's running average") {
  rc::ChangeStream changes;
  rc::Database db(0, changes);
  CHECK(db.avg_ttl() == 0);
  db.record_ttl_samples(0, 0);  // no sample: unchanged
  CHECK(db.avg_ttl() == 0);
  db.record_ttl_samples(3 * 10000.0, 3);  // first batch: starts from its average
  CHECK(db.avg_ttl() == 10000 / 50 * 49 + 10000 / 50);
  db.record_ttl_samples(20000.0, 1);  // then 2% weight per batch
  CHECK(db.avg_ttl() == 10000 / 50 * 49 + 20000 / 50);
  db.reset_avg_ttl();
  CHECK(db.avg_ttl() == 0);

  SECTION("expiry slices sample the TTLs of live keys") {
    for (int i = 0; i < 100; ++i) put(db, key_name("k", i), rc::unix_time_ms() + 100000);
    rc::Garbage garbage;
    double sum = 0;
    size_t samples = 0;
    for (size_t shard = 0; shard < rc::Database::kShardCount; ++shard) {
      const rc::ExpirySliceResult slice = db.expire_slice(shard, 1000, rc::unix_time_ms(), garbage);
      sum += slice.ttl_sum;
      samples += slice.ttl_samples;
    }
    CHECK(samples == 100);
    CHECK(sum / 100 > 90000);
    CHECK(sum / 100 <= 100000);
  }
}

TEST_CASE("keyspace: flush and swap carry avg_ttl along, and count expired keys") {
  rc::Keyspace keyspace(4);
  keyspace.db(1).record_ttl_samples(5000.0, 1);
  keyspace.swap(0, 1, 2);
  CHECK(keyspace.db(1).avg_ttl() == 0);
  CHECK(keyspace.db(2).avg_ttl() == 5000);
  keyspace.flush(2, false);
  CHECK(keyspace.db(2).avg_ttl() == 0);
  put(keyspace.db(3), "old", 1);
  CHECK(keyspace.db(3).read("old", [](const rc::Entry* entry) { return entry == nullptr; }));
  CHECK(keyspace.expired_keys() == 1);
}

TEST_CASE("active expiry: the pass can be paused (DEBUG SET-ACTIVE-EXPIRE 0) and still run on demand") {
  rc::Keyspace keyspace(2);
  keyspace.set_active_expire(false);
  CHECK_FALSE(keyspace.active_expire_enabled());
  for (int i = 0; i < 100; ++i) put(keyspace.db(1), key_name("k", i), rc::unix_time_ms() - 1);
  {
    rc::ActiveExpiry expiry(keyspace);
    CHECK(keyspace.db(1).size() == 100);  // paused: the background loop leaves them
    size_t reclaimed = 0;
    for (int run = 0; run < 100 && reclaimed < 100; ++run) reclaimed += expiry.run_once();
    CHECK(reclaimed == 100);
  }
  CHECK(keyspace.db(1).size() == 0);
}

TEST_CASE("active expiry: databases without TTL keys are skipped, the others still reclaimed") {
  rc::Keyspace keyspace(16);
  keyspace.set_active_expire(false);
  // Only db 9 has keys with a TTL; the rest hold keys without one, which the pass must leave alone.
  for (int db : {0, 3, 15}) put(keyspace.db(db), "persistent");
  for (int i = 0; i < 50; ++i) put(keyspace.db(9), key_name("k", i), rc::unix_time_ms() - 1);
  rc::ActiveExpiry expiry(keyspace);
  size_t reclaimed = 0;
  for (int run = 0; run < 100 && reclaimed < 50; ++run) reclaimed += expiry.run_once();
  CHECK(reclaimed == 50);
  CHECK(keyspace.db(9).size() == 0);
  for (int db : {0, 3, 15}) CHECK(keyspace.db(db).size() == 1);
  // Once nothing has a TTL, a run finds nothing (and ends after one round instead of spinning to its budget).
  CHECK(expiry.run_once() == 0);
}
