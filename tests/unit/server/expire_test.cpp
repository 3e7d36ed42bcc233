// Expiry commands through the real dispatcher, reply bytes compared exactly with redis-server 7.0.15's,
// and the active expiry pass (reclaiming, INFO's expired_keys and avg_ttl).
#include <catch2/catch.hpp>

#include <chrono>
#include <string>
#include <string_view>
#include <thread>

#include "store/active_expiry.h"
#include "store/clock.h"
#include "tests/unit/server/command_test_helpers.h"

using rc::test::CommandRunner;
using rc::test::numbered;

namespace {

// The integer of a ":n\r\n" reply.
int64_t integer_of(const std::string& reply) {
  REQUIRE(reply.starts_with(":"));
  return std::stoll(reply.substr(1));
}

// Polls `done` every few milliseconds until it holds or `limit` passes; returns whether it held.
template <typename Done>
bool wait_until(Done&& done, std::chrono::seconds limit) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (!done()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return true;
}

// The value of `field` (up to ',' or CR) in an INFO reply, or "" when absent.
std::string info_field(const std::string& info, std::string_view field) {
  const size_t at = info.find(field);
  if (at == std::string::npos) return "";
  const size_t start = at + field.size();
  return info.substr(start, info.find_first_of(",\r", start) - start);
}

}  // namespace

TEST_CASE("EXPIRE family on missing keys, and TTL/EXPIRETIME answers") {
  CommandRunner redis;
  CHECK(redis.run({"EXPIRE", "missing", "100"}) == ":0\r\n");
  CHECK(redis.run({"PEXPIRE", "missing", "100000"}) == ":0\r\n");
  CHECK(redis.run({"EXPIREAT", "missing", "4000000000"}) == ":0\r\n");
  CHECK(redis.run({"PEXPIREAT", "missing", "4000000000000"}) == ":0\r\n");
  CHECK(redis.run({"TTL", "missing"}) == ":-2\r\n");
  CHECK(redis.run({"PTTL", "missing"}) == ":-2\r\n");
  CHECK(redis.run({"EXPIRETIME", "missing"}) == ":-2\r\n");
  CHECK(redis.run({"PEXPIRETIME", "missing"}) == ":-2\r\n");
  CHECK(redis.run({"PERSIST", "missing"}) == ":0\r\n");
  redis.run({"SET", "k", "v"});
  CHECK(redis.run({"TTL", "k"}) == ":-1\r\n");
  CHECK(redis.run({"EXPIRETIME", "k"}) == ":-1\r\n");
  CHECK(redis.run({"PERSIST", "k"}) == ":0\r\n");
  CHECK(redis.run({"EXPIREAT", "k", "4000000000"}) == ":1\r\n");
  CHECK(redis.run({"EXPIRETIME", "k"}) == ":4000000000\r\n");
  CHECK(redis.run({"PEXPIRETIME", "k"}) == ":4000000000000\r\n");
  CHECK(redis.run({"PEXPIREAT", "k", "4000000000499"}) == ":1\r\n");
  CHECK(redis.run({"EXPIRETIME", "k"}) == ":4000000000\r\n");
  CHECK(redis.run({"PEXPIREAT", "k", "4000000000500"}) == ":1\r\n");
  CHECK(redis.run({"EXPIRETIME", "k"}) == ":4000000001\r\n");  // rounded to the nearest second
  CHECK(redis.run({"PEXPIRETIME", "k"}) == ":4000000000500\r\n");
  CHECK(redis.run({"PERSIST", "k"}) == ":1\r\n");
  CHECK(redis.run({"PERSIST", "k"}) == ":0\r\n");
  CHECK(redis.run({"TTL", "k"}) == ":-1\r\n");
  CHECK(redis.run({"GET", "k"}) == "$1\r\nv\r\n");
}

