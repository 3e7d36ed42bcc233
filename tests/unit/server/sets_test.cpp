// Set commands through the real dispatcher, reply bytes compared exactly with those of redis-server 7.0.15
// (RESP2 unless a test switches to RESP3). Where Redis's order is its hash table's, the members are compared
// as a multiset; an intset's order (ascending) is Redis's too and is compared as it is.
#include <catch2/catch.hpp>

#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "tests/unit/server/command_test_helpers.h"

using namespace std::literals;
using rc::test::CommandRunner;
using rc::test::numbered;

namespace {

// The bulk strings of an array or set reply (`*n` or `~n`) in reply order, starting at `pos`; `pos` ends
// past them.
std::vector<std::string> bulk_elements(const std::string& reply, size_t& pos) {
  REQUIRE(pos < reply.size());
  REQUIRE((reply[pos] == '*' || reply[pos] == '~'));
  size_t end = reply.find("\r\n", pos);
  const size_t count = std::stoul(reply.substr(pos + 1, end - pos - 1));
  pos = end + 2;
  std::vector<std::string> items;
  for (size_t i = 0; i < count; ++i) {
    REQUIRE(reply[pos] == '$');
    end = reply.find("\r\n", pos);
    const size_t length = std::stoul(reply.substr(pos + 1, end - pos - 1));
    items.push_back(reply.substr(end + 2, length));
    pos = end + 2 + length + 2;
  }
  return items;
}

std::multiset<std::string> members(const std::string& reply) {
  size_t pos = 0;
  const std::vector<std::string> items = bulk_elements(reply, pos);
  CHECK(pos == reply.size());
  return {items.begin(), items.end()};
}

// A whole SSCAN iteration (with extra options), every member it returned, repeats included.
std::multiset<std::string> sscan_all(CommandRunner& redis, std::string_view key, std::vector<std::string_view> options = {}) {
  std::multiset<std::string> found;
  std::string cursor = "0";
  int calls = 0;
  do {
    std::vector<std::string_view> argv = {"SSCAN", key, cursor};
    argv.insert(argv.end(), options.begin(), options.end());
    const std::string reply = redis.run(argv);
    REQUIRE(reply.starts_with("*2\r\n$"));
    size_t pos = reply.find("\r\n", 4) + 2;
    cursor = reply.substr(pos, reply.find("\r\n", pos) - pos);
    pos = reply.find("\r\n", pos) + 2;
    for (std::string& member : bulk_elements(reply, pos)) found.insert(std::move(member));
    REQUIRE(++calls < 100000);
  } while (cursor != "0");
  return found;
}

std::string encoding(CommandRunner& redis, std::string_view key) { return redis.run({"OBJECT", "ENCODING", key}); }

constexpr std::string_view kIntset = "$6\r\nintset\r\n";
constexpr std::string_view kHashtable = "$9\r\nhashtable\r\n";
constexpr std::string_view kWrongType = "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n";

// SADD key m0 .. m{count-1} with `prefix` before each number.
void add_numbered(CommandRunner& redis, std::string_view key, std::string_view prefix, int count) {
  for (int i = 0; i < count; ++i) redis.run({"SADD", key, numbered(prefix, i)});
}

}  // namespace

TEST_CASE("SADD, SCARD, SISMEMBER, SMISMEMBER, SMEMBERS on an intset") {
  CommandRunner redis;
  CHECK(redis.run({"SADD", "s", "17", "3", "-5", "3"}) == ":3\r\n");
  CHECK(encoding(redis, "s") == kIntset);
  CHECK(redis.run({"TYPE", "s"}) == "+set\r\n");
  CHECK(redis.run({"SADD", "s", "3"}) == ":0\r\n");
  CHECK(redis.run({"SCARD", "s"}) == ":3\r\n");
  CHECK(redis.run({"SISMEMBER", "s", "17"}) == ":1\r\n");
  CHECK(redis.run({"SISMEMBER", "s", "18"}) == ":0\r\n");
  CHECK(redis.run({"SISMEMBER", "s", "017"}) == ":0\r\n");  // not the integer's spelling
  CHECK(redis.run({"SMISMEMBER", "s", "3", "x", "-5"}) == "*3\r\n:1\r\n:0\r\n:1\r\n");
  CHECK(redis.run({"SMEMBERS", "s"}) == "*3\r\n$2\r\n-5\r\n$1\r\n3\r\n$2\r\n17\r\n");  // ascending
  CHECK(redis.run({"SCARD", "missing"}) == ":0\r\n");
  CHECK(redis.run({"SISMEMBER", "missing", "a"}) == ":0\r\n");
  CHECK(redis.run({"SMISMEMBER", "missing", "a", "b"}) == "*2\r\n:0\r\n:0\r\n");
  CHECK(redis.run({"SMEMBERS", "missing"}) == "*0\r\n");
  redis.use_resp3();
  CHECK(redis.run({"SMEMBERS", "s"}) == "~3\r\n$2\r\n-5\r\n$1\r\n3\r\n$2\r\n17\r\n");
  CHECK(redis.run({"SMEMBERS", "missing"}) == "~0\r\n");
  CHECK(redis.run({"SISMEMBER", "s", "3"}) == ":1\r\n");  // an integer in RESP3 too (Redis 7.0)
}

