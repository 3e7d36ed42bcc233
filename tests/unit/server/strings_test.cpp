// String commands through the real dispatcher, reply bytes compared exactly. The expected replies are
// those of redis-server 7.0.15 for the same commands (RESP2 unless the test switches to RESP3).
#include <catch2/catch.hpp>

#include <chrono>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "tests/unit/server/command_test_helpers.h"

using namespace std::literals;
using rc::test::CommandRunner;

namespace {

// How OBJECT ENCODING would see the key's value (Raw after an in-place edit).
rc::StringEncoding encoding_of(CommandRunner& redis, std::string_view key) {
  return redis.server().keyspace().db(0).read(key, [](const rc::Entry* entry) { return entry->encoding(); });
}

// The key's absolute expiry in ms (rc::Entry::kNoExpiry when none), for times too far to compare as TTLs.
int64_t expire_at_of(CommandRunner& redis, std::string_view key) {
  return redis.server().keyspace().db(0).read(key, [](const rc::Entry* entry) { return entry->expire_at(); });
}

bool starts_with(const std::string& text, std::string_view prefix) { return text.starts_with(prefix); }

}  // namespace

TEST_CASE("GET and SET with options that repeat or conflict") {
  CommandRunner redis;
  CHECK(redis.run({"SET", "k", "v", "EX", "10", "EX", "20"}) == "+OK\r\n");
  CHECK(redis.run({"TTL", "k"}) == ":20\r\n");
  CHECK(redis.run({"SET", "k", "v", "KEEPTTL", "KEEPTTL"}) == "+OK\r\n");
  CHECK(redis.run({"TTL", "k"}) == ":20\r\n");
  CHECK(redis.run({"SET", "k", "v", "NX", "NX"}) == "$-1\r\n");
  CHECK(redis.run({"SET", "k", "v", "XX", "XX", "GET", "GET"}) == "$1\r\nv\r\n");
  // conflicting forms and options of other commands
  CHECK(redis.run({"SET", "k", "v", "EX", "10", "PX", "10"}) == "-ERR syntax error\r\n");
  CHECK(redis.run({"SET", "k", "v", "KEEPTTL", "EX", "10"}) == "-ERR syntax error\r\n");
  CHECK(redis.run({"SET", "k", "v", "EX", "10", "KEEPTTL"}) == "-ERR syntax error\r\n");
  CHECK(redis.run({"SET", "k", "v", "NX", "XX"}) == "-ERR syntax error\r\n");
  CHECK(redis.run({"SET", "k", "v", "PERSIST"}) == "-ERR syntax error\r\n");
  CHECK(redis.run({"SET", "k", "v", "EX"}) == "-ERR syntax error\r\n");
  CHECK(redis.run({"GET", "k"}) == "$1\r\nv\r\n");
}

TEST_CASE("SET expiry validation comes before GET and NX") {
  CommandRunner redis;
  CHECK(redis.run({"SET", "k", "v"}) == "+OK\r\n");
  CHECK(redis.run({"SET", "k", "v2", "GET", "EX", "abc"}) == "-ERR value is not an integer or out of range\r\n");
  CHECK(redis.run({"SET", "k", "v2", "NX", "EX", "0"}) == "-ERR invalid expire time in 'set' command\r\n");
  CHECK(redis.run({"SET", "k", "v2", "EX", "-1"}) == "-ERR invalid expire time in 'set' command\r\n");
  CHECK(redis.run({"SET", "k", "v2", "EX", "9223372036854775807"}) ==
        "-ERR invalid expire time in 'set' command\r\n");
  CHECK(redis.run({"SET", "k", "v2", "PX", "9223372036854775807"}) ==
        "-ERR invalid expire time in 'set' command\r\n");
  CHECK(redis.run({"SET", "k", "v2", "EXAT", "9223372036854776"}) == "-ERR invalid expire time in 'set' command\r\n");
  CHECK(redis.run({"GET", "k"}) == "$1\r\nv\r\n");
  // an absolute time in the past is accepted: the key is gone at once
  CHECK(redis.run({"SET", "k", "v3", "PXAT", "1", "GET"}) == "$1\r\nv\r\n");
  CHECK(redis.run({"GET", "k"}) == "$-1\r\n");
}

TEST_CASE("SET KEEPTTL keeps the TTL and a plain SET drops it") {
  CommandRunner redis;
  CHECK(redis.run({"SET", "k", "v", "EX", "100"}) == "+OK\r\n");
  CHECK(redis.run({"SET", "k", "v2", "KEEPTTL"}) == "+OK\r\n");
  CHECK(redis.run({"TTL", "k"}) == ":100\r\n");
  CHECK(redis.run({"SET", "k", "v3"}) == "+OK\r\n");
  CHECK(redis.run({"TTL", "k"}) == ":-1\r\n");
  CHECK(redis.run({"SET", "fresh", "v", "KEEPTTL"}) == "+OK\r\n");
  CHECK(redis.run({"TTL", "fresh"}) == ":-1\r\n");
}

TEST_CASE("SETNX sets only a missing key") {
  CommandRunner redis;
  CHECK(redis.run({"SETNX", "n", "1"}) == ":1\r\n");
  CHECK(redis.run({"SETNX", "n", "2"}) == ":0\r\n");
  CHECK(redis.run({"GET", "n"}) == "$1\r\n1\r\n");
  CHECK(redis.run({"SETEX", "s", "100", "v"}) == "+OK\r\n");
  CHECK(redis.run({"SETNX", "s", "other"}) == ":0\r\n");
  CHECK(redis.run({"TTL", "s"}) == ":100\r\n");
  CHECK(redis.run({"SETNX", "n"}) == "-ERR wrong number of arguments for 'setnx' command\r\n");
  CHECK(redis.run({"SETNX", "n", "1", "2"}) == "-ERR wrong number of arguments for 'setnx' command\r\n");
}

TEST_CASE("SETEX and PSETEX set a value with a relative expiry") {
  CommandRunner redis;
  CHECK(redis.run({"SETEX", "s", "100", "v"}) == "+OK\r\n");
  CHECK(redis.run({"TTL", "s"}) == ":100\r\n");
  CHECK(redis.run({"GET", "s"}) == "$1\r\nv\r\n");
  CHECK(redis.run({"PSETEX", "p", "100000", "v"}) == "+OK\r\n");
  CHECK(redis.run({"TTL", "p"}) == ":100\r\n");
  CHECK(redis.run({"SET", "k", "v"}) == "+OK\r\n");
  CHECK(redis.run({"SETEX", "k", "100", "v2"}) == "+OK\r\n");
  CHECK(redis.run({"GET", "k"}) == "$2\r\nv2\r\n");
  CHECK(redis.run({"TTL", "k"}) == ":100\r\n");
}

TEST_CASE("SETEX and PSETEX reject bad times in their own name") {
  CommandRunner redis;
  CHECK(redis.run({"SETEX", "s", "0", "v"}) == "-ERR invalid expire time in 'setex' command\r\n");
  CHECK(redis.run({"SETEX", "s", "-5", "v"}) == "-ERR invalid expire time in 'setex' command\r\n");
  CHECK(redis.run({"SETEX", "s", "abc", "v"}) == "-ERR value is not an integer or out of range\r\n");
  CHECK(redis.run({"SETEX", "s", "1.5", "v"}) == "-ERR value is not an integer or out of range\r\n");
  CHECK(redis.run({"SETEX", "s", "9223372036854775807", "v"}) == "-ERR invalid expire time in 'setex' command\r\n");
  CHECK(redis.run({"SETEX", "s", "9223372036854775", "v"}) == "-ERR invalid expire time in 'setex' command\r\n");
  CHECK(redis.run({"PSETEX", "p", "0", "v"}) == "-ERR invalid expire time in 'psetex' command\r\n");
  CHECK(redis.run({"PSETEX", "p", "-1", "v"}) == "-ERR invalid expire time in 'psetex' command\r\n");
  CHECK(redis.run({"PSETEX", "p", "9223372036854775807", "v"}) == "-ERR invalid expire time in 'psetex' command\r\n");
  CHECK(redis.run({"psetex", "p", "9223372036854775000", "v"}) == "-ERR invalid expire time in 'psetex' command\r\n");
  CHECK(redis.run({"EXISTS", "s", "p"}) == ":0\r\n");
  CHECK(redis.run({"SETEX", "s", "10"}) == "-ERR wrong number of arguments for 'setex' command\r\n");
  CHECK(redis.run({"PSETEX", "p", "10", "v", "extra"}) == "-ERR wrong number of arguments for 'psetex' command\r\n");
}