TEST_CASE("relative expiry has millisecond precision") {
  CommandRunner redis;
  redis.run({"SET", "k", "v"});
  CHECK(redis.run({"EXPIRE", "k", "100"}) == ":1\r\n");
  CHECK(redis.run({"TTL", "k"}) == ":100\r\n");
  const int64_t pttl = integer_of(redis.run({"PTTL", "k"}));
  CHECK(pttl > 99000);
  CHECK(pttl <= 100000);
  CHECK(redis.run({"PEXPIRE", "k", "1500"}) == ":1\r\n");
  const int64_t short_pttl = integer_of(redis.run({"PTTL", "k"}));
  CHECK(short_pttl > 1000);
  CHECK(short_pttl <= 1500);
  const int64_t at = integer_of(redis.run({"PEXPIRETIME", "k"}));
  CHECK(at - rc::unix_time_ms() <= 1500);
  CHECK(at - rc::unix_time_ms() > 1000);

  SECTION("a key is gone as soon as its time has passed") {
    CHECK(redis.run({"PEXPIRE", "k", "20"}) == ":1\r\n");
    CHECK(wait_until([&] { return redis.run({"GET", "k"}) == "$-1\r\n"; }, std::chrono::seconds(10)));
    CHECK(redis.run({"EXISTS", "k"}) == ":0\r\n");
    CHECK(redis.run({"TTL", "k"}) == ":-2\r\n");
  }
}

TEST_CASE("NX, XX, GT and LT") {
  CommandRunner redis;
  redis.run({"SET", "k", "v"});
  // NX: only without an expiry.
  CHECK(redis.run({"EXPIREAT", "k", "4000000000", "NX"}) == ":1\r\n");
  CHECK(redis.run({"EXPIREAT", "k", "4100000000", "nx"}) == ":0\r\n");
  CHECK(redis.run({"EXPIRETIME", "k"}) == ":4000000000\r\n");
  // XX: only with one.
  CHECK(redis.run({"EXPIREAT", "k", "4100000000", "XX"}) == ":1\r\n");
  CHECK(redis.run({"PERSIST", "k"}) == ":1\r\n");
  CHECK(redis.run({"EXPIREAT", "k", "4000000000", "XX"}) == ":0\r\n");
  // GT: no expiry counts as infinite, so GT never applies to it.
  CHECK(redis.run({"EXPIREAT", "k", "4000000000", "GT"}) == ":0\r\n");
  CHECK(redis.run({"EXPIRETIME", "k"}) == ":-1\r\n");
  // LT: applies to a key without expiry.
  CHECK(redis.run({"EXPIREAT", "k", "4000000000", "LT"}) == ":1\r\n");
  CHECK(redis.run({"EXPIREAT", "k", "4100000000", "LT"}) == ":0\r\n");
  CHECK(redis.run({"EXPIREAT", "k", "4000000000", "LT"}) == ":0\r\n");  // equal is not less
  CHECK(redis.run({"EXPIREAT", "k", "3900000000", "LT"}) == ":1\r\n");
  CHECK(redis.run({"EXPIREAT", "k", "3900000000", "GT"}) == ":0\r\n");  // equal is not greater
  CHECK(redis.run({"EXPIREAT", "k", "4200000000", "GT"}) == ":1\r\n");
  CHECK(redis.run({"EXPIREAT", "k", "4300000000", "XX", "GT"}) == ":1\r\n");
  CHECK(redis.run({"EXPIREAT", "k", "3000000000", "XX", "LT"}) == ":1\r\n");
  CHECK(redis.run({"EXPIREAT", "k", "3000000001", "xx"}) == ":1\r\n");
  CHECK(redis.run({"EXPIRETIME", "k"}) == ":3000000001\r\n");
  CHECK(redis.run({"EXPIRE", "k", "100", "GT"}) == ":0\r\n");  // 100 s from now is before 3000000001
  CHECK(redis.run({"EXPIREAT", "k", "3000000001", "GT", "GT"}) == ":0\r\n");  // repeats are allowed
}

