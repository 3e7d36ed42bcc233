// List commands over two or more keys (Redis's t_list.c): LMOVE, RPOPLPUSH and LMPOP. Each locks the
// shards of all its keys at once (LockedKeys) so that the pop and the push are one atomic step, then runs
// the code the blocking forms share (list_pops.h).
#include <cstdint>
#include <span>

#include "server/command_context.h"
#include "server/command_table.h"
#include "server/commands/list_pops.h"
#include "server/commands/registry.h"
#include "store/shard_locks.h"

namespace rc {
namespace {

using list_pops::End;

void move(CommandContext& ctx, End from, End to, list_pops::MoveCommand as) {
  LockedKeys locked(ctx.db(), std::span(ctx.argv).subspan(1, 2));
  if (list_pops::move_element(ctx, locked, ctx.arg(1), ctx.arg(2), from, to, as) ==
      list_pops::MoveOutcome::SourceMissing) {
    ctx.out.null();
  }
}

// LMOVE source destination LEFT|RIGHT LEFT|RIGHT: the element moved, or null when the source is missing.
void handle_lmove(CommandContext& ctx) {
  const auto from = list_pops::end_or_reply(ctx, ctx.arg(3));
  if (!from) return;
  const auto to = list_pops::end_or_reply(ctx, ctx.arg(4));
  if (!to) return;
  move(ctx, *from, *to, list_pops::MoveCommand::Lmove);
}

// RPOPLPUSH source destination: LMOVE source destination RIGHT LEFT.
void handle_rpoplpush(CommandContext& ctx) { move(ctx, End::Tail, End::Head, list_pops::MoveCommand::Rpoplpush); }

// LMPOP numkeys key [key ...] LEFT|RIGHT [COUNT count]: [key, [elements]] from the first key holding a
// list, or a null array when none does; a key of another type met first is WRONGTYPE.
void handle_lmpop(CommandContext& ctx) {
  const auto arguments = list_pops::mpop_arguments_or_reply(ctx, 1);
  if (!arguments) return;
  LockedKeys locked(ctx.db(), arguments->keys);
  for (const std::string_view key : arguments->keys) {
    KeySlot slot = locked.slot(key);
    if (slot.get() == nullptr) continue;
    if (ctx.wrong_type(slot.get(), ValueType::List)) return;
    return list_pops::pop_with_key(ctx, slot, arguments->end, arguments->count, list_pops::KeyedReply::Elements);
  }
  ctx.out.null_array();
}

}  // namespace

void register_list_moves(CommandTable& table) {
  //         name      arity flags first last step handler
  table.add({"lmove", 5, kWrite | kDenyOom, 1, 2, 1, handle_lmove, "list", "6.2.0",
             "Pop an element from a list, push it to another list and return it"});
  table.add({"rpoplpush", 3, kWrite | kDenyOom, 1, 2, 1, handle_rpoplpush, "list", "1.2.0",
             "Remove the last element in a list, prepend it to another list and return it"});
  table.add({"lmpop", -4, kWrite | kMovableKeys, 0, 0, 0, handle_lmpop, "list", "7.0.0", "Pop elements from a list"});
}

}  // namespace rc
