// Generic key commands and keyspace introspection through the real dispatcher, reply bytes compared
// exactly with those of redis-server 7.0.15 (RESP2 unless a test switches to RESP3).
#include <catch2/catch.hpp>

#include <algorithm>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "tests/unit/server/command_test_helpers.h"

using namespace std::literals;
using rc::test::CommandRunner;
using rc::test::numbered;

namespace {

// The elements of a flat RESP2 array of bulk strings (KEYS), in reply order.
std::vector<std::string> bulk_array(const std::string& reply) {
  std::vector<std::string> items;
  REQUIRE(reply.size() >= 4);
  REQUIRE(reply[0] == '*');
  size_t pos = reply.find("\r\n") + 2;
  while (pos < reply.size()) {
    REQUIRE(reply[pos] == '$');
    const size_t end = reply.find("\r\n", pos);
    const size_t length = std::stoul(reply.substr(pos + 1, end - pos - 1));
    items.push_back(reply.substr(end + 2, length));
    pos = end + 2 + length + 2;
  }
  return items;
}

std::set<std::string> sorted(const std::vector<std::string>& items) { return {items.begin(), items.end()}; }

// SCAN's reply split into its cursor and its keys.
struct ScanReply {
  std::string cursor;
  std::vector<std::string> keys;
};

ScanReply parse_scan(const std::string& reply) {
  REQUIRE(reply.starts_with("*2\r\n$"));
  const size_t length_end = reply.find("\r\n", 4);
  const size_t length = std::stoul(reply.substr(5, length_end - 5));
  ScanReply result;
  result.cursor = reply.substr(length_end + 2, length);
  result.keys = bulk_array(reply.substr(length_end + 2 + length + 2));
  return result;
}

// A whole SCAN iteration with extra options; counts each key.
std::vector<std::string> scan_all(CommandRunner& redis, std::vector<std::string_view> options = {}) {
  std::vector<std::string> keys;
  std::string cursor = "0";
  int calls = 0;
  do {
    std::vector<std::string_view> argv = {"SCAN", cursor};
    argv.insert(argv.end(), options.begin(), options.end());
    const ScanReply reply = parse_scan(redis.run(argv));
    keys.insert(keys.end(), reply.keys.begin(), reply.keys.end());
    cursor = reply.cursor;
    REQUIRE(++calls < 100000);
  } while (cursor != "0");
  return keys;
}

}  // namespace

TEST_CASE("DEL, UNLINK, EXISTS, TOUCH count keys, repeats included") {
  CommandRunner redis;
  CHECK(redis.run({"SET", "a", "1"}) == "+OK\r\n");
  CHECK(redis.run({"SET", "b", "2"}) == "+OK\r\n");
  CHECK(redis.run({"EXISTS", "a", "a", "b", "missing"}) == ":3\r\n");
  CHECK(redis.run({"TOUCH", "a", "a", "missing"}) == ":2\r\n");
  CHECK(redis.run({"TOUCH", "missing"}) == ":0\r\n");
  CHECK(redis.run({"UNLINK", "a", "a", "missing"}) == ":1\r\n");
  CHECK(redis.run({"DEL", "b", "b"}) == ":1\r\n");
  CHECK(redis.run({"UNLINK"}) == "-ERR wrong number of arguments for 'unlink' command\r\n");
  CHECK(redis.run({"TOUCH"}) == "-ERR wrong number of arguments for 'touch' command\r\n");
  CHECK(redis.run({"DBSIZE"}) == ":0\r\n");
  // An expired key is not there for any of them.
  CHECK(redis.run({"SET", "x", "v", "PXAT", "1"}) == "+OK\r\n");
  CHECK(redis.run({"TOUCH", "x"}) == ":0\r\n");
  CHECK(redis.run({"UNLINK", "x"}) == ":0\r\n");
}

