// The change stream: what the store publishes when keys expire (lazily or actively) and when whole
// databases are flushed or swapped, in apply order, with offsets.
#include <catch2/catch.hpp>

#include <algorithm>
#include <string>
#include <thread>
#include <vector>

#include "store/active_expiry.h"
#include "store/change_stream.h"
#include "store/clock.h"
#include "store/keyspace.h"
#include "store/shard_locks.h"

namespace {

struct Change {
  uint64_t offset;
  int db;
  std::vector<std::string> argv;
};

// Keeps every change it is handed.
class RecordingConsumer : public rc::ChangeConsumer {
 public:
  void consume(uint64_t offset, int db, std::span<const std::string_view> argv) override {
    changes.push_back({offset, db, std::vector<std::string>(argv.begin(), argv.end())});
  }
  std::vector<Change> changes;
};

// Attached as the server attaches one: under every shard lock.
void attach(rc::Keyspace& keyspace, RecordingConsumer& consumer) {
  rc::ShardLocks locks;
  for (int i = 0; i < keyspace.database_count(); ++i) locks.add_all(keyspace.db(i));
  locks.lock();
  keyspace.changes().attach(&consumer);
}

void put(rc::Database& db, const std::string& key, std::string_view value, int64_t expire_at = rc::Entry::kNoExpiry) {
  db.write(key, [&](rc::KeySlot& slot) { slot.set(value, expire_at); });
}

using Argv = std::vector<std::string>;

}  // namespace

TEST_CASE("change stream: a key found expired by a write is deleted first, in its database") {
  rc::Keyspace keyspace(4);
  RecordingConsumer consumer;
  attach(keyspace, consumer);
  rc::Database& db = keyspace.db(3);
  put(db, "counter", "10", rc::unix_time_ms() - 1);  // already expired
  db.write("counter", [&](rc::KeySlot& slot) {
    CHECK(slot.get() == nullptr);
    slot.set("1", rc::Entry::kNoExpiry);
    db.changes().publish(db.index(), {"INCR", "counter"});
  });
  REQUIRE(consumer.changes.size() == 2);
  CHECK(consumer.changes[0].argv == Argv{"DEL", "counter"});
  CHECK(consumer.changes[0].db == 3);
  CHECK(consumer.changes[1].argv == Argv{"INCR", "counter"});
  CHECK(consumer.changes[1].offset == consumer.changes[0].offset + 1);
  CHECK(keyspace.changes().offset() == consumer.changes[1].offset);
}

TEST_CASE("change stream: a read that finds a key expired publishes its deletion, UNLINK when lazy") {
  rc::Keyspace keyspace(1);
  RecordingConsumer consumer;
  attach(keyspace, consumer);
  rc::Database& db = keyspace.db(0);
  put(db, "a", "x", rc::unix_time_ms() - 1);
  put(db, "b", "y", rc::unix_time_ms() - 1);
  CHECK(db.read("a", [](const rc::Entry* entry) { return entry == nullptr; }));
  keyspace.changes().set_unlink_expired(true);
  CHECK(db.read("b", [](const rc::Entry* entry) { return entry == nullptr; }));
  REQUIRE(consumer.changes.size() == 2);
  CHECK(consumer.changes[0].argv == Argv{"DEL", "a"});
  CHECK(consumer.changes[1].argv == Argv{"UNLINK", "b"});
  // A live key read costs nothing in the stream.
  put(db, "c", "z");
  consumer.changes.clear();
  CHECK(db.read("c", [](const rc::Entry* entry) { return entry != nullptr; }));
  CHECK(consumer.changes.empty());
}

TEST_CASE("change stream: the active expiry pass publishes one deletion per key it reclaims") {
  rc::Keyspace keyspace(2);
  keyspace.set_active_expire(false);  // the test's own run_once, not the background loop
  rc::ActiveExpiry expiry(keyspace);
  RecordingConsumer consumer;
  attach(keyspace, consumer);
  const int64_t past = rc::unix_time_ms() - 1;
  for (int i = 0; i < 200; ++i) {
    std::string key = "gone";  // (+= : GCC 12 warns falsely about "literal" + std::string)
    key += std::to_string(i);
    put(keyspace.db(1), key, "v", past);
  }
  put(keyspace.db(1), "stays", "v", rc::unix_time_ms() + 600000);
  consumer.changes.clear();  // (the writes themselves published nothing: only commands do)
  size_t reclaimed = 0;
  for (int run = 0; run < 100 && reclaimed < 200; ++run) reclaimed += expiry.run_once();
  REQUIRE(reclaimed == 200);
  REQUIRE(consumer.changes.size() == 200);
  std::vector<std::string> deleted;
  for (const Change& change : consumer.changes) {
    CHECK(change.db == 1);
    CHECK(change.argv.size() == 2);
    CHECK(change.argv[0] == "DEL");
    deleted.push_back(change.argv[1]);
  }
  std::sort(deleted.begin(), deleted.end());
  CHECK(std::unique(deleted.begin(), deleted.end()) == deleted.end());
  CHECK(std::find(deleted.begin(), deleted.end(), "stays") == deleted.end());
}

TEST_CASE("change stream: flushes and swaps are published by the keyspace, in the caller's database") {
  rc::Keyspace keyspace(4);
  RecordingConsumer consumer;
  attach(keyspace, consumer);
  keyspace.flush(2, false);
  keyspace.flush_all(1, true);
  keyspace.swap(3, 0, 2);
  REQUIRE(consumer.changes.size() == 3);
  CHECK(consumer.changes[0].argv == Argv{"FLUSHDB"});
  CHECK(consumer.changes[0].db == 2);
  CHECK(consumer.changes[1].argv == Argv{"FLUSHALL"});
  CHECK(consumer.changes[1].db == 1);
  CHECK(consumer.changes[2].argv == Argv{"SWAPDB", "0", "2"});
  CHECK(consumer.changes[2].db == 3);
}

TEST_CASE("change stream: offsets number every change a consumer saw once, also from many threads") {
  rc::ChangeStream stream;
  CHECK(stream.publish(0, {"SET", "a", "1"}) == 0);  // nobody attached: no place in the stream
  RecordingConsumer consumer;
  stream.attach(&consumer);
  constexpr int kThreads = 4;
  constexpr int kEach = 2000;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&stream, t] {
      for (int i = 0; i < kEach; ++i) stream.publish(t, {"INCR", "k"});
    });
  }
  for (auto& thread : threads) thread.join();
  REQUIRE(consumer.changes.size() == kThreads * kEach);
  for (size_t i = 0; i < consumer.changes.size(); ++i) CHECK(consumer.changes[i].offset == i + 1);
  stream.detach(&consumer);
  CHECK(stream.publish(0, {"DEL", "a"}) == kThreads * kEach);
  CHECK(consumer.changes.size() == kThreads * kEach);
}
