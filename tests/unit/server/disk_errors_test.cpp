// Persistence errors seen by the dispatcher, and the AOF's group commit: a failed background save refuses
// writes and PING with MISCONF (after the NOAUTH check, and only with save points and
// stop-writes-on-bgsave-error yes); a pipeline of writes under appendfsync always waits for one fsync.
#include <catch2/catch.hpp>
#include <fmt/format.h>

#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <filesystem>
#include <string>
#include <thread>

#include "protocol/errors.h"
#include "server/aof_log.h"
#include "server/config.h"
#include "tests/unit/server/command_test_helpers.h"
#include "tests/unit/temp_dir.h"

using rc::test::CommandRunner;
using rc::test::TempDir;
using rc::test::numbered;
namespace fs = std::filesystem;

namespace {

// (fmt rather than "-" + std::string: GCC 12 warns falsely (-Wrestrict) on that concatenation.)
std::string error_reply(std::string_view text) { return fmt::format("-{}\r\n", text); }

// BGSAVE into a directory that does not exist: the child fails; returns once the parent has recorded it.
void fail_a_bgsave(CommandRunner& redis) {
  redis.server().config().set("dir", "/nonexistent/redis-clone-test", true);
  REQUIRE(redis.run({"BGSAVE"}) == "+Background saving started\r\n");
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (redis.server().persistence().info().bgsave_in_progress && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  REQUIRE_FALSE(redis.server().persistence().info().bgsave_in_progress);
  REQUIRE_FALSE(redis.server().persistence().info().last_bgsave_ok);
}

}  // namespace

TEST_CASE("MISCONF errors carry Redis's text") {
  CHECK(rc::errors::misconf_aof(EFBIG) == "MISCONF Errors writing to the AOF file: File too large");
  CHECK(rc::errors::misconf_aof(ENOSPC) == "MISCONF Errors writing to the AOF file: No space left on device");
  CHECK(rc::errors::kMisconfBgsave.starts_with("MISCONF Redis is configured to save RDB snapshots"));
}

TEST_CASE("A failed background save refuses writes and PING while save points are configured") {
  CommandRunner redis;
  REQUIRE(redis.run({"SET", "k", "v"}) == "+OK\r\n");
  REQUIRE(redis.run({"CONFIG", "SET", "save", "3600 1"}) == "+OK\r\n");
  fail_a_bgsave(redis);
  const std::string misconf = error_reply(rc::errors::kMisconfBgsave);

  CHECK(redis.run({"SET", "k", "w"}) == misconf);
  CHECK(redis.run({"PING"}) == misconf);
  CHECK(redis.run({"DEL", "k"}) == misconf);
  CHECK(redis.run({"GET", "k"}) == "$1\r\nv\r\n");
  CHECK(redis.run({"ECHO", "x"}) == "$1\r\nx\r\n");
  // Existence, arity and authentication are checked first, as in Redis.
  CHECK(redis.run({"NOSUCH"}).starts_with("-ERR unknown command"));
  CHECK(redis.run({"SET", "k"}) == "-ERR wrong number of arguments for 'set' command\r\n");
  REQUIRE(redis.run({"CONFIG", "SET", "requirepass", "secret"}) == "+OK\r\n");
  redis.session().authenticated = false;
  CHECK(redis.run({"SET", "k", "w"}) == error_reply(rc::errors::kNoAuth));
  redis.session().authenticated = true;
  REQUIRE(redis.run({"CONFIG", "SET", "requirepass", ""}) == "+OK\r\n");

  SECTION("stop-writes-on-bgsave-error no lets writes through") {
    REQUIRE(redis.run({"CONFIG", "SET", "stop-writes-on-bgsave-error", "no"}) == "+OK\r\n");
    CHECK(redis.run({"SET", "k", "w"}) == "+OK\r\n");
    CHECK(redis.run({"PING"}) == "+PONG\r\n");
  }
  SECTION("without save points nothing is refused") {
    REQUIRE(redis.run({"CONFIG", "SET", "save", ""}) == "+OK\r\n");
    CHECK(redis.run({"SET", "k", "w"}) == "+OK\r\n");
  }
}

TEST_CASE("A pipeline of writes under appendfsync always waits for one fsync, before its replies") {
  TempDir dir("disk-errors-test");
  CommandRunner redis;
  rc::Config& config = redis.server().config();
  config.set("dir", dir.path.string(), true);
  config.set("appendonly", "yes", true);
  config.set("appendfsync", "always", true);
  rc::AofLog log(config, redis.server().keyspace(), redis.server().forks());
  REQUIRE_FALSE(log.load_and_open(redis.server()));
  log.start();
  const uint64_t fsyncs_before = log.fsyncs();
  constexpr int kPipeline = 16;
  std::vector<std::string> keys;
  for (int i = 0; i < kPipeline; ++i) keys.push_back(numbered("key", i));
  std::vector<std::vector<std::string_view>> pipeline;
  for (const std::string& key : keys) pipeline.push_back({"SET", key, "value"});
  // One wait before the 16 replies, as a connection's: one fsync covers them (the writer's own periodic
  // pass may add one).
  for (const std::string& reply : redis.run_pipeline(pipeline)) CHECK(reply == "+OK\r\n");
  const uint64_t fsyncs = log.fsyncs() - fsyncs_before;
  CHECK(fsyncs >= 1);
  CHECK(fsyncs <= 2);
  const auto incr = dir.path / "appendonlydir" / "appendonly.aof.1.incr.aof";
  CHECK(fs::file_size(incr) > static_cast<uintmax_t>(kPipeline) * 20);
  log.stop();
}