TEST_CASE("UNLINK hands a value costly to free to the lazy-free thread; DEL does with lazyfree-lazy-user-del yes") {
  CommandRunner redis;
  rc::LazyFree& lazy_free = redis.server().keyspace().lazy_free();
  // A set of 100 non-integer members is a hash table: freeing it costs 100, over Redis's threshold of 64.
  const auto fill_big_set = [&](std::string_view key) {
    for (int i = 0; i < 100; ++i) REQUIRE(redis.run({"SADD", key, numbered("member", i)}) == ":1\r\n");
  };
  fill_big_set("big");
  REQUIRE(redis.run({"SADD", "small", "a", "b"}) == ":2\r\n");
  REQUIRE(redis.run({"SET", "str", "v"}) == "+OK\r\n");
  const uint64_t before = lazy_free.submitted();
  CHECK(redis.run({"UNLINK", "small", "str", "missing"}) == ":2\r\n");
  CHECK(lazy_free.submitted() == before);  // cheap to free: freed by the client's own thread
  CHECK(redis.run({"UNLINK", "big"}) == ":1\r\n");
  CHECK(lazy_free.submitted() == before + 1);
  CHECK(redis.run({"EXISTS", "big"}) == ":0\r\n");
  fill_big_set("big");
  CHECK(redis.run({"DEL", "big"}) == ":1\r\n");
  CHECK(lazy_free.submitted() == before + 1);  // lazyfree-lazy-user-del no: DEL frees it itself
  REQUIRE(redis.run({"CONFIG", "SET", "lazyfree-lazy-user-del", "yes"}) == "+OK\r\n");
  fill_big_set("big");
  CHECK(redis.run({"DEL", "big"}) == ":1\r\n");
  CHECK(lazy_free.submitted() == before + 2);
  lazy_free.drain();
}

TEST_CASE("TYPE") {
  CommandRunner redis;
  redis.run({"SET", "s", ""});
  CHECK(redis.run({"TYPE", "s"}) == "+string\r\n");
  CHECK(redis.run({"type", "missing"}) == "+none\r\n");
  CHECK(redis.run({"TYPE", "a", "b"}) == "-ERR wrong number of arguments for 'type' command\r\n");
  redis.use_resp3();
  CHECK(redis.run({"TYPE", "s"}) == "+string\r\n");
}

TEST_CASE("RENAME and RENAMENX") {
  CommandRunner redis;
  CHECK(redis.run({"RENAME", "missing", "x"}) == "-ERR no such key\r\n");
  CHECK(redis.run({"RENAME", "missing", "missing"}) == "-ERR no such key\r\n");
  CHECK(redis.run({"RENAMENX", "missing", "missing"}) == "-ERR no such key\r\n");
  redis.run({"SET", "a", "1"});
  CHECK(redis.run({"RENAME", "a", "a"}) == "+OK\r\n");
  CHECK(redis.run({"RENAMENX", "a", "a"}) == ":0\r\n");
  CHECK(redis.run({"RENAME", "a", "b"}) == "+OK\r\n");
  CHECK(redis.run({"GET", "a"}) == "$-1\r\n");
  CHECK(redis.run({"GET", "b"}) == "$1\r\n1\r\n");

  SECTION("the target is overwritten and takes the source's TTL (or none)") {
    redis.run({"SET", "c", "3", "EX", "100"});
    CHECK(redis.run({"RENAME", "b", "c"}) == "+OK\r\n");
    CHECK(redis.run({"GET", "c"}) == "$1\r\n1\r\n");
    CHECK(redis.run({"TTL", "c"}) == ":-1\r\n");
    redis.run({"SET", "e", "v", "EX", "100"});
    CHECK(redis.run({"RENAME", "e", "e2"}) == "+OK\r\n");
    CHECK(redis.run({"TTL", "e2"}) == ":100\r\n");
    CHECK(redis.run({"DBSIZE"}) == ":2\r\n");
  }
  SECTION("RENAMENX leaves an existing target alone") {
    redis.run({"SET", "y", "2"});
    CHECK(redis.run({"RENAMENX", "b", "y"}) == ":0\r\n");
    CHECK(redis.run({"GET", "b"}) == "$1\r\n1\r\n");
    CHECK(redis.run({"RENAMENX", "b", "z"}) == ":1\r\n");
    CHECK(redis.run({"EXISTS", "b"}) == ":0\r\n");
    // An expired target counts as absent.
    redis.run({"SET", "old", "v", "PXAT", "1"});
    CHECK(redis.run({"RENAMENX", "z", "old"}) == ":1\r\n");
    CHECK(redis.run({"GET", "old"}) == "$1\r\n1\r\n");
  }
  SECTION("binary and empty names") {
    CHECK(redis.run({"RENAME", "b", "\0"sv}) == "+OK\r\n");
    CHECK(redis.run({"RENAME", "\0"sv, ""}) == "+OK\r\n");
    CHECK(redis.run({"GET", ""}) == "$1\r\n1\r\n");
  }
  SECTION("many renames across shards keep the count right") {
    for (int i = 0; i < 500; ++i) redis.run({"SET", numbered("k", i), "v"});
    for (int i = 0; i < 500; ++i) {
      CHECK(redis.run({"RENAME", numbered("k", i), numbered("r", i)}) == "+OK\r\n");
    }
    CHECK(redis.run({"DBSIZE"}) == ":501\r\n");
    CHECK(redis.run({"EXISTS", "r0", "r499", "k0"}) == ":2\r\n");
  }
  CHECK(redis.run({"RENAME", "a"}) == "-ERR wrong number of arguments for 'rename' command\r\n");
  CHECK(redis.run({"RENAMENX", "a", "b", "c"}) == "-ERR wrong number of arguments for 'renamenx' command\r\n");
}

