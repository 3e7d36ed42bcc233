// The append-only file: manifest parsing, the command reader (complete, truncated, corrupt), a log
// replayed into a fresh server, a truncated tail, and that every write command propagates what it changes.
#include <catch2/catch.hpp>

#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <set>
#include <string>
#include <thread>
#include <chrono>
#include <vector>

#include "server/aof_base_writer.h"
#include "server/aof_io.h"
#include "server/aof_log.h"
#include "server/command_table.h"
#include "server/config.h"
#include "store/aof/command_reader.h"
#include "store/aof/manifest.h"
#include "store/change_stream.h"
#include "store/hash_value.h"
#include "store/keyspace.h"
#include "store/mutation_counter.h"
#include "store/set_value.h"
#include "tests/unit/server/command_test_helpers.h"
#include "tests/unit/temp_dir.h"

using rc::test::CommandRunner;
using rc::test::TempDir;
namespace fs = std::filesystem;

namespace {

void aof_config(rc::Config& config, const fs::path& dir) {
  config.set("dir", dir.string(), true);
  config.set("appendonly", "yes", true);
  config.set("appendfsync", "always", true);
}

// Every key of database 0 with its value.
std::map<std::string, std::string> contents(CommandRunner& redis) {
  std::map<std::string, std::string> out;
  uint64_t cursor = 0;
  do {
    cursor = redis.server().keyspace().db(0).scan_step(cursor, 0, [&](const rc::Entry* entry) {
      out[std::string(entry->key())] = std::string(entry->value());
    });
  } while (cursor != 0);
  return out;
}

}  // namespace

TEST_CASE("AOF manifest: Redis 7's lines, round trip and errors") {
  const auto parsed = rc::aof::parse_manifest(
      "file appendonly.aof.1.base.rdb seq 1 type b\n"
      "file appendonly.aof.1.incr.aof seq 1 type i\n"
      "# a comment\n"
      "file appendonly.aof.2.incr.aof seq 2 type i newkey x\n");
  REQUIRE(parsed.manifest);
  const rc::aof::Manifest& m = *parsed.manifest;
  REQUIRE(m.base);
  CHECK(m.base->name == "appendonly.aof.1.base.rdb");
  REQUIRE(m.incrementals.size() == 2);
  CHECK(m.incrementals[1].seq == 2);
  CHECK(m.last_incremental_seq() == 2);
  CHECK(m.to_text() ==
        "file appendonly.aof.1.base.rdb seq 1 type b\nfile appendonly.aof.1.incr.aof seq 1 type i\n"
        "file appendonly.aof.2.incr.aof seq 2 type i\n");
  CHECK(rc::aof::parse_manifest(m.to_text()).manifest);

  CHECK_FALSE(rc::aof::parse_manifest("").manifest);
  CHECK_FALSE(rc::aof::parse_manifest("file a seq 1\n").manifest);
  CHECK_FALSE(rc::aof::parse_manifest("file a seq x type b\n").manifest);
  CHECK_FALSE(rc::aof::parse_manifest("file a seq 1 type b\nfile b seq 2 type b\n").manifest);
  CHECK_FALSE(rc::aof::parse_manifest("file a seq 2 type i\nfile b seq 1 type i\n").manifest);
  CHECK_FALSE(rc::aof::parse_manifest("file ../a seq 1 type i\n").manifest);
  CHECK(rc::aof::base_file_name("appendonly.aof", 3, false) == "appendonly.aof.3.base.aof");
  CHECK(rc::aof::incremental_file_name("appendonly.aof", 3) == "appendonly.aof.3.incr.aof");
}

