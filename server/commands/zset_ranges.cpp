// Sorted set ranges (Redis's zrangeGenericCommand and zremrangeGenericCommand): ZRANGE with BYSCORE, BYLEX,
// REV, LIMIT and WITHSCORES, its older forms ZREVRANGE, ZRANGEBYSCORE, ZREVRANGEBYSCORE, ZRANGEBYLEX and
// ZREVRANGEBYLEX, ZRANGESTORE, and ZREMRANGEBYRANK, ZREMRANGEBYSCORE and ZREMRANGEBYLEX.
#include <cstdint>
#include <optional>
#include <span>
#include <variant>

#include "protocol/errors.h"
#include "protocol/numbers.h"
#include "server/command_context.h"
#include "server/command_table.h"
#include "server/commands/arguments.h"
#include "server/commands/registry.h"
#include "server/commands/zset_arguments.h"
#include "store/shard_locks.h"
#include "store/zset_value.h"

namespace rc {
namespace {

enum class RangeKind { Auto, Rank, Score, Lex };
enum class Direction { Auto, Forward, Reverse };

struct RangeRequest {
  RangeKind kind = RangeKind::Auto;
  Direction direction = Direction::Auto;
  bool with_scores = false;
  int64_t offset = 0;
  int64_t limit = -1;
  std::variant<std::pair<int64_t, int64_t>, ScoreRange, LexRange> range;
};

// The words after <key> <min> <max> from `first` on, then the range itself, with Redis's errors in its
// order. `kind` and `direction` are fixed by the older commands, Auto for ZRANGE and ZRANGESTORE (which
// take BYSCORE, BYLEX and REV). A store takes no WITHSCORES.
std::optional<RangeRequest> parse_range(CommandContext& ctx, size_t key_index, bool store, RangeKind kind,
                                        Direction direction) {
  RangeRequest request;
  request.kind = kind;
  request.direction = direction;
  for (size_t j = key_index + 3; j < ctx.argc(); ++j) {
    const std::string_view word = ctx.arg(j);
    const size_t left = ctx.argc() - j - 1;
    if (!store && is_word(word, "withscores")) {
      request.with_scores = true;
    } else if (is_word(word, "limit") && left >= 2) {
      const auto offset = integer_or_reply(ctx, ctx.arg(j + 1));
      if (!offset) return std::nullopt;
      const auto limit = integer_or_reply(ctx, ctx.arg(j + 2));
      if (!limit) return std::nullopt;
      request.offset = *offset;
      request.limit = *limit;
      j += 2;
    } else if (request.direction == Direction::Auto && is_word(word, "rev")) {
      request.direction = Direction::Reverse;
    } else if (request.kind == RangeKind::Auto && is_word(word, "bylex")) {
      request.kind = RangeKind::Lex;
    } else if (request.kind == RangeKind::Auto && is_word(word, "byscore")) {
      request.kind = RangeKind::Score;
    } else {
      ctx.out.error(errors::kSyntax);
      return std::nullopt;
    }
  }
  if (request.direction == Direction::Auto) request.direction = Direction::Forward;
  if (request.kind == RangeKind::Auto) request.kind = RangeKind::Rank;
  if (request.limit != -1 && request.kind == RangeKind::Rank) {
    ctx.out.error(errors::kLimitNeedsByscoreOrBylex);
    return std::nullopt;
  }
  if (request.with_scores && request.kind == RangeKind::Lex) {
    ctx.out.error(errors::kWithscoresWithBylex);
    return std::nullopt;
  }
  std::string_view min = ctx.arg(key_index + 1);
  std::string_view max = ctx.arg(key_index + 2);
  // A reverse score or member range is given as max, min.
  if (request.direction == Direction::Reverse && request.kind != RangeKind::Rank) std::swap(min, max);
  if (request.kind == RangeKind::Rank) {
    const auto start = integer_or_reply(ctx, min);
    if (!start) return std::nullopt;
    const auto end = integer_or_reply(ctx, max);
    if (!end) return std::nullopt;
    request.range = std::pair(*start, *end);
  } else if (request.kind == RangeKind::Score) {
    const auto range = parse_score_range(min, max);
    if (!range) {
      ctx.out.error(errors::kMinMaxNotFloat);
      return std::nullopt;
    }
    request.range = *range;
  } else {
    auto range = parse_lex_range(min, max);
    if (!range) {
      ctx.out.error(errors::kMinMaxNotLex);
      return std::nullopt;
    }
    request.range = std::move(*range);
  }
  return request;
}

// The elements the request names. An offset past the end, or a negative one, selects nothing (Redis's
// loops skip `offset` elements while it counts down to zero, which a negative one never reaches).
zset_value::ScoredList select(const Entry& zset, const RangeRequest& request) {
  const bool reverse = request.direction == Direction::Reverse;
  if (request.kind == RangeKind::Rank) {
    const auto [start, end] = std::get<std::pair<int64_t, int64_t>>(request.range);
    const auto ranks = clamp_ranks(start, end, zset_value::length(zset));
    if (!ranks) return {};
    return zset_value::range_by_rank(zset, ranks->first, ranks->second, reverse);
  }
  if (request.offset < 0 || (request.offset > 0 && static_cast<uint64_t>(request.offset) >= zset_value::length(zset))) {
    return {};
  }
  const auto offset = static_cast<size_t>(request.offset);
  if (request.kind == RangeKind::Score) {
    return zset_value::range_by_score(zset, std::get<ScoreRange>(request.range), reverse, offset, request.limit);
  }
  return zset_value::range_by_lex(zset, std::get<LexRange>(request.range), reverse, offset, request.limit);
}

void reply_range(CommandContext& ctx, RangeKind kind, Direction direction) {
  const auto request = parse_range(ctx, 1, false, kind, direction);
  if (!request) return;
  ctx.read_key(ctx.arg(1), [&](const Entry* zset) {
    if (zset == nullptr) return ctx.out.array(0);
    if (ctx.wrong_type(zset, ValueType::ZSet)) return;
    reply_scored(ctx.out, select(*zset, *request), request->with_scores);
  });
}

void handle_zrange(CommandContext& ctx) { reply_range(ctx, RangeKind::Auto, Direction::Auto); }
void handle_zrevrange(CommandContext& ctx) { reply_range(ctx, RangeKind::Rank, Direction::Reverse); }
void handle_zrangebyscore(CommandContext& ctx) { reply_range(ctx, RangeKind::Score, Direction::Forward); }
void handle_zrevrangebyscore(CommandContext& ctx) { reply_range(ctx, RangeKind::Score, Direction::Reverse); }
void handle_zrangebylex(CommandContext& ctx) { reply_range(ctx, RangeKind::Lex, Direction::Forward); }
void handle_zrevrangebylex(CommandContext& ctx) { reply_range(ctx, RangeKind::Lex, Direction::Reverse); }

// ZRANGESTORE dst src min max [BYSCORE|BYLEX] [REV] [LIMIT offset count]: the selection replaces dst
// (whatever it held, without its expiry); an empty one deletes it. Built as Redis builds it, so a result that
// fits zset-max-listpack-* is a listpack.
void handle_zrangestore(CommandContext& ctx) {
  const auto request = parse_range(ctx, 2, true, RangeKind::Auto, Direction::Auto);
  if (!request) return;
  const std::string_view destination = ctx.arg(1);
  LockedKeys locked(ctx.db(), std::span(ctx.argv).subspan(1, 2));
  const Entry* source = locked.slot(ctx.arg(2)).get();
  ctx.count_lookup(source);
  if (ctx.wrong_type(source, ValueType::ZSet)) return;
  const zset_value::ScoredList selected = source != nullptr ? select(*source, *request) : zset_value::ScoredList{};
  KeySlot slot = locked.slot(destination);
  if (!selected.empty()) {
    slot.adopt(EntryPtr(zset_value::build(destination, selected, zset_limits(ctx))));
  } else if (!slot.erase()) {
    return ctx.out.integer(0);
  }
  ctx.propagate_as_received();
  ctx.out.integer(static_cast<int64_t>(selected.size()));
}

// ZREMRANGEBYRANK/SCORE/LEX key min max: the number removed; the key goes with its last member. The range
// is read before the key is looked up.
template <typename Remove>
void remove_range(CommandContext& ctx, Remove&& remove) {
  ctx.db().write(ctx.arg(1), [&](KeySlot& slot) {
    if (slot.get() == nullptr) return ctx.out.integer(0);
    if (ctx.wrong_type(slot.get(), ValueType::ZSet)) return;
    const size_t removed = remove(*slot.get());
    if (removed > 0) {
      if (zset_value::length(*slot.edit()) == 0) slot.erase();
      ctx.propagate_as_received();
    }
    ctx.out.integer(static_cast<int64_t>(removed));
  });
}

void handle_zremrangebyrank(CommandContext& ctx) {
  const auto start = integer_or_reply(ctx, ctx.arg(2));
  if (!start) return;
  const auto end = integer_or_reply(ctx, ctx.arg(3));
  if (!end) return;
  remove_range(ctx, [&](Entry& zset) -> size_t {
    const auto ranks = clamp_ranks(*start, *end, zset_value::length(zset));
    return ranks ? zset_value::remove_by_rank(zset, ranks->first, ranks->second) : 0;
  });
}

void handle_zremrangebyscore(CommandContext& ctx) {
  const auto range = parse_score_range(ctx.arg(2), ctx.arg(3));
  if (!range) return ctx.out.error(errors::kMinMaxNotFloat);
  remove_range(ctx, [&](Entry& zset) { return zset_value::remove_by_score(zset, *range); });
}

void handle_zremrangebylex(CommandContext& ctx) {
  const auto range = parse_lex_range(ctx.arg(2), ctx.arg(3));
  if (!range) return ctx.out.error(errors::kMinMaxNotLex);
  remove_range(ctx, [&](Entry& zset) { return zset_value::remove_by_lex(zset, *range); });
}

}  // namespace

void register_zset_ranges(CommandTable& table) {
  constexpr std::string_view kGroup = "sorted-set";
  //         name        arity flags first last step handler
  table.add({"zrange", -4, kReadonly, 1, 1, 1, handle_zrange, kGroup, "1.2.0",
             "Return a range of members in a sorted set"});
  table.add({"zrangestore", -5, kWrite | kDenyOom, 1, 2, 1, handle_zrangestore, kGroup, "6.2.0",
             "Store a range of members from sorted set into another key"});
  table.add({"zrevrange", -4, kReadonly, 1, 1, 1, handle_zrevrange, kGroup, "1.2.0",
             "Return a range of members in a sorted set, by index, with scores ordered from high to low"});
  table.add({"zrangebyscore", -4, kReadonly, 1, 1, 1, handle_zrangebyscore, kGroup, "1.0.5",
             "Return a range of members in a sorted set, by score"});
  table.add({"zrevrangebyscore", -4, kReadonly, 1, 1, 1, handle_zrevrangebyscore, kGroup, "2.2.0",
             "Return a range of members in a sorted set, by score, with scores ordered from high to low"});
  table.add({"zrangebylex", -4, kReadonly, 1, 1, 1, handle_zrangebylex, kGroup, "2.8.9",
             "Return a range of members in a sorted set, by lexicographical range"});
  table.add({"zrevrangebylex", -4, kReadonly, 1, 1, 1, handle_zrevrangebylex, kGroup, "2.8.9",
             "Return a range of members in a sorted set, by lexicographical range, ordered from higher to lower "
             "strings."});
  table.add({"zremrangebyrank", 4, kWrite, 1, 1, 1, handle_zremrangebyrank, kGroup, "2.0.0",
             "Remove all members in a sorted set within the given indexes"});
  table.add({"zremrangebyscore", 4, kWrite, 1, 1, 1, handle_zremrangebyscore, kGroup, "1.2.0",
             "Remove all members in a sorted set within the given scores"});
  table.add({"zremrangebylex", 4, kWrite, 1, 1, 1, handle_zremrangebylex, kGroup, "2.8.9",
             "Remove all members in a sorted set between the given lexicographical range"});
}

}  // namespace rc