TEST_CASE("COPY") {
  CommandRunner redis;
  redis.run({"SET", "a", "1"});
  CHECK(redis.run({"COPY", "a", "b"}) == ":1\r\n");
  CHECK(redis.run({"GET", "b"}) == "$1\r\n1\r\n");
  CHECK(redis.run({"COPY", "a", "b"}) == ":0\r\n");
  redis.run({"SET", "a", "2"});
  CHECK(redis.run({"COPY", "a", "b", "REPLACE"}) == ":1\r\n");
  CHECK(redis.run({"GET", "b"}) == "$1\r\n2\r\n");
  CHECK(redis.run({"COPY", "missing", "c"}) == ":0\r\n");
  CHECK(redis.run({"COPY", "a", "a"}) == "-ERR source and destination objects are the same\r\n");
  CHECK(redis.run({"COPY", "a", "a", "DB", "0"}) == "-ERR source and destination objects are the same\r\n");
  CHECK(redis.run({"COPY", "a", "a", "DB", "1"}) == ":1\r\n");
  CHECK(redis.run({"COPY", "a", "c", "db", "1", "replace"}) == ":1\r\n");
  CHECK(redis.run({"COPY", "a", "c", "REPLACE", "DB", "1"}) == ":1\r\n");
  CHECK(redis.run({"SELECT", "1"}) == "+OK\r\n");
  CHECK(redis.run({"GET", "c"}) == "$1\r\n2\r\n");
  CHECK(redis.run({"SELECT", "0"}) == "+OK\r\n");

  SECTION("errors, in Redis's order") {
    CHECK(redis.run({"COPY", "a", "x", "DB", "16"}) == "-ERR DB index is out of range\r\n");
    CHECK(redis.run({"COPY", "a", "x", "DB", "-1"}) == "-ERR DB index is out of range\r\n");
    CHECK(redis.run({"COPY", "a", "x", "DB", "abc"}) == "-ERR value is not an integer or out of range\r\n");
    CHECK(redis.run({"COPY", "a", "x", "DB", "99999999999"}) ==
          "-ERR value is out of range, value must between -2147483648 and 2147483647\r\n");
    CHECK(redis.run({"COPY", "a", "x", "DB"}) == "-ERR syntax error\r\n");
    CHECK(redis.run({"COPY", "a", "x", "FOO"}) == "-ERR syntax error\r\n");
    CHECK(redis.run({"COPY", "a", "x", "REPLACE", "FOO"}) == "-ERR syntax error\r\n");
    CHECK(redis.run({"COPY", "a", "x", "DB", "1", "DB", "2"}) == ":1\r\n");  // the last DB wins
    CHECK(redis.run({"COPY", "a"}) == "-ERR wrong number of arguments for 'copy' command\r\n");
  }
  SECTION("the copy keeps the TTL and the encoding") {
    redis.run({"SET", "e", "v", "EX", "100"});
    CHECK(redis.run({"COPY", "e", "e2"}) == ":1\r\n");
    CHECK(redis.run({"TTL", "e2"}) == ":100\r\n");
    redis.run({"SET", "n", "12345"});
    CHECK(redis.run({"COPY", "n", "n2"}) == ":1\r\n");
    CHECK(redis.run({"OBJECT", "ENCODING", "n2"}) == "$3\r\nint\r\n");
    CHECK(redis.run({"DEL", "e"}) == ":1\r\n");
    CHECK(redis.run({"GET", "e2"}) == "$1\r\nv\r\n");  // a real copy, not shared
  }
}