TEST_CASE("AOF command reader: whole, truncated anywhere, corrupt") {
  std::string data;
  rc::aof::encode_command(data, {"SET", "k", "v"});
  rc::aof::encode_command(data, {"DEL", std::string_view("a\0b", 3)});
  std::vector<std::string> argv;
  size_t pos = 0;
  REQUIRE(rc::aof::read_command(data, pos, argv).status == rc::aof::ReadStatus::Complete);
  CHECK(argv == std::vector<std::string>{"SET", "k", "v"});
  REQUIRE(rc::aof::read_command(data, pos, argv).status == rc::aof::ReadStatus::Complete);
  CHECK(argv[1] == std::string("a\0b", 3));
  CHECK(rc::aof::read_command(data, pos, argv).status == rc::aof::ReadStatus::End);

  // Every proper prefix of the second command is a truncated tail, never corruption.
  std::string first;
  rc::aof::encode_command(first, {"SET", "k", "v"});
  for (size_t cut = first.size() + 1; cut < data.size(); ++cut) {
    size_t at = first.size();
    CHECK(rc::aof::read_command(std::string_view(data).substr(0, cut), at, argv).status ==
          rc::aof::ReadStatus::Truncated);
    CHECK(at == first.size());
  }
  for (const std::string bad : {"+OK\r\n", "*x\r\n", "*1\r\n+3\r\n", "*1\r\n$3\r\nabcd\r\n", "*0\r\n"}) {
    size_t at = 0;
    CHECK(rc::aof::read_command(bad, at, argv).status == rc::aof::ReadStatus::Corrupt);
  }
}

TEST_CASE("AOF: a log replays into a fresh server; a truncated tail is dropped and cut off") {
  TempDir dir("aof-test");
  rc::Config config;
  aof_config(config, dir.path);
  std::map<std::string, std::string> before;
  {
    CommandRunner redis;
    rc::AofLog log(config, redis.server().keyspace(), redis.server().forks());
    REQUIRE_FALSE(log.load_and_open(redis.server()));
    log.start();
    redis.run({"SET", "a", "1"});
    redis.run({"INCRBY", "a", "41"});
    redis.run({"INCRBYFLOAT", "f", "0.5"});
    redis.run({"SET", "t", "x", "EX", "1000"});
    redis.run({"MSET", "m1", "1", "m2", "2"});
    redis.run({"APPEND", "m1", "23"});
    redis.run({"RENAME", "m2", "r"});
    redis.run({"SELECT", "2"});
    redis.run({"SET", "other", "db"});
    redis.run({"SELECT", "0"});
    redis.run({"GETDEL", "missing"});
    redis.run({"SETRANGE", "sr", "2", "zz"});
    // Keys whose first TTL will have passed by the replay, but which were kept alive before it did.
    redis.run({"SET", "persisted", "v", "PX", "300"});
    redis.run({"PERSIST", "persisted"});
    redis.run({"SET", "extended", "v", "PX", "300"});
    redis.run({"PEXPIRE", "extended", "100000"});
    redis.run({"SET", "appended", "v", "PX", "300"});
    redis.run({"APPEND", "appended", "w"});  // its TTL stays: gone after the replay, as it is by then
    before = contents(redis);
    before.erase("appended");
    log.stop();
  }
  const fs::path incr = dir.path / "appendonlydir" / "appendonly.aof.1.incr.aof";
  std::this_thread::sleep_for(std::chrono::milliseconds(400));
  const auto whole = fs::file_size(incr);
  {
    std::ofstream(incr, std::ios::app | std::ios::binary) << "*3\r\n$3\r\nSET\r\n$1\r\nz";
  }
  CommandRunner redis;
  rc::AofLog log(config, redis.server().keyspace(), redis.server().forks());
  REQUIRE_FALSE(log.load_and_open(redis.server()));
  auto after = contents(redis);
  CHECK(redis.run({"EXISTS", "appended"}) == ":0\r\n");
  after.erase("appended");  // still in the table until something reclaims it
  CHECK(after == before);
  CHECK(redis.run({"TTL", "persisted"}) == ":-1\r\n");
  CHECK(before.at("a") == "42");
  CHECK(before.at("sr") == std::string("\0\0zz", 4));
  CHECK(redis.server().keyspace().db(2).size() == 1);
  CHECK(fs::file_size(incr) == whole);
}

TEST_CASE("AOF: corruption in the middle of a file stops the load with the file and offset") {
  TempDir dir("aof-test");
  rc::Config config;
  aof_config(config, dir.path);
  {
    CommandRunner redis;
    rc::AofLog log(config, redis.server().keyspace(), redis.server().forks());
    REQUIRE_FALSE(log.load_and_open(redis.server()));
  }
  const fs::path incr = dir.path / "appendonlydir" / "appendonly.aof.1.incr.aof";
  std::ofstream(incr, std::ios::binary) << "*1\r\n$4\r\nPING\r\n*1\r\n!!!!\r\n*1\r\n$4\r\nPING\r\n";
  CommandRunner redis;
  rc::AofLog log(config, redis.server().keyspace(), redis.server().forks());
  const auto error = log.load_and_open(redis.server());
  REQUIRE(error);
  CHECK(error->find("appendonly.aof.1.incr.aof at offset 14") != std::string::npos);
}

