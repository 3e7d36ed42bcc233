// String commands over several keys: MGET, MSET, MSETNX.
#include "protocol/errors.h"
#include "server/command_context.h"
#include "server/command_table.h"
#include "server/commands/registry.h"
#include "store/clock.h"
#include "store/shard_locks.h"
#include "store/string_ops.h"

namespace rc {
namespace {

// MGET reads each key under its own shard's lock, one after the other: the reply is not a point-in-time
// snapshot across shards (a concurrent MSET may be seen half applied). A key holding another type reads
// as a null, not as an error.
void handle_mget(CommandContext& ctx) {
  ctx.out.array(ctx.argc() - 1);
  for (size_t i = 1; i < ctx.argc(); ++i) {
    ctx.read_key(ctx.arg(i), [&](const Entry* entry) {
      if (entry == nullptr || !entry->is_string()) return ctx.out.null();  // MGET: no WRONGTYPE
      ctx.out.bulk(entry->value());
    });
  }
}

// Whether any of the keys at argv[1], argv[3], ... exists; their shards must be locked.
bool any_key_exists(CommandContext& ctx, int64_t now, Garbage& garbage) {
  for (size_t i = 1; i < ctx.argc(); i += 2) {
    if (slot_in_locked_shard(ctx.db(), ctx.arg(i), now, garbage).get() != nullptr) return true;
  }
  return false;
}

// MSET and MSETNX: every shard involved is locked at once, so other clients see all the keys set or none.
// With `only_if_none_exists` (MSETNX), nothing is set when any key exists. Returns whether it set them.
bool set_pairs(CommandContext& ctx, bool only_if_none_exists) {
  Database& db = ctx.db();
  Garbage garbage;  // declared before the locks: replaced values are freed after they are released
  ShardLocks locks;
  for (size_t i = 1; i < ctx.argc(); i += 2) locks.add(db, ctx.arg(i));
  locks.lock();
  const int64_t now = unix_time_ms();
  if (only_if_none_exists && any_key_exists(ctx, now, garbage)) return false;
  for (size_t i = 1; i < ctx.argc(); i += 2) {
    // One KeySlot at a time: inserting a key may resize its shard's table and move other slots' links.
    KeySlot slot = slot_in_locked_shard(db, ctx.arg(i), now, garbage);
    slot.set(ctx.arg(i + 1), Entry::kNoExpiry);
  }
  std::vector<std::string_view> command(ctx.argv);
  command[0] = "MSET";
  ctx.propagate(command);
  for (size_t i = 1; i < ctx.argc(); i += 2) ctx.notify(keyspace_events::kString, "set", ctx.arg(i));
  return true;
}

// The dispatcher checked argc >= 3; key/value pairs also need an odd count (msetGenericCommand).
bool pairs_or_reply(CommandContext& ctx, std::string_view command) {
  if (ctx.argc() % 2 == 1) return true;
  ctx.out.error(errors::wrong_arity(command));
  return false;
}

void handle_mset(CommandContext& ctx) {
  if (!pairs_or_reply(ctx, "mset")) return;
  set_pairs(ctx, false);
  ctx.out.ok();
}

void handle_msetnx(CommandContext& ctx) {
  if (!pairs_or_reply(ctx, "msetnx")) return;
  ctx.out.integer(set_pairs(ctx, true) ? 1 : 0);
}

}  // namespace

void register_string_multi(CommandTable& table) {
  table.add({"mget", -2, kReadonly | kFast, 1, -1, 1, handle_mget, "string", "1.0.0",
             "Get the values of all the given keys"});
  table.add({"mset", -3, kWrite | kDenyOom, 1, -1, 2, handle_mset, "string", "1.0.1",
             "Set multiple keys to multiple values"});
  table.add({"msetnx", -3, kWrite | kDenyOom, 1, -1, 2, handle_msetnx, "string", "1.0.1",
             "Set multiple keys to multiple values, only if none of the keys exist"});
}

}  // namespace rc
