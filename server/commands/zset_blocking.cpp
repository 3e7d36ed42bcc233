// The blocking sorted-set pops: BZPOPMIN, BZPOPMAX and BZMPOP (Redis's blockingGenericZpopCommand). As the
// blocking list pops (list_blocking.cpp): with every key's shard locked, the first key holding a sorted set is
// popped like ZPOPMIN/ZMPOP; with none the client blocks (server/blocking.h) and is served later, through the
// same pop (server/commands/zset_pops.h), by the thread that creates one of its keys.
#include <span>
#include <string_view>
#include <vector>

#include "server/blocking.h"
#include "server/command_context.h"
#include "server/command_table.h"
#include "server/commands/registry.h"
#include "server/commands/zset_pops.h"
#include "server/server.h"
#include "store/shard_locks.h"

namespace rc {
namespace {

// Served from `key` only when it holds a sorted set (a waiter stays blocked on a key of another type).
bool pop_when_served(CommandContext& ctx, std::string_view key, const PopRequest& request) {
  return ctx.db().write(key, [&](KeySlot& slot) {
    const Entry* zset = slot.get();
    if (zset == nullptr || zset->type() != ValueType::ZSet) return false;
    pop_and_reply(slot, ctx.db(), request, ctx.out);
    return true;
  });
}

void blocking_zpop(CommandContext& ctx, std::span<const std::string_view> keys, int64_t timeout_ms,
                   const PopRequest& request) {
  LockedKeys locked(ctx.db(), keys);
  for (const std::string_view key : keys) {
    KeySlot slot = locked.slot(key);
    if (slot.get() == nullptr) continue;
    if (ctx.wrong_type(slot.get(), ValueType::ZSet)) return;
    pop_and_reply(slot, ctx.db(), request, ctx.out);
    return;
  }
  const std::vector<std::string_view> waited(keys.begin(), keys.end());
  ctx.server.blocking().block(ctx, waited, timeout_ms, {},
                              [request](CommandContext& served, std::string_view key) {
                                return pop_when_served(served, key, request);
                              });
}

// BZPOPMIN key [key ...] timeout, BZPOPMAX likewise: [key, member, score], or a null array on timeout.
void blocking_zpop_one(CommandContext& ctx, PopEnd end) {
  const auto timeout = parse_block_timeout(ctx, ctx.arg(ctx.argc() - 1));
  if (!timeout) return;
  PopRequest request;
  request.end = end;
  request.count = -1;
  request.shape = PopReplyShape::KeyFlat;
  blocking_zpop(ctx, std::span(ctx.argv).subspan(1, ctx.argc() - 2), *timeout, request);
}

void handle_bzpopmin(CommandContext& ctx) { blocking_zpop_one(ctx, PopEnd::Min); }
void handle_bzpopmax(CommandContext& ctx) { blocking_zpop_one(ctx, PopEnd::Max); }

// BZMPOP timeout numkeys key [key ...] MIN|MAX [COUNT count]: the other arguments are checked before the
// timeout, as Redis's zmpopGenericCommand does.
void handle_bzmpop(CommandContext& ctx) {
  const auto arguments = parse_mpop_arguments(ctx, 2);
  if (!arguments) return;
  const auto timeout = parse_block_timeout(ctx, ctx.arg(1));
  if (!timeout) return;
  PopRequest request;
  request.end = arguments->end;
  request.count = arguments->count;
  request.shape = PopReplyShape::KeyNested;
  blocking_zpop(ctx, arguments->keys, *timeout, request);
}

}  // namespace

void register_zset_blocking(CommandTable& table) {
  constexpr uint32_t kBlock = kWrite | kNoScript | kFast | kBlocking;
  //         name          arity flags first last step handler
  table.add({"bzpopmin", -3, kBlock, 1, -2, 1, handle_bzpopmin, "sorted-set", "5.0.0",
             "Remove and return the member with the lowest score from one or more sorted sets, or block until one is available"});
  table.add({"bzpopmax", -3, kBlock, 1, -2, 1, handle_bzpopmax, "sorted-set", "5.0.0",
             "Remove and return the member with the highest score from one or more sorted sets, or block until one is available"});
  table.add({"bzmpop", -5, kWrite | kBlocking | kMovableKeys, 0, 0, 0, handle_bzmpop, "sorted-set", "7.0.0",
             "Remove and return members with scores in a sorted set or block until one is available"});
}

}  // namespace rc