TEST_CASE("MOVE") {
  CommandRunner redis;
  redis.run({"SET", "m", "1", "EX", "100"});
  CHECK(redis.run({"MOVE", "m", "1"}) == ":1\r\n");
  CHECK(redis.run({"EXISTS", "m"}) == ":0\r\n");
  CHECK(redis.run({"MOVE", "m", "1"}) == ":0\r\n");
  redis.run({"SELECT", "1"});
  CHECK(redis.run({"GET", "m"}) == "$1\r\n1\r\n");
  CHECK(redis.run({"TTL", "m"}) == ":100\r\n");
  CHECK(redis.run({"MOVE", "m", "1"}) == "-ERR source and destination objects are the same\r\n");
  redis.run({"SELECT", "0"});
  redis.run({"SET", "m", "2"});
  CHECK(redis.run({"MOVE", "m", "1"}) == ":0\r\n");  // already in the target
  CHECK(redis.run({"GET", "m"}) == "$1\r\n2\r\n");
  CHECK(redis.run({"MOVE", "m", "16"}) == "-ERR DB index is out of range\r\n");
  CHECK(redis.run({"MOVE", "m", "-1"}) == "-ERR DB index is out of range\r\n");
  CHECK(redis.run({"MOVE", "m", "abc"}) == "-ERR value is not an integer or out of range\r\n");
  CHECK(redis.run({"MOVE", "m", ""}) == "-ERR value is not an integer or out of range\r\n");
  CHECK(redis.run({"MOVE", "m", "-99999999999"}) ==
        "-ERR value is out of range, value must between -2147483648 and 2147483647\r\n");
  CHECK(redis.run({"MOVE", "missing", "1"}) == ":0\r\n");
  CHECK(redis.run({"MOVE", "m", "1", "2"}) == "-ERR wrong number of arguments for 'move' command\r\n");
}

TEST_CASE("SWAPDB") {
  CommandRunner redis;
  redis.run({"SET", "a", "0"});
  redis.run({"SET", "e", "v", "EX", "100"});
  CHECK(redis.run({"SWAPDB", "0", "1"}) == "+OK\r\n");
  CHECK(redis.run({"GET", "a"}) == "$-1\r\n");
  redis.run({"SELECT", "1"});
  CHECK(redis.run({"GET", "a"}) == "$1\r\n0\r\n");
  CHECK(redis.run({"TTL", "e"}) == ":100\r\n");
  CHECK(redis.run({"SWAPDB", "1", "1"}) == "+OK\r\n");
  CHECK(redis.run({"GET", "a"}) == "$1\r\n0\r\n");
  CHECK(redis.run({"SWAPDB", "0", "16"}) == "-ERR DB index is out of range\r\n");
  CHECK(redis.run({"SWAPDB", "-1", "0"}) == "-ERR DB index is out of range\r\n");
  CHECK(redis.run({"SWAPDB", "a", "0"}) == "-ERR invalid first DB index\r\n");
  CHECK(redis.run({"SWAPDB", "0", "b"}) == "-ERR invalid second DB index\r\n");
  CHECK(redis.run({"SWAPDB", "abc", "16"}) == "-ERR invalid first DB index\r\n");
  CHECK(redis.run({"SWAPDB", "1.0", "2"}) == "-ERR invalid first DB index\r\n");
  CHECK(redis.run({"SWAPDB", "0", "9223372036854775808"}) == "-ERR invalid second DB index\r\n");
  CHECK(redis.run({"SWAPDB", "0", "99999999999"}) == "-ERR invalid second DB index\r\n");
  CHECK(redis.run({"SWAPDB", "0"}) == "-ERR wrong number of arguments for 'swapdb' command\r\n");
}

TEST_CASE("KEYS") {
  CommandRunner redis;
  CHECK(redis.run({"KEYS", "*"}) == "*0\r\n");
  for (const char* key : {"one", "two", "three", "four", "five"}) redis.run({"SET", key, "1"});
  CHECK(sorted(bulk_array(redis.run({"KEYS", "*"}))) == std::set<std::string>{"five", "four", "one", "three", "two"});
  CHECK(sorted(bulk_array(redis.run({"KEYS", "t*"}))) == std::set<std::string>{"three", "two"});
  CHECK(sorted(bulk_array(redis.run({"KEYS", "*o*"}))) == std::set<std::string>{"four", "one", "two"});
  CHECK(sorted(bulk_array(redis.run({"KEYS", "f???"}))) == std::set<std::string>{"five", "four"});
  CHECK(redis.run({"KEYS", "one"}) == "*1\r\n$3\r\none\r\n");
  CHECK(redis.run({"KEYS", "nothing"}) == "*0\r\n");
  CHECK(redis.run({"KEYS", ""}) == "*0\r\n");
  redis.run({"SET", "", "empty"});
  CHECK(redis.run({"KEYS", ""}) == "*1\r\n$0\r\n\r\n");
  redis.run({"SET", "old", "v", "PXAT", "1"});
  CHECK(redis.run({"KEYS", "old"}) == "*0\r\n");
  CHECK(redis.run({"KEYS"}) == "-ERR wrong number of arguments for 'keys' command\r\n");
  CHECK(redis.run({"KEYS", "a", "b"}) == "-ERR wrong number of arguments for 'keys' command\r\n");

  SECTION("a large database, in slices: each key once") {
    for (int i = 0; i < 20000; ++i) redis.run({"SET", numbered("k:", i), "v"});
    const std::vector<std::string> keys = bulk_array(redis.run({"KEYS", "k:*"}));
    CHECK(keys.size() == 20000);
    CHECK(sorted(keys).size() == 20000);
  }
  SECTION("RESP3 replies an array too") {
    redis.use_resp3();
    CHECK(redis.run({"KEYS", "one"}) == "*1\r\n$3\r\none\r\n");
  }
}