TEST_CASE("SADD of strings makes a hashtable; binary members") {
  CommandRunner redis;
  CHECK(redis.run({"SADD", "s", "foo", "a\0b"sv, "foo"}) == ":2\r\n");
  CHECK(encoding(redis, "s") == kHashtable);
  CHECK(redis.run({"SISMEMBER", "s", "a\0b"sv}) == ":1\r\n");
  CHECK(redis.run({"SISMEMBER", "s", "a"}) == ":0\r\n");
  CHECK(members(redis.run({"SMEMBERS", "s"})) == std::multiset<std::string>{"foo", "a\0b"s});
  // An integer beyond 64 bits is a string: the set starts as a table.
  CHECK(redis.run({"SADD", "big", "213244124402402314402033402"}) == ":1\r\n");
  CHECK(encoding(redis, "big") == kHashtable);
  CHECK(redis.run({"SISMEMBER", "big", "213244124402402314402033402"}) == ":1\r\n");
}

TEST_CASE("An intset becomes a hashtable by a non-integer member or by its size, and never goes back") {
  CommandRunner redis;
  redis.run({"SADD", "s", "1", "2", "3"});
  CHECK(redis.run({"SADD", "s", "a"}) == ":1\r\n");
  CHECK(encoding(redis, "s") == kHashtable);
  CHECK(redis.run({"SREM", "s", "a"}) == ":1\r\n");
  CHECK(encoding(redis, "s") == kHashtable);
  CHECK(members(redis.run({"SMEMBERS", "s"})) == std::multiset<std::string>{"1", "2", "3"});

  add_numbered(redis, "big", "", 512);
  CHECK(encoding(redis, "big") == kIntset);
  CHECK(redis.run({"SADD", "big", "512"}) == ":1\r\n");
  CHECK(encoding(redis, "big") == kHashtable);
  CHECK(redis.run({"SCARD", "big"}) == ":513\r\n");

  CHECK(redis.run({"CONFIG", "SET", "set-max-intset-entries", "2"}) == "+OK\r\n");
  CHECK(redis.run({"SADD", "small", "1", "2"}) == ":2\r\n");
  CHECK(encoding(redis, "small") == kIntset);
  CHECK(redis.run({"SADD", "small", "3"}) == ":1\r\n");
  CHECK(encoding(redis, "small") == kHashtable);
  CHECK(redis.run({"CONFIG", "SET", "set-max-intset-entries", "0"}) == "+OK\r\n");
  CHECK(redis.run({"SADD", "none", "1"}) == ":1\r\n");
  CHECK(encoding(redis, "none") == kHashtable);
}

TEST_CASE("SREM removes members and deletes the emptied set") {
  CommandRunner redis;
  redis.run({"SADD", "s", "a", "b", "c"});
  CHECK(redis.run({"SREM", "s", "x"}) == ":0\r\n");
  CHECK(redis.run({"SREM", "s", "a", "a", "x"}) == ":1\r\n");
  CHECK(redis.run({"SREM", "s", "b", "c", "d"}) == ":2\r\n");
  CHECK(redis.run({"EXISTS", "s"}) == ":0\r\n");
  CHECK(redis.run({"SREM", "s", "a"}) == ":0\r\n");
  redis.run({"SADD", "i", "1", "2"});
  CHECK(redis.run({"SREM", "i", "2", "x", "1"}) == ":2\r\n");
  CHECK(redis.run({"EXISTS", "i"}) == ":0\r\n");
}

