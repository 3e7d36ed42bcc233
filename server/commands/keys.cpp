// Generic key commands: DEL, EXISTS, TTL and friends.
#include "server/command_context.h"
#include "server/command_table.h"
#include "server/commands/arguments.h"
#include "server/commands/registry.h"
#include "store/clock.h"

namespace rc {
namespace {

void handle_del(CommandContext& ctx) {
  int64_t deleted = 0;
  for (size_t i = 1; i < ctx.argc(); ++i) {
    deleted += ctx.db().write(ctx.arg(i), [](KeySlot& slot) { return slot.erase() ? 1 : 0; });
  }
  ctx.out.integer(deleted);
}

void handle_exists(CommandContext& ctx) {
  int64_t found = 0;
  for (size_t i = 1; i < ctx.argc(); ++i) {
    found += ctx.db().read(ctx.arg(i), [](const Entry* entry) { return entry != nullptr ? 1 : 0; });
  }
  ctx.out.integer(found);
}

// TTL/PTTL: -2 for a missing key, -1 for a key without expiry, else the time left (rounded as Redis does).
void reply_ttl(CommandContext& ctx, bool milliseconds) {
  const int64_t remaining = ctx.db().read(ctx.arg(1), [](const Entry* entry) -> int64_t {
    if (entry == nullptr) return -2;
    if (!entry->has_expiry()) return -1;
    const int64_t left = entry->expire_at() - unix_time_ms();
    return left < 0 ? 0 : left;
  });
  if (remaining < 0 || milliseconds) return ctx.out.integer(remaining);
  ctx.out.integer((remaining + 500) / 1000);
}

void handle_ttl(CommandContext& ctx) { reply_ttl(ctx, false); }
void handle_pttl(CommandContext& ctx) { reply_ttl(ctx, true); }

}  // namespace

void register_keys(CommandTable& table) {
  table.add({"del", -2, kWrite, 1, -1, 1, handle_del, "generic", "1.0.0", "Deletes one or more keys."});
  table.add({"exists", -2, kReadonly | kFast, 1, -1, 1, handle_exists, "generic", "1.0.0",
             "Determines whether one or more keys exist."});
  table.add({"ttl", 2, kReadonly | kFast, 1, 1, 1, handle_ttl, "generic", "1.0.0",
             "Returns the expiration time in seconds of a key."});
  table.add({"pttl", 2, kReadonly | kFast, 1, 1, 1, handle_pttl, "generic", "2.6.0",
             "Returns the expiration time in milliseconds of a key."});
}

}  // namespace rc
