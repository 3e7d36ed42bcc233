// List commands through the real dispatcher, and the pops and moves of server/commands/list_pops.h called
// the way the blocking commands call them (shards locked by the caller, the waiter's own context): reply
// bytes compared exactly with redis-server 7.0.15's, and what each change propagates.
#include <catch2/catch.hpp>

#include <span>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "server/command_context.h"
#include "server/commands/list_pops.h"
#include "store/change_stream.h"
#include "store/shard_locks.h"
#include "tests/unit/server/command_test_helpers.h"

using namespace std::literals;
using rc::test::CommandRunner;

namespace {

namespace pops = rc::list_pops;

// Keeps every change published while attached (as the AOF would see them), one line per command.
class ChangeLog : public rc::ChangeConsumer {
 public:
  explicit ChangeLog(rc::Keyspace& keyspace) : keyspace_(keyspace) {
    with_all_locks([&] { keyspace_.changes().attach(this); });
  }
  ~ChangeLog() { with_all_locks([&] { keyspace_.changes().detach(this); }); }
  void consume(uint64_t, int, std::span<const std::string_view> argv) override {
    std::string line;
    for (const std::string_view word : argv) {
      if (!line.empty()) line += ' ';
      line += word;
    }
    lines.push_back(line);
  }
  std::vector<std::string> lines;

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

// A reply written through a context of its own, as the blocking code builds one for a waiter.
struct Waiter {
  explicit Waiter(CommandRunner& redis, std::vector<std::string_view> words = {"BLPOP"})
      : argv(std::move(words)),
        writer(reply, redis.session().protocol.load()),
        ctx{redis.server(), redis.session(), writer, argv} {}
  std::vector<std::string_view> argv;
  std::string reply;
  rc::ReplyWriter writer;
  rc::CommandContext ctx;
};

}  // namespace

TEST_CASE("list writes propagate what replays to the same list, and nothing when nothing changed") {
  CommandRunner redis;
  ChangeLog log(redis.server().keyspace());
  redis.run({"RPUSH", "l", "a", "b", "c", "d"});
  redis.run({"LPUSHX", "nokey", "x"});               // nothing
  redis.run({"LPOP", "l", "0"});                     // nothing
  redis.run({"LINSERT", "l", "BEFORE", "zz", "x"});  // no pivot: nothing
  redis.run({"LINSERT", "l", "AFTER", "a", "x"});
  redis.run({"LREM", "l", "0", "nothere"});          // nothing
  redis.run({"LTRIM", "l", "0", "-1"});              // nothing removed: nothing
  redis.run({"LTRIM", "l", "0", "3"});
  redis.run({"LSET", "l", "0", "A"});
  redis.run({"LMOVE", "l", "m", "left", "right"});
  redis.run({"RPOPLPUSH", "l", "m"});
  redis.run({"LMPOP", "2", "nokey", "l", "right", "COUNT", "10"});
  redis.run({"LMPOP", "1", "nokey", "LEFT"});        // nothing
  CHECK(log.lines == std::vector<std::string>{"RPUSH l a b c d", "LINSERT l AFTER a x", "LTRIM l 0 3", "LSET l 0 A",
                                              "LMOVE l m LEFT RIGHT", "RPOPLPUSH l m", "RPOP l 2"});
  CHECK(redis.run({"EXISTS", "l"}) == ":0\r\n");
}

TEST_CASE("pop_with_key: BLPOP's [key, element] and BLMPOP's [key, [elements]], propagated as Redis serves them") {
  CommandRunner redis;
  redis.run({"RPUSH", "l", "a", "b", "c"});
  ChangeLog log(redis.server().keyspace());
  {
    Waiter waiter(redis);
    redis.server().keyspace().db(0).write("l", [&](rc::KeySlot& slot) {
      pops::pop_with_key(waiter.ctx, slot, pops::End::Head, 5, pops::KeyedReply::Element);
    });
    CHECK(waiter.reply == "*2\r\n$1\r\nl\r\n$1\r\na\r\n");
  }
  {
    Waiter waiter(redis, {"BLMPOP"});
    redis.server().keyspace().db(0).write("l", [&](rc::KeySlot& slot) {
      pops::pop_with_key(waiter.ctx, slot, pops::End::Tail, 5, pops::KeyedReply::Elements);
    });
    CHECK(waiter.reply == "*2\r\n$1\r\nl\r\n*2\r\n$1\r\nc\r\n$1\r\nb\r\n");
  }
  CHECK(log.lines == std::vector<std::string>{"LPOP l", "RPOP l 2"});
  CHECK(redis.run({"EXISTS", "l"}) == ":0\r\n");  // deleted with its last element
}

TEST_CASE("move_element: as BLMOVE and BRPOPLPUSH are served, with both shards locked by the caller") {
  CommandRunner redis;
  redis.run({"RPUSH", "src", "a", "b"});
  redis.run({"SET", "str", "v"});
  ChangeLog log(redis.server().keyspace());
  rc::Database& db = redis.server().keyspace().db(0);
  const auto move = [&](Waiter& waiter, std::string_view source, std::string_view destination, pops::End from,
                        pops::End to, pops::MoveCommand as) {
    const std::vector<std::string_view> keys{source, destination};
    rc::LockedKeys locked(db, keys);
    return pops::move_element(waiter.ctx, locked, source, destination, from, to, as);
  };
  {
    Waiter waiter(redis, {"BLMOVE"});
    CHECK(move(waiter, "nokey", "dst", pops::End::Head, pops::End::Tail, pops::MoveCommand::Lmove) ==
          pops::MoveOutcome::SourceMissing);
    CHECK(waiter.reply.empty());  // the caller blocks or answers null
  }
  {
    Waiter waiter(redis, {"BLMOVE"});
    CHECK(move(waiter, "src", "str", pops::End::Head, pops::End::Tail, pops::MoveCommand::Lmove) ==
          pops::MoveOutcome::Refused);
    CHECK(waiter.reply == "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n");
  }
  {
    Waiter waiter(redis, {"BLMOVE"});
    CHECK(move(waiter, "src", "dst", pops::End::Head, pops::End::Tail, pops::MoveCommand::Lmove) ==
          pops::MoveOutcome::Moved);
    CHECK(waiter.reply == "$1\r\na\r\n");
  }
  {
    Waiter waiter(redis, {"BRPOPLPUSH"});
    CHECK(move(waiter, "src", "dst", pops::End::Tail, pops::End::Head, pops::MoveCommand::Rpoplpush) ==
          pops::MoveOutcome::Moved);
    CHECK(waiter.reply == "$1\r\nb\r\n");
  }
  CHECK(log.lines == std::vector<std::string>{"LMOVE src dst LEFT RIGHT", "RPOPLPUSH src dst"});
  CHECK(redis.run({"EXISTS", "src"}) == ":0\r\n");
  CHECK(redis.run({"LRANGE", "dst", "0", "-1"}) == "*2\r\n$1\r\nb\r\n$1\r\na\r\n");
}

TEST_CASE("mpop_arguments_or_reply reads BLMPOP's arguments from its numkeys on") {
  CommandRunner redis;
  // The keys are views into the waiter's arguments, which end with it: they are copied out before.
  struct Parsed {
    std::vector<std::string> keys;
    pops::End end;
    size_t count;
  };
  const auto parse = [&](std::vector<std::string_view> argv, std::string& reply) -> std::optional<Parsed> {
    Waiter waiter(redis, std::move(argv));
    auto arguments = pops::mpop_arguments_or_reply(waiter.ctx, 2);
    reply = waiter.reply;
    if (!arguments) return std::nullopt;
    return Parsed{std::vector<std::string>(arguments->keys.begin(), arguments->keys.end()), arguments->end,
                  arguments->count};
  };
  std::string reply;
  const auto arguments = parse({"BLMPOP", "0", "2", "a", "b", "RIGHT", "COUNT", "3"}, reply);
  REQUIRE(arguments);
  CHECK(reply.empty());
  CHECK(arguments->keys == std::vector<std::string>{"a", "b"});
  CHECK(arguments->end == pops::End::Tail);
  CHECK(arguments->count == 3);
  CHECK(parse({"BLMPOP", "0", "1", "a", "left"}, reply)->count == 1);
  CHECK_FALSE(parse({"BLMPOP", "0", "0", "a", "LEFT"}, reply));
  CHECK(reply == "-ERR numkeys should be greater than 0\r\n");
  CHECK_FALSE(parse({"BLMPOP", "0", "2", "a", "LEFT"}, reply));
  CHECK(reply == "-ERR syntax error\r\n");
  CHECK_FALSE(parse({"BLMPOP", "0", "1", "a", "LEFT", "COUNT", "0"}, reply));
  CHECK(reply == "-ERR count should be greater than 0\r\n");
  CHECK_FALSE(parse({"BLMPOP", "0", "1", "a", "LEFT", "COUNT", "1", "COUNT", "1"}, reply));
  CHECK(reply == "-ERR syntax error\r\n");
}

TEST_CASE("LPOP and RPOP nulls in RESP2 and RESP3") {
  CommandRunner redis;
  CHECK(redis.run({"LPOP", "nokey"}) == "$-1\r\n");
  CHECK(redis.run({"LPOP", "nokey", "1"}) == "*-1\r\n");
  CHECK(redis.run({"LMPOP", "1", "nokey", "LEFT"}) == "*-1\r\n");
  redis.use_resp3();
  CHECK(redis.run({"RPOP", "nokey"}) == "_\r\n");
  CHECK(redis.run({"RPOP", "nokey", "1"}) == "_\r\n");
  CHECK(redis.run({"LMPOP", "1", "nokey", "LEFT"}) == "_\r\n");
  redis.run({"RPUSH", "l", "x"});
  CHECK(redis.run({"RPOP", "l", "0"}) == "*0\r\n");
}
