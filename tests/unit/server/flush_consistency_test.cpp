// FLUSHDB racing with writers must leave a state that some serial order of the commands would give:
// FLUSHDB is atomic across shards (it detaches every shard's table under all the locks at once).
#include <catch2/catch.hpp>

#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include "server/client_session.h"
#include "server/connection.h"
#include "server/server.h"
#include "tests/unit/server/command_test_helpers.h"

using rc::test::numbered;

namespace {

std::string run(rc::Server& server, rc::ClientSession& session, const std::vector<std::string_view>& argv) {
  std::string out;
  rc::execute_command(server, session, out, argv);
  return out;
}

}  // namespace

TEST_CASE("FLUSHDB concurrent with writers leaves a serializable state", "[concurrency]") {
  rc::Server server;
  constexpr int kWriters = 3;
  constexpr int kWrites = 3000;
  std::atomic<int> writers_done{0};
  // Catch2's assertions are not thread-safe: worker threads count wrong replies, checked after join().
  std::atomic<int> wrong_replies{0};
  std::vector<std::thread> threads;
  for (int w = 0; w < kWriters; ++w) {
    threads.emplace_back([&, w] {
      rc::ClientSession session(static_cast<uint64_t>(w + 1), -1, "test", "test", 0);
      for (int i = 0; i < kWrites; ++i) {
        const std::string a = numbered("pair:a:" + std::to_string(w) + ":", i);
        const std::string b = numbered("pair:b:" + std::to_string(w) + ":", i);
        const std::string seq = numbered("seq:" + std::to_string(w) + ":", i);
        if (run(server, session, {"MSET", a, "v", b, "v"}) != "+OK\r\n") ++wrong_replies;
        if (run(server, session, {"SET", seq, "v"}) != "+OK\r\n") ++wrong_replies;
      }
      ++writers_done;
    });
  }
  threads.emplace_back([&] {
    rc::ClientSession session(99, -1, "test", "test", 0);
    int flushes = 0;
    while (writers_done.load() < kWriters && flushes < 100000) {
      if (run(server, session, {"FLUSHDB"}) != "+OK\r\n") ++wrong_replies;
      ++flushes;
    }
  });
  for (auto& thread : threads) thread.join();
  REQUIRE(wrong_replies.load() == 0);

  rc::ClientSession reader(100, -1, "test", "test", 0);
  for (int w = 0; w < kWriters; ++w) {
    bool seen_suffix = false;
    for (int i = 0; i < kWrites; ++i) {
      const std::string a = numbered("pair:a:" + std::to_string(w) + ":", i);
      const std::string b = numbered("pair:b:" + std::to_string(w) + ":", i);
      // An MSET is never cut in two by a FLUSHDB.
      INFO("writer " << w << " pair " << i);
      REQUIRE(run(server, reader, {"EXISTS", a}) == run(server, reader, {"EXISTS", b}));
      // One writer's SETs survive as a suffix: whatever was written after the last flush it saw.
      const bool exists = run(server, reader, {"EXISTS", numbered("seq:" + std::to_string(w) + ":", i)}) == ":1\r\n";
      if (seen_suffix) REQUIRE(exists);
      seen_suffix = seen_suffix || exists;
    }
    // The last write of each writer happened after every flush or raced with the last one.
    REQUIRE(seen_suffix == (run(server, reader, {"EXISTS", numbered("seq:" + std::to_string(w) + ":", kWrites - 1)}) == ":1\r\n"));
  }
}
