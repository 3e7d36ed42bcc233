// Hash commands through the real dispatcher, reply bytes compared exactly. The expected replies are those
// of redis-server 7.0.15 for the same commands (RESP2 unless the test switches to RESP3).
#include <catch2/catch.hpp>

#include <map>
#include <set>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "store/change_stream.h"
#include "store/shard_locks.h"
#include "tests/unit/server/command_test_helpers.h"

using namespace std::literals;
using rc::test::CommandRunner;
using rc::test::numbered;

namespace {

// Built with += (GCC 12 warns falsely, -Wrestrict, about "literal" + std::string).
std::string bulk(std::string_view text) {
  std::string reply = "$";
  reply += std::to_string(text.size());
  reply += "\r\n";
  reply += text;
  reply += "\r\n";
  return reply;
}

std::string encoding(CommandRunner& redis, std::string_view key) { return redis.run({"OBJECT", "ENCODING", key}); }
const std::string kListpack = bulk("listpack");
const std::string kHashtable = bulk("hashtable");
const std::string kWrongType = "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n";

// The elements of a flat RESP2 array of short bulks (test values have no CR/LF), in reply order.
std::vector<std::string> bulks(const std::string& reply) {
  std::vector<std::string> out;
  size_t pos = reply.find("\r\n") + 2;
  while (pos < reply.size()) {
    const size_t header_end = reply.find("\r\n", pos);
    if (reply[pos] != '$') {  // a nested array header (RESP3 pairs): skip it
      pos = header_end + 2;
      continue;
    }
    const size_t length = std::stoul(reply.substr(pos + 1, header_end - pos - 1));
    out.push_back(reply.substr(header_end + 2, length));
    pos = header_end + 2 + length + 2;
  }
  return out;
}

// Keeps every change published while attached (as the AOF would see them).
class RecordingConsumer : public rc::ChangeConsumer {
 public:
  explicit RecordingConsumer(rc::Keyspace& keyspace) : keyspace_(keyspace) {
    with_all_locks([&] { keyspace_.changes().attach(this); });
  }
  ~RecordingConsumer() { with_all_locks([&] { keyspace_.changes().detach(this); }); }
  void consume(uint64_t, int, std::span<const std::string_view> argv) override {
    std::string line;
    for (const std::string_view word : argv) {
      if (!line.empty()) line += ' ';
      line += word;
    }
    changes.push_back(line);
  }
  std::vector<std::string> changes;

 private:
  template <typename Fn>
  void with_all_locks(Fn&& fn) {
    rc::ShardLocks locks;
    for (int i = 0; i < keyspace_.database_count(); ++i) locks.add_all(keyspace_.db(i));
    locks.lock();
    fn();
  }
  rc::Keyspace& keyspace_;
};

}  // namespace

TEST_CASE("HSET, HMSET and HSETNX") {
  CommandRunner redis;
  CHECK(redis.run({"HSET", "h", "a", "1", "b", "2"}) == ":2\r\n");
  CHECK(redis.run({"HSET", "h", "a", "10", "c", "3", "c", "4"}) == ":1\r\n");
  CHECK(redis.run({"HMSET", "h", "d", "5"}) == "+OK\r\n");
  CHECK(redis.run({"HGETALL", "h"}) == "*8\r\n" + bulk("a") + bulk("10") + bulk("b") + bulk("2") + bulk("c") +
                                            bulk("4") + bulk("d") + bulk("5"));
  // A field without a value is an arity error, in the command's own (lower-case) name.
  CHECK(redis.run({"HSET", "h", "a", "1", "b"}) == "-ERR wrong number of arguments for 'hset' command\r\n");
  CHECK(redis.run({"HMSET", "h", "a", "1", "b"}) == "-ERR wrong number of arguments for 'hmset' command\r\n");
  CHECK(redis.run({"HSET", "h", "a"}) == "-ERR wrong number of arguments for 'hset' command\r\n");
  CHECK(redis.run({"HSETNX", "h", "a", "x"}) == ":0\r\n");
  CHECK(redis.run({"HSETNX", "h", "e", "x"}) == ":1\r\n");
  CHECK(redis.run({"HSETNX", "new", "f", "v"}) == ":1\r\n");
  CHECK(redis.run({"HGET", "h", "a"}) == bulk("10"));
  CHECK(redis.run({"HGET", "h", "e"}) == bulk("x"));
  CHECK(redis.run({"HGET", "new", "f"}) == bulk("v"));
  CHECK(redis.run({"TYPE", "h"}) == "+hash\r\n");
}