TEST_CASE("Set commands: arity, syntax and WRONGTYPE errors") {
  CommandRunner redis;
  CHECK(redis.run({"SADD", "s"}) == "-ERR wrong number of arguments for 'sadd' command\r\n");
  CHECK(redis.run({"SMISMEMBER", "s"}) == "-ERR wrong number of arguments for 'smismember' command\r\n");
  CHECK(redis.run({"SMOVE", "a", "b"}) == "-ERR wrong number of arguments for 'smove' command\r\n");
  CHECK(redis.run({"SINTERSTORE", "d"}) == "-ERR wrong number of arguments for 'sinterstore' command\r\n");
  CHECK(redis.run({"SSCAN", "s"}) == "-ERR wrong number of arguments for 'sscan' command\r\n");
  CHECK(redis.run({"SPOP", "s", "1", "2"}) == "-ERR syntax error\r\n");
  CHECK(redis.run({"SRANDMEMBER", "s", "1", "2"}) == "-ERR syntax error\r\n");

  redis.run({"SET", "str", "x"});
  redis.run({"SADD", "s", "a"});
  const std::vector<std::vector<std::string_view>> wrong = {
      {"SADD", "str", "a"},          {"SREM", "str", "a"},         {"SCARD", "str"},
      {"SISMEMBER", "str", "a"},     {"SMISMEMBER", "str", "a"},   {"SMEMBERS", "str"},
      {"SRANDMEMBER", "str"},        {"SRANDMEMBER", "str", "0"},  {"SPOP", "str"},
      {"SPOP", "str", "0"},          {"SMOVE", "str", "s", "a"},   {"SMOVE", "s", "str", "a"},
      {"SINTER", "s", "str"},        {"SINTER", "missing", "str"}, {"SINTERCARD", "2", "s", "str"},
      {"SINTERSTORE", "d", "str"},   {"SUNION", "s", "str"},       {"SUNIONSTORE", "d", "s", "str"},
      {"SDIFF", "missing", "str"},   {"SDIFFSTORE", "d", "str"},   {"SSCAN", "str", "0"},
      {"SSCAN", "str", "0", "COUNT", "0"},
  };
  for (const auto& argv : wrong) {
    INFO(argv[0] << " " << argv[1]);
    CHECK(redis.run(argv) == kWrongType);
  }
  CHECK(redis.run({"GET", "str"}) == "$1\r\nx\r\n");
  CHECK(redis.run({"EXISTS", "d"}) == ":0\r\n");
  // A missing source answers 0 before the destination's type is looked at.
  CHECK(redis.run({"SMOVE", "missing", "str", "a"}) == ":0\r\n");
}

TEST_CASE("SPOP without a count") {
  CommandRunner redis;
  CHECK(redis.run({"SPOP", "missing"}) == "$-1\r\n");
  redis.run({"SADD", "s", "7"});
  CHECK(redis.run({"SPOP", "s"}) == "$1\r\n7\r\n");
  CHECK(redis.run({"EXISTS", "s"}) == ":0\r\n");
  redis.run({"SADD", "s", "a", "b"});
  const std::string first = redis.run({"SPOP", "s"});
  const std::string second = redis.run({"SPOP", "s"});
  CHECK(std::multiset<std::string>{first, second} == std::multiset<std::string>{"$1\r\na\r\n", "$1\r\nb\r\n"});
  CHECK(redis.run({"EXISTS", "s"}) == ":0\r\n");
  redis.use_resp3();
  CHECK(redis.run({"SPOP", "missing"}) == "_\r\n");
}