TEST_CASE("SCAN") {
  CommandRunner redis;
  CHECK(redis.run({"SCAN", "0"}) == "*2\r\n$1\r\n0\r\n*0\r\n");
  for (int i = 0; i < 1000; ++i) redis.run({"SET", numbered("key:", i), "v"});
  redis.run({"SET", "other", "v"});

  SECTION("a full iteration returns every key once") {
    const std::vector<std::string> keys = scan_all(redis);
    CHECK(keys.size() == 1001);
    CHECK(sorted(keys).size() == 1001);
    CHECK(scan_all(redis, {"COUNT", "1"}).size() == 1001);
    CHECK(scan_all(redis, {"COUNT", "100000"}).size() == 1001);
  }
  SECTION("COUNT bounds the work of one call") {
    const ScanReply reply = parse_scan(redis.run({"SCAN", "0", "COUNT", "5"}));
    CHECK(reply.cursor != "0");
    CHECK(reply.keys.size() >= 1);
    CHECK(reply.keys.size() < 20);
    const ScanReply all = parse_scan(redis.run({"SCAN", "0", "COUNT", "100000"}));
    CHECK(all.cursor == "0");
    CHECK(all.keys.size() == 1001);
  }
  SECTION("MATCH and TYPE filter after the walk") {
    CHECK(scan_all(redis, {"MATCH", "other"}) == std::vector<std::string>{"other"});
    CHECK(scan_all(redis, {"MATCH", "key:99*", "COUNT", "3"}).size() == 11);
    CHECK(scan_all(redis, {"TYPE", "string"}).size() == 1001);
    CHECK(scan_all(redis, {"TYPE", "STRING", "MATCH", "*"}).size() == 1001);
    CHECK(scan_all(redis, {"TYPE", "list"}).empty());
    CHECK(scan_all(redis, {"TYPE", "none"}).empty());
  }
  SECTION("expired keys are skipped") {
    redis.run({"SET", "old", "v", "PXAT", "1"});
    CHECK(scan_all(redis, {"MATCH", "old"}).empty());
  }
  SECTION("cursor syntax as strtoul reads it") {
    CHECK(redis.run({"SCAN", "abc"}) == "-ERR invalid cursor\r\n");
    CHECK(redis.run({"SCAN", " 1"}) == "-ERR invalid cursor\r\n");
    CHECK(redis.run({"SCAN", "1 "}) == "-ERR invalid cursor\r\n");
    CHECK(redis.run({"SCAN", "1.5"}) == "-ERR invalid cursor\r\n");
    CHECK(redis.run({"SCAN", "-"}) == "-ERR invalid cursor\r\n");
    CHECK(redis.run({"SCAN", "18446744073709551616"}) == "-ERR invalid cursor\r\n");
    CHECK(redis.run({"SCAN", "abc", "COUNT", "0"}) == "-ERR invalid cursor\r\n");  // the cursor is read first
    CHECK(parse_scan(redis.run({"SCAN", "", "COUNT", "100000"})).keys.size() == 1001);  // "" is 0
    CHECK(parse_scan(redis.run({"SCAN", "+0", "COUNT", "100000"})).keys.size() == 1001);
    CHECK(redis.run({"SCAN", "18446744073709551615"}).starts_with("*2\r\n"));
    CHECK(redis.run({"SCAN", "-1"}).starts_with("*2\r\n"));
  }
  SECTION("option errors") {
    CHECK(redis.run({"SCAN", "0", "COUNT", "0"}) == "-ERR syntax error\r\n");
    CHECK(redis.run({"SCAN", "0", "COUNT", "-1"}) == "-ERR syntax error\r\n");
    CHECK(redis.run({"SCAN", "0", "COUNT", "abc"}) == "-ERR value is not an integer or out of range\r\n");
    CHECK(redis.run({"SCAN", "0", "COUNT"}) == "-ERR syntax error\r\n");
    CHECK(redis.run({"SCAN", "0", "MATCH"}) == "-ERR syntax error\r\n");
    CHECK(redis.run({"SCAN", "0", "TYPE"}) == "-ERR syntax error\r\n");
    CHECK(redis.run({"SCAN", "0", "FOO", "bar"}) == "-ERR syntax error\r\n");
    CHECK(redis.run({"SCAN"}) == "-ERR wrong number of arguments for 'scan' command\r\n");
  }
  SECTION("RESP3") {
    redis.use_resp3();
    redis.run({"FLUSHALL"});
    redis.run({"SET", "only", "v"});
    CHECK(redis.run({"SCAN", "0", "COUNT", "100000"}) == "*2\r\n$1\r\n0\r\n*1\r\n$4\r\nonly\r\n");
  }
}

