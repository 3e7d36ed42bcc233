// ZPOPMIN, ZPOPMAX and ZMPOP, on the functions the blocking pops share (zset_pops.h).
#include "server/commands/zset_pops.h"

#include <algorithm>
#include <string>

#include "protocol/errors.h"
#include "protocol/numbers.h"
#include "server/command_table.h"
#include "server/commands/arguments.h"
#include "server/commands/registry.h"
#include "store/shard_locks.h"
#include "store/zset_value.h"

namespace rc {

size_t pop_and_reply(KeySlot& slot, Database& db, const PopRequest& request, ReplyWriter& out) {
  if (request.count == 0) {
    out.array(0);
    return 0;
  }
  Entry& zset = *slot.edit();
  const size_t length = zset_value::length(zset);
  const size_t wanted = request.count < 0 ? 1 : static_cast<size_t>(request.count);
  const zset_value::ScoredList popped = zset_value::pop(zset, request.end == PopEnd::Max, wanted);
  switch (request.shape) {
    case PopReplyShape::Flat:
      out.array(popped.size() * 2);
      break;
    case PopReplyShape::Nested:
      out.array(popped.size());
      break;
    case PopReplyShape::KeyFlat:
      out.array(popped.size() * 2 + 1);
      out.bulk(slot.key());
      break;
    case PopReplyShape::KeyNested:
      out.array(2);
      out.bulk(slot.key());
      out.array(popped.size());
      break;
  }
  const bool nested = request.shape == PopReplyShape::Nested || request.shape == PopReplyShape::KeyNested;
  for (const zset_value::Scored& element : popped) {
    if (nested) out.array(2);
    out.bulk(element.member);
    out.double_value(element.score);
  }
  if (request.propagate) {
    const std::string_view command = request.end == PopEnd::Max ? "ZPOPMAX" : "ZPOPMIN";
    if (request.count < 0) {
      db.changes().publish(db.index(), {command, slot.key()});
    } else {
      const std::string count = std::to_string(std::min(wanted, length));
      db.changes().publish(db.index(), {command, slot.key(), count});
    }
  }
  if (zset_value::length(zset) == 0) slot.erase();
  return popped.size();
}

std::optional<MpopArguments> parse_mpop_arguments(CommandContext& ctx, size_t numkeys_index) {
  const auto numkeys = parse_int64(ctx.arg(numkeys_index));
  if (!numkeys || *numkeys < 1) {
    ctx.out.error(errors::kNumkeysNotPositive);
    return std::nullopt;
  }
  // The MIN|MAX word must follow the keys.
  if (static_cast<uint64_t>(*numkeys) > ctx.argc() - numkeys_index - 2) {
    ctx.out.error(errors::kSyntax);
    return std::nullopt;
  }
  MpopArguments arguments;
  arguments.keys = std::span(ctx.argv).subspan(numkeys_index + 1, static_cast<size_t>(*numkeys));
  const size_t where_index = numkeys_index + 1 + static_cast<size_t>(*numkeys);
  if (is_word(ctx.arg(where_index), "min")) {
    arguments.end = PopEnd::Min;
  } else if (is_word(ctx.arg(where_index), "max")) {
    arguments.end = PopEnd::Max;
  } else {
    ctx.out.error(errors::kSyntax);
    return std::nullopt;
  }
  bool counted = false;
  for (size_t j = where_index + 1; j < ctx.argc(); ++j) {
    if (counted || !is_word(ctx.arg(j), "count") || j + 1 == ctx.argc()) {
      ctx.out.error(errors::kSyntax);
      return std::nullopt;
    }
    const auto count = parse_int64(ctx.arg(++j));
    if (!count || *count < 1) {
      ctx.out.error(errors::kMpopCountNotPositive);
      return std::nullopt;
    }
    arguments.count = *count;
    counted = true;
  }
  return arguments;
}

namespace {

// ZPOPMIN/ZPOPMAX key [count]: a flat array, or [member, score] pairs in RESP3 when COUNT is given.
// Propagated as received when something was popped.
void zpop(CommandContext& ctx, PopEnd end) {
  if (ctx.argc() > 3) return ctx.out.error(errors::kSyntax);
  int64_t count = -1;
  if (ctx.argc() == 3) {
    // Not a number and negative get the same error, as Redis's getPositiveLongFromObjectOrReply.
    const auto value = parse_int64(ctx.arg(2));
    if (!value || *value < 0) return ctx.out.error(errors::kCountNotPositive);
    count = *value;
  }
  const PopReplyShape shape = ctx.out.resp3() && count != -1 ? PopReplyShape::Nested : PopReplyShape::Flat;
  ctx.db().write(ctx.arg(1), [&](KeySlot& slot) {
    if (ctx.wrong_type(slot.get(), ValueType::ZSet)) return;
    if (slot.get() == nullptr) return ctx.out.array(0);
    if (pop_and_reply(slot, ctx.db(), {end, count, shape, false}, ctx.out) > 0) ctx.propagate_as_received();
  });
}

void handle_zpopmin(CommandContext& ctx) { zpop(ctx, PopEnd::Min); }
void handle_zpopmax(CommandContext& ctx) { zpop(ctx, PopEnd::Max); }

// ZMPOP numkeys key [key ...] MIN|MAX [COUNT count]: pops from the first key that holds a sorted set (a
// null array when none does), propagated as ZPOPMIN/ZPOPMAX key n.
void handle_zmpop(CommandContext& ctx) {
  const auto arguments = parse_mpop_arguments(ctx, 1);
  if (!arguments) return;
  LockedKeys locked(ctx.db(), arguments->keys);
  for (const std::string_view key : arguments->keys) {
    KeySlot slot = locked.slot(key);
    if (slot.get() == nullptr) continue;
    if (ctx.wrong_type(slot.get(), ValueType::ZSet)) return;
    pop_and_reply(slot, ctx.db(), {arguments->end, arguments->count, PopReplyShape::KeyNested, true}, ctx.out);
    return;
  }
  ctx.out.null_array();
}

}  // namespace

void register_zset_pops(CommandTable& table) {
  //         name        arity flags first last step handler
  table.add({"zpopmin", -2, kWrite | kFast, 1, 1, 1, handle_zpopmin, "sorted-set", "5.0.0",
             "Remove and return members with the lowest scores in a sorted set"});
  table.add({"zpopmax", -2, kWrite | kFast, 1, 1, 1, handle_zpopmax, "sorted-set", "5.0.0",
             "Remove and return members with the highest scores in a sorted set"});
  table.add({"zmpop", -4, kWrite | kMovableKeys, 0, 0, 0, handle_zmpop, "sorted-set", "7.0.0",
             "Remove and return members with scores in a sorted set"});
}

}  // namespace rc