TEST_CASE("SPOP with a count: errors, whole set, small and large counts, RESP3 set") {
  CommandRunner redis;
  CHECK(redis.run({"SPOP", "s", "-1"}) == "-ERR value is out of range, must be positive\r\n");
  CHECK(redis.run({"SPOP", "s", "x"}) == "-ERR value is out of range, must be positive\r\n");
  CHECK(redis.run({"SPOP", "missing", "3"}) == "*0\r\n");
  redis.run({"SADD", "s", "3", "1", "2"});
  CHECK(redis.run({"SPOP", "s", "0"}) == "*0\r\n");
  CHECK(redis.run({"SPOP", "s", "10"}) == "*3\r\n$1\r\n1\r\n$1\r\n2\r\n$1\r\n3\r\n");
  CHECK(redis.run({"EXISTS", "s"}) == ":0\r\n");

  std::multiset<std::string> popped;
  add_numbered(redis, "s", "m", 20);
  for (const std::string_view count : {"2"sv, "15"sv, "1"sv, "5"sv}) {  // both strategies, then the rest
    const auto some = members(redis.run({"SPOP", "s", count}));
    CHECK(some.size() == std::stoul(std::string(count)) - (count == "5" ? 3 : 0));
    popped.insert(some.begin(), some.end());
  }
  CHECK(popped.size() == 20);
  CHECK(std::set<std::string>(popped.begin(), popped.end()).size() == 20);
  CHECK(redis.run({"EXISTS", "s"}) == ":0\r\n");

  redis.use_resp3();
  CHECK(redis.run({"SPOP", "missing", "3"}) == "~0\r\n");
  redis.run({"SADD", "s", "1", "2", "3"});
  CHECK(redis.run({"SPOP", "s", "0"}) == "~0\r\n");
  CHECK(redis.run({"SPOP", "s", "1"}).starts_with("~1\r\n$1\r\n"));
  CHECK(redis.run({"SPOP", "s", "5"}).starts_with("~2\r\n"));
}

TEST_CASE("SPOP keeping few members rebuilds the set: a table of integers becomes an intset, with its TTL") {
  CommandRunner redis;
  redis.run({"CONFIG", "SET", "set-max-intset-entries", "4"});
  redis.run({"SADD", "s", "1", "2", "3", "4", "5", "6", "7", "8", "9", "10"});
  redis.run({"EXPIRE", "s", "100"});
  CHECK(encoding(redis, "s") == kHashtable);
  CHECK(members(redis.run({"SPOP", "s", "9"})).size() == 9);  // 1 left: 5 x 1 <= 9
  CHECK(encoding(redis, "s") == kIntset);
  CHECK(redis.run({"SCARD", "s"}) == ":1\r\n");
  CHECK(redis.run({"TTL", "s"}) == ":100\r\n");

  redis.run({"SADD", "t", "1", "2", "3", "4", "5", "6", "7", "8", "9", "10"});
  CHECK(members(redis.run({"SPOP", "t", "5"})).size() == 5);  // 5 left: popped one by one
  CHECK(encoding(redis, "t") == kHashtable);
}

TEST_CASE("SRANDMEMBER with and without a count") {
  CommandRunner redis;
  CHECK(redis.run({"SRANDMEMBER", "missing"}) == "$-1\r\n");
  CHECK(redis.run({"SRANDMEMBER", "missing", "5"}) == "*0\r\n");
  CHECK(redis.run({"SRANDMEMBER", "s", "x"}) == "-ERR value is not an integer or out of range\r\n");
  CHECK(redis.run({"SRANDMEMBER", "s", "-9223372036854775808"}) ==
        "-ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807\r\n");
  redis.run({"SADD", "s", "3", "1", "2"});
  CHECK(redis.run({"SRANDMEMBER", "s", "0"}) == "*0\r\n");
  CHECK(redis.run({"SRANDMEMBER", "s", "3"}) == "*3\r\n$1\r\n1\r\n$1\r\n2\r\n$1\r\n3\r\n");
  CHECK(redis.run({"SRANDMEMBER", "s", "100"}) == "*3\r\n$1\r\n1\r\n$1\r\n2\r\n$1\r\n3\r\n");
  const auto repeated = members(redis.run({"SRANDMEMBER", "s", "-50"}));
  CHECK(repeated.size() == 50);
  for (const std::string& member : repeated) CHECK((member == "1" || member == "2" || member == "3"));
  CHECK(redis.run({"SCARD", "s"}) == ":3\r\n");

  add_numbered(redis, "big", "m", 100);
  for (const std::string_view count : {"5"sv, "90"sv}) {  // sampled, then shuffled
    const auto some = members(redis.run({"SRANDMEMBER", "big", count}));
    CHECK(some.size() == std::stoul(std::string(count)));
    CHECK(std::set<std::string>(some.begin(), some.end()).size() == some.size());
  }
  redis.use_resp3();
  CHECK(redis.run({"SRANDMEMBER", "s", "3"}) == "*3\r\n$1\r\n1\r\n$1\r\n2\r\n$1\r\n3\r\n");  // an array
  CHECK(redis.run({"SRANDMEMBER", "missing", "3"}) == "*0\r\n");
  CHECK(redis.run({"SRANDMEMBER", "missing"}) == "_\r\n");
}