TEST_CASE("RANDOMKEY") {
  CommandRunner redis;
  CHECK(redis.run({"RANDOMKEY"}) == "$-1\r\n");
  redis.run({"SET", "only", "v"});
  CHECK(redis.run({"RANDOMKEY"}) == "$4\r\nonly\r\n");
  redis.run({"SET", "x", "v", "PXAT", "1"});
  for (int i = 0; i < 10; ++i) CHECK(redis.run({"RANDOMKEY"}) == "$4\r\nonly\r\n");
  redis.run({"DEL", "only"});
  CHECK(redis.run({"RANDOMKEY"}) == "$-1\r\n");
  CHECK(redis.run({"RANDOMKEY", "extra"}) == "-ERR wrong number of arguments for 'randomkey' command\r\n");
  redis.use_resp3();
  CHECK(redis.run({"RANDOMKEY"}) == "_\r\n");
}

TEST_CASE("OBJECT") {
  CommandRunner redis;
  const auto encoding = [&](std::string_view value) {
    redis.run({"SET", "k", value});
    return redis.run({"OBJECT", "ENCODING", "k"});
  };
  CHECK(encoding("12345") == "$3\r\nint\r\n");
  CHECK(encoding("-12345") == "$3\r\nint\r\n");
  CHECK(encoding("9223372036854775807") == "$3\r\nint\r\n");
  CHECK(encoding("-9223372036854775808") == "$3\r\nint\r\n");
  CHECK(encoding("9223372036854775808") == "$6\r\nembstr\r\n");
  CHECK(encoding("01") == "$6\r\nembstr\r\n");
  CHECK(encoding("+1") == "$6\r\nembstr\r\n");
  CHECK(encoding("-0") == "$6\r\nembstr\r\n");
  CHECK(encoding(" 1") == "$6\r\nembstr\r\n");
  CHECK(encoding("") == "$6\r\nembstr\r\n");
  CHECK(encoding(std::string(44, 'a')) == "$6\r\nembstr\r\n");
  CHECK(encoding(std::string(45, 'a')) == "$3\r\nraw\r\n");
  CHECK(encoding(std::string(44, '1')) == "$6\r\nembstr\r\n");

  SECTION("a value edited in place is raw") {
    redis.run({"SET", "n", "10"});
    redis.run({"APPEND", "n", "5"});
    CHECK(redis.run({"OBJECT", "ENCODING", "n"}) == "$3\r\nraw\r\n");
    CHECK(redis.run({"OBJECT", "REFCOUNT", "n"}) == ":1\r\n");
  }
  SECTION("a number stored as text (INCRBYFLOAT) is never int") {
    redis.server().keyspace().db(0).write("g", [](rc::KeySlot& slot) {
      slot.set("2", rc::Entry::kNoExpiry)->set_encoding(rc::StringEncoding::NotInteger);
    });
    CHECK(redis.run({"OBJECT", "ENCODING", "g"}) == "$6\r\nembstr\r\n");
    CHECK(redis.run({"OBJECT", "REFCOUNT", "g"}) == ":1\r\n");
    CHECK(redis.run({"COPY", "g", "g2"}) == ":1\r\n");
    CHECK(redis.run({"OBJECT", "ENCODING", "g2"}) == "$6\r\nembstr\r\n");
  }
  SECTION("REFCOUNT: small integers are shared") {
    redis.run({"SET", "n", "123"});
    CHECK(redis.run({"OBJECT", "REFCOUNT", "n"}) == ":2147483647\r\n");
    redis.run({"SET", "n", "10000"});
    CHECK(redis.run({"OBJECT", "REFCOUNT", "n"}) == ":1\r\n");
    redis.run({"SET", "n", "-1"});
    CHECK(redis.run({"OBJECT", "REFCOUNT", "n"}) == ":1\r\n");
    CHECK(redis.run({"OBJECT", "REFCOUNT", "missing"}) == "$-1\r\n");
  }
  SECTION("FREQ and IDLETIME under the noeviction policy") {
    redis.run({"SET", "k", "v"});
    CHECK(redis.run({"OBJECT", "FREQ", "k"}) ==
          "-ERR An LFU maxmemory policy is not selected, access frequency not tracked. Please note that when "
          "switching between policies at runtime LRU and LFU data will take some time to adjust.\r\n");
    CHECK(redis.run({"OBJECT", "FREQ", "missing"}) == "$-1\r\n");
    CHECK(redis.run({"OBJECT", "IDLETIME", "k"}) == ":0\r\n");
    CHECK(redis.run({"OBJECT", "IDLETIME", "missing"}) == "$-1\r\n");
  }
  SECTION("errors and HELP") {
    CHECK(redis.run({"OBJECT", "ENCODING", "missing"}) == "$-1\r\n");
    CHECK(redis.run({"object", "encoding"}) == "-ERR wrong number of arguments for 'object|encoding' command\r\n");
    CHECK(redis.run({"OBJECT", "ENCODING", "a", "b"}) ==
          "-ERR wrong number of arguments for 'object|encoding' command\r\n");
    CHECK(redis.run({"OBJECT", "FOO", "s"}) == "-ERR unknown subcommand 'FOO'. Try OBJECT HELP.\r\n");
    CHECK(redis.run({"OBJECT"}) == "-ERR wrong number of arguments for 'object' command\r\n");
    const std::string help = redis.run({"OBJECT", "HELP"});
    CHECK(help.starts_with("*15\r\n+OBJECT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:\r\n"));
    CHECK(help.ends_with("+HELP\r\n+    Prints this help.\r\n"));
  }
  SECTION("RESP3 null for a missing key") {
    redis.use_resp3();
    CHECK(redis.run({"OBJECT", "ENCODING", "missing"}) == "_\r\n");
  }
}

