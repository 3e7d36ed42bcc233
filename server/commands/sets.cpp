// Set commands on one key or a pair (Redis's t_set.c): SADD, SREM, SCARD, SISMEMBER, SMISMEMBER, SMEMBERS,
// SMOVE and SSCAN. SPOP and SRANDMEMBER are in set_random.cpp, SINTER/SUNION/SDIFF and their STORE and
// CARD forms in set_algebra.cpp. The value rules (intset, its conversion to a table) are
// store/set_value's; this file checks types, replies and propagates. A set is created by the first write
// that adds a member and deleted with its last one.
#include <cstdint>
#include <span>

#include "server/command_context.h"
#include "server/command_table.h"
#include "server/commands/registry.h"
#include "server/commands/scan_arguments.h"
#include "server/server.h"
#include "store/set_value.h"
#include "store/shard_locks.h"

namespace rc {
namespace {

const EncodingLimits& limits(const CommandContext& ctx) { return ctx.server.keyspace().limits(); }

// SADD key member [member ...]: the number of new members. A missing key is created shaped for the first
// member (an intset when it is an integer), as Redis's setTypeCreate.
void handle_sadd(CommandContext& ctx) {
  ctx.db().write(ctx.arg(1), [&](KeySlot& slot) {
    if (ctx.wrong_type(slot.get(), ValueType::Set)) return;
    if (slot.get() == nullptr) slot.adopt(EntryPtr(set_value::create_for(slot.key(), ctx.arg(2), limits(ctx))));
    int64_t added = 0;
    for (size_t i = 2; i < ctx.argc(); ++i) added += set_value::add(*slot.get(), ctx.arg(i), limits(ctx)) ? 1 : 0;
    if (added > 0) {
      slot.edit();  // counts the change (a new key was counted by adopt already)
      ctx.propagate_as_received();
      ctx.notify(keyspace_events::kSet, "sadd", ctx.arg(1));
    }
    ctx.out.integer(added);
  });
}

// SREM key member [member ...]: the number of members removed; the key goes with the last member (the
// members named after that are not looked at, as in Redis).
void handle_srem(CommandContext& ctx) {
  ctx.db().write(ctx.arg(1), [&](KeySlot& slot) {
    if (ctx.wrong_type(slot.get(), ValueType::Set)) return;
    int64_t removed = 0;
    for (size_t i = 2; i < ctx.argc() && slot.get() != nullptr; ++i) {
      if (!set_value::remove(*slot.get(), ctx.arg(i))) continue;
      ++removed;
      if (set_value::length(*slot.edit()) == 0) slot.erase();
    }
    if (removed > 0) {
      ctx.propagate_as_received();
      ctx.notify(keyspace_events::kSet, "srem", ctx.arg(1));
      if (slot.get() == nullptr) ctx.notify(keyspace_events::kGeneric, "del", ctx.arg(1));
    }
    ctx.out.integer(removed);
  });
}

// SCARD and SISMEMBER: an integer about the set, 0 for a missing key.
template <typename Measure>
void reply_set_integer(CommandContext& ctx, Measure&& measure) {
  ctx.read_key(ctx.arg(1), [&](const Entry* set) {
    if (ctx.wrong_type(set, ValueType::Set)) return;
    ctx.out.integer(set != nullptr ? static_cast<int64_t>(measure(*set)) : 0);
  });
}

void handle_scard(CommandContext& ctx) {
  reply_set_integer(ctx, [](const Entry& set) { return set_value::length(set); });
}

void handle_sismember(CommandContext& ctx) {
  reply_set_integer(ctx, [&](const Entry& set) { return set_value::contains(set, ctx.arg(2)) ? 1 : 0; });
}

// SMISMEMBER key member [member ...]: 1 or 0 for each member; a missing key is an empty set.
void handle_smismember(CommandContext& ctx) {
  ctx.read_key(ctx.arg(1), [&](const Entry* set) {
    if (ctx.wrong_type(set, ValueType::Set)) return;
    ctx.out.array(ctx.argc() - 2);
    for (size_t i = 2; i < ctx.argc(); ++i) {
      ctx.out.integer(set != nullptr && set_value::contains(*set, ctx.arg(i)) ? 1 : 0);
    }
  });
}

// SMEMBERS key: every member, as a set (RESP3 `~`); a missing key is an empty set. (Redis runs SINTER on
// the one key; with a single set that is its members in storage order.)
void handle_smembers(CommandContext& ctx) {
  ctx.read_key(ctx.arg(1), [&](const Entry* set) {
    if (ctx.wrong_type(set, ValueType::Set)) return;
    if (set == nullptr) return ctx.out.set(0);
    ctx.out.set(set_value::length(*set));
    set_value::for_each(*set, [&](std::string_view member) { ctx.out.bulk(member); });
  });
}

// SMOVE source destination member. Both shards are locked for the whole move; one KeySlot at a time, since
// a change through one may move the other's link. As Redis: a missing source answers 0 before the types are
// checked, and the same key on both sides only asks whether the member is there.
void handle_smove(CommandContext& ctx) {
  const std::string_view source_key = ctx.arg(1);
  const std::string_view destination_key = ctx.arg(2);
  const std::string_view member = ctx.arg(3);
  LockedKeys locked(ctx.db(), std::span(ctx.argv).subspan(1, 2));
  const Entry* source = locked.slot(source_key).get();
  const Entry* destination = locked.slot(destination_key).get();
  if (source == nullptr) return ctx.out.integer(0);
  if (ctx.wrong_type(source, ValueType::Set) || ctx.wrong_type(destination, ValueType::Set)) return;
  if (source_key == destination_key) return ctx.out.integer(set_value::contains(*source, member) ? 1 : 0);
  bool source_deleted = false;
  {
    KeySlot from = locked.slot(source_key);
    if (!set_value::remove(*from.get(), member)) return ctx.out.integer(0);
    if (set_value::length(*from.edit()) == 0) source_deleted = from.erase();
  }
  KeySlot to = locked.slot(destination_key);
  if (to.get() == nullptr) to.adopt(EntryPtr(set_value::create_for(destination_key, member, limits(ctx))));
  const bool added = set_value::add(*to.get(), member, limits(ctx));
  if (added) to.edit();
  ctx.propagate_as_received();
  ctx.notify(keyspace_events::kSet, "srem", source_key);
  if (source_deleted) ctx.notify(keyspace_events::kGeneric, "del", source_key);
  if (added) ctx.notify(keyspace_events::kSet, "sadd", destination_key);
  ctx.out.integer(1);
}

// SSCAN key cursor [MATCH pattern] [COUNT count]: an intset is returned whole with cursor 0, as Redis does.
void handle_sscan(CommandContext& ctx) {
  reply_key_scan(ctx, ValueType::Set, 1, [](const Entry& set, uint64_t cursor, size_t count, auto& strings) {
    return set_value::scan(set, cursor, count, [&](std::string_view member) { strings.emplace_back(member); });
  });
}

}  // namespace

void register_sets(CommandTable& table) {
  constexpr uint32_t kGet = kReadonly | kFast;
  //         name        arity flags first last step handler
  table.add({"sadd", -3, kWrite | kDenyOom | kFast, 1, 1, 1, handle_sadd, "set", "1.0.0",
             "Add one or more members to a set"});
  table.add({"srem", -3, kWrite | kFast, 1, 1, 1, handle_srem, "set", "1.0.0", "Remove one or more members from a set"});
  table.add({"scard", 2, kGet, 1, 1, 1, handle_scard, "set", "1.0.0", "Get the number of members in a set"});
  table.add({"sismember", 3, kGet, 1, 1, 1, handle_sismember, "set", "1.0.0",
             "Determine if a given value is a member of a set"});
  table.add({"smismember", -3, kGet, 1, 1, 1, handle_smismember, "set", "6.2.0",
             "Returns the membership associated with the given elements for a set"});
  table.add({"smembers", 2, kReadonly, 1, 1, 1, handle_smembers, "set", "1.0.0", "Get all the members in a set"});
  table.add({"smove", 4, kWrite | kFast, 1, 2, 1, handle_smove, "set", "1.0.0", "Move a member from one set to another"});
  table.add({"sscan", -3, kReadonly, 1, 1, 1, handle_sscan, "set", "2.8.0", "Incrementally iterate Set elements"});
}

}  // namespace rc
