// SPOP key [count] and SRANDMEMBER key [count] (Redis's spopCommand and srandmemberCommand): random members
// of a set, removed or not. With a count they choose a strategy by how the count compares with the set's
// size, as Redis does, so that no case costs O(size x count) draws; SPOP's choice also decides what the
// remaining set looks like (see keep_random_members), which OBJECT ENCODING shows.
#include <cstdint>
#include <string>
#include <unordered_set>
#include <utility>
#include <vector>

#include "protocol/errors.h"
#include "protocol/numbers.h"
#include "server/command_context.h"
#include "server/command_table.h"
#include "server/commands/arguments.h"
#include "server/commands/registry.h"
#include "server/server.h"
#include "store/set_value.h"
#include "store/thread_random.h"

namespace rc {
namespace {

// SPOP with a count pops member by member while the set keeps more than count / 5 members; past that it
// builds the remaining set anew from random members instead (Redis's SPOP_MOVE_STRATEGY_MUL).
constexpr uint64_t kSpopMoveStrategyFactor = 5;
// SRANDMEMBER with a count draws distinct members at random from a set at least 3 times the count;
// from a smaller one it shuffles a copy (Redis's SRANDMEMBER_SUB_STRATEGY_MUL).
constexpr uint64_t kSrandmemberCopyFactor = 3;

std::vector<std::string> all_members(const Entry& set) {
  std::vector<std::string> members;
  members.reserve(set_value::length(set));
  set_value::for_each(set, [&](std::string_view member) { members.emplace_back(member); });
  return members;
}

// `count` members, 0 < count < size, removed one by one; each is propagated as an SREM, as Redis does.
void pop_members(CommandContext& ctx, KeySlot& slot, uint64_t count) {
  Entry& set = *slot.edit();
  for (uint64_t i = 0; i < count; ++i) {
    const std::string member = set_value::random_member(set);
    set_value::remove(set, member);
    ctx.propagate({"SREM", slot.key(), member});
    ctx.out.bulk(member);
  }
}

// Pops all but `remaining` members (remaining > 0): those kept move to a new set, created for the first of
// them (an intset when it is an integer) as Redis's setTypeCreate, which replaces the old one with its
// expiry; so a table of integers that keeps few members becomes an intset again. The members left in the
// old set are the reply, each propagated as an SREM.
void keep_random_members(CommandContext& ctx, KeySlot& slot, uint64_t remaining) {
  const EncodingLimits& limits = ctx.server.keyspace().limits();
  Entry& set = *slot.edit();
  EntryPtr kept;
  for (uint64_t i = 0; i < remaining; ++i) {
    const std::string member = set_value::random_member(set);
    set_value::remove(set, member);
    if (!kept) kept.reset(set_value::create_for(slot.key(), member, limits, set.expire_at()));
    set_value::add(*kept, member, limits);
  }
  set_value::for_each(set, [&](std::string_view member) {
    ctx.propagate({"SREM", slot.key(), member});
    ctx.out.bulk(member);
  });
  slot.adopt(std::move(kept));  // the old set is freed after the lock is released
}

// SPOP key count: a set of `count` members (RESP3 `~`). Popping the whole set deletes the key and is
// propagated as a DEL.
void pop_with_count(CommandContext& ctx) {
  const auto parsed = parse_int64(ctx.arg(2));
  if (!parsed || *parsed < 0) return ctx.out.error(errors::kCountNotPositive);
  const auto count = static_cast<uint64_t>(*parsed);
  ctx.db().write(ctx.arg(1), [&](KeySlot& slot) {
    const Entry* set = slot.get();
    if (ctx.wrong_type(set, ValueType::Set)) return;
    if (set == nullptr || count == 0) return ctx.out.set(0);
    const size_t size = set_value::length(*set);
    ctx.notify(keyspace_events::kSet, "spop", ctx.arg(1));
    if (count >= size) {
      ctx.count_lookup(set);  // Redis replies through SUNION's code, whose lookup counts as a read
      ctx.out.set(size);
      set_value::for_each(*set, [&](std::string_view member) { ctx.out.bulk(member); });
      slot.erase();
      ctx.propagate({"DEL", slot.key()});
      ctx.notify(keyspace_events::kGeneric, "del", ctx.arg(1));
      return;
    }
    ctx.out.set(count);
    const uint64_t remaining = size - count;
    if (remaining * kSpopMoveStrategyFactor > count) return pop_members(ctx, slot, count);
    keep_random_members(ctx, slot, remaining);
  });
}

// SPOP key [count]: without a count, one member (a null for a missing key), propagated as an SREM.
void handle_spop(CommandContext& ctx) {
  if (ctx.argc() > 3) return ctx.out.error(errors::kSyntax);
  if (ctx.argc() == 3) return pop_with_count(ctx);
  ctx.db().write(ctx.arg(1), [&](KeySlot& slot) {
    if (ctx.wrong_type(slot.get(), ValueType::Set)) return;
    if (slot.get() == nullptr) return ctx.out.null();
    Entry& set = *slot.edit();
    const std::string member = set_value::random_member(set);
    set_value::remove(set, member);
    ctx.propagate({"SREM", slot.key(), member});
    ctx.out.bulk(member);
    ctx.notify(keyspace_events::kSet, "spop", ctx.arg(1));
    if (set_value::length(set) == 0) {
      slot.erase();
      ctx.notify(keyspace_events::kGeneric, "del", ctx.arg(1));
    }
  });
}

// `count` members, distinct, 0 < count < size. A set much larger than the count is sampled until enough
// distinct members turn up (at most one draw in three repeats); otherwise a copy of the members is
// shuffled and its first `count` are taken (Fisher-Yates), which is as uniform and bounded by the size.
void reply_distinct(CommandContext& ctx, const Entry& set, uint64_t count) {
  ctx.out.array(count);
  if (count * kSrandmemberCopyFactor <= set_value::length(set)) {
    std::unordered_set<std::string> seen;
    seen.reserve(count);
    while (seen.size() < count) {
      std::string member = set_value::random_member(set);
      if (seen.insert(member).second) ctx.out.bulk(member);
    }
    return;
  }
  std::vector<std::string> members = all_members(set);
  for (size_t i = 0; i < count; ++i) {
    std::swap(members[i], members[i + thread_random() % (members.size() - i)]);
    ctx.out.bulk(members[i]);
  }
}

// SRANDMEMBER key count, once the count is valid: an array (RESP3 too). A negative count allows repeats
// (and so does 1, where it makes no difference, as in Redis).
void reply_with_count(CommandContext& ctx, int64_t count) {
  ctx.read_key(ctx.arg(1), [&](const Entry* set) {
    if (ctx.wrong_type(set, ValueType::Set)) return;
    if (set == nullptr || count == 0) return ctx.out.array(0);
    const uint64_t magnitude = count < 0 ? 0 - static_cast<uint64_t>(count) : static_cast<uint64_t>(count);
    if (count < 0 || count == 1) {
      ctx.out.array(magnitude);
      for (uint64_t i = 0; i < magnitude; ++i) ctx.out.bulk(set_value::random_member(*set));
      return;
    }
    const size_t size = set_value::length(*set);
    if (magnitude < size) return reply_distinct(ctx, *set, magnitude);
    ctx.out.array(size);
    set_value::for_each(*set, [&](std::string_view member) { ctx.out.bulk(member); });
  });
}

// SRANDMEMBER key [count]. The count is read before the key is looked up, in -LONG_MAX..LONG_MAX.
void handle_srandmember(CommandContext& ctx) {
  if (ctx.argc() > 3) return ctx.out.error(errors::kSyntax);
  if (ctx.argc() == 2) {
    return ctx.read_key(ctx.arg(1), [&](const Entry* set) {
      if (ctx.wrong_type(set, ValueType::Set)) return;
      if (set == nullptr) return ctx.out.null();
      ctx.out.bulk(set_value::random_member(*set));
    });
  }
  const auto count = integer_or_reply(ctx, ctx.arg(2));
  if (!count) return;
  if (*count == INT64_MIN) return ctx.out.error(errors::kCountOutOfRange);
  reply_with_count(ctx, *count);
}

}  // namespace

void register_set_random(CommandTable& table) {
  table.add({"spop", -2, kWrite | kFast, 1, 1, 1, handle_spop, "set", "1.0.0",
             "Remove and return one or multiple random members from a set"});
  table.add({"srandmember", -2, kReadonly, 1, 1, 1, handle_srandmember, "set", "1.0.0",
             "Get one or multiple random members from a set"});
}

}  // namespace rc