TEST_CASE("GETSET replies the old value and drops the TTL") {
  CommandRunner redis;
  CHECK(redis.run({"GETSET", "g", "a"}) == "$-1\r\n");
  CHECK(redis.run({"GETSET", "g", "b"}) == "$1\r\na\r\n");
  CHECK(redis.run({"GET", "g"}) == "$1\r\nb\r\n");
  CHECK(redis.run({"SETEX", "g", "100", "v"}) == "+OK\r\n");
  CHECK(redis.run({"GETSET", "g", "new"}) == "$1\r\nv\r\n");
  CHECK(redis.run({"TTL", "g"}) == ":-1\r\n");
  CHECK(redis.run({"GETSET", "g"}) == "-ERR wrong number of arguments for 'getset' command\r\n");
}

TEST_CASE("GETDEL replies the value and deletes the key") {
  CommandRunner redis;
  CHECK(redis.run({"SET", "d", "v"}) == "+OK\r\n");
  CHECK(redis.run({"GETDEL", "d"}) == "$1\r\nv\r\n");
  CHECK(redis.run({"GETDEL", "d"}) == "$-1\r\n");
  CHECK(redis.run({"EXISTS", "d"}) == ":0\r\n");
  CHECK(redis.run({"GETDEL", "a", "b"}) == "-ERR wrong number of arguments for 'getdel' command\r\n");
}

TEST_CASE("GETEX without options is GET") {
  CommandRunner redis;
  CHECK(redis.run({"SET", "e", "v", "EX", "100"}) == "+OK\r\n");
  CHECK(redis.run({"GETEX", "e"}) == "$1\r\nv\r\n");
  CHECK(redis.run({"TTL", "e"}) == ":100\r\n");
  CHECK(redis.run({"GETEX", "missing"}) == "$-1\r\n");
}

TEST_CASE("GETEX sets, changes and removes the TTL") {
  CommandRunner redis;
  CHECK(redis.run({"SET", "e", "v"}) == "+OK\r\n");
  CHECK(redis.run({"GETEX", "e", "EX", "100"}) == "$1\r\nv\r\n");
  CHECK(redis.run({"TTL", "e"}) == ":100\r\n");
  CHECK(redis.run({"GETEX", "e", "PX", "200000"}) == "$1\r\nv\r\n");
  CHECK(redis.run({"TTL", "e"}) == ":200\r\n");
  CHECK(redis.run({"GETEX", "e", "PERSIST"}) == "$1\r\nv\r\n");
  CHECK(redis.run({"TTL", "e"}) == ":-1\r\n");
  CHECK(redis.run({"GETEX", "e", "EXAT", "9999999999"}) == "$1\r\nv\r\n");
  CHECK(expire_at_of(redis, "e") == 9999999999000);
  CHECK(redis.run({"GETEX", "e", "PXAT", "9999999998001"}) == "$1\r\nv\r\n");
  CHECK(expire_at_of(redis, "e") == 9999999998001);
  CHECK(redis.run({"GETEX", "e", "PERSIST", "PERSIST"}) == "$1\r\nv\r\n");
  CHECK(redis.run({"TTL", "e"}) == ":-1\r\n");
  CHECK(redis.run({"GETEX", "e", "EX", "10", "EX", "100"}) == "$1\r\nv\r\n");
  CHECK(redis.run({"TTL", "e"}) == ":100\r\n");
  CHECK(redis.run({"getex", "e", "persist"}) == "$1\r\nv\r\n");
  CHECK(redis.run({"TTL", "e"}) == ":-1\r\n");
}

TEST_CASE("GETEX with an absolute time in the past deletes the key after replying") {
  CommandRunner redis;
  CHECK(redis.run({"SET", "e", "v"}) == "+OK\r\n");
  CHECK(redis.run({"GETEX", "e", "EXAT", "1"}) == "$1\r\nv\r\n");
  CHECK(redis.run({"EXISTS", "e"}) == ":0\r\n");
  CHECK(redis.run({"SET", "e", "v"}) == "+OK\r\n");
  CHECK(redis.run({"GETEX", "e", "PXAT", "100"}) == "$1\r\nv\r\n");
  CHECK(redis.run({"GET", "e"}) == "$-1\r\n");
}

TEST_CASE("GETEX option errors") {
  CommandRunner redis;
  CHECK(redis.run({"SET", "e", "v"}) == "+OK\r\n");
  CHECK(redis.run({"GETEX", "e", "EX", "10", "PX", "10"}) == "-ERR syntax error\r\n");
  CHECK(redis.run({"GETEX", "e", "PERSIST", "EX", "10"}) == "-ERR syntax error\r\n");
  CHECK(redis.run({"GETEX", "e", "EX", "10", "PERSIST"}) == "-ERR syntax error\r\n");
  CHECK(redis.run({"GETEX", "e", "KEEPTTL"}) == "-ERR syntax error\r\n");
  CHECK(redis.run({"GETEX", "e", "NX"}) == "-ERR syntax error\r\n");
  CHECK(redis.run({"GETEX", "e", "GET"}) == "-ERR syntax error\r\n");
  CHECK(redis.run({"GETEX", "e", "EX"}) == "-ERR syntax error\r\n");
  CHECK(redis.run({"GETEX", "e", "EX", "abc"}) == "-ERR value is not an integer or out of range\r\n");
  CHECK(redis.run({"GETEX", "e", "EX", "0"}) == "-ERR invalid expire time in 'getex' command\r\n");
  CHECK(redis.run({"GETEX", "e", "EX", "-1"}) == "-ERR invalid expire time in 'getex' command\r\n");
  CHECK(redis.run({"GETEX", "e", "PX", "0"}) == "-ERR invalid expire time in 'getex' command\r\n");
  CHECK(redis.run({"GETEX", "e", "EXAT", "0"}) == "-ERR invalid expire time in 'getex' command\r\n");
  CHECK(redis.run({"GETEX", "e", "EX", "9223372036854775807"}) == "-ERR invalid expire time in 'getex' command\r\n");
  CHECK(redis.run({"GETEX", "e", "EXAT", "9223372036854776"}) == "-ERR invalid expire time in 'getex' command\r\n");
  CHECK(redis.run({"TTL", "e"}) == ":-1\r\n");
  CHECK(redis.run({"GETEX"}) == "-ERR wrong number of arguments for 'getex' command\r\n");
}

TEST_CASE("GETEX on a missing key answers null before checking the time") {
  CommandRunner redis;
  CHECK(redis.run({"GETEX", "missing", "EX", "abc"}) == "$-1\r\n");
  CHECK(redis.run({"GETEX", "missing", "EX", "0"}) == "$-1\r\n");
  CHECK(redis.run({"GETEX", "missing", "FOO"}) == "-ERR syntax error\r\n");
}

