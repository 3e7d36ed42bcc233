// ZRANDMEMBER key [count [WITHSCORES]] (Redis's zrandmemberCommand): random members of a sorted set,
// distinct for a positive count, possibly repeated for a negative one. A count at least the size returns the
// whole set from the highest member down, as Redis does. Never propagated (it changes nothing).
#include <algorithm>
#include <cstdint>
#include <numeric>
#include <unordered_set>
#include <vector>

#include "protocol/errors.h"
#include "protocol/numbers.h"
#include "server/command_context.h"
#include "server/command_table.h"
#include "server/commands/arguments.h"
#include "server/commands/registry.h"
#include "server/commands/zset_arguments.h"
#include "store/thread_random.h"
#include "store/zset_value.h"

namespace rc {
namespace {

// `count` distinct members, each subset equally likely. A skiplist much bigger than the count draws ranks
// until it has enough distinct ones (O(count log n), as Redis's CASE 4); otherwise a partial Fisher-Yates
// shuffle over a copy of the members.
zset_value::ScoredList distinct_picks(const Entry& zset, size_t count) {
  const size_t size = zset_value::length(zset);
  if (zset.aggregate_encoding() == AggregateEncoding::Table && count * 3 <= size) {
    std::unordered_set<uint64_t> ranks;
    zset_value::ScoredList picks;
    picks.reserve(count);
    while (picks.size() < count) {
      const uint64_t rank = thread_random() % size;
      if (!ranks.insert(rank).second) continue;
      picks.push_back(zset_value::range_by_rank(zset, rank, rank, false).front());
    }
    return picks;
  }
  const zset_value::ScoredList all = zset_value::range_by_rank(zset, 0, size - 1, false);
  std::vector<size_t> order(all.size());
  std::iota(order.begin(), order.end(), size_t{0});
  zset_value::ScoredList picks;
  picks.reserve(count);
  for (size_t i = 0; i < count; ++i) {
    const size_t j = i + static_cast<size_t>(thread_random() % (order.size() - i));
    std::swap(order[i], order[j]);
    picks.push_back(all[order[i]]);
  }
  return picks;
}

void reply_with_count(CommandContext& ctx, int64_t count, bool with_scores) {
  ctx.read_key(ctx.arg(1), [&](const Entry* zset) {
    if (zset == nullptr) return ctx.out.array(0);
    if (ctx.wrong_type(zset, ValueType::ZSet)) return;
    if (count == 0) return ctx.out.array(0);
    const size_t size = zset_value::length(*zset);
    if (count < 0 || count == 1) {
      const uint64_t picks = count < 0 ? 0 - static_cast<uint64_t>(count) : 1;
      ctx.out.array(with_scores && !ctx.out.resp3() ? picks * 2 : picks);
      // A listpack is copied once rather than walked for every pick.
      const bool compact = zset->aggregate_encoding() == AggregateEncoding::Compact;
      const zset_value::ScoredList all = compact ? zset_value::range_by_rank(*zset, 0, size - 1, false)
                                                 : zset_value::ScoredList{};
      for (uint64_t i = 0; i < picks; ++i) {
        const zset_value::Scored pick = compact ? all[thread_random() % size] : zset_value::random_element(*zset);
        if (with_scores && ctx.out.resp3()) ctx.out.array(2);
        ctx.out.bulk(pick.member);
        if (with_scores) ctx.out.double_value(pick.score);
      }
      return;
    }
    if (static_cast<uint64_t>(count) >= size) {  // the whole set, from the highest (Redis's zuiNext order)
      return reply_scored(ctx.out, zset_value::range_by_rank(*zset, 0, size - 1, true), with_scores);
    }
    reply_scored(ctx.out, distinct_picks(*zset, static_cast<size_t>(count)), with_scores);
  });
}

void handle_zrandmember(CommandContext& ctx) {
  if (ctx.argc() == 2) {
    return ctx.read_key(ctx.arg(1), [&](const Entry* zset) {
      if (zset == nullptr) return ctx.out.null();
      if (ctx.wrong_type(zset, ValueType::ZSet)) return;
      ctx.out.bulk(zset_value::random_element(*zset).member);
    });
  }
  // The count is checked before the key is looked up, as Redis does: in -LONG_MAX..LONG_MAX, and within
  // half of that with WITHSCORES (the reply has two elements a pick).
  const auto count = integer_or_reply(ctx, ctx.arg(2));
  if (!count) return;
  if (*count == INT64_MIN) return ctx.out.error(errors::kCountOutOfRange);
  const bool with_scores = ctx.argc() == 4;
  if (ctx.argc() > 4 || (with_scores && !is_word(ctx.arg(3), "withscores"))) return ctx.out.error(errors::kSyntax);
  if (with_scores && (*count < -INT64_MAX / 2 || *count > INT64_MAX / 2)) {
    return ctx.out.error(errors::kValueOutOfRange);
  }
  reply_with_count(ctx, *count, with_scores);
}

}  // namespace

void register_zset_random(CommandTable& table) {
  table.add({"zrandmember", -2, kReadonly, 1, 1, 1, handle_zrandmember, "sorted-set", "6.2.0",
             "Get one or multiple random elements from a sorted set"});
}

}  // namespace rc