TEST_CASE("HGET, HMGET, HLEN, HSTRLEN and HEXISTS, on missing keys and fields too") {
  CommandRunner redis;
  redis.run({"HSET", "h", "s", "hello", "i", "-123", "big", "9223372036854775807", "z", "007", "b", "a\0b"sv});
  CHECK(redis.run({"HGET", "h", "s"}) == bulk("hello"));
  CHECK(redis.run({"HGET", "h", "i"}) == bulk("-123"));
  CHECK(redis.run({"HGET", "h", "z"}) == bulk("007"));
  CHECK(redis.run({"HGET", "h", "b"}) == bulk("a\0b"sv));
  CHECK(redis.run({"HGET", "h", "nope"}) == "$-1\r\n");
  CHECK(redis.run({"HGET", "missing", "s"}) == "$-1\r\n");
  CHECK(redis.run({"HMGET", "h", "s", "nope", "i"}) == "*3\r\n" + bulk("hello") + "$-1\r\n" + bulk("-123"));
  CHECK(redis.run({"HMGET", "missing", "a", "b"}) == "*2\r\n$-1\r\n$-1\r\n");
  CHECK(redis.run({"HLEN", "h"}) == ":5\r\n");
  CHECK(redis.run({"HLEN", "missing"}) == ":0\r\n");
  CHECK(redis.run({"HSTRLEN", "h", "s"}) == ":5\r\n");
  CHECK(redis.run({"HSTRLEN", "h", "i"}) == ":4\r\n");  // an integer in the listpack: its digits and sign
  CHECK(redis.run({"HSTRLEN", "h", "big"}) == ":19\r\n");
  CHECK(redis.run({"HSTRLEN", "h", "b"}) == ":3\r\n");
  CHECK(redis.run({"HSTRLEN", "h", "nope"}) == ":0\r\n");
  CHECK(redis.run({"HSTRLEN", "missing", "s"}) == ":0\r\n");
  CHECK(redis.run({"HEXISTS", "h", "s"}) == ":1\r\n");
  CHECK(redis.run({"HEXISTS", "h", "-123"}) == ":0\r\n");
  CHECK(redis.run({"HEXISTS", "missing", "s"}) == ":0\r\n");
  // Fields that look like integers are found by their text.
  redis.run({"HSET", "n", "12", "twelve"});
  CHECK(redis.run({"HGET", "n", "12"}) == bulk("twelve"));
  CHECK(redis.run({"HGET", "n", "012"}) == "$-1\r\n");
}

TEST_CASE("HDEL counts removed fields and deletes the key with the last one") {
  CommandRunner redis;
  redis.run({"HSET", "h", "a", "1", "b", "2", "c", "3"});
  CHECK(redis.run({"HDEL", "h", "a", "a", "nope"}) == ":1\r\n");
  CHECK(redis.run({"HDEL", "missing", "a"}) == ":0\r\n");
  CHECK(redis.run({"HDEL", "h", "b", "c", "d"}) == ":2\r\n");
  CHECK(redis.run({"EXISTS", "h"}) == ":0\r\n");
  CHECK(redis.run({"TYPE", "h"}) == "+none\r\n");
  // The same on a hashtable.
  redis.run({"HSET", "t", "long", std::string(100, 'x'), "b", "2"});
  CHECK(encoding(redis, "t") == kHashtable);
  CHECK(redis.run({"HDEL", "t", "long", "b"}) == ":2\r\n");
  CHECK(redis.run({"EXISTS", "t"}) == ":0\r\n");
}

