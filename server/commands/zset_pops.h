#pragma once
// Popping the lowest or highest members of a sorted set (Redis's genericZpopCommand), shared by ZPOPMIN,
// ZPOPMAX and ZMPOP here and by the blocking BZPOPMIN, BZPOPMAX and BZMPOP.
//
// For the blocking commands:
//   - pop_and_reply() runs with the key's shard ALREADY LOCKED by the caller (a KeySlot from db.write() or
//     LockedKeys), so it can serve a client from its own thread or from the thread of the client whose write
//     filled the key. It writes the reply in the shape the popping command needs, deletes the key when it is
//     emptied, and (when asked) publishes the change as Redis propagates a served BZPOPMIN/BZMPOP: as
//     "ZPOPMIN key" for a single pop (count -1), "ZPOPMIN key n" with n = min(count, length) otherwise
//     (ZPOPMAX for the high end); see blocked.c's serveClientBlockedOnSortedSet. When it serves a waiter
//     from inside the write that filled the key, call it after that write's own propagate(), so that the
//     log replays the ZADD before the pop.
//   - parse_mpop_arguments() reads "numkeys key [key ...] MIN|MAX [COUNT count]" from any index (1 for ZMPOP,
//     2 for BZMPOP after its timeout), replying Redis's exact errors.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>

#include "protocol/reply_writer.h"
#include "server/command_context.h"
#include "store/database.h"

namespace rc {

enum class PopEnd { Min, Max };

enum class PopReplyShape {
  Flat,       // ZPOPMIN/ZPOPMAX (RESP2, or RESP3 without COUNT): [member, score, member, score, ...]
  Nested,     // ZPOPMIN/ZPOPMAX with COUNT in RESP3: [[member, score], ...]
  KeyFlat,    // BZPOPMIN/BZPOPMAX: [key, member, score]
  KeyNested,  // ZMPOP/BZMPOP: [key, [[member, score], ...]]
};

struct PopRequest {
  PopEnd end = PopEnd::Min;
  int64_t count = -1;  // -1: a single pop without COUNT (propagated without a count); 0 replies an empty array
  PopReplyShape shape = PopReplyShape::Flat;
  bool propagate = true;  // publish "ZPOPMIN/ZPOPMAX key [n]"; ZPOPMIN itself propagates as received instead
};

// Pops from the sorted set in `slot` (present, of type ZSet, not empty; its shard locked by the caller) and
// replies to `out`. `db` is the slot's database (where the change is published). Returns how many members
// were popped.
size_t pop_and_reply(KeySlot& slot, Database& db, const PopRequest& request, ReplyWriter& out);

struct MpopArguments {
  std::span<const std::string_view> keys;
  PopEnd end = PopEnd::Min;
  int64_t count = 1;  // COUNT, 1 when absent
};

// "numkeys key [key ...] MIN|MAX [COUNT count]" from argument `numkeys_index` on; nullopt after replying
// the error ("numkeys should be greater than 0", "count should be greater than 0", syntax error).
std::optional<MpopArguments> parse_mpop_arguments(CommandContext& ctx, size_t numkeys_index);

}  // namespace rc