TEST_CASE("SMOVE between sets, to a new set, to itself") {
  CommandRunner redis;
  redis.run({"SADD", "a", "1", "x", "y"});
  redis.run({"SADD", "b", "2", "3"});
  CHECK(redis.run({"SMOVE", "a", "b", "1"}) == ":1\r\n");
  CHECK(encoding(redis, "b") == kIntset);
  CHECK(redis.run({"SMEMBERS", "b"}) == "*3\r\n$1\r\n1\r\n$1\r\n2\r\n$1\r\n3\r\n");
  CHECK(redis.run({"SMOVE", "a", "b", "x"}) == ":1\r\n");
  CHECK(encoding(redis, "b") == kHashtable);
  CHECK(redis.run({"SMOVE", "a", "b", "nope"}) == ":0\r\n");
  CHECK(redis.run({"SMOVE", "a", "a", "y"}) == ":1\r\n");
  CHECK(redis.run({"SMOVE", "a", "a", "nope"}) == ":0\r\n");
  CHECK(redis.run({"SMOVE", "a", "new", "y"}) == ":1\r\n");  // the source's last member: it goes
  CHECK(redis.run({"EXISTS", "a"}) == ":0\r\n");
  CHECK(redis.run({"SMEMBERS", "new"}) == "*1\r\n$1\r\ny\r\n");
  CHECK(encoding(redis, "new") == kHashtable);
  redis.run({"SADD", "c", "5", "6"});
  CHECK(redis.run({"SMOVE", "c", "ints", "5"}) == ":1\r\n");
  CHECK(encoding(redis, "ints") == kIntset);
  redis.run({"SADD", "ints", "6"});
  CHECK(redis.run({"SMOVE", "c", "ints", "6"}) == ":1\r\n");  // already there: still 1
  CHECK(redis.run({"EXISTS", "c"}) == ":0\r\n");
  CHECK(redis.run({"SCARD", "ints"}) == ":2\r\n");
}

TEST_CASE("SINTER, SUNION, SDIFF and SINTERCARD") {
  CommandRunner redis;
  redis.run({"SADD", "a", "1", "2", "3", "4"});
  redis.run({"SADD", "b", "3", "4", "5"});
  redis.run({"SADD", "c", "4", "x"});
  CHECK(redis.run({"SINTER", "a", "b"}) == "*2\r\n$1\r\n3\r\n$1\r\n4\r\n");
  CHECK(redis.run({"SINTER", "a", "b", "c"}) == "*1\r\n$1\r\n4\r\n");
  CHECK(redis.run({"SINTER", "a", "a"}) == "*4\r\n$1\r\n1\r\n$1\r\n2\r\n$1\r\n3\r\n$1\r\n4\r\n");
  CHECK(redis.run({"SINTER", "a", "missing"}) == "*0\r\n");
  CHECK(redis.run({"SUNION", "a", "b", "missing"}) ==
        "*5\r\n$1\r\n1\r\n$1\r\n2\r\n$1\r\n3\r\n$1\r\n4\r\n$1\r\n5\r\n");  // an intset: ascending
  CHECK(members(redis.run({"SUNION", "b", "c"})) == std::multiset<std::string>{"3", "4", "5", "x"});
  CHECK(redis.run({"SDIFF", "a", "b"}) == "*2\r\n$1\r\n1\r\n$1\r\n2\r\n");
  CHECK(redis.run({"SDIFF", "a", "b", "c", "missing"}) == "*2\r\n$1\r\n1\r\n$1\r\n2\r\n");
  CHECK(redis.run({"SDIFF", "a", "a"}) == "*0\r\n");
  CHECK(redis.run({"SDIFF", "missing", "a"}) == "*0\r\n");
  CHECK(redis.run({"SDIFF", "c", "a", "b"}) == "*1\r\n$1\r\nx\r\n");
  CHECK(redis.run({"SINTERCARD", "2", "a", "b"}) == ":2\r\n");
  CHECK(redis.run({"SINTERCARD", "2", "a", "b", "LIMIT", "1"}) == ":1\r\n");
  CHECK(redis.run({"SINTERCARD", "2", "a", "b", "limit", "0"}) == ":2\r\n");
  CHECK(redis.run({"SINTERCARD", "1", "a", "LIMIT", "10"}) == ":4\r\n");
  CHECK(redis.run({"SINTERCARD", "2", "a", "missing"}) == ":0\r\n");
  redis.use_resp3();
  CHECK(redis.run({"SINTER", "a", "b"}) == "~2\r\n$1\r\n3\r\n$1\r\n4\r\n");
  CHECK(redis.run({"SUNION", "missing"}) == "~0\r\n");
  CHECK(redis.run({"SDIFF", "a", "b"}) == "~2\r\n$1\r\n1\r\n$1\r\n2\r\n");
}