TEST_CASE("HKEYS, HVALS and HGETALL in RESP2 and RESP3") {
  CommandRunner redis;
  redis.run({"HSET", "h", "f1", "v1", "f2", "2"});
  CHECK(redis.run({"HKEYS", "h"}) == "*2\r\n" + bulk("f1") + bulk("f2"));
  CHECK(redis.run({"HVALS", "h"}) == "*2\r\n" + bulk("v1") + bulk("2"));
  CHECK(redis.run({"HGETALL", "h"}) == "*4\r\n" + bulk("f1") + bulk("v1") + bulk("f2") + bulk("2"));
  CHECK(redis.run({"HKEYS", "missing"}) == "*0\r\n");
  CHECK(redis.run({"HGETALL", "missing"}) == "*0\r\n");
  redis.use_resp3();
  CHECK(redis.run({"HGETALL", "h"}) == "%2\r\n" + bulk("f1") + bulk("v1") + bulk("f2") + bulk("2"));
  CHECK(redis.run({"HGETALL", "missing"}) == "%0\r\n");
  CHECK(redis.run({"HKEYS", "missing"}) == "*0\r\n");
  CHECK(redis.run({"HVALS", "h"}) == "*2\r\n" + bulk("v1") + bulk("2"));
  CHECK(redis.run({"HGET", "missing", "f"}) == "_\r\n");
  CHECK(redis.run({"HMGET", "h", "f1", "nope"}) == "*2\r\n" + bulk("v1") + "_\r\n");
}

TEST_CASE("every hash command answers WRONGTYPE on a string, after its argument checks") {
  CommandRunner redis;
  redis.run({"SET", "s", "v"});
  const std::vector<std::vector<std::string_view>> commands = {
      {"HSET", "s", "f", "v"},  {"HMSET", "s", "f", "v"},      {"HSETNX", "s", "f", "v"},
      {"HGET", "s", "f"},       {"HMGET", "s", "f"},           {"HDEL", "s", "f"},
      {"HLEN", "s"},            {"HSTRLEN", "s", "f"},         {"HEXISTS", "s", "f"},
      {"HKEYS", "s"},           {"HVALS", "s"},                {"HGETALL", "s"},
      {"HINCRBY", "s", "f", "1"}, {"HINCRBYFLOAT", "s", "f", "1"}, {"HRANDFIELD", "s"},
      {"HRANDFIELD", "s", "0"}, {"HRANDFIELD", "s", "-5", "WITHVALUES"}, {"HSCAN", "s", "0"},
      {"HSCAN", "s", "0", "COUNT", "0"}};
  for (const auto& command : commands) {
    INFO(command[0]);
    CHECK(redis.run(command) == kWrongType);
  }
  CHECK(redis.run({"GET", "s"}) == bulk("v"));
  CHECK(redis.run({"HINCRBY", "s", "f", "x"}) == "-ERR value is not an integer or out of range\r\n");
  CHECK(redis.run({"HINCRBYFLOAT", "s", "f", "x"}) == "-ERR value is not a valid float\r\n");
  CHECK(redis.run({"HRANDFIELD", "s", "1", "WITHSCORES"}) == "-ERR syntax error\r\n");
  CHECK(redis.run({"HSCAN", "s", "x"}) == "-ERR invalid cursor\r\n");
  redis.run({"HSET", "h", "f", "v"});
  CHECK(redis.run({"GET", "h"}) == kWrongType);
}