TEST_CASE("MGET replies a null for each missing key") {
  CommandRunner redis;
  CHECK(redis.run({"MSET", "a", "1", "b", "2", "c", "3"}) == "+OK\r\n");
  CHECK(redis.run({"MGET", "a", "b", "c", "missing"}) == "*4\r\n$1\r\n1\r\n$1\r\n2\r\n$1\r\n3\r\n$-1\r\n");
  CHECK(redis.run({"MGET", "missing"}) == "*1\r\n$-1\r\n");
  CHECK(redis.run({"MGET", "a", "a"}) == "*2\r\n$1\r\n1\r\n$1\r\n1\r\n");
  CHECK(redis.run({"MGET"}) == "-ERR wrong number of arguments for 'mget' command\r\n");
}

TEST_CASE("MSET sets every pair, the last of a repeated key winning, and drops TTLs") {
  CommandRunner redis;
  CHECK(redis.run({"MSET", "a", "1", "a", "2"}) == "+OK\r\n");
  CHECK(redis.run({"GET", "a"}) == "$1\r\n2\r\n");
  CHECK(redis.run({"SETEX", "t", "100", "v"}) == "+OK\r\n");
  CHECK(redis.run({"MSET", "t", "w", "u", "x"}) == "+OK\r\n");
  CHECK(redis.run({"TTL", "t"}) == ":-1\r\n");
  CHECK(redis.run({"MGET", "t", "u"}) == "*2\r\n$1\r\nw\r\n$1\r\nx\r\n");
  CHECK(redis.run({"MSET", "a"}) == "-ERR wrong number of arguments for 'mset' command\r\n");
  CHECK(redis.run({"MSET", "a", "1", "b"}) == "-ERR wrong number of arguments for 'mset' command\r\n");
  CHECK(redis.run({"mset", "a", "1", "b", "2", "c"}) == "-ERR wrong number of arguments for 'mset' command\r\n");
}

TEST_CASE("MSETNX sets all keys or none") {
  CommandRunner redis;
  CHECK(redis.run({"MSETNX", "x", "1", "y", "2"}) == ":1\r\n");
  CHECK(redis.run({"MSETNX", "y", "3", "z", "4"}) == ":0\r\n");
  CHECK(redis.run({"MGET", "x", "y", "z"}) == "*3\r\n$1\r\n1\r\n$1\r\n2\r\n$-1\r\n");
  CHECK(redis.run({"MSETNX", "z", "1", "z", "2"}) == ":1\r\n");
  CHECK(redis.run({"GET", "z"}) == "$1\r\n2\r\n");
  CHECK(redis.run({"MSETNX", "q", "1", "q"}) == "-ERR wrong number of arguments for 'msetnx' command\r\n");
  CHECK(redis.run({"MSETNX"}) == "-ERR wrong number of arguments for 'msetnx' command\r\n");
}

TEST_CASE("APPEND creates, extends and reports the length") {
  CommandRunner redis;
  CHECK(redis.run({"APPEND", "ap", "hello"}) == ":5\r\n");
  CHECK(redis.run({"APPEND", "ap", " world"}) == ":11\r\n");
  CHECK(redis.run({"GET", "ap"}) == "$11\r\nhello world\r\n");
  CHECK(redis.run({"APPEND", "ap", ""}) == ":11\r\n");
  CHECK(redis.run({"STRLEN", "ap"}) == ":11\r\n");
  CHECK(redis.run({"APPEND", "new", ""}) == ":0\r\n");
  CHECK(redis.run({"EXISTS", "new"}) == ":1\r\n");
  CHECK(redis.run({"APPEND", "num", "12"}) == ":2\r\n");
  CHECK(redis.run({"APPEND", "num", "34"}) == ":4\r\n");
  CHECK(redis.run({"INCR", "num"}) == ":1235\r\n");
  CHECK(redis.run({"APPEND", "bin", "\000\001"sv}) == ":2\r\n");
  CHECK(redis.run({"APPEND", "bin", "\002"}) == ":3\r\n");
  CHECK(redis.run({"GET", "bin"}) == "$3\r\n\000\001\002\r\n"sv);
  CHECK(redis.run({"SETEX", "tt", "100", "x"}) == "+OK\r\n");
  CHECK(redis.run({"APPEND", "tt", "y"}) == ":2\r\n");
  CHECK(redis.run({"TTL", "tt"}) == ":100\r\n");
  CHECK(redis.run({"APPEND", "ap"}) == "-ERR wrong number of arguments for 'append' command\r\n");
}

TEST_CASE("STRLEN") {
  CommandRunner redis;
  CHECK(redis.run({"SET", "s", "hello"}) == "+OK\r\n");
  CHECK(redis.run({"STRLEN", "s"}) == ":5\r\n");
  CHECK(redis.run({"STRLEN", "missing"}) == ":0\r\n");
  CHECK(redis.run({"SET", "s", ""}) == "+OK\r\n");
  CHECK(redis.run({"STRLEN", "s"}) == ":0\r\n");
  CHECK(redis.run({"SET", "n", "12345"}) == "+OK\r\n");
  CHECK(redis.run({"STRLEN", "n"}) == ":5\r\n");
  CHECK(redis.run({"STRLEN"}) == "-ERR wrong number of arguments for 'strlen' command\r\n");
  CHECK(redis.run({"STRLEN", "a", "b"}) == "-ERR wrong number of arguments for 'strlen' command\r\n");
}

TEST_CASE("INCR, DECR, INCRBY and DECRBY count from 0 and keep the TTL") {
  CommandRunner redis;
  CHECK(redis.run({"INCR", "i"}) == ":1\r\n");
  CHECK(redis.run({"INCR", "i"}) == ":2\r\n");
  CHECK(redis.run({"INCRBY", "i", "10"}) == ":12\r\n");
  CHECK(redis.run({"DECRBY", "i", "3"}) == ":9\r\n");
  CHECK(redis.run({"DECR", "i"}) == ":8\r\n");
  CHECK(redis.run({"GET", "i"}) == "$1\r\n8\r\n");
  CHECK(redis.run({"INCRBY", "i", "0"}) == ":8\r\n");
  CHECK(redis.run({"INCRBY", "i", "-20"}) == ":-12\r\n");
  CHECK(redis.run({"DECRBY", "i", "-5"}) == ":-7\r\n");
  CHECK(redis.run({"DECR", "fresh"}) == ":-1\r\n");
  CHECK(redis.run({"SETEX", "it", "100", "5"}) == "+OK\r\n");
  CHECK(redis.run({"INCR", "it"}) == ":6\r\n");
  CHECK(redis.run({"TTL", "it"}) == ":100\r\n");
  CHECK(redis.run({"incrby", "it", "1"}) == ":7\r\n");
}

TEST_CASE("INCRBY and DECRBY reject an increment that is not a strict integer") {
  CommandRunner redis;
  CHECK(redis.run({"SET", "i", "1"}) == "+OK\r\n");
  CHECK(redis.run({"INCRBY", "i", "abc"}) == "-ERR value is not an integer or out of range\r\n");
  CHECK(redis.run({"INCRBY", "i", "1.5"}) == "-ERR value is not an integer or out of range\r\n");
  CHECK(redis.run({"INCRBY", "i", ""}) == "-ERR value is not an integer or out of range\r\n");
  CHECK(redis.run({"INCRBY", "i", " 1"}) == "-ERR value is not an integer or out of range\r\n");
  CHECK(redis.run({"INCRBY", "i", "+1"}) == "-ERR value is not an integer or out of range\r\n");
  CHECK(redis.run({"INCRBY", "i", "01"}) == "-ERR value is not an integer or out of range\r\n");
  CHECK(redis.run({"INCRBY", "i", "-0"}) == "-ERR value is not an integer or out of range\r\n");
  CHECK(redis.run({"INCRBY", "i", "99999999999999999999"}) == "-ERR value is not an integer or out of range\r\n");
  CHECK(redis.run({"DECRBY", "i", "9223372036854775808"}) == "-ERR value is not an integer or out of range\r\n");
  CHECK(redis.run({"DECRBY", "i", "abc"}) == "-ERR value is not an integer or out of range\r\n");
  CHECK(redis.run({"INCRBY", "missing", "abc"}) == "-ERR value is not an integer or out of range\r\n");
  CHECK(redis.run({"EXISTS", "missing"}) == ":0\r\n");
  CHECK(redis.run({"GET", "i"}) == "$1\r\n1\r\n");
}