TEST_CASE("MEMORY USAGE") {
  CommandRunner redis;
  CHECK(redis.run({"MEMORY", "USAGE", "missing"}) == "$-1\r\n");
  redis.run({"SET", "k", "v"});
  const std::string small = redis.run({"MEMORY", "USAGE", "k"});
  REQUIRE(small.starts_with(":"));
  CHECK(std::stol(small.substr(1)) > 16);
  CHECK(std::stol(small.substr(1)) < 200);
  redis.run({"SET", "big", std::string(100000, 'x')});
  CHECK(std::stol(redis.run({"MEMORY", "USAGE", "big"}).substr(1)) >= 100000);
  CHECK(redis.run({"MEMORY", "USAGE", "k", "SAMPLES", "0"}) == small);
  CHECK(redis.run({"MEMORY", "USAGE", "k", "SAMPLES"}) == "-ERR syntax error\r\n");
  CHECK(redis.run({"MEMORY", "USAGE", "k", "SAMPLES", "-1"}) == "-ERR syntax error\r\n");
  CHECK(redis.run({"MEMORY", "USAGE", "k", "SAMPLES", "abc"}) == "-ERR value is not an integer or out of range\r\n");
  CHECK(redis.run({"MEMORY", "USAGE", "k", "FOO", "1"}) == "-ERR syntax error\r\n");
  CHECK(redis.run({"MEMORY", "USAGE"}) == "-ERR wrong number of arguments for 'memory|usage' command\r\n");
  CHECK(redis.run({"MEMORY", "FOO"}) == "-ERR unknown subcommand 'FOO'. Try MEMORY HELP.\r\n");
  CHECK(redis.run({"MEMORY", "PURGE"}) == "+OK\r\n");
}