TEST_CASE("HINCRBY") {
  CommandRunner redis;
  CHECK(redis.run({"HINCRBY", "h", "n", "5"}) == ":5\r\n");
  CHECK(redis.run({"HINCRBY", "h", "n", "-7"}) == ":-2\r\n");
  CHECK(redis.run({"HINCRBY", "h", "m", "9223372036854775807"}) == ":9223372036854775807\r\n");
  CHECK(redis.run({"HINCRBY", "h", "m", "1"}) == "-ERR increment or decrement would overflow\r\n");
  CHECK(redis.run({"HINCRBY", "h", "k", "-9223372036854775808"}) == ":-9223372036854775808\r\n");
  CHECK(redis.run({"HINCRBY", "h", "k", "-1"}) == "-ERR increment or decrement would overflow\r\n");
  CHECK(redis.run({"HINCRBY", "h", "n", "1.5"}) == "-ERR value is not an integer or out of range\r\n");
  CHECK(redis.run({"HINCRBY", "h", "n", "+1"}) == "-ERR value is not an integer or out of range\r\n");
  redis.run({"HSET", "h", "s", "x", "sp", " 1", "lead", "01", "long", std::string(65, '1')});
  CHECK(encoding(redis, "h") == kHashtable);
  for (const std::string_view field : {"s"sv, "sp"sv, "lead"sv}) {
    CHECK(redis.run({"HINCRBY", "h", field, "1"}) == "-ERR hash value is not an integer\r\n");
  }
  CHECK(redis.run({"HINCRBY", "h", "n", "3"}) == ":1\r\n");  // a table stores the text; still a number
  CHECK(redis.run({"HGET", "h", "n"}) == bulk("1"));
}

TEST_CASE("HINCRBYFLOAT") {
  CommandRunner redis;
  CHECK(redis.run({"HINCRBYFLOAT", "h", "f", "1.23"}) == bulk("1.23"));
  CHECK(redis.run({"HINCRBYFLOAT", "h", "f", "0.77"}) == bulk("2"));
  CHECK(redis.run({"HINCRBYFLOAT", "h", "f", "-0.1"}) == bulk("1.9"));
  CHECK(redis.run({"HINCRBYFLOAT", "h", "f", "1e3"}) == bulk("1001.90000000000000002"));  // long double
  CHECK(redis.run({"HINCRBYFLOAT", "h", "f", "abc"}) == "-ERR value is not a valid float\r\n");
  CHECK(redis.run({"HINCRBYFLOAT", "h", "f", "1e5000"}) == "-ERR value is not a valid float\r\n");
  CHECK(redis.run({"HINCRBYFLOAT", "h", "f", "+inf"}) == "-ERR value is NaN or Infinity\r\n");
  CHECK(redis.run({"HINCRBYFLOAT", "none", "f", "-inf"}) == "-ERR value is NaN or Infinity\r\n");
  CHECK(redis.run({"EXISTS", "none"}) == ":0\r\n");
  redis.run({"HSET", "h", "i", "7", "s", "x", "inf", "inf", "sp", "1 ", "nul", "1\0" "2"sv});
  CHECK(redis.run({"HINCRBYFLOAT", "h", "i", "0.5"}) == bulk("7.5"));
  CHECK(redis.run({"HINCRBYFLOAT", "h", "s", "1"}) == "-ERR hash value is not a float\r\n");
  CHECK(redis.run({"HINCRBYFLOAT", "h", "sp", "1"}) == "-ERR hash value is not a float\r\n");
  CHECK(redis.run({"HINCRBYFLOAT", "h", "nul", "1"}) == "-ERR hash value is not a float\r\n");
  CHECK(redis.run({"HINCRBYFLOAT", "h", "inf", "1"}) == "-ERR increment would produce NaN or Infinity\r\n");
  CHECK(redis.run({"HINCRBYFLOAT", "h", "m", "1.7976931348623157e308"}).starts_with("$309\r\n1797693134862315"));
  CHECK(redis.run({"HINCRBYFLOAT", "h", "x", "1.1e4932"}).starts_with("$4933\r\n109999999999999999997"));
  CHECK(redis.run({"HINCRBYFLOAT", "h", "x", "1.1e4932"}) == "-ERR increment would produce NaN or Infinity\r\n");
  redis.use_resp3();
  CHECK(redis.run({"HINCRBYFLOAT", "h", "i", "0.5"}) == bulk("8"));  // a bulk string in RESP3 too
}

