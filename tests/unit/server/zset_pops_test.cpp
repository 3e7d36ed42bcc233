// The pop functions the blocking commands share (server/commands/zset_pops.h), called as a blocked
// client's server would call them: with the key's shard locked through a KeySlot. Every reply shape, the
// key deleted with its last member, and what each request publishes (Redis's propagation of a served
// BZPOPMIN / BZMPOP: "ZPOPMIN key" for a single pop, "ZPOPMAX key n" with n = min(count, length)).
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "protocol/reply_writer.h"
#include "server/commands/zset_pops.h"
#include "store/change_stream.h"
#include "store/database.h"
#include "store/encoding_limits.h"
#include "store/zset_value.h"

namespace {

struct Recorder : rc::ChangeConsumer {
  std::vector<std::vector<std::string>> commands;
  void consume(uint64_t, int, std::span<const std::string_view> argv) override {
    commands.emplace_back(argv.begin(), argv.end());
  }
};

struct Fixture {
  rc::ChangeStream changes;
  rc::Database db{3, changes};
  Recorder recorder;

  Fixture() {
    db.write("z", [&](rc::KeySlot& slot) {
      slot.adopt(rc::EntryPtr(rc::zset_value::build("z", {{"a", 1}, {"b", 2}, {"c", 3.5}}, rc::EncodingLimits{})));
    });
    changes.attach(&recorder);
  }
  ~Fixture() { changes.detach(&recorder); }

  std::string pop(const rc::PopRequest& request, int protocol = 2) {
    std::string out;
    rc::ReplyWriter writer(out, protocol);
    db.write("z", [&](rc::KeySlot& slot) { rc::pop_and_reply(slot, db, request, writer); });
    return out;
  }
  bool exists() {
    return db.read("z", [](const rc::Entry* entry) { return entry != nullptr; });
  }
};

using Commands = std::vector<std::vector<std::string>>;

}  // namespace

TEST_CASE("zset pops: BZPOPMIN's [key, member, score], published as ZPOPMIN key") {
  Fixture f;
  CHECK(f.pop({rc::PopEnd::Min, -1, rc::PopReplyShape::KeyFlat, true}) == "*3\r\n$1\r\nz\r\n$1\r\na\r\n$1\r\n1\r\n");
  CHECK(f.pop({rc::PopEnd::Max, -1, rc::PopReplyShape::KeyFlat, true}, 3) == "*3\r\n$1\r\nz\r\n$1\r\nc\r\n,3.5\r\n");
  CHECK(f.recorder.commands == Commands{{"ZPOPMIN", "z"}, {"ZPOPMAX", "z"}});
  CHECK(f.exists());
}

TEST_CASE("zset pops: BZMPOP's [key, [[member, score], ...]], published with the count actually popped") {
  Fixture f;
  CHECK(f.pop({rc::PopEnd::Max, 10, rc::PopReplyShape::KeyNested, true}) ==
        "*2\r\n$1\r\nz\r\n*3\r\n*2\r\n$1\r\nc\r\n$3\r\n3.5\r\n*2\r\n$1\r\nb\r\n$1\r\n2\r\n*2\r\n$1\r\na\r\n$1\r\n1\r\n");
  CHECK(f.recorder.commands == Commands{{"ZPOPMAX", "z", "3"}});
  CHECK_FALSE(f.exists());  // deleted with its last member
}

TEST_CASE("zset pops: ZPOPMIN's shapes, and no publication when the caller propagates itself") {
  Fixture f;
  CHECK(f.pop({rc::PopEnd::Min, 2, rc::PopReplyShape::Flat, false}) ==
        "*4\r\n$1\r\na\r\n$1\r\n1\r\n$1\r\nb\r\n$1\r\n2\r\n");
  CHECK(f.pop({rc::PopEnd::Min, 0, rc::PopReplyShape::Nested, false}, 3) == "*0\r\n");
  CHECK(f.pop({rc::PopEnd::Min, 5, rc::PopReplyShape::Nested, false}, 3) == "*1\r\n*2\r\n$1\r\nc\r\n,3.5\r\n");
  CHECK(f.recorder.commands.empty());
  CHECK_FALSE(f.exists());
}
