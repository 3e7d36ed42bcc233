#pragma once
// The pops and moves of lists, shared by the list commands and the blocking ones (BLPOP, BRPOP, BLMPOP,
// BLMOVE, BRPOPLPUSH), so that an element leaves a list by one code path whoever takes it.
//
// Every function here runs with the shards of the keys it touches ALREADY LOCKED exclusively by the
// caller (db().write's KeySlot, or LockedKeys), so the blocking code can call them from the blocked
// command itself and from the thread of another client that has just pushed and serves a waiter under
// its own lock. `ctx` is the context of the client that receives the reply: ctx.out is its reply writer,
// and ctx.propagate publishes to the AOF in its database (when serving a waiter, build a CommandContext
// from the waiter's session and writer). Replies and propagation are Redis 7.0's (t_list.c,
// serveClientBlockedOnList); each function says which.
#include <cstddef>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "server/command_context.h"
#include "store/quicklist.h"
#include "store/shard_locks.h"

namespace rc::list_pops {

using End = Quicklist::End;

// LEFT or RIGHT, in any case (LMOVE, LMPOP and the blocking forms); anything else replies Redis's syntax
// error and gives nullopt.
std::optional<End> end_or_reply(CommandContext& ctx, std::string_view argument);
// "LEFT" or "RIGHT", as propagated.
std::string_view end_name(End end);

// Removes up to `count` (>= 1) elements from `end` of the list in `slot`, which must hold a non-empty list,
// and returns them in the order they left; the key is deleted when the list empties. No reply, no
// propagation: the callers do those.
std::vector<std::string> pop_elements(KeySlot& slot, End end, size_t count);

// How a pop that names its key replies.
enum class KeyedReply {
  Element,   // BLPOP, BRPOP: [key, element]; one element; propagated as LPOP|RPOP key
  Elements,  // LMPOP, BLMPOP: [key, [element, ...]]; up to `count`; propagated as LPOP|RPOP key n, where
             // n is the number actually popped (min(count, length))
};
// Pops from the non-empty list in `slot` (the caller checked its type), replies in `shape` and propagates
// as above; the key goes with its last element.
void pop_with_key(CommandContext& ctx, KeySlot& slot, End end, size_t count, KeyedReply shape);

// What move_element did.
enum class MoveOutcome {
  Moved,          // the element was replied
  SourceMissing,  // nothing replied, nothing changed: LMOVE answers null, BLMOVE blocks
  Refused,        // WRONGTYPE was replied (source or destination), nothing changed
};
// How a move is propagated: LMOVE source destination LEFT|RIGHT LEFT|RIGHT (LMOVE, BLMOVE), or RPOPLPUSH
// source destination (RPOPLPUSH, BRPOPLPUSH: always RIGHT then LEFT).
enum class MoveCommand { Lmove, Rpoplpush };
// LMOVE/RPOPLPUSH with both keys' shards locked in `locked`: pops from `from` of the source and pushes to
// `to` of the destination (created if missing), replies the element as a bulk and propagates `as`. As
// Redis: a missing source is reported before any type is checked; then a source that is not a list, then
// a destination that is not a list, reply WRONGTYPE. Serving a blocked BLMOVE is the same call: Redis
// replies WRONGTYPE to the waiter there too when the destination has changed type (and unblocks it), so
// there is no different check to skip. The same key on both sides rotates the list in place, keeping its
// TTL.
MoveOutcome move_element(CommandContext& ctx, LockedKeys& locked, std::string_view source,
                         std::string_view destination, End from, End to, MoveCommand as);

// The arguments of LMPOP numkeys key [key ...] LEFT|RIGHT [COUNT count] and of BLMPOP timeout numkeys ...,
// read from `numkeys_index` (1 for LMPOP, 2 for BLMPOP) with Redis's errors in Redis's order: numkeys
// ("numkeys should be greater than 0"), missing LEFT|RIGHT (syntax error), LEFT|RIGHT, then COUNT given
// once ("count should be greater than 0"; anything else a syntax error). nullopt after the error reply.
struct MpopArguments {
  std::span<const std::string_view> keys;
  End end;
  size_t count;  // 1 when COUNT is absent
};
std::optional<MpopArguments> mpop_arguments_or_reply(CommandContext& ctx, size_t numkeys_index);

}  // namespace rc::list_pops