TEST_CASE("FUNCTION answers as a Redis without libraries") {
  CommandRunner redis;
  CHECK(redis.run({"FUNCTION", "LIST"}) == "*0\r\n");
  CHECK(redis.run({"FUNCTION", "LIST", "WITHCODE", "LIBRARYNAME", "x"}) == "*0\r\n");
  CHECK(redis.run({"FUNCTION", "LIST", "LIBRARYNAME"}) == "-ERR library name argument was not given\r\n");
  CHECK(redis.run({"FUNCTION", "LIST", "WITHCODE", "WITHCODE"}) == "-ERR Unknown argument WITHCODE\r\n");
  CHECK(redis.run({"FUNCTION", "LIST", "foo"}) == "-ERR Unknown argument foo\r\n");
  CHECK(redis.run({"FUNCTION", "FLUSH"}) == "+OK\r\n");
  CHECK(redis.run({"FUNCTION", "FLUSH", "async"}) == "+OK\r\n");
  CHECK(redis.run({"FUNCTION", "FLUSH", "SYNC"}) == "+OK\r\n");
  CHECK(redis.run({"FUNCTION", "FLUSH", "x"}) == "-ERR FUNCTION FLUSH only supports SYNC|ASYNC option\r\n");
  CHECK(redis.run({"FUNCTION", "flush", "a", "b"}) ==
        "-ERR unknown subcommand or wrong number of arguments for 'flush'. Try FUNCTION HELP.\r\n");
  CHECK(redis.run({"FUNCTION", "DELETE", "x"}) == "-ERR Library not found\r\n");
  CHECK(redis.run({"FUNCTION", "KILL"}) == "-NOTBUSY No scripts in execution right now.\r\n");
  CHECK(redis.run({"FUNCTION", "STATS"}) ==
        "*4\r\n$14\r\nrunning_script\r\n$-1\r\n$7\r\nengines\r\n*2\r\n$3\r\nLUA\r\n*4\r\n"
        "$15\r\nlibraries_count\r\n:0\r\n$15\r\nfunctions_count\r\n:0\r\n");
  CHECK(redis.run({"FUNCTION"}) == "-ERR wrong number of arguments for 'function' command\r\n");
  redis.use_resp3();
  CHECK(redis.run({"FUNCTION", "STATS"}) ==
        "%2\r\n$14\r\nrunning_script\r\n_\r\n$7\r\nengines\r\n%1\r\n$3\r\nLUA\r\n%2\r\n"
        "$15\r\nlibraries_count\r\n:0\r\n$15\r\nfunctions_count\r\n:0\r\n");
}

TEST_CASE("DEBUG replies to every subcommand") {
  CommandRunner redis;
  CHECK(redis.run({"DEBUG", "foo"}) == "-ERR unknown subcommand or wrong number of arguments for 'foo'. Try DEBUG HELP.\r\n");
  CHECK(redis.run({"DEBUG", "sleep"}) ==
        "-ERR unknown subcommand or wrong number of arguments for 'sleep'. Try DEBUG HELP.\r\n");
  CHECK(redis.run({"DEBUG", "JMAP"}) == "-ERR unknown subcommand or wrong number of arguments for 'JMAP'. Try DEBUG HELP.\r\n");
  CHECK(redis.run({"DEBUG", "sleep", "0"}) == "+OK\r\n");
  CHECK(redis.run({"DEBUG", "set-active-expire", "0"}) == "+OK\r\n");
  CHECK_FALSE(redis.server().keyspace().active_expire_enabled());
  CHECK(redis.run({"DEBUG", "set-active-expire", "1"}) == "+OK\r\n");
  CHECK(redis.server().keyspace().active_expire_enabled());
  CHECK(redis.run({"DEBUG", "object", "nokey"}) == "-ERR no such key\r\n");
  redis.run({"SET", "k", "v"});
  const std::string object = redis.run({"DEBUG", "OBJECT", "k"});
  CHECK(object.starts_with("+Value at:0x"));
  CHECK(object.find(" refcount:1 encoding:embstr serializedlength:2 lru:") != std::string::npos);
  CHECK(object.ends_with(" lru_seconds_idle:0\r\n"));
  CHECK(redis.run({"DEBUG", "HELP"}).starts_with("*"));
  CHECK(redis.run({"DEBUG"}) == "-ERR wrong number of arguments for 'debug' command\r\n");
}

TEST_CASE("LASTSAVE and DBSIZE") {
  CommandRunner redis;
  CHECK(redis.run({"LASTSAVE"}) == numbered(":", redis.server().start_time_ms() / 1000).append("\r\n"));
  CHECK(redis.run({"LASTSAVE", "x"}) == "-ERR wrong number of arguments for 'lastsave' command\r\n");
  CHECK(redis.run({"DBSIZE"}) == ":0\r\n");
  redis.run({"SET", "a", "1"});
  redis.run({"SET", "old", "v", "PXAT", "1"});
  CHECK(redis.run({"DBSIZE"}) == ":2\r\n");  // as Redis: expired keys count until reclaimed
}