TEST_CASE("INCR family rejects stored values that are not integers") {
  CommandRunner redis;
  CHECK(redis.run({"SET", "i", "abc"}) == "+OK\r\n");
  CHECK(redis.run({"INCR", "i"}) == "-ERR value is not an integer or out of range\r\n");
  CHECK(redis.run({"SET", "i", " 5"}) == "+OK\r\n");
  CHECK(redis.run({"INCR", "i"}) == "-ERR value is not an integer or out of range\r\n");
  CHECK(redis.run({"SET", "i", "5 "}) == "+OK\r\n");
  CHECK(redis.run({"DECR", "i"}) == "-ERR value is not an integer or out of range\r\n");
  CHECK(redis.run({"SET", "i", "007"}) == "+OK\r\n");
  CHECK(redis.run({"INCRBY", "i", "1"}) == "-ERR value is not an integer or out of range\r\n");
  CHECK(redis.run({"SET", "i", "+5"}) == "+OK\r\n");
  CHECK(redis.run({"DECRBY", "i", "1"}) == "-ERR value is not an integer or out of range\r\n");
  CHECK(redis.run({"SET", "i", "1.0"}) == "+OK\r\n");
  CHECK(redis.run({"INCR", "i"}) == "-ERR value is not an integer or out of range\r\n");
  CHECK(redis.run({"SET", "i", ""}) == "+OK\r\n");
  CHECK(redis.run({"INCR", "i"}) == "-ERR value is not an integer or out of range\r\n");
  CHECK(redis.run({"SET", "i", "-0"}) == "+OK\r\n");
  CHECK(redis.run({"INCR", "i"}) == "-ERR value is not an integer or out of range\r\n");
  CHECK(redis.run({"SET", "i", "123456789012345678901"}) == "+OK\r\n");
  CHECK(redis.run({"INCR", "i"}) == "-ERR value is not an integer or out of range\r\n");
  CHECK(redis.run({"SET", "i", "1\000"sv}) == "+OK\r\n");
  CHECK(redis.run({"INCR", "i"}) == "-ERR value is not an integer or out of range\r\n");
  CHECK(redis.run({"GET", "i"}) == "$2\r\n1\000\r\n"sv);
}

TEST_CASE("INCR family overflow") {
  CommandRunner redis;
  CHECK(redis.run({"SET", "i", "9223372036854775806"}) == "+OK\r\n");
  CHECK(redis.run({"INCR", "i"}) == ":9223372036854775807\r\n");
  CHECK(redis.run({"INCR", "i"}) == "-ERR increment or decrement would overflow\r\n");
  CHECK(redis.run({"INCRBY", "i", "1"}) == "-ERR increment or decrement would overflow\r\n");
  CHECK(redis.run({"DECRBY", "i", "-1"}) == "-ERR increment or decrement would overflow\r\n");
  CHECK(redis.run({"GET", "i"}) == "$19\r\n9223372036854775807\r\n");
  CHECK(redis.run({"SET", "i", "-9223372036854775807"}) == "+OK\r\n");
  CHECK(redis.run({"DECR", "i"}) == ":-9223372036854775808\r\n");
  CHECK(redis.run({"DECR", "i"}) == "-ERR increment or decrement would overflow\r\n");
  CHECK(redis.run({"DECRBY", "i", "1"}) == "-ERR increment or decrement would overflow\r\n");
  CHECK(redis.run({"INCRBY", "i", "-1"}) == "-ERR increment or decrement would overflow\r\n");
  CHECK(redis.run({"INCRBY", "i", "9223372036854775807"}) == ":-1\r\n");
  CHECK(redis.run({"SET", "i", "0"}) == "+OK\r\n");
  CHECK(redis.run({"DECRBY", "i", "-9223372036854775808"}) == "-ERR decrement would overflow\r\n");
  CHECK(redis.run({"DECRBY", "i", "9223372036854775807"}) == ":-9223372036854775807\r\n");
  CHECK(redis.run({"DECRBY", "i", "1"}) == ":-9223372036854775808\r\n");
  CHECK(redis.run({"DECRBY", "i", "1"}) == "-ERR increment or decrement would overflow\r\n");
  CHECK(redis.run({"SET", "i", "-1"}) == "+OK\r\n");
  CHECK(redis.run({"DECRBY", "i", "-9223372036854775808"}) == "-ERR decrement would overflow\r\n");
}

TEST_CASE("INCR family arity") {
  CommandRunner redis;
  CHECK(redis.run({"INCR"}) == "-ERR wrong number of arguments for 'incr' command\r\n");
  CHECK(redis.run({"INCR", "a", "b"}) == "-ERR wrong number of arguments for 'incr' command\r\n");
  CHECK(redis.run({"DECR"}) == "-ERR wrong number of arguments for 'decr' command\r\n");
  CHECK(redis.run({"INCRBY", "i"}) == "-ERR wrong number of arguments for 'incrby' command\r\n");
  CHECK(redis.run({"DECRBY", "i"}) == "-ERR wrong number of arguments for 'decrby' command\r\n");
  CHECK(redis.run({"DECRBY", "i", "1", "2"}) == "-ERR wrong number of arguments for 'decrby' command\r\n");
}

TEST_CASE("INCRBYFLOAT adds in long double and formats without exponent") {
  CommandRunner redis;
  CHECK(redis.run({"INCRBYFLOAT", "f", "1.5"}) == "$3\r\n1.5\r\n");
  CHECK(redis.run({"INCRBYFLOAT", "f", "1.5"}) == "$1\r\n3\r\n");
  CHECK(redis.run({"INCRBYFLOAT", "f", "-3"}) == "$1\r\n0\r\n");
  CHECK(redis.run({"GET", "f"}) == "$1\r\n0\r\n");
  CHECK(redis.run({"INCRBYFLOAT", "f", "0.1"}) == "$3\r\n0.1\r\n");
  CHECK(redis.run({"INCRBYFLOAT", "f", "0.2"}) == "$3\r\n0.3\r\n");
  CHECK(redis.run({"INCRBYFLOAT", "f", "1e3"}) == "$22\r\n1000.29999999999999999\r\n");
  CHECK(redis.run({"INCRBYFLOAT", "f", "1E-3"}) == "$22\r\n1000.30099999999999999\r\n");
  CHECK(redis.run({"INCRBYFLOAT", "f", "-1.0e2"}) == "$21\r\n900.30099999999999999\r\n");
  CHECK(redis.run({"INCRBYFLOAT", "f", "0x1p3"}) == "$21\r\n908.30099999999999999\r\n");
  CHECK(redis.run({"INCRBYFLOAT", "f", ".5"}) == "$21\r\n908.80099999999999999\r\n");
  CHECK(redis.run({"INCRBYFLOAT", "f", "5."}) == "$21\r\n913.80099999999999999\r\n");
  CHECK(redis.run({"INCRBYFLOAT", "f", "-.5"}) == "$21\r\n913.30099999999999999\r\n");
  CHECK(redis.run({"INCRBYFLOAT", "f", "1e20"}) == "$21\r\n100000000000000000912\r\n");
  CHECK(redis.run({"INCRBYFLOAT", "f", "-1e20"}) == "$3\r\n912\r\n");
  CHECK(redis.run({"SET", "f", "10"}) == "+OK\r\n");
  CHECK(redis.run({"INCRBYFLOAT", "f", "0.0"}) == "$2\r\n10\r\n");
  CHECK(redis.run({"GET", "f"}) == "$2\r\n10\r\n");
  CHECK(redis.run({"SET", "f", "1"}) == "+OK\r\n");
  CHECK(redis.run({"INCRBYFLOAT", "f", "-1"}) == "$1\r\n0\r\n");
  CHECK(redis.run({"INCRBYFLOAT", "f", "-0.0"}) == "$1\r\n0\r\n");
  CHECK(redis.run({"SET", "f", "0"}) == "+OK\r\n");
  CHECK(redis.run({"INCRBYFLOAT", "f", "0.000000000000000001"}) == "$1\r\n0\r\n");
  CHECK(redis.run({"SET", "f", "5.0e3"}) == "+OK\r\n");
  CHECK(redis.run({"INCRBYFLOAT", "f", "2.0e2"}) == "$4\r\n5200\r\n");
  CHECK(redis.run({"SETEX", "t", "100", "1"}) == "+OK\r\n");
  CHECK(redis.run({"INCRBYFLOAT", "t", "1"}) == "$1\r\n2\r\n");
  CHECK(redis.run({"TTL", "t"}) == ":100\r\n");
}