// One example per write command, with the setup that makes it change something. A new write command
// without an entry here fails this test: add one, and make its handler call ctx.propagate.
TEST_CASE("AOF: every write command propagates when it changes the dataset") {
  using Script = std::vector<std::vector<std::string_view>>;
  const std::map<std::string_view, std::pair<Script, std::vector<std::string_view>>> examples = {
      {"set", {{}, {"SET", "k", "v", "EX", "10"}}},
      {"setnx", {{}, {"SETNX", "k", "v"}}},
      {"setex", {{}, {"SETEX", "k", "10", "v"}}},
      {"psetex", {{}, {"PSETEX", "k", "10000", "v"}}},
      {"getset", {{}, {"GETSET", "k", "v"}}},
      {"getdel", {{{"SET", "k", "v"}}, {"GETDEL", "k"}}},
      {"getex", {{{"SET", "k", "v"}}, {"GETEX", "k", "PX", "100000"}}},
      {"mset", {{}, {"MSET", "a", "1", "b", "2"}}},
      {"msetnx", {{}, {"MSETNX", "a", "1", "b", "2"}}},
      {"incr", {{}, {"INCR", "k"}}},
      {"decr", {{}, {"DECR", "k"}}},
      {"incrby", {{}, {"INCRBY", "k", "5"}}},
      {"decrby", {{}, {"DECRBY", "k", "5"}}},
      {"incrbyfloat", {{}, {"INCRBYFLOAT", "k", "1.5"}}},
      {"append", {{{"SET", "k", "v"}}, {"APPEND", "k", "w"}}},
      {"setrange", {{{"SET", "k", "v"}}, {"SETRANGE", "k", "5", "w"}}},
      {"del", {{{"SET", "k", "v"}}, {"DEL", "k"}}},
      {"unlink", {{{"SET", "k", "v"}}, {"UNLINK", "k"}}},
      {"rename", {{{"SET", "k", "v"}}, {"RENAME", "k", "k2"}}},
      {"renamenx", {{{"SET", "k", "v"}}, {"RENAMENX", "k", "k2"}}},
      {"copy", {{{"SET", "k", "v"}}, {"COPY", "k", "k2"}}},
      {"move", {{{"SET", "k", "v"}}, {"MOVE", "k", "1"}}},
      {"expire", {{{"SET", "k", "v"}}, {"EXPIRE", "k", "100"}}},
      {"pexpire", {{{"SET", "k", "v"}}, {"PEXPIRE", "k", "100000"}}},
      {"expireat", {{{"SET", "k", "v"}}, {"EXPIREAT", "k", "1"}}},
      {"pexpireat", {{{"SET", "k", "v"}}, {"PEXPIREAT", "k", "99999999999999"}}},
      {"persist", {{{"SET", "k", "v", "EX", "100"}}, {"PERSIST", "k"}}},
      {"flushdb", {{{"SET", "k", "v"}}, {"FLUSHDB"}}},
      {"flushall", {{{"SET", "k", "v"}}, {"FLUSHALL"}}},
      {"swapdb", {{{"SET", "k", "v"}}, {"SWAPDB", "0", "1"}}},
      {"sadd", {{}, {"SADD", "s", "a"}}},
      {"srem", {{{"SADD", "s", "a", "b"}}, {"SREM", "s", "a"}}},
      {"spop", {{{"SADD", "s", "a", "b"}}, {"SPOP", "s", "1"}}},
      {"smove", {{{"SADD", "s", "a"}}, {"SMOVE", "s", "t", "a"}}},
      {"sinterstore", {{{"SADD", "s", "a"}}, {"SINTERSTORE", "d", "s", "s"}}},
      {"sunionstore", {{{"SADD", "s", "a"}}, {"SUNIONSTORE", "d", "s"}}},
      {"sdiffstore", {{{"SADD", "s", "a"}}, {"SDIFFSTORE", "d", "s", "t"}}},
      {"hset", {{}, {"HSET", "h", "f", "v"}}},
      {"hmset", {{}, {"HMSET", "h", "f", "v"}}},
      {"hsetnx", {{}, {"HSETNX", "h", "f", "v"}}},
      {"hdel", {{{"HSET", "h", "f", "v", "g", "w"}}, {"HDEL", "h", "f"}}},
      {"hincrby", {{}, {"HINCRBY", "h", "f", "5"}}},
      {"hincrbyfloat", {{}, {"HINCRBYFLOAT", "h", "f", "1.5"}}},
      {"lpush", {{}, {"LPUSH", "l", "a"}}},
      {"rpush", {{}, {"RPUSH", "l", "a"}}},
      {"lpushx", {{{"RPUSH", "l", "a"}}, {"LPUSHX", "l", "b"}}},
      {"rpushx", {{{"RPUSH", "l", "a"}}, {"RPUSHX", "l", "b"}}},
      {"lpop", {{{"RPUSH", "l", "a"}}, {"LPOP", "l"}}},
      {"rpop", {{{"RPUSH", "l", "a", "b"}}, {"RPOP", "l", "1"}}},
      {"linsert", {{{"RPUSH", "l", "a"}}, {"LINSERT", "l", "BEFORE", "a", "b"}}},
      {"lset", {{{"RPUSH", "l", "a"}}, {"LSET", "l", "0", "b"}}},
      {"ltrim", {{{"RPUSH", "l", "a", "b"}}, {"LTRIM", "l", "1", "1"}}},
      {"lrem", {{{"RPUSH", "l", "a", "b"}}, {"LREM", "l", "0", "a"}}},
      {"lmove", {{{"RPUSH", "l", "a"}}, {"LMOVE", "l", "m", "LEFT", "RIGHT"}}},
      {"rpoplpush", {{{"RPUSH", "l", "a", "b"}}, {"RPOPLPUSH", "l", "l"}}},
      {"lmpop", {{{"RPUSH", "l", "a"}}, {"LMPOP", "2", "m", "l", "LEFT", "COUNT", "3"}}},
      {"blpop", {{{"RPUSH", "l", "a"}}, {"BLPOP", "m", "l", "0"}}},
      {"brpop", {{{"RPUSH", "l", "a", "b"}}, {"BRPOP", "l", "0"}}},
      {"blmpop", {{{"RPUSH", "l", "a"}}, {"BLMPOP", "0", "1", "l", "RIGHT", "COUNT", "2"}}},
      {"blmove", {{{"RPUSH", "l", "a"}}, {"BLMOVE", "l", "m", "LEFT", "RIGHT", "0"}}},
      {"brpoplpush", {{{"RPUSH", "l", "a"}}, {"BRPOPLPUSH", "l", "m", "0"}}},
      {"bzpopmin", {{{"ZADD", "z", "1", "a"}}, {"BZPOPMIN", "z", "0"}}},
      {"bzpopmax", {{{"ZADD", "z", "1", "a", "2", "b"}}, {"BZPOPMAX", "z", "0"}}},
      {"bzmpop", {{{"ZADD", "z", "1", "a"}}, {"BZMPOP", "0", "1", "z", "MAX", "COUNT", "2"}}},
      {"zadd", {{}, {"ZADD", "z", "1", "a"}}},
      {"zincrby", {{}, {"ZINCRBY", "z", "1", "a"}}},
      {"zrem", {{{"ZADD", "z", "1", "a", "2", "b"}}, {"ZREM", "z", "a"}}},
      {"zpopmin", {{{"ZADD", "z", "1", "a"}}, {"ZPOPMIN", "z"}}},
      {"zpopmax", {{{"ZADD", "z", "1", "a"}}, {"ZPOPMAX", "z", "5"}}},
      {"zmpop", {{{"ZADD", "z", "1", "a"}}, {"ZMPOP", "1", "z", "MIN"}}},
      {"zrangestore", {{{"ZADD", "z", "1", "a"}}, {"ZRANGESTORE", "d", "z", "0", "-1"}}},
      {"zremrangebyrank", {{{"ZADD", "z", "1", "a", "2", "b"}}, {"ZREMRANGEBYRANK", "z", "0", "0"}}},
      {"zremrangebyscore", {{{"ZADD", "z", "1", "a", "2", "b"}}, {"ZREMRANGEBYSCORE", "z", "1", "1"}}},
      {"zremrangebylex", {{{"ZADD", "z", "0", "a", "0", "b"}}, {"ZREMRANGEBYLEX", "z", "[a", "[a"}}},
      {"zunionstore", {{{"ZADD", "z", "1", "a"}}, {"ZUNIONSTORE", "d", "1", "z"}}},
      {"zinterstore", {{{"ZADD", "z", "1", "a"}}, {"ZINTERSTORE", "d", "2", "z", "z"}}},
      {"zdiffstore", {{{"ZADD", "z", "1", "a"}}, {"ZDIFFSTORE", "d", "2", "z", "t"}}},
  };
  // Write commands that never touch keys.
  const std::vector<std::string_view> keyless = {"function"};
  CommandRunner probe;
  for (const rc::CommandSpec& spec : probe.server().commands().all()) {
    if (!(spec.flags & rc::kWrite) || spec.handler == nullptr) continue;
    if (std::find(keyless.begin(), keyless.end(), spec.name) != keyless.end()) continue;
    INFO("command " << spec.name);
    const auto example = examples.find(spec.name);
    REQUIRE(example != examples.end());
    CommandRunner redis;
    for (const auto& step : example->second.first) redis.run(step);
    const uint64_t mutations = rc::t_store_mutations;
    const uint64_t propagations = rc::ChangeStream::published_by_this_thread();
    const std::string reply = redis.run(example->second.second);
    INFO("reply " << reply);
    CHECK(rc::t_store_mutations != mutations);
    CHECK(rc::ChangeStream::published_by_this_thread() != propagations);
  }
}