TEST_CASE("hash writes propagate what replays to the same hash") {
  CommandRunner redis;
  RecordingConsumer log(redis.server().keyspace());
  redis.run({"HSET", "h", "a", "1"});
  redis.run({"HSETNX", "h", "a", "2"});  // nothing set: nothing logged
  redis.run({"HSETNX", "h", "b", "2"});
  redis.run({"HINCRBYFLOAT", "h", "c", "0.1"});
  redis.run({"HINCRBYFLOAT", "h", "c", "x"});
  redis.run({"HINCRBY", "h", "d", "3"});
  redis.run({"HDEL", "h", "nope"});  // nothing removed: nothing logged
  redis.run({"HDEL", "h", "a", "nope"});
  redis.run({"HMSET", "h", "e", "5"});
  CHECK(log.changes == std::vector<std::string>{"HSET h a 1", "HSETNX h b 2", "HSET h c 0.1", "HINCRBY h d 3",
                                                "HDEL h a nope", "HMSET h e 5"});
}

TEST_CASE("listpack to hashtable: by field count, by field or value length, and by CONFIG SET") {
  CommandRunner redis;
  REQUIRE(redis.run({"CONFIG", "SET", "hash-max-listpack-entries", "4"}) == "+OK\r\n");
  REQUIRE(redis.run({"CONFIG", "SET", "hash-max-ziplist-value", "8"}) == "+OK\r\n");
  redis.run({"HSET", "h", "a", "1", "b", "2", "c", "3", "d", "4"});
  CHECK(encoding(redis, "h") == kListpack);
  redis.run({"HSET", "h", "a", "12345678"});
  CHECK(encoding(redis, "h") == kListpack);
  redis.run({"HSET", "h", "e", "5"});
  CHECK(encoding(redis, "h") == kHashtable);
  redis.run({"HDEL", "h", "a", "b", "c", "d"});
  CHECK(encoding(redis, "h") == kHashtable);  // never back
  CHECK(redis.run({"HGETALL", "h"}) == "*2\r\n" + bulk("e") + bulk("5"));

  redis.run({"HSET", "v", "f", "123456789"});
  CHECK(encoding(redis, "v") == kHashtable);
  redis.run({"HSET", "k", "123456789", "v"});
  CHECK(encoding(redis, "k") == kHashtable);
  redis.run({"HSETNX", "n", "f", "123456789"});
  CHECK(encoding(redis, "n") == kHashtable);
  redis.run({"HINCRBY", "i", "f", "123456789"});  // the new value is 9 digits
  CHECK(encoding(redis, "i") == kHashtable);
  redis.run({"HINCRBYFLOAT", "fl", "f", "1.5"});
  CHECK(encoding(redis, "fl") == kListpack);
  redis.run({"HINCRBYFLOAT", "fl", "f", "0.0000001"});
  CHECK(encoding(redis, "fl") == kHashtable);
  CHECK(redis.run({"HGET", "fl", "f"}) == bulk("1.5000001"));

  REQUIRE(redis.run({"CONFIG", "SET", "hash-max-listpack-entries", "0"}) == "+OK\r\n");
  redis.run({"HSET", "zero", "a", "1"});
  CHECK(encoding(redis, "zero") == kHashtable);
  CHECK(redis.run({"HGET", "zero", "a"}) == bulk("1"));
}

TEST_CASE("a hash past the listpack limits keeps every field") {
  CommandRunner redis;
  for (int i = 0; i < 600; ++i) {
    const std::string field = numbered("field:", i);
    CHECK(redis.run({"HSET", "h", field, numbered("", i)}) == ":1\r\n");
  }
  CHECK(encoding(redis, "h") == kHashtable);
  CHECK(redis.run({"HLEN", "h"}) == ":600\r\n");
  CHECK(redis.run({"HGET", "h", "field:599"}) == bulk("599"));
  CHECK(bulks(redis.run({"HKEYS", "h"})).size() == 600);
  const std::vector<std::string> all = bulks(redis.run({"HGETALL", "h"}));
  std::map<std::string, std::string> pairs;
  for (size_t i = 0; i < all.size(); i += 2) pairs[all[i]] = all[i + 1];
  CHECK(pairs.size() == 600);
  CHECK(pairs["field:42"] == "42");
  CHECK(redis.run({"HINCRBY", "h", "field:42", "1"}) == ":43\r\n");
}