TEST_CASE("INCRBYFLOAT errors") {
  CommandRunner redis;
  CHECK(redis.run({"INCRBYFLOAT", "f", "inf"}) == "-ERR increment would produce NaN or Infinity\r\n");
  CHECK(redis.run({"INCRBYFLOAT", "f", "-inf"}) == "-ERR increment would produce NaN or Infinity\r\n");
  CHECK(redis.run({"INCRBYFLOAT", "f", "Infinity"}) == "-ERR increment would produce NaN or Infinity\r\n");
  CHECK(redis.run({"INCRBYFLOAT", "f", "nan"}) == "-ERR value is not a valid float\r\n");
  CHECK(redis.run({"INCRBYFLOAT", "f", "1e5000"}) == "-ERR value is not a valid float\r\n");
  CHECK(redis.run({"INCRBYFLOAT", "f", "-1e5000"}) == "-ERR value is not a valid float\r\n");
  CHECK(redis.run({"INCRBYFLOAT", "f", "1e-5000"}) == "-ERR value is not a valid float\r\n");
  CHECK(redis.run({"INCRBYFLOAT", "f", "abc"}) == "-ERR value is not a valid float\r\n");
  CHECK(redis.run({"INCRBYFLOAT", "f", ""}) == "-ERR value is not a valid float\r\n");
  CHECK(redis.run({"INCRBYFLOAT", "f", " 1"}) == "-ERR value is not a valid float\r\n");
  CHECK(redis.run({"INCRBYFLOAT", "f", "1 "}) == "-ERR value is not a valid float\r\n");
  CHECK(redis.run({"INCRBYFLOAT", "f", "1\000"sv}) == "-ERR value is not a valid float\r\n");
  CHECK(redis.run({"INCRBYFLOAT", "f", "1.5.5"}) == "-ERR value is not a valid float\r\n");
  CHECK(redis.run({"INCRBYFLOAT", "f", "5e"}) == "-ERR value is not a valid float\r\n");
  CHECK(redis.run({"EXISTS", "f"}) == ":0\r\n");
  CHECK(redis.run({"SET", "s", "abc"}) == "+OK\r\n");
  CHECK(redis.run({"INCRBYFLOAT", "s", "1"}) == "-ERR value is not a valid float\r\n");
  CHECK(redis.run({"SET", "s", "inf"}) == "+OK\r\n");
  CHECK(redis.run({"INCRBYFLOAT", "s", "1"}) == "-ERR increment would produce NaN or Infinity\r\n");
  CHECK(redis.run({"SET", "s", " 1"}) == "+OK\r\n");
  CHECK(redis.run({"INCRBYFLOAT", "s", "1"}) == "-ERR value is not a valid float\r\n");
  CHECK(redis.run({"GET", "s"}) == "$2\r\n 1\r\n");
  CHECK(redis.run({"INCRBYFLOAT"}) == "-ERR wrong number of arguments for 'incrbyfloat' command\r\n");
  CHECK(redis.run({"INCRBYFLOAT", "f"}) == "-ERR wrong number of arguments for 'incrbyfloat' command\r\n");
  CHECK(redis.run({"INCRBYFLOAT", "f", "1", "2"}) == "-ERR wrong number of arguments for 'incrbyfloat' command\r\n");
}

TEST_CASE("INCRBYFLOAT replies a bulk string in RESP3 too") {
  CommandRunner redis;
  redis.use_resp3();
  CHECK(redis.run({"INCRBYFLOAT", "f", "2.5"}) == "$3\r\n2.5\r\n");
  CHECK(redis.run({"INCRBYFLOAT", "f", "abc"}) == "-ERR value is not a valid float\r\n");
}

TEST_CASE("GETRANGE clamps and counts negative indexes from the end") {
  CommandRunner redis;
  CHECK(redis.run({"SET", "r", "Hello World"}) == "+OK\r\n");
  CHECK(redis.run({"GETRANGE", "r", "0", "4"}) == "$5\r\nHello\r\n");
  CHECK(redis.run({"GETRANGE", "r", "-5", "-1"}) == "$5\r\nWorld\r\n");
  CHECK(redis.run({"GETRANGE", "r", "0", "-1"}) == "$11\r\nHello World\r\n");
  CHECK(redis.run({"GETRANGE", "r", "0", "100"}) == "$11\r\nHello World\r\n");
  CHECK(redis.run({"GETRANGE", "r", "100", "200"}) == "$0\r\n\r\n");
  CHECK(redis.run({"GETRANGE", "r", "-100", "-50"}) == "$1\r\nH\r\n");
  CHECK(redis.run({"GETRANGE", "r", "-1", "-5"}) == "$0\r\n\r\n");
  CHECK(redis.run({"GETRANGE", "r", "-100", "2"}) == "$3\r\nHel\r\n");
  CHECK(redis.run({"GETRANGE", "r", "5", "2"}) == "$0\r\n\r\n");
  CHECK(redis.run({"GETRANGE", "r", "0", "0"}) == "$1\r\nH\r\n");
  CHECK(redis.run({"GETRANGE", "r", "-1", "-1"}) == "$1\r\nd\r\n");
  CHECK(redis.run({"GETRANGE", "r", "-11", "-11"}) == "$1\r\nH\r\n");
  CHECK(redis.run({"GETRANGE", "r", "-12", "-12"}) == "$1\r\nH\r\n");
  CHECK(redis.run({"GETRANGE", "r", "10", "10"}) == "$1\r\nd\r\n");
  CHECK(redis.run({"GETRANGE", "r", "11", "11"}) == "$0\r\n\r\n");
  CHECK(redis.run({"GETRANGE", "r", "3", "-100"}) == "$0\r\n\r\n");
  CHECK(redis.run({"GETRANGE", "r", "-9223372036854775808", "9223372036854775807"}) == "$11\r\nHello World\r\n");
  CHECK(redis.run({"GETRANGE", "r", "9223372036854775807", "-9223372036854775808"}) == "$0\r\n\r\n");
}

