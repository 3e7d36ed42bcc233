// Sorted set commands on one key and one member at a time (Redis's t_zset.c): ZADD, ZINCRBY, ZREM, ZCARD,
// ZCOUNT, ZLEXCOUNT, ZSCORE, ZMSCORE, ZRANK, ZREVRANK and ZSCAN. The ranges are in zset_ranges.cpp, the
// pops in zset_pops.cpp, ZRANDMEMBER in zset_random.cpp, the algebra in zset_algebra.cpp. The value rules
// (listpack, its conversion to a skiplist) are store/zset_value's; this file checks types, replies and
// propagates. A sorted set is created by the first write that adds a member and deleted with its last one.
#include <cstdint>
#include <optional>
#include <vector>

#include "protocol/errors.h"
#include "protocol/numbers.h"
#include "server/command_context.h"
#include "server/command_table.h"
#include "server/commands/arguments.h"
#include "server/commands/registry.h"
#include "server/commands/scan_arguments.h"
#include "server/commands/zset_arguments.h"
#include "store/zset_value.h"

namespace rc {
namespace {

struct ZaddRequest {
  zset_value::AddFlags flags;
  bool changed = false;  // CH: count updated members too
  size_t first_pair = 2;
  std::vector<double> scores;
};

// ZADD's options, then its score,member pairs, with Redis's errors in Redis's order (every score is read
// before the key is touched, so that a bad one changes nothing).
std::optional<ZaddRequest> parse_zadd(CommandContext& ctx, bool incr) {
  ZaddRequest request;
  request.flags.incr = incr;
  size_t& i = request.first_pair;
  for (; i < ctx.argc(); ++i) {
    const std::string_view option = ctx.arg(i);
    if (is_word(option, "nx")) request.flags.nx = true;
    else if (is_word(option, "xx")) request.flags.xx = true;
    else if (is_word(option, "ch")) request.changed = true;
    else if (is_word(option, "incr")) request.flags.incr = true;
    else if (is_word(option, "gt")) request.flags.gt = true;
    else if (is_word(option, "lt")) request.flags.lt = true;
    else break;
  }
  const size_t words = ctx.argc() - i;
  const zset_value::AddFlags& f = request.flags;
  std::string_view error;
  if (words == 0 || words % 2 != 0) error = errors::kSyntax;
  else if (f.nx && f.xx) error = errors::kZaddXxAndNx;
  else if ((f.gt && f.nx) || (f.lt && f.nx) || (f.gt && f.lt)) error = errors::kZaddGtLtNx;
  else if (f.incr && words > 2) error = errors::kZaddIncrPairs;
  if (!error.empty()) {
    ctx.out.error(error);
    return std::nullopt;
  }
  for (size_t j = i; j < ctx.argc(); j += 2) {
    const auto score = parse_double(ctx.arg(j));
    if (!score) {
      ctx.out.error(errors::kNotFloat);
      return std::nullopt;
    }
    request.scores.push_back(*score);
  }
  return request;
}

// ZADD key [NX|XX] [GT|LT] [CH] [INCR] score member [score member ...], and ZINCRBY key increment member.
// Propagated as received when a member was added or its score changed.
void zadd(CommandContext& ctx, bool incr) {
  const auto request = parse_zadd(ctx, incr);
  if (!request) return;
  ctx.db().write(ctx.arg(1), [&](KeySlot& slot) {
    if (ctx.wrong_type(slot.get(), ValueType::ZSet)) return;
    int64_t added = 0;
    int64_t updated = 0;
    bool processed = false;
    double score = 0;
    if (slot.get() == nullptr && !request->flags.xx) slot.adopt(EntryPtr(zset_value::create(slot.key())));
    for (size_t j = 0; slot.get() != nullptr && j < request->scores.size(); ++j) {
      const std::string_view member = ctx.arg(request->first_pair + 2 * j + 1);
      const auto outcome = zset_value::add(*slot.get(), request->scores[j], member, request->flags, zset_limits(ctx),
                                           score);
      if (outcome == zset_value::AddOutcome::NaN) {
        if (zset_value::length(*slot.get()) == 0) slot.erase();
        return ctx.out.error(errors::kScoreNaN);
      }
      added += outcome == zset_value::AddOutcome::Added ? 1 : 0;
      updated += outcome == zset_value::AddOutcome::Updated ? 1 : 0;
      processed = processed || outcome != zset_value::AddOutcome::Skipped;
    }
    if (added + updated > 0) {
      slot.edit();
      ctx.propagate_as_received();
    }
    if (!request->flags.incr) return ctx.out.integer(request->changed ? added + updated : added);
    if (processed) return ctx.out.double_value(score);
    ctx.out.null();
  });
}

void handle_zadd(CommandContext& ctx) { zadd(ctx, false); }
void handle_zincrby(CommandContext& ctx) { zadd(ctx, true); }

// ZREM key member [member ...]: the number removed; the key goes with its last member.
void handle_zrem(CommandContext& ctx) {
  ctx.db().write(ctx.arg(1), [&](KeySlot& slot) {
    if (ctx.wrong_type(slot.get(), ValueType::ZSet)) return;
    int64_t removed = 0;
    for (size_t i = 2; i < ctx.argc() && slot.get() != nullptr; ++i) {
      if (!zset_value::remove(*slot.get(), ctx.arg(i))) continue;
      ++removed;
      if (zset_value::length(*slot.edit()) == 0) slot.erase();
    }
    if (removed > 0) ctx.propagate_as_received();
    ctx.out.integer(removed);
  });
}

void handle_zcard(CommandContext& ctx) {
  ctx.read_key(ctx.arg(1), [&](const Entry* zset) {
    if (ctx.wrong_type(zset, ValueType::ZSet)) return;
    ctx.out.integer(zset != nullptr ? static_cast<int64_t>(zset_value::length(*zset)) : 0);
  });
}

// ZCOUNT key min max: the range is checked before the key is looked up.
void handle_zcount(CommandContext& ctx) {
  const auto range = parse_score_range(ctx.arg(2), ctx.arg(3));
  if (!range) return ctx.out.error(errors::kMinMaxNotFloat);
  ctx.read_key(ctx.arg(1), [&](const Entry* zset) {
    if (ctx.wrong_type(zset, ValueType::ZSet)) return;
    ctx.out.integer(zset != nullptr ? static_cast<int64_t>(zset_value::count_in(*zset, *range)) : 0);
  });
}

void handle_zlexcount(CommandContext& ctx) {
  const auto range = parse_lex_range(ctx.arg(2), ctx.arg(3));
  if (!range) return ctx.out.error(errors::kMinMaxNotLex);
  ctx.read_key(ctx.arg(1), [&](const Entry* zset) {
    if (ctx.wrong_type(zset, ValueType::ZSet)) return;
    ctx.out.integer(zset != nullptr ? static_cast<int64_t>(zset_value::count_in(*zset, *range)) : 0);
  });
}

void handle_zscore(CommandContext& ctx) {
  ctx.read_key(ctx.arg(1), [&](const Entry* zset) {
    if (ctx.wrong_type(zset, ValueType::ZSet)) return;
    const auto score = zset != nullptr ? zset_value::score(*zset, ctx.arg(2)) : std::nullopt;
    if (!score) return ctx.out.null();
    ctx.out.double_value(*score);
  });
}

// ZMSCORE key member [member ...]: a score or a null for each member; a missing key is an empty set.
void handle_zmscore(CommandContext& ctx) {
  ctx.read_key(ctx.arg(1), [&](const Entry* zset) {
    if (ctx.wrong_type(zset, ValueType::ZSet)) return;
    ctx.out.array(ctx.argc() - 2);
    for (size_t i = 2; i < ctx.argc(); ++i) {
      const auto score = zset != nullptr ? zset_value::score(*zset, ctx.arg(i)) : std::nullopt;
      if (score) {
        ctx.out.double_value(*score);
      } else {
        ctx.out.null();
      }
    }
  });
}

void reply_rank(CommandContext& ctx, bool reverse) {
  ctx.read_key(ctx.arg(1), [&](const Entry* zset) {
    if (ctx.wrong_type(zset, ValueType::ZSet)) return;
    const auto rank = zset != nullptr ? zset_value::rank(*zset, ctx.arg(2), reverse) : std::nullopt;
    if (!rank) return ctx.out.null();
    ctx.out.integer(static_cast<int64_t>(rank->first));
  });
}

void handle_zrank(CommandContext& ctx) { reply_rank(ctx, false); }
void handle_zrevrank(CommandContext& ctx) { reply_rank(ctx, true); }

// ZSCAN key cursor [MATCH pattern] [COUNT count]: members with their scores; a listpack is returned whole
// with cursor 0, as Redis does.
void handle_zscan(CommandContext& ctx) {
  reply_key_scan(ctx, ValueType::ZSet, 2, [](const Entry& zset, uint64_t cursor, size_t count, auto& strings) {
    return zset_value::scan(zset, cursor, count, [&](std::string_view member, std::string score) {
      strings.emplace_back(member);
      strings.push_back(std::move(score));
    });
  });
}

}  // namespace

void register_zsets(CommandTable& table) {
  constexpr uint32_t kGet = kReadonly | kFast;
  //         name        arity flags first last step handler
  table.add({"zadd", -4, kWrite | kDenyOom | kFast, 1, 1, 1, handle_zadd, "sorted-set", "1.2.0",
             "Add one or more members to a sorted set, or update its score if it already exists"});
  table.add({"zincrby", 4, kWrite | kDenyOom | kFast, 1, 1, 1, handle_zincrby, "sorted-set", "1.2.0",
             "Increment the score of a member in a sorted set"});
  table.add({"zrem", -3, kWrite | kFast, 1, 1, 1, handle_zrem, "sorted-set", "1.2.0",
             "Remove one or more members from a sorted set"});
  table.add({"zcard", 2, kGet, 1, 1, 1, handle_zcard, "sorted-set", "1.2.0", "Get the number of members in a sorted set"});
  table.add({"zcount", 4, kGet, 1, 1, 1, handle_zcount, "sorted-set", "2.0.0",
             "Count the members in a sorted set with scores within the given values"});
  table.add({"zlexcount", 4, kGet, 1, 1, 1, handle_zlexcount, "sorted-set", "2.8.9",
             "Count the number of members in a sorted set between a given lexicographical range"});
  table.add({"zscore", 3, kGet, 1, 1, 1, handle_zscore, "sorted-set", "1.2.0",
             "Get the score associated with the given member in a sorted set"});
  table.add({"zmscore", -3, kGet, 1, 1, 1, handle_zmscore, "sorted-set", "6.2.0",
             "Get the score associated with the given members in a sorted set"});
  table.add({"zrank", 3, kGet, 1, 1, 1, handle_zrank, "sorted-set", "2.0.0",
             "Determine the index of a member in a sorted set"});
  table.add({"zrevrank", 3, kGet, 1, 1, 1, handle_zrevrank, "sorted-set", "2.0.0",
             "Determine the index of a member in a sorted set, with scores ordered from high to low"});
  table.add({"zscan", -3, kReadonly, 1, 1, 1, handle_zscan, "sorted-set", "2.8.0",
             "Incrementally iterate sorted sets elements and associated scores"});
}

}  // namespace rc