TEST_CASE("expiry option and argument errors, in Redis's order") {
  CommandRunner redis;
  redis.run({"SET", "k", "v"});
  const std::string nx_conflict = "-ERR NX and XX, GT or LT options at the same time are not compatible\r\n";
  CHECK(redis.run({"EXPIREAT", "k", "3000000000", "NX", "XX"}) == nx_conflict);
  CHECK(redis.run({"EXPIREAT", "k", "3000000000", "NX", "GT"}) == nx_conflict);
  CHECK(redis.run({"EXPIREAT", "k", "3000000000", "LT", "NX"}) == nx_conflict);
  CHECK(redis.run({"EXPIRE", "k", "10", "gt", "lt", "nx"}) == nx_conflict);
  CHECK(redis.run({"EXPIREAT", "k", "3000000000", "GT", "LT"}) ==
        "-ERR GT and LT options at the same time are not compatible\r\n");
  CHECK(redis.run({"EXPIREAT", "k", "3000000000", "FOO"}) == "-ERR Unsupported option FOO\r\n");
  CHECK(redis.run({"EXPIREAT", "k", "3000000000", "NX", "FOO"}) == "-ERR Unsupported option FOO\r\n");
  // Options are read before the time, and both before the key is looked up.
  CHECK(redis.run({"EXPIRE", "missing", "abc", "FOO"}) == "-ERR Unsupported option FOO\r\n");
  CHECK(redis.run({"EXPIRE", "missing", "abc", "NX", "XX"}) == nx_conflict);
  CHECK(redis.run({"EXPIRE", "missing", "100", "NX", "XX"}) == nx_conflict);
  const std::string not_integer = "-ERR value is not an integer or out of range\r\n";
  CHECK(redis.run({"EXPIRE", "k", "abc"}) == not_integer);
  CHECK(redis.run({"EXPIRE", "k", "1.5"}) == not_integer);
  CHECK(redis.run({"EXPIRE", "k", ""}) == not_integer);
  CHECK(redis.run({"PEXPIRE", "k", "1e3"}) == not_integer);
  CHECK(redis.run({"PEXPIREAT", "k", "abc"}) == not_integer);
  CHECK(redis.run({"EXPIRE", "k", "9223372036854775807"}) == "-ERR invalid expire time in 'expire' command\r\n");
  CHECK(redis.run({"EXPIRE", "k", "-9223372036854775808"}) == "-ERR invalid expire time in 'expire' command\r\n");
  CHECK(redis.run({"PEXPIRE", "k", "9223372036854775807"}) == "-ERR invalid expire time in 'pexpire' command\r\n");
  CHECK(redis.run({"EXPIREAT", "k", "9223372036854776"}) == "-ERR invalid expire time in 'expireat' command\r\n");
  CHECK(redis.run({"EXPIRE", "k"}) == "-ERR wrong number of arguments for 'expire' command\r\n");
  CHECK(redis.run({"PERSIST", "a", "b"}) == "-ERR wrong number of arguments for 'persist' command\r\n");
  CHECK(redis.run({"EXPIRETIME"}) == "-ERR wrong number of arguments for 'expiretime' command\r\n");
  CHECK(redis.run({"TTL", "k"}) == ":-1\r\n");  // none of the errors touched the key

  SECTION("the largest times that do not overflow are accepted") {
    CHECK(redis.run({"PEXPIREAT", "k", "9223372036854775807"}) == ":1\r\n");
    CHECK(redis.run({"PEXPIRETIME", "k"}) == ":9223372036854775807\r\n");
    CHECK(redis.run({"EXPIREAT", "k", "9223372036854775"}) == ":1\r\n");
    CHECK(redis.run({"EXPIRETIME", "k"}) == ":9223372036854775\r\n");
  }
}