TEST_CASE("GETRANGE on empty, missing and integer values, and its errors") {
  CommandRunner redis;
  CHECK(redis.run({"GETRANGE", "missing", "0", "-1"}) == "$0\r\n\r\n");
  CHECK(redis.run({"SET", "empty", ""}) == "+OK\r\n");
  CHECK(redis.run({"GETRANGE", "empty", "0", "-1"}) == "$0\r\n\r\n");
  CHECK(redis.run({"GETRANGE", "empty", "-1", "0"}) == "$0\r\n\r\n");
  CHECK(redis.run({"SET", "num", "12345"}) == "+OK\r\n");
  CHECK(redis.run({"GETRANGE", "num", "1", "3"}) == "$3\r\n234\r\n");
  CHECK(redis.run({"GETRANGE", "num", "-2", "-1"}) == "$2\r\n45\r\n");
  CHECK(redis.run({"SET", "r", "hello"}) == "+OK\r\n");
  CHECK(redis.run({"GETRANGE", "r", "abc", "1"}) == "-ERR value is not an integer or out of range\r\n");
  CHECK(redis.run({"GETRANGE", "r", "1", "abc"}) == "-ERR value is not an integer or out of range\r\n");
  CHECK(redis.run({"GETRANGE", "missing", "abc", "1"}) == "-ERR value is not an integer or out of range\r\n");
  CHECK(redis.run({"GETRANGE", "r", "1"}) == "-ERR wrong number of arguments for 'getrange' command\r\n");
}

TEST_CASE("SUBSTR is GETRANGE") {
  CommandRunner redis;
  CHECK(redis.run({"SET", "r", "Hello World"}) == "+OK\r\n");
  CHECK(redis.run({"SUBSTR", "r", "0", "4"}) == "$5\r\nHello\r\n");
  CHECK(redis.run({"SUBSTR", "r", "-3", "-1"}) == "$3\r\nrld\r\n");
  CHECK(redis.run({"SUBSTR", "missing", "0", "1"}) == "$0\r\n\r\n");
  CHECK(redis.run({"SUBSTR", "r", "a", "b"}) == "-ERR value is not an integer or out of range\r\n");
  CHECK(redis.run({"SUBSTR", "r", "1"}) == "-ERR wrong number of arguments for 'substr' command\r\n");
}

TEST_CASE("SETRANGE overwrites and zero-pads") {
  CommandRunner redis;
  CHECK(redis.run({"SETRANGE", "sr", "5", "hi"}) == ":7\r\n");
  CHECK(redis.run({"GET", "sr"}) == "$7\r\n\000\000\000\000\000hi\r\n"sv);
  CHECK(redis.run({"SETRANGE", "sr", "0", "HELLO"}) == ":7\r\n");
  CHECK(redis.run({"GET", "sr"}) == "$7\r\nHELLOhi\r\n");
  CHECK(redis.run({"SETRANGE", "sr", "10", "x"}) == ":11\r\n");
  CHECK(redis.run({"GET", "sr"}) == "$11\r\nHELLOhi\000\000\000x\r\n"sv);
  CHECK(redis.run({"SETRANGE", "sr", "1", ""}) == ":11\r\n");
  CHECK(redis.run({"SETRANGE", "sr", "100", ""}) == ":11\r\n");
  CHECK(redis.run({"STRLEN", "sr"}) == ":11\r\n");
  CHECK(redis.run({"SET", "n", "12345"}) == "+OK\r\n");
  CHECK(redis.run({"SETRANGE", "n", "1", "x"}) == ":5\r\n");
  CHECK(redis.run({"GET", "n"}) == "$5\r\n1x345\r\n");
  CHECK(redis.run({"SETEX", "st", "100", "abc"}) == "+OK\r\n");
  CHECK(redis.run({"SETRANGE", "st", "1", "Z"}) == ":3\r\n");
  CHECK(redis.run({"TTL", "st"}) == ":100\r\n");
  CHECK(redis.run({"GET", "st"}) == "$3\r\naZc\r\n");
}

TEST_CASE("SETRANGE errors and limits") {
  CommandRunner redis;
  CHECK(redis.run({"SETRANGE", "sr", "-1", "x"}) == "-ERR offset is out of range\r\n");
  CHECK(redis.run({"SETRANGE", "sr", "abc", "x"}) == "-ERR value is not an integer or out of range\r\n");
  CHECK(redis.run({"SETRANGE", "sr", "1.5", "x"}) == "-ERR value is not an integer or out of range\r\n");
  CHECK(redis.run({"SETRANGE", "missing", "0", ""}) == ":0\r\n");
  CHECK(redis.run({"SETRANGE", "missing", "-1", ""}) == "-ERR offset is out of range\r\n");
  CHECK(redis.run({"SETRANGE", "missing", "536870912", ""}) == ":0\r\n");
  CHECK(redis.run({"EXISTS", "missing"}) == ":0\r\n");
  CHECK(redis.run({"SETRANGE", "big", "536870912", "x"}) ==
        "-ERR string exceeds maximum allowed size (proto-max-bulk-len)\r\n");
  CHECK(redis.run({"SETRANGE", "big", "536870911", "xy"}) ==
        "-ERR string exceeds maximum allowed size (proto-max-bulk-len)\r\n");
  CHECK(redis.run({"SETRANGE", "big", "9223372036854775807", "x"}) ==
        "-ERR string exceeds maximum allowed size (proto-max-bulk-len)\r\n");
  CHECK(redis.run({"SETRANGE", "big", "9223372036854775808", "x"}) ==
        "-ERR value is not an integer or out of range\r\n");
  CHECK(redis.run({"SET", "s", "abc"}) == "+OK\r\n");
  CHECK(redis.run({"SETRANGE", "s", "536870912", ""}) == ":3\r\n");
  CHECK(redis.run({"SETRANGE", "s", "536870912", "x"}) ==
        "-ERR string exceeds maximum allowed size (proto-max-bulk-len)\r\n");
  CHECK(redis.run({"SETRANGE", "sr", "2"}) == "-ERR wrong number of arguments for 'setrange' command\r\n");
}

TEST_CASE("LCS replies the subsequence, its length or its ranges") {
  CommandRunner redis;
  CHECK(redis.run({"MSET", "key1", "ohmytext", "key2", "mynewtext"}) == "+OK\r\n");
  CHECK(redis.run({"LCS", "key1", "key2"}) == "$6\r\nmytext\r\n");
  CHECK(redis.run({"LCS", "key1", "key2", "LEN"}) == ":6\r\n");
  CHECK(redis.run({"LCS", "key1", "key2", "IDX"}) ==
        "*4\r\n$7\r\nmatches\r\n*2\r\n*2\r\n*2\r\n:4\r\n:7\r\n*2\r\n:5\r\n:8\r\n*2\r\n*2\r\n:2\r\n:3\r\n"
        "*2\r\n:0\r\n:1\r\n$3\r\nlen\r\n:6\r\n");
  CHECK(redis.run({"LCS", "key1", "key2", "IDX", "MINMATCHLEN", "4"}) ==
        "*4\r\n$7\r\nmatches\r\n*1\r\n*2\r\n*2\r\n:4\r\n:7\r\n*2\r\n:5\r\n:8\r\n$3\r\nlen\r\n:6\r\n");
  CHECK(redis.run({"LCS", "key1", "key2", "IDX", "MINMATCHLEN", "4", "WITHMATCHLEN"}) ==
        "*4\r\n$7\r\nmatches\r\n*1\r\n*3\r\n*2\r\n:4\r\n:7\r\n*2\r\n:5\r\n:8\r\n:4\r\n$3\r\nlen\r\n:6\r\n");
  CHECK(redis.run({"LCS", "key1", "key2", "idx", "withmatchlen", "minmatchlen", "-5"}) ==
        "*4\r\n$7\r\nmatches\r\n*2\r\n*3\r\n*2\r\n:4\r\n:7\r\n*2\r\n:5\r\n:8\r\n:4\r\n*3\r\n*2\r\n:2\r\n"
        ":3\r\n*2\r\n:0\r\n:1\r\n:2\r\n$3\r\nlen\r\n:6\r\n");
  CHECK(redis.run({"LCS", "key1", "key2", "IDX", "MINMATCHLEN", "1", "MINMATCHLEN", "9223372036854775807"}) ==
        "*4\r\n$7\r\nmatches\r\n*0\r\n$3\r\nlen\r\n:6\r\n");
  CHECK(redis.run({"LCS", "key1", "key2", "LEN", "LEN", "WITHMATCHLEN"}) == ":6\r\n");
}