TEST_CASE("SINTERCARD argument errors") {
  CommandRunner redis;
  CHECK(redis.run({"SINTERCARD", "0", "a"}) == "-ERR numkeys should be greater than 0\r\n");
  CHECK(redis.run({"SINTERCARD", "x", "a"}) == "-ERR numkeys should be greater than 0\r\n");
  CHECK(redis.run({"SINTERCARD", "2", "a"}) == "-ERR Number of keys can't be greater than number of args\r\n");
  CHECK(redis.run({"SINTERCARD", "1", "a", "LIMIT"}) == "-ERR syntax error\r\n");
  CHECK(redis.run({"SINTERCARD", "1", "a", "foo", "1"}) == "-ERR syntax error\r\n");
  CHECK(redis.run({"SINTERCARD", "1", "a", "LIMIT", "-1"}) == "-ERR LIMIT can't be negative\r\n");
  CHECK(redis.run({"SINTERCARD", "1", "a", "LIMIT", "x"}) == "-ERR LIMIT can't be negative\r\n");
}

TEST_CASE("The STORE forms replace the destination, drop its TTL, or delete it for an empty result") {
  CommandRunner redis;
  redis.run({"SADD", "a", "1", "2", "3"});
  redis.run({"SADD", "b", "2", "3", "x"});
  redis.run({"SET", "dest", "string", "EX", "100"});
  CHECK(redis.run({"SINTERSTORE", "dest", "a", "b"}) == ":2\r\n");
  CHECK(redis.run({"TYPE", "dest"}) == "+set\r\n");
  CHECK(redis.run({"TTL", "dest"}) == ":-1\r\n");
  CHECK(encoding(redis, "dest") == kIntset);  // built from an intset, whatever the sources are
  CHECK(redis.run({"SMEMBERS", "dest"}) == "*2\r\n$1\r\n2\r\n$1\r\n3\r\n");
  CHECK(redis.run({"SUNIONSTORE", "dest", "a", "b"}) == ":4\r\n");
  CHECK(encoding(redis, "dest") == kHashtable);
  CHECK(redis.run({"SDIFFSTORE", "dest", "b", "a"}) == ":1\r\n");
  CHECK(redis.run({"SMEMBERS", "dest"}) == "*1\r\n$1\r\nx\r\n");
  CHECK(redis.run({"SDIFFSTORE", "dest", "a", "b"}) == ":1\r\n");
  CHECK(encoding(redis, "dest") == kIntset);
  CHECK(redis.run({"SUNIONSTORE", "a", "a", "b"}) == ":4\r\n");  // a source may be the destination
  CHECK(redis.run({"SCARD", "a"}) == ":4\r\n");

  CHECK(redis.run({"SINTERSTORE", "dest", "a", "missing"}) == ":0\r\n");
  CHECK(redis.run({"EXISTS", "dest"}) == ":0\r\n");
  redis.run({"SET", "dest", "v"});
  CHECK(redis.run({"SDIFFSTORE", "dest", "a", "a"}) == ":0\r\n");
  CHECK(redis.run({"EXISTS", "dest"}) == ":0\r\n");
  redis.run({"SET", "dest", "v"});
  CHECK(redis.run({"SUNIONSTORE", "dest", "missing"}) == ":0\r\n");
  CHECK(redis.run({"EXISTS", "dest"}) == ":0\r\n");
  CHECK(redis.run({"SINTERSTORE", "dest", "missing"}) == ":0\r\n");
}