TEST_CASE("HRANDFIELD: argument errors in Redis's order, missing keys, and reply shapes") {
  CommandRunner redis;
  CHECK(redis.run({"HRANDFIELD", "missing"}) == "$-1\r\n");
  CHECK(redis.run({"HRANDFIELD", "missing", "5"}) == "*0\r\n");
  CHECK(redis.run({"HRANDFIELD", "missing", "x"}) == "-ERR value is not an integer or out of range\r\n");
  CHECK(redis.run({"HRANDFIELD", "missing", "-9223372036854775808"}) ==
        "-ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807\r\n");
  CHECK(redis.run({"HRANDFIELD", "missing", "1", "WITHVALUES", "x"}) == "-ERR syntax error\r\n");
  CHECK(redis.run({"HRANDFIELD", "missing", "-9223372036854770000", "WITHVALUES"}) == "-ERR value is out of range\r\n");
  CHECK(redis.run({"HRANDFIELD", "missing", "4611686018427387904", "WITHVALUES"}) == "-ERR value is out of range\r\n");
  CHECK(redis.run({"HRANDFIELD", "missing", "4611686018427387903", "withvalues"}) == "*0\r\n");
  redis.run({"HSET", "one", "f", "42"});
  CHECK(redis.run({"HRANDFIELD", "one"}) == bulk("f"));
  CHECK(redis.run({"HRANDFIELD", "one", "0"}) == "*0\r\n");
  CHECK(redis.run({"HRANDFIELD", "one", "-3"}) == "*3\r\n" + bulk("f") + bulk("f") + bulk("f"));
  CHECK(redis.run({"HRANDFIELD", "one", "-2", "WITHVALUES"}) ==
        "*4\r\n" + bulk("f") + bulk("42") + bulk("f") + bulk("42"));
  CHECK(redis.run({"HRANDFIELD", "one", "5", "WITHVALUES"}) == "*2\r\n" + bulk("f") + bulk("42"));
  redis.use_resp3();
  CHECK(redis.run({"HRANDFIELD", "missing"}) == "_\r\n");
  CHECK(redis.run({"HRANDFIELD", "one", "-2", "WITHVALUES"}) ==
        "*2\r\n*2\r\n" + bulk("f") + bulk("42") + "*2\r\n" + bulk("f") + bulk("42"));
  CHECK(redis.run({"HRANDFIELD", "one", "1", "WITHVALUES"}) == "*1\r\n*2\r\n" + bulk("f") + bulk("42"));
  CHECK(redis.run({"HRANDFIELD", "one", "2"}) == "*1\r\n" + bulk("f"));
}

TEST_CASE("HRANDFIELD picks: distinct for a positive count, fields with their values, on both encodings") {
  for (const bool table : {false, true}) {
    CommandRunner redis;
    std::map<std::string, std::string> hash;
    for (int i = 0; i < 10; ++i) hash[numbered("f", i)] = numbered("v", i);
    for (const auto& [field, value] : hash) redis.run({"HSET", "h", field, value});
    if (table) {
      redis.run({"CONFIG", "SET", "hash-max-listpack-entries", "2"});
      redis.run({"HSET", "h", "f0", "v0"});  // converts (a listpack is converted on a write)
    }
    INFO("table " << table);
    REQUIRE(encoding(redis, "h") == (table ? kHashtable : kListpack));
    for (const int count : {1, 2, 3, 8, 9, 10, 20}) {
      const std::string count_text = std::to_string(count);
      const std::vector<std::string> picked = bulks(redis.run({"HRANDFIELD", "h", count_text, "WITHVALUES"}));
      REQUIRE(picked.size() == 2 * std::min<size_t>(count, 10));
      std::set<std::string> fields;
      for (size_t i = 0; i < picked.size(); i += 2) {
        CHECK(hash.at(picked[i]) == picked[i + 1]);
        fields.insert(picked[i]);
      }
      CHECK(fields.size() == picked.size() / 2);
    }
    const std::vector<std::string> repeated = bulks(redis.run({"HRANDFIELD", "h", "-1001"}));
    CHECK(repeated.size() == 1001);
    for (const std::string& field : repeated) CHECK(hash.count(field) == 1);
  }
}