TEST_CASE("LCS walks matches back as Redis does") {
  CommandRunner redis;
  CHECK(redis.run({"MSET", "a", "GTTCCTAATA", "b", "CGATAATTGAGA"}) == "+OK\r\n");
  CHECK(redis.run({"LCS", "a", "b"}) == "$6\r\nCTAATA\r\n");
  CHECK(redis.run({"LCS", "a", "b", "IDX", "WITHMATCHLEN"}) ==
        "*4\r\n$7\r\nmatches\r\n*4\r\n*3\r\n*2\r\n:9\r\n:9\r\n*2\r\n:11\r\n:11\r\n:1\r\n*3\r\n*2\r\n:8\r\n"
        ":8\r\n*2\r\n:7\r\n:7\r\n:1\r\n*3\r\n*2\r\n:5\r\n:7\r\n*2\r\n:3\r\n:5\r\n:3\r\n*3\r\n*2\r\n:4\r\n"
        ":4\r\n*2\r\n:0\r\n:0\r\n:1\r\n$3\r\nlen\r\n:6\r\n");
  CHECK(redis.run({"LCS", "a", "b", "IDX", "MINMATCHLEN", "2"}) ==
        "*4\r\n$7\r\nmatches\r\n*1\r\n*2\r\n*2\r\n:5\r\n:7\r\n*2\r\n:3\r\n:5\r\n$3\r\nlen\r\n:6\r\n");
  CHECK(redis.run({"MSET", "a", "abcabcabc", "b", "cbacbacba"}) == "+OK\r\n");
  CHECK(redis.run({"LCS", "a", "b"}) == "$5\r\ncbabc\r\n");
  CHECK(redis.run({"LCS", "a", "b", "IDX", "WITHMATCHLEN"}) ==
        "*4\r\n$7\r\nmatches\r\n*5\r\n*3\r\n*2\r\n:8\r\n:8\r\n*2\r\n:6\r\n:6\r\n:1\r\n*3\r\n*2\r\n:7\r\n"
        ":7\r\n*2\r\n:4\r\n:4\r\n:1\r\n*3\r\n*2\r\n:6\r\n:6\r\n*2\r\n:2\r\n:2\r\n:1\r\n*3\r\n*2\r\n:4\r\n"
        ":4\r\n*2\r\n:1\r\n:1\r\n:1\r\n*3\r\n*2\r\n:2\r\n:2\r\n*2\r\n:0\r\n:0\r\n:1\r\n$3\r\nlen\r\n:5\r\n");
  CHECK(redis.run({"MSET", "a", "aaaa", "b", "aa"}) == "+OK\r\n");
  CHECK(redis.run({"LCS", "a", "b", "IDX", "WITHMATCHLEN"}) ==
        "*4\r\n$7\r\nmatches\r\n*1\r\n*3\r\n*2\r\n:2\r\n:3\r\n*2\r\n:0\r\n:1\r\n:2\r\n$3\r\nlen\r\n:2\r\n");
  CHECK(redis.run({"MSET", "a", "\000\001\002\003"sv, "b", "\001\003\000"sv}) == "+OK\r\n");
  CHECK(redis.run({"LCS", "a", "b"}) == "$2\r\n\001\003\r\n");
  CHECK(redis.run({"LCS", "a", "b", "IDX"}) ==
        "*4\r\n$7\r\nmatches\r\n*2\r\n*2\r\n*2\r\n:3\r\n:3\r\n*2\r\n:1\r\n:1\r\n*2\r\n*2\r\n:1\r\n:1\r\n"
        "*2\r\n:0\r\n:0\r\n$3\r\nlen\r\n:2\r\n");
}

TEST_CASE("LCS of missing and empty strings") {
  CommandRunner redis;
  CHECK(redis.run({"SET", "a", "abc"}) == "+OK\r\n");
  CHECK(redis.run({"LCS", "a", "missing"}) == "$0\r\n\r\n");
  CHECK(redis.run({"LCS", "missing", "a", "LEN"}) == ":0\r\n");
  CHECK(redis.run({"LCS", "missing", "other", "IDX"}) == "*4\r\n$7\r\nmatches\r\n*0\r\n$3\r\nlen\r\n:0\r\n");
  CHECK(redis.run({"SET", "e", ""}) == "+OK\r\n");
  CHECK(redis.run({"LCS", "a", "e", "IDX", "WITHMATCHLEN"}) == "*4\r\n$7\r\nmatches\r\n*0\r\n$3\r\nlen\r\n:0\r\n");
  CHECK(redis.run({"LCS", "a", "a", "IDX", "WITHMATCHLEN"}) ==
        "*4\r\n$7\r\nmatches\r\n*1\r\n*3\r\n*2\r\n:0\r\n:2\r\n*2\r\n:0\r\n:2\r\n:3\r\n$3\r\nlen\r\n:3\r\n");
}

TEST_CASE("LCS option errors") {
  CommandRunner redis;
  CHECK(redis.run({"MSET", "a", "ohmytext", "b", "mynewtext"}) == "+OK\r\n");
  CHECK(redis.run({"LCS", "a", "b", "LEN", "IDX"}) ==
        "-ERR If you want both the length and indexes, please just use IDX.\r\n");
  CHECK(redis.run({"LCS", "a", "b", "IDX", "LEN"}) ==
        "-ERR If you want both the length and indexes, please just use IDX.\r\n");
  CHECK(redis.run({"LCS", "a", "b", "MINMATCHLEN", "abc"}) == "-ERR value is not an integer or out of range\r\n");
  CHECK(redis.run({"LCS", "a", "b", "MINMATCHLEN"}) == "-ERR syntax error\r\n");
  CHECK(redis.run({"LCS", "a", "b", "FOO"}) == "-ERR syntax error\r\n");
  CHECK(redis.run({"LCS", "a", "b", "MINMATCHLEN", "abc", "LEN", "IDX"}) ==
        "-ERR value is not an integer or out of range\r\n");
  CHECK(redis.run({"LCS", "a", "b", "LEN", "IDX", "MINMATCHLEN", "abc"}) ==
        "-ERR value is not an integer or out of range\r\n");
  CHECK(redis.run({"LCS"}) == "-ERR wrong number of arguments for 'lcs' command\r\n");
  CHECK(redis.run({"LCS", "a"}) == "-ERR wrong number of arguments for 'lcs' command\r\n");
}

TEST_CASE("LCS IDX is a map in RESP3") {
  CommandRunner redis;
  redis.use_resp3();
  CHECK(redis.run({"MSET", "a", "ohmytext", "b", "mynewtext"}) == "+OK\r\n");
  CHECK(redis.run({"LCS", "a", "b", "IDX", "MINMATCHLEN", "4", "WITHMATCHLEN"}) ==
        "%2\r\n$7\r\nmatches\r\n*1\r\n*3\r\n*2\r\n:4\r\n:7\r\n*2\r\n:5\r\n:8\r\n:4\r\n$3\r\nlen\r\n:6\r\n");
  CHECK(redis.run({"LCS", "a", "b", "LEN"}) == ":6\r\n");
  CHECK(redis.run({"LCS", "a", "missing", "IDX"}) == "%2\r\n$7\r\nmatches\r\n*0\r\n$3\r\nlen\r\n:0\r\n");
}