namespace {

std::string file_text(const fs::path& file) {
  std::ifstream in(file, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

// Polls the log's INFO fields until no rewrite runs (bounded).
bool wait_rewrite_finished(const rc::AofLog& log) {
  for (int i = 0; i < 3000; ++i) {
    if (log.info_fields().find("aof_rewrite_in_progress:0") != std::string::npos) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return false;
}

}  // namespace

TEST_CASE("AOF: a rewrite does its disk work outside the snapshot locks; the old file gets what came before") {
  TempDir dir("aof-test");
  CommandRunner redis;
  rc::Config& config = redis.server().config();
  aof_config(config, dir.path);
  config.set("appendfsync", "everysec", true);
  std::map<std::string, std::string> before;
  {
    rc::AofLog log(config, redis.server().keyspace(), redis.server().forks());
    REQUIRE_FALSE(log.load_and_open(redis.server()));
    log.start();
    for (int i = 0; i < 50; ++i) redis.run({"SET", rc::test::numbered("key", i), "v"});
    // Appended and not yet written when the switch comes: it belongs to the first incremental file.
    std::string ignored;
    rc::execute_command(redis.server(), redis.session(), ignored, {"SET", "tail", "before-switch"});
    ::setenv("REDIS_CLONE_RDB_KEY_SAVE_DELAY_US", "20000", 1);  // the child takes about a second
    const uint64_t io_before = rc::aof_io::io_under_snapshot_locks();
    const rc::RewriteOutcome outcome = log.rewrite();
    ::unsetenv("REDIS_CLONE_RDB_KEY_SAVE_DELAY_US");
    REQUIRE(outcome == rc::RewriteOutcome::Started);
    CHECK(rc::aof_io::io_under_snapshot_locks() == io_before);
    CHECK(log.rewrite() == rc::RewriteOutcome::InProgress);
    rc::aof_tracking::wait_before_replies();
    redis.run({"SET", "after", "the-switch"});
    // While the child works, both files are listed and each holds its own side of the switch.
    const fs::path first = dir.path / "appendonlydir" / "appendonly.aof.1.incr.aof";
    const fs::path second = dir.path / "appendonlydir" / "appendonly.aof.2.incr.aof";
    CHECK(file_text(first).find("before-switch") != std::string::npos);
    CHECK(file_text(second).find("before-switch") == std::string::npos);
    CHECK(file_text(second).find("the-switch") != std::string::npos);
    CHECK(file_text(dir.path / "appendonlydir" / "appendonly.aof.manifest").find("appendonly.aof.2.incr.aof") !=
          std::string::npos);
    REQUIRE(wait_rewrite_finished(log));
    CHECK(log.info_fields().find("aof_last_bgrewrite_status:ok") != std::string::npos);
    CHECK_FALSE(fs::exists(first));  // the new base replaced it
    before = contents(redis);
    log.stop();
  }
  CommandRunner reloaded;
  aof_config(reloaded.server().config(), dir.path);
  rc::AofLog log(reloaded.server().config(), reloaded.server().keyspace(), reloaded.server().forks());
  REQUIRE_FALSE(log.load_and_open(reloaded.server()));
  CHECK(contents(reloaded) == before);
  CHECK(before.size() == 52);
}

TEST_CASE("AOF base in command form: hashes as HSET and sets as SADD, 64 items a command, then PEXPIREAT") {
  rc::Keyspace keyspace;
  const rc::EncodingLimits& limits = keyspace.limits();
  constexpr int64_t kAt = 4102444800000;
  std::map<std::string, std::string> fields;  // 150 fields: a table, in three commands of 64, 64 and 22
  for (int i = 0; i < 150; ++i) fields[rc::test::numbered("f", i)] = i % 2 ? std::to_string(i) : rc::test::numbered("v", i);
  std::set<std::string> members;  // 64 integers: one command exactly
  for (int i = 0; i < 64; ++i) members.insert(std::to_string(i * 1000 - 7));
  const auto add = [&](std::string_view key, rc::Entry* entry) {
    keyspace.db(0).write(key, [&](rc::KeySlot& slot) { slot.adopt(rc::EntryPtr(entry)); });
  };
  rc::Entry* big = rc::hash_value::create("big", kAt);
  for (const auto& [f, v] : fields) rc::hash_value::set(*big, f, v, limits);
  add("big", big);
  rc::Entry* small = rc::hash_value::create("small");
  rc::hash_value::set(*small, "n", "12", limits);  // a listpack integer, written as text
  add("small", small);
  rc::Entry* numbers = rc::set_value::create_intset("numbers", kAt + 1);
  for (const std::string& m : members) rc::set_value::add(*numbers, m, limits);
  add("numbers", numbers);
  rc::Entry* words = rc::set_value::create_for("words", "w", limits);
  rc::set_value::add(*words, "w", limits);
  add("words", words);
  keyspace.db(0).write("str", [&](rc::KeySlot& slot) { slot.set("v", kAt); });

  TempDir dir("aof-base");
  const fs::path file = dir.path / "base.aof";
  REQUIRE(rc::write_base_file(keyspace, file.string(), false, 0));
  std::ifstream in(file, std::ios::binary);
  const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());

  // Replays the commands by hand, checking each one's shape.
  std::map<std::string, std::map<std::string, std::string>> hashes;
  std::map<std::string, std::set<std::string>> sets;
  std::map<std::string, std::string> expiries;
  std::map<std::string, std::vector<size_t>> items_per_command;
  std::vector<std::string> order;  // the keys as their commands come
  size_t position = 0;
  std::vector<std::string> argv;
  while (rc::aof::read_command(text, position, argv).status == rc::aof::ReadStatus::Complete) {
    const std::string& name = argv[0];
    if (name == "SELECT" || name == "SET") continue;
    if (order.empty() || order.back() != argv[1]) order.push_back(argv[1]);
    if (name == "PEXPIREAT") {
      REQUIRE(argv.size() == 3);
      expiries[argv[1]] = argv[2];
    } else if (name == "HSET") {
      REQUIRE(argv.size() % 2 == 0);
      CHECK_FALSE(expiries.count(argv[1]));  // the TTL comes after the last HSET
      items_per_command[argv[1]].push_back((argv.size() - 2) / 2);
      for (size_t i = 2; i < argv.size(); i += 2) hashes[argv[1]][argv[i]] = argv[i + 1];
    } else {
      REQUIRE(name == "SADD");
      items_per_command[argv[1]].push_back(argv.size() - 2);
      for (size_t i = 2; i < argv.size(); ++i) sets[argv[1]].insert(argv[i]);
    }
  }
  CHECK(position == text.size());
  CHECK(hashes["big"] == fields);
  CHECK(items_per_command["big"] == std::vector<size_t>{64, 64, 22});
  CHECK(hashes["small"] == std::map<std::string, std::string>{{"n", "12"}});
  CHECK(sets["numbers"] == members);
  CHECK(items_per_command["numbers"] == std::vector<size_t>{64});
  CHECK(sets["words"] == std::set<std::string>{"w"});
  CHECK(expiries == std::map<std::string, std::string>{{"big", std::to_string(kAt)}, {"numbers", std::to_string(kAt + 1)}});
  CHECK(order.size() == 4);  // each key's commands together
  CHECK(text.find("PXAT") != std::string::npos);  // strings keep SET ... PXAT
}