TEST_CASE("a time in the past deletes the key and replies 1") {
  CommandRunner redis;
  const auto deleted_by = [&](std::vector<std::string_view> command) {
    redis.run({"SET", "d", "v"});
    const std::string reply = redis.run(command);
    return reply == ":1\r\n" && redis.run({"EXISTS", "d"}) == ":0\r\n";
  };
  CHECK(deleted_by({"EXPIRE", "d", "-1"}));
  CHECK(deleted_by({"EXPIRE", "d", "0"}));
  CHECK(deleted_by({"PEXPIRE", "d", "0"}));
  CHECK(deleted_by({"EXPIREAT", "d", "1"}));
  CHECK(deleted_by({"PEXPIREAT", "d", "1000"}));
  CHECK(deleted_by({"EXPIREAT", "d", "-5"}));
  CHECK(deleted_by({"EXPIREAT", "d", "1", "NX"}));
  CHECK(deleted_by({"EXPIRE", "d", "-10", "LT"}));  // no expiry is infinite: anything is less
  redis.run({"SET", "d", "v"});
  CHECK(redis.run({"PEXPIRE", "d", "-10", "GT"}) == ":0\r\n");  // GT never applies without an expiry
  CHECK(redis.run({"EXISTS", "d"}) == ":1\r\n");
  redis.run({"SET", "d", "v", "EXAT", "4000000000"});
  CHECK(redis.run({"EXPIREAT", "d", "1", "GT"}) == ":0\r\n");
  CHECK(redis.run({"EXPIREAT", "d", "1", "LT"}) == ":1\r\n");
  CHECK(redis.run({"EXISTS", "d"}) == ":0\r\n");
  CHECK(redis.run({"DBSIZE"}) == ":0\r\n");
}

TEST_CASE("active expiry reclaims 100,000 keys with a short TTL") {
  CommandRunner redis;
  constexpr int kKeys = 100000;
  for (int i = 0; i < kKeys; ++i) {
    const std::string key = numbered("short:", i);
    REQUIRE(redis.run({"SET", key, "v", "PX", "50"}) == "+OK\r\n");
  }
  redis.run({"SET", "keeper", "v"});
  rc::ActiveExpiry expiry(redis.server().keyspace());
  // Nobody touches the keys: only the background pass can reclaim them.
  CHECK(wait_until([&] { return redis.run({"DBSIZE"}) == ":1\r\n"; }, std::chrono::seconds(60)));
  const std::string info = redis.run({"INFO", "stats"});
  CHECK(info_field(info, "expired_keys:") == "100000");
  CHECK(redis.run({"GET", "keeper"}) == "$1\r\nv\r\n");
}

TEST_CASE("INFO keyspace reports the active expiry pass's avg_ttl estimate") {
  CommandRunner redis;
  for (int i = 0; i < 1000; ++i) redis.run({"SET", numbered("k", i), "v", "EX", "1000"});
  redis.run({"SET", "plain", "v"});
  CHECK(redis.run({"INFO", "keyspace"}).find("db0:keys=1001,expires=1000,avg_ttl=0\r\n") != std::string::npos);
  rc::ActiveExpiry expiry(redis.server().keyspace());
  std::string avg;
  CHECK(wait_until(
      [&] {
        avg = info_field(redis.run({"INFO", "keyspace"}), "avg_ttl=");
        return !avg.empty() && avg != "0";
      },
      std::chrono::seconds(30)));
  const int64_t avg_ttl = std::stoll(avg);
  CHECK(avg_ttl > 900000);
  CHECK(avg_ttl <= 1000000);

  SECTION("and drops it once no key has a TTL") {
    for (int i = 0; i < 1000; ++i) redis.run({"PERSIST", numbered("k", i)});
    CHECK(wait_until([&] { return info_field(redis.run({"INFO", "keyspace"}), "avg_ttl=") == "0"; },
                     std::chrono::seconds(30)));
  }
}
