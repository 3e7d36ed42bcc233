// Set algebra over several keys (Redis's sinterGenericCommand and sunionDiffGenericCommand): SINTER,
// SINTERCARD, SINTERSTORE, SUNION, SUNIONSTORE, SDIFF and SDIFFSTORE.
//
// Each command locks the shards of all its keys at once (ShardLocks, in their fixed order), so it reads
// and stores as one atomic step, as in Redis; a read-only one releases them before it writes its reply.
// The sources are looked up in argument order as Redis's lookupKeyRead (each counted as a hit or a miss),
// and the first one of another type stops the command with WRONGTYPE; a missing key is an empty set. A
// result is built as Redis builds it, starting from an empty intset, so that the encoding of a stored
// result (OBJECT ENCODING) is the one Redis gives it.
#include <algorithm>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "protocol/errors.h"
#include "protocol/numbers.h"
#include "server/command_context.h"
#include "server/command_table.h"
#include "server/commands/arguments.h"
#include "server/commands/registry.h"
#include "server/server.h"
#include "store/set_value.h"
#include "store/shard_locks.h"

namespace rc {
namespace {

using Keys = std::span<const std::string_view>;
using Sets = std::vector<const Entry*>;  // nullptr for a missing key

// The sets named by `keys`, or nullopt after a WRONGTYPE reply (the keys after it are not looked up).
std::optional<Sets> sets_or_reply(CommandContext& ctx, LockedKeys& locked, Keys keys) {
  Sets sets;
  sets.reserve(keys.size());
  for (const std::string_view key : keys) {
    const Entry* set = locked.slot(key).get();
    ctx.count_lookup(set);
    if (ctx.wrong_type(set, ValueType::Set)) return std::nullopt;
    sets.push_back(set);
  }
  return sets;
}

size_t length_or_zero(const Entry* set) { return set != nullptr ? set_value::length(*set) : 0; }

// Calls take(member) for each member common to all `sets`, walking the smallest one; take returns false
// to stop. Nothing when one of them is missing.
template <typename Take>
void intersect(Sets sets, Take&& take) {
  if (std::find(sets.begin(), sets.end(), nullptr) != sets.end()) return;
  std::stable_sort(sets.begin(), sets.end(),
                   [](const Entry* a, const Entry* b) { return set_value::length(*a) < set_value::length(*b); });
  bool stopped = false;
  set_value::for_each(*sets[0], [&](std::string_view member) {
    if (stopped) return;
    for (size_t j = 1; j < sets.size(); ++j) {
      if (sets[j] != sets[0] && !set_value::contains(*sets[j], member)) return;
    }
    stopped = !take(member);
  });
}

// Adds every member of every set to `result`.
void unite(Entry& result, const Sets& sets, const EncodingLimits& limits) {
  for (const Entry* set : sets) {
    if (set == nullptr) continue;
    set_value::for_each(*set, [&](std::string_view member) { set_value::add(result, member, limits); });
  }
}

// The members of the first set that no other set has, added to `result` with the algorithm Redis picks
// from the sizes (the choice shows in the result's encoding: the second one adds the whole first set
// before it removes). One: each member of the first set is looked up in the others, the largest first.
// Two: the first set is copied, then every member of the others removed from the copy.
void subtract(Entry& result, Sets sets, const EncodingLimits& limits) {
  if (sets[0] == nullptr) return;
  // The first key named again: nothing is left.
  if (std::find(sets.begin() + 1, sets.end(), sets[0]) != sets.end()) return;
  uint64_t lookup_work = 0;
  uint64_t copy_work = 0;
  for (const Entry* set : sets) {
    if (set == nullptr) continue;
    lookup_work += set_value::length(*sets[0]);
    copy_work += set_value::length(*set);
  }
  if (lookup_work / 2 <= copy_work) {  // lookups are cheaper and stop early: Redis halves their cost
    std::stable_sort(sets.begin() + 1, sets.end(),
                     [](const Entry* a, const Entry* b) { return length_or_zero(a) > length_or_zero(b); });
    set_value::for_each(*sets[0], [&](std::string_view member) {
      for (size_t j = 1; j < sets.size(); ++j) {
        if (sets[j] != nullptr && set_value::contains(*sets[j], member)) return;
      }
      set_value::add(result, member, limits);
    });
    return;
  }
  set_value::for_each(*sets[0], [&](std::string_view member) { set_value::add(result, member, limits); });
  for (size_t j = 1; j < sets.size() && set_value::length(result) > 0; ++j) {
    if (sets[j] == nullptr) continue;
    set_value::for_each(*sets[j], [&](std::string_view member) { set_value::remove(result, member); });
  }
}

enum class Operation { Intersection, Union, Difference };

// The result of `operation` as a set entry named `key`, started as an empty intset as in Redis.
EntryPtr combine(CommandContext& ctx, Operation operation, const Sets& sets, std::string_view key) {
  const EncodingLimits& limits = ctx.server.keyspace().limits();
  EntryPtr result(set_value::create_intset(key));
  switch (operation) {
    case Operation::Intersection:
      intersect(sets, [&](std::string_view member) {
        set_value::add(*result, member, limits);
        return true;
      });
      break;
    case Operation::Union:
      unite(*result, sets, limits);
      break;
    case Operation::Difference:
      subtract(*result, sets, limits);
      break;
  }
  return result;
}

// SINTER, SUNION, SDIFF key [key ...]: the result as a set (RESP3 `~`), written after the locks are gone.
void reply_combined(CommandContext& ctx, Operation operation) {
  const Keys keys = Keys(ctx.argv).subspan(1);
  LockedKeys locked(ctx.db(), keys);
  const auto sets = sets_or_reply(ctx, locked, keys);
  if (!sets) return;
  if (operation == Operation::Intersection) {  // replied in the smallest set's order, as Redis
    std::vector<std::string> members;
    intersect(*sets, [&](std::string_view member) {
      members.emplace_back(member);
      return true;
    });
    locked.unlock();
    ctx.out.set(members.size());
    for (const std::string& member : members) ctx.out.bulk(member);
    return;
  }
  const EntryPtr result = combine(ctx, operation, *sets, {});
  locked.unlock();
  ctx.out.set(set_value::length(*result));
  set_value::for_each(*result, [&](std::string_view member) { ctx.out.bulk(member); });
}

// SINTERSTORE, SUNIONSTORE, SDIFFSTORE destination key [key ...]: the result replaces the destination,
// whatever it held, without its expiry (Redis's setKey); an empty result deletes it. Propagated as received
// when the dataset changed.
void store_combined(CommandContext& ctx, Operation operation, std::string_view event) {
  const std::string_view destination = ctx.arg(1);
  LockedKeys locked(ctx.db(), Keys(ctx.argv).subspan(1));
  const auto sets = sets_or_reply(ctx, locked, Keys(ctx.argv).subspan(2));
  if (!sets) return;
  EntryPtr result = combine(ctx, operation, *sets, destination);
  const size_t length = set_value::length(*result);
  KeySlot slot = locked.slot(destination);
  if (length > 0) {
    slot.adopt(std::move(result));
  } else if (!slot.erase()) {
    return ctx.out.integer(0);
  }
  ctx.propagate_as_received();
  if (length > 0) {
    ctx.notify(keyspace_events::kSet, event, destination);
  } else {
    ctx.notify(keyspace_events::kGeneric, "del", destination);
  }
  ctx.out.integer(static_cast<int64_t>(length));
}

void handle_sinter(CommandContext& ctx) { reply_combined(ctx, Operation::Intersection); }
void handle_sunion(CommandContext& ctx) { reply_combined(ctx, Operation::Union); }
void handle_sdiff(CommandContext& ctx) { reply_combined(ctx, Operation::Difference); }
void handle_sinterstore(CommandContext& ctx) { store_combined(ctx, Operation::Intersection, "sinterstore"); }
void handle_sunionstore(CommandContext& ctx) { store_combined(ctx, Operation::Union, "sunionstore"); }
void handle_sdiffstore(CommandContext& ctx) { store_combined(ctx, Operation::Difference, "sdiffstore"); }

// SINTERCARD numkeys key [key ...] [LIMIT limit]: the size of the intersection, counting stopped at
// `limit` when it is not 0.
void handle_sintercard(CommandContext& ctx) {
  const auto numkeys = parse_int64(ctx.arg(1));
  if (!numkeys || *numkeys < 1) return ctx.out.error(errors::kNumkeysNotPositive);
  if (*numkeys > static_cast<int64_t>(ctx.argc()) - 2) return ctx.out.error(errors::kNumkeysOverArgs);
  const auto key_count = static_cast<size_t>(*numkeys);
  uint64_t limit = 0;
  for (size_t i = 2 + key_count; i < ctx.argc(); ++i) {
    if (!is_word(ctx.arg(i), "limit") || i + 1 == ctx.argc()) return ctx.out.error(errors::kSyntax);
    const auto value = parse_int64(ctx.arg(++i));
    if (!value || *value < 0) return ctx.out.error(errors::kLimitNegative);
    limit = static_cast<uint64_t>(*value);
  }
  const Keys keys = Keys(ctx.argv).subspan(2, key_count);
  LockedKeys locked(ctx.db(), keys);
  const auto sets = sets_or_reply(ctx, locked, keys);
  if (!sets) return;
  uint64_t cardinality = 0;
  intersect(*sets, [&](std::string_view) { return ++cardinality != limit; });
  locked.unlock();
  ctx.out.integer(static_cast<int64_t>(cardinality));
}

}  // namespace

void register_set_algebra(CommandTable& table) {
  constexpr uint32_t kStore = kWrite | kDenyOom;
  //         name          arity flags     first last step handler
  table.add({"sinter", -2, kReadonly, 1, -1, 1, handle_sinter, "set", "1.0.0", "Intersect multiple sets"});
  table.add({"sintercard", -3, kReadonly | kMovableKeys, 0, 0, 0, handle_sintercard, "set", "7.0.0",
             "Intersect multiple sets and return the cardinality of the result"});
  table.add({"sinterstore", -3, kStore, 1, -1, 1, handle_sinterstore, "set", "1.0.0",
             "Intersect multiple sets and store the resulting set in a key"});
  table.add({"sunion", -2, kReadonly, 1, -1, 1, handle_sunion, "set", "1.0.0", "Add multiple sets"});
  table.add({"sunionstore", -3, kStore, 1, -1, 1, handle_sunionstore, "set", "1.0.0",
             "Add multiple sets and store the resulting set in a key"});
  table.add({"sdiff", -2, kReadonly, 1, -1, 1, handle_sdiff, "set", "1.0.0", "Subtract multiple sets"});
  table.add({"sdiffstore", -3, kStore, 1, -1, 1, handle_sdiffstore, "set", "1.0.0",
             "Subtract multiple sets and store the resulting set in a key"});
}

}  // namespace rc