TEST_CASE("HRANDFIELD draws uniformly from a hashtable, whatever its bucket chains") {
  CommandRunner redis;
  redis.run({"CONFIG", "SET", "hash-max-listpack-entries", "0"});
  for (int i = 0; i < 10; ++i) redis.run({"HSET", "h", numbered("f", i), "v"});
  REQUIRE(encoding(redis, "h") == kHashtable);
  // Chi-square over 10 fields and 10,000 draws (df = 9): 40 is passed by chance once in 100,000 runs.
  for (const std::string_view count : {"-10000"sv, "-1"sv}) {
    std::map<std::string, int> seen;
    const int rounds = count == "-1" ? 10000 : 1;
    for (int round = 0; round < rounds; ++round) {
      for (const std::string& field : bulks(redis.run({"HRANDFIELD", "h", count}))) ++seen[field];
    }
    double chi_square = 0;
    for (const auto& [field, times] : seen) chi_square += (times - 1000.0) * (times - 1000.0) / 1000.0;
    CHECK(seen.size() == 10);
    CHECK(chi_square < 40);
  }
}

TEST_CASE("HSCAN") {
  CommandRunner redis;
  CHECK(redis.run({"HSCAN", "missing", "0", "COUNT", "0"}) == "*2\r\n$1\r\n0\r\n*0\r\n");  // before the options
  CHECK(redis.run({"HSCAN", "missing", "-"}) == "-ERR invalid cursor\r\n");
  redis.run({"HSET", "h", "a", "1", "key:1", "x", "10", "20"});
  CHECK(redis.run({"HSCAN", "h", "0"}) ==
        "*2\r\n$1\r\n0\r\n*6\r\n" + bulk("a") + bulk("1") + bulk("key:1") + bulk("x") + bulk("10") + bulk("20"));
  CHECK(redis.run({"HSCAN", "h", "99", "MATCH", "key:*", "COUNT", "1"}) ==
        "*2\r\n$1\r\n0\r\n*2\r\n" + bulk("key:1") + bulk("x"));
  CHECK(redis.run({"HSCAN", "h", "0", "MATCH", "1*"}) == "*2\r\n$1\r\n0\r\n*2\r\n" + bulk("10") + bulk("20"));
  CHECK(redis.run({"HSCAN", "h", "0", "COUNT", "0"}) == "-ERR syntax error\r\n");
  CHECK(redis.run({"HSCAN", "h", "0", "COUNT", "x"}) == "-ERR value is not an integer or out of range\r\n");
  CHECK(redis.run({"HSCAN", "h", "0", "TYPE", "hash"}) == "-ERR syntax error\r\n");
  CHECK(redis.run({"HSCAN", "h", "0", "NOVALUES"}) == "-ERR syntax error\r\n");
  CHECK(redis.run({"HSCAN", "h", "0", "MATCH"}) == "-ERR syntax error\r\n");

  // A hashtable: the cursor moves, and a whole iteration returns every field once with its value.
  for (int i = 0; i < 1000; ++i) redis.run({"HSET", "big", numbered("f", i), numbered("v", i)});
  REQUIRE(encoding(redis, "big") == kHashtable);
  std::map<std::string, std::string> seen;
  std::string cursor = "0";
  int calls = 0;
  do {
    const std::string reply = redis.run({"HSCAN", "big", cursor, "MATCH", "f1*", "COUNT", "50"});
    const std::vector<std::string> elements = bulks(reply);
    cursor = elements.at(0);
    for (size_t i = 1; i + 1 < elements.size(); i += 2) {
      CHECK(seen.emplace(elements[i], elements[i + 1]).second);
      CHECK(elements[i + 1].substr(1) == elements[i].substr(1));  // f12 -> v12
    }
    ++calls;
  } while (cursor != "0" && calls < 10000);
  CHECK(calls > 1);
  CHECK(seen.size() == 111);  // f1, f10..f19, f100..f199
}