TEST_CASE("Option words end at a NUL byte, as Redis compares C strings") {
  CommandRunner redis;
  CHECK(redis.run({"SET", "k", "v", "EX\000zz"sv, "100"}) == "+OK\r\n");
  CHECK(redis.run({"TTL", "k"}) == ":100\r\n");
  CHECK(redis.run({"SET", "k", "v", "NX\000"sv}) == "$-1\r\n");
  CHECK(redis.run({"SET", "k", "v", "KEEPTTL\000a"sv}) == "+OK\r\n");
  CHECK(redis.run({"TTL", "k"}) == ":100\r\n");
  CHECK(redis.run({"GETEX", "k", "PERSIST\000"sv}) == "$1\r\nv\r\n");
  CHECK(redis.run({"GETEX", "k", "EX\000"sv, "100"}) == "$1\r\nv\r\n");
  CHECK(redis.run({"MSET", "a", "ohmytext", "b", "mynewtext"}) == "+OK\r\n");
  CHECK(redis.run({"LCS", "a", "b", "LEN\000x"sv}) == ":6\r\n");
  CHECK(redis.run({"LCS", "a", "b", "MINMATCHLEN\000"sv, "2"}) == "$6\r\nmytext\r\n");
  // numbers are not cut there
  CHECK(redis.run({"INCRBY", "k", "1\000"sv}) == "-ERR value is not an integer or out of range\r\n");
  CHECK(redis.run({"SETEX", "k", "10\000"sv, "v"}) == "-ERR value is not an integer or out of range\r\n");
}

TEST_CASE("Replies that differ in RESP3") {
  CommandRunner redis;
  redis.use_resp3();
  CHECK(redis.run({"GET", "missing"}) == "_\r\n");
  CHECK(redis.run({"GETSET", "k", "v"}) == "_\r\n");
  CHECK(redis.run({"GETDEL", "missing"}) == "_\r\n");
  CHECK(redis.run({"GETEX", "missing"}) == "_\r\n");
  CHECK(redis.run({"SET", "k", "v", "NX"}) == "_\r\n");
  CHECK(redis.run({"MGET", "k", "missing"}) == "*2\r\n$1\r\nv\r\n_\r\n");
}

TEST_CASE("INCRBYFLOAT with huge values writes every digit") {
  CommandRunner redis;
  // The long double nearest 1e308, in full: 308 digits and no exponent.
  CHECK(starts_with(redis.run({"INCRBYFLOAT", "f", "1e308"}), "$308\r\n99999999999999999996685879655845"));
  CHECK(starts_with(redis.run({"INCRBYFLOAT", "f", "1e308"}), "$309\r\n19999999999999999999337175931169"));
  CHECK(redis.run({"STRLEN", "f"}) == ":309\r\n");
  // Beyond double's range but within long double's.
  CHECK(redis.run({"SET", "g", "1e400"}) == "+OK\r\n");
  CHECK(redis.run({"INCRBYFLOAT", "g", "-1e400"}) == "$1\r\n0\r\n");
  CHECK(starts_with(redis.run({"INCRBYFLOAT", "g", "1.1e4932"}), "$4933\r\n1099999999999999999974373107528"));
  CHECK(redis.run({"INCRBYFLOAT", "g", "1.1e4932"}) == "-ERR increment would produce NaN or Infinity\r\n");
}

TEST_CASE("APPEND and SETRANGE leave a raw value; SET and INCR do not") {
  CommandRunner redis;
  using rc::StringEncoding;
  redis.run({"SET", "k", "12"});
  CHECK(encoding_of(redis, "k") == StringEncoding::Auto);
  redis.run({"APPEND", "k", ""});
  CHECK(encoding_of(redis, "k") == StringEncoding::Raw);
  redis.run({"INCR", "k"});
  CHECK(encoding_of(redis, "k") == StringEncoding::Auto);
  redis.run({"SETRANGE", "k", "0", "9"});
  CHECK(encoding_of(redis, "k") == StringEncoding::Raw);
  redis.run({"SETRANGE", "fresh", "2", "x"});
  CHECK(encoding_of(redis, "fresh") == StringEncoding::Raw);
  // A key created by APPEND holds the argument as SET would.
  redis.run({"APPEND", "made", "5"});
  CHECK(encoding_of(redis, "made") == StringEncoding::Auto);
}

TEST_CASE("Relative expiries from SETEX, PSETEX and GETEX do expire") {
  CommandRunner redis;
  CHECK(redis.run({"PSETEX", "p", "1", "v"}) == "+OK\r\n");
  CHECK(redis.run({"SET", "g", "v"}) == "+OK\r\n");
  CHECK(redis.run({"GETEX", "g", "PX", "1"}) == "$1\r\nv\r\n");
  std::this_thread::sleep_for(20ms);
  CHECK(redis.run({"MGET", "p", "g"}) == "*2\r\n$-1\r\n$-1\r\n");
  // An expired key counts as missing for MSETNX and INCR.
  CHECK(redis.run({"PSETEX", "p", "1", "5"}) == "+OK\r\n");
  std::this_thread::sleep_for(20ms);
  CHECK(redis.run({"MSETNX", "p", "1"}) == ":1\r\n");
  CHECK(redis.run({"PSETEX", "p", "1", "5"}) == "+OK\r\n");
  std::this_thread::sleep_for(20ms);
  CHECK(redis.run({"INCR", "p"}) == ":1\r\n");
  CHECK(redis.run({"TTL", "p"}) == ":-1\r\n");
}

TEST_CASE("LCS refuses a table larger than proto-max-bulk-len") {
  CommandRunner redis;
  // (1 + 1) * (67108863 + 1) cells of 4 bytes is exactly 512 MB: allowed. One more byte is not.
  const std::string long_value(67108864, 'a');
  CHECK(redis.run({"SET", "a", "x"}) == "+OK\r\n");
  CHECK(redis.run({"SET", "b", long_value}) == "+OK\r\n");
  CHECK(redis.run({"LCS", "a", "b", "LEN"}) ==
        "-ERR Insufficient memory, transient memory for LCS exceeds proto-max-bulk-len\r\n");
  CHECK(redis.run({"LCS", "b", "a"}) ==
        "-ERR Insufficient memory, transient memory for LCS exceeds proto-max-bulk-len\r\n");
}

TEST_CASE("Concurrent INCRs and MSETs from several clients", "[concurrency]") {
  CommandRunner redis;
  constexpr int kThreads = 4;
  constexpr int kRounds = 2000;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&redis, t] {
      rc::ClientSession session(100 + t, -1, "127.0.0.1:1", "127.0.0.1:2", 0);
      std::string out;
      for (int i = 0; i < kRounds; ++i) {
        rc::execute_command(redis.server(), session, out, {"INCR", "counter"});
        rc::execute_command(redis.server(), session, out, {"MSET", "x", "1", "y", "2", "z", "3"});
        rc::execute_command(redis.server(), session, out, {"APPEND", "log", "."});
      }
    });
  }
  for (auto& thread : threads) thread.join();
  CHECK(redis.run({"GET", "counter"}) == "$4\r\n8000\r\n");
  CHECK(redis.run({"STRLEN", "log"}) == ":8000\r\n");
  CHECK(redis.run({"MGET", "x", "y", "z"}) == "*3\r\n$1\r\n1\r\n$1\r\n2\r\n$1\r\n3\r\n");
}