TEST_CASE("SDIFFSTORE's encoding follows Redis's choice of algorithm") {
  CommandRunner redis;
  redis.run({"CONFIG", "SET", "set-max-intset-entries", "5"});
  redis.run({"SADD", "first", "1", "2", "3", "4", "5", "6", "7", "8"});  // a table of 8 integers
  redis.run({"SADD", "p", "1", "2"});
  redis.run({"SADD", "q", "3"});
  redis.run({"SADD", "pq", "1", "2", "3"});
  // Lookups cost 8 x 2 / 2 = 8, a copy 8 + 3 = 11: each member left is added, 5 fit an intset.
  CHECK(redis.run({"SDIFFSTORE", "d", "first", "pq"}) == ":5\r\n");
  CHECK(encoding(redis, "d") == kIntset);
  // Lookups cost 8 x 3 / 2 = 12, a copy 8 + 2 + 1 = 11: the whole first set is copied (8 members make a
  // table), then reduced to the same 5 members.
  CHECK(redis.run({"SDIFFSTORE", "d", "first", "p", "q"}) == ":5\r\n");
  CHECK(encoding(redis, "d") == kHashtable);
  CHECK(redis.run({"SMEMBERS", "d"}).size() == redis.run({"SDIFF", "first", "pq"}).size());
}

TEST_CASE("SSCAN: an intset whole, a table by cursor, MATCH and COUNT, Redis's argument order") {
  CommandRunner redis;
  CHECK(redis.run({"SSCAN", "missing", "0"}) == "*2\r\n$1\r\n0\r\n*0\r\n");
  CHECK(redis.run({"SSCAN", "missing", "0", "COUNT", "0"}) == "*2\r\n$1\r\n0\r\n*0\r\n");  // options unread
  CHECK(redis.run({"SSCAN", "missing", "x"}) == "-ERR invalid cursor\r\n");
  redis.run({"SADD", "i", "3", "1", "12"});
  CHECK(redis.run({"SSCAN", "i", "0", "COUNT", "1"}) == "*2\r\n$1\r\n0\r\n*3\r\n$1\r\n1\r\n$1\r\n3\r\n$2\r\n12\r\n");
  CHECK(redis.run({"SSCAN", "i", "0", "MATCH", "1*"}) == "*2\r\n$1\r\n0\r\n*2\r\n$1\r\n1\r\n$2\r\n12\r\n");
  CHECK(redis.run({"SSCAN", "i", "0", "COUNT", "0"}) == "-ERR syntax error\r\n");
  CHECK(redis.run({"SSCAN", "i", "0", "COUNT", "x"}) == "-ERR value is not an integer or out of range\r\n");
  CHECK(redis.run({"SSCAN", "i", "0", "TYPE", "set"}) == "-ERR syntax error\r\n");
  CHECK(redis.run({"SSCAN", "i", "0", "MATCH"}) == "-ERR syntax error\r\n");

  add_numbered(redis, "t", "m", 1000);
  const auto all = sscan_all(redis, "t", {"COUNT", "7"});
  CHECK(all.size() == 1000);
  CHECK(std::set<std::string>(all.begin(), all.end()).size() == 1000);
  const auto matching = sscan_all(redis, "t", {"MATCH", "m99*"});
  CHECK(matching == std::multiset<std::string>{"m99", "m990", "m991", "m992", "m993", "m994", "m995", "m996",
                                               "m997", "m998", "m999"});
  redis.use_resp3();
  CHECK(redis.run({"SSCAN", "i", "0", "MATCH", "3"}) == "*2\r\n$1\r\n0\r\n*1\r\n$1\r\n3\r\n");
}

TEST_CASE("Set reads count keyspace hits and misses; writes do not") {
  CommandRunner redis;
  redis.run({"SADD", "s", "a"});
  const auto stats = [&] {
    const std::string info = redis.run({"INFO", "stats"});
    const auto field = [&](std::string_view name) {
      const size_t at = info.find(name);
      return info.substr(at + name.size(), info.find("\r\n", at) - at - name.size());
    };
    return field("keyspace_hits:") + "/" + field("keyspace_misses:");
  };
  const std::string before = stats();
  CHECK(before == "0/0");
  redis.run({"SISMEMBER", "s", "a"});
  redis.run({"SINTER", "s", "missing", "s"});
  redis.run({"SUNIONSTORE", "d", "s", "missing"});
  redis.run({"SADD", "s", "b"});
  redis.run({"SPOP", "s"});
  CHECK(stats() == "4/2");
  redis.run({"SPOP", "s", "10"});  // the whole set: Redis reads it as SUNION does, which counts
  CHECK(stats() == "5/2");
}
