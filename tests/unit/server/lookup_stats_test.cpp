// keyspace_hits / keyspace_misses: counted by many client threads at once, each in its own stripe, and
// summed whole; and counted by GET (a read), not by INCR (a write), as Redis counts them.
#include <catch2/catch.hpp>

#include <thread>
#include <vector>

#include "server/lookup_stats.h"
#include "tests/unit/server/command_test_helpers.h"

TEST_CASE("Lookup counts from many threads add up") {
  rc::LookupStats stats;
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&stats, t] {
      for (int i = 0; i < 1000; ++i) stats.record((i + t) % 4 != 0);
    });
  }
  for (auto& thread : threads) thread.join();
  CHECK(stats.hits() + stats.misses() == 8000);
  CHECK(stats.misses() == 2000);
}

TEST_CASE("Reads count keyspace hits and misses, writes do not") {
  rc::test::CommandRunner redis;
  const auto& lookups = redis.server().stats().lookups;
  REQUIRE(redis.run({"SET", "k", "1"}) == "+OK\r\n");
  REQUIRE(redis.run({"INCR", "k"}) == ":2\r\n");
  CHECK(lookups.hits() == 0);
  CHECK(lookups.misses() == 0);
  REQUIRE(redis.run({"GET", "k"}) == "$1\r\n2\r\n");
  REQUIRE(redis.run({"MGET", "k", "nosuch"}) == "*2\r\n$1\r\n2\r\n$-1\r\n");
  CHECK(lookups.hits() == 2);
  CHECK(lookups.misses() == 1);
  REQUIRE(redis.run({"MEMORY", "USAGE", "k"}).starts_with(":"));  // not a read, as in Redis
  CHECK(lookups.hits() == 2);
}
