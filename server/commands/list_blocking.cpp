// The blocking list commands: BLPOP, BRPOP, BLMPOP, BLMOVE and BRPOPLPUSH (Redis's blockingPopGenericCommand
// and blmoveGenericCommand). Each first acts as its non-blocking form with every key's shard locked; when all
// its keys are missing it blocks under those same locks (server/blocking.h), and is later served by the
// thread that creates one of its keys, through the same pop or move (server/commands/list_pops.h) that
// LPOP/LMPOP/LMOVE use: one code path whoever takes the element, and the same propagation.
#include <optional>
#include <span>
#include <string_view>
#include <vector>

#include "server/blocking.h"
#include "server/command_context.h"
#include "server/command_table.h"
#include "server/commands/list_pops.h"
#include "server/commands/registry.h"
#include "server/server.h"
#include "store/shard_locks.h"

namespace rc {
namespace {

using list_pops::End;
using list_pops::KeyedReply;

// Serves a blocked pop from `key`, which just got a value: false (the client stays blocked) unless it is a
// list, as Redis serves list waiters from list keys only.
bool pop_when_served(CommandContext& ctx, std::string_view key, End end, size_t count, KeyedReply shape) {
  return ctx.db().write(key, [&](KeySlot& slot) {
    const Entry* list = slot.get();
    if (list == nullptr || list->type() != ValueType::List) return false;
    list_pops::pop_with_key(ctx, slot, end, count, shape);
    return true;
  });
}

// BLPOP/BRPOP/BLMPOP after their arguments are read: the first key holding a list is popped (a key of another
// type answers WRONGTYPE, as Redis stops at it); with none, the client blocks on all of them.
void blocking_pop(CommandContext& ctx, std::span<const std::string_view> keys, int64_t timeout_ms, End end,
                  size_t count, KeyedReply shape) {
  LockedKeys locked(ctx.db(), keys);
  for (const std::string_view key : keys) {
    KeySlot slot = locked.slot(key);
    if (slot.get() == nullptr) continue;
    if (ctx.wrong_type(slot.get(), ValueType::List)) return;
    return list_pops::pop_with_key(ctx, slot, end, count, shape);
  }
  const std::vector<std::string_view> waited(keys.begin(), keys.end());
  ctx.server.blocking().block(ctx, waited, timeout_ms, {},
                              [end, count, shape](CommandContext& served, std::string_view key) {
                                return pop_when_served(served, key, end, count, shape);
                              });
}

// BLPOP key [key ...] timeout, BRPOP likewise: [key, element], or a null array on timeout.
void blocking_pop_one(CommandContext& ctx, End end) {
  const auto timeout = parse_block_timeout(ctx, ctx.arg(ctx.argc() - 1));
  if (!timeout) return;
  blocking_pop(ctx, std::span(ctx.argv).subspan(1, ctx.argc() - 2), *timeout, end, 1, KeyedReply::Element);
}

void handle_blpop(CommandContext& ctx) { blocking_pop_one(ctx, End::Head); }
void handle_brpop(CommandContext& ctx) { blocking_pop_one(ctx, End::Tail); }

// BLMPOP timeout numkeys key [key ...] LEFT|RIGHT [COUNT count]: the other arguments are checked before the
// timeout, as Redis's lmpopGenericCommand does.
void handle_blmpop(CommandContext& ctx) {
  const auto arguments = list_pops::mpop_arguments_or_reply(ctx, 2);
  if (!arguments) return;
  const auto timeout = parse_block_timeout(ctx, ctx.arg(1));
  if (!timeout) return;
  blocking_pop(ctx, arguments->keys, *timeout, arguments->end, arguments->count, KeyedReply::Elements);
}

// BLMOVE and BRPOPLPUSH: the move of LMOVE when the source holds a list; otherwise the client blocks on the
// source, and is served by the same move (its destination's shard taken too).
void blocking_move(CommandContext& ctx, End from, End to, std::string_view timeout_text,
                   list_pops::MoveCommand as) {
  const auto timeout = parse_block_timeout(ctx, timeout_text);
  if (!timeout) return;
  const std::string_view source = ctx.arg(1);
  const std::string_view destination = ctx.arg(2);
  LockedKeys locked(ctx.db(), std::span(ctx.argv).subspan(1, 2));
  if (list_pops::move_element(ctx, locked, source, destination, from, to, as) !=
      list_pops::MoveOutcome::SourceMissing) {
    return;
  }
  // Inside EXEC it cannot wait; Redis answers a null bulk here (not the null array of the other pops).
  if (ctx.client.transaction.executing) return ctx.out.null();
  ctx.server.blocking().block(
      ctx, {source}, *timeout, {destination}, [from, to, as](CommandContext& served, std::string_view key) {
        const std::string_view source_key = served.arg(1);
        const std::string_view destination_key = served.arg(2);
        // Only a list is served from; the destination's shard is held for the client (see block()).
        const bool is_list = served.db().read(key, [](const Entry* entry) {
          return entry != nullptr && entry->type() == ValueType::List;
        });
        if (!is_list) return false;
        const std::string_view keys[] = {source_key, destination_key};
        LockedKeys held(served.db(), keys);
        return list_pops::move_element(served, held, source_key, destination_key, from, to, as) !=
               list_pops::MoveOutcome::SourceMissing;
      });
}

// BLMOVE source destination LEFT|RIGHT LEFT|RIGHT timeout
void handle_blmove(CommandContext& ctx) {
  const auto from = list_pops::end_or_reply(ctx, ctx.arg(3));
  if (!from) return;
  const auto to = list_pops::end_or_reply(ctx, ctx.arg(4));
  if (!to) return;
  blocking_move(ctx, *from, *to, ctx.arg(5), list_pops::MoveCommand::Lmove);
}

// BRPOPLPUSH source destination timeout (BLMOVE ... RIGHT LEFT)
void handle_brpoplpush(CommandContext& ctx) {
  blocking_move(ctx, End::Tail, End::Head, ctx.arg(3), list_pops::MoveCommand::Rpoplpush);
}

}  // namespace

void register_list_blocking(CommandTable& table) {
  constexpr uint32_t kBlock = kWrite | kNoScript | kBlocking;
  //         name          arity flags first last step handler
  table.add({"blpop", -3, kBlock, 1, -2, 1, handle_blpop, "list", "2.0.0",
             "Remove and get the first element in a list, or block until one is available"});
  table.add({"brpop", -3, kBlock, 1, -2, 1, handle_brpop, "list", "2.0.0",
             "Remove and get the last element in a list, or block until one is available"});
  table.add({"blmpop", -5, kWrite | kBlocking | kMovableKeys, 0, 0, 0, handle_blmpop, "list", "7.0.0",
             "Pop elements from a list, or block until one is available"});
  table.add({"blmove", 6, kBlock | kDenyOom, 1, 2, 1, handle_blmove, "list", "6.2.0",
             "Pop an element from a list, push it to another list and return it; or block until one is available"});
  table.add({"brpoplpush", 4, kBlock | kDenyOom, 1, 2, 1, handle_brpoplpush, "list", "2.2.0",
             "Pop an element from a list, push it to another list and return it; or block until one is available"});
}

}  // namespace rc
