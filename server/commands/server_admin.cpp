// Server commands about the keyspace as a whole: DBSIZE, FLUSHDB, FLUSHALL, SWAPDB, TIME.
#include "protocol/errors.h"
#include "server/command_context.h"
#include "server/command_table.h"
#include "server/commands/arguments.h"
#include "server/commands/registry.h"
#include "server/server.h"
#include "store/clock.h"
#include "store/mutation_counter.h"

namespace rc {
namespace {

void handle_dbsize(CommandContext& ctx) { ctx.out.integer(static_cast<int64_t>(ctx.db().size())); }

// FLUSHDB/FLUSHALL [ASYNC|SYNC]: nullopt after replying a syntax error.
std::optional<bool> flush_is_async(CommandContext& ctx) {
  if (ctx.argc() == 1) return false;  // lazyfree-lazy-user-flush defaults to no
  if (ctx.argc() == 2 && is_word(ctx.arg(1), "sync")) return false;
  if (ctx.argc() == 2 && is_word(ctx.arg(1), "async")) return true;
  ctx.out.error(errors::kSyntax);
  return std::nullopt;
}

void handle_flushdb(CommandContext& ctx) {
  const auto async = flush_is_async(ctx);
  if (!async) return;
  ctx.server.keyspace().flush(ctx.client.db.load(std::memory_order_relaxed), *async);
  ctx.out.ok();
}

// As Redis: besides emptying every database, FLUSHALL stops a background save of the old data and, with
// save points, saves the empty dataset (the reply comes after the save; a failed save is only logged).
void handle_flushall(CommandContext& ctx) {
  const auto async = flush_is_async(ctx);
  if (!async) return;
  const uint64_t changes_before = t_store_mutations;
  ctx.server.keyspace().flush_all(ctx.client.db.load(std::memory_order_relaxed), *async);
  ctx.server.persistence().save_after_flushall(t_store_mutations - changes_before);
  ctx.out.ok();
}

void handle_time(CommandContext& ctx) {
  const int64_t now_us = unix_time_us();
  ctx.out.array(2);
  ctx.out.bulk(std::to_string(now_us / 1000000));
  ctx.out.bulk(std::to_string(now_us % 1000000));
}

}  // namespace

void register_server_admin(CommandTable& table) {
  table.add({"dbsize", 1, kReadonly | kFast | kAclKeyspace, 0, 0, 0, handle_dbsize, "server", "1.0.0",
             "Returns the number of keys in the database."});
  table.add({"flushdb", -1, kWrite | kAclKeyspace | kAclDangerous, 0, 0, 0, handle_flushdb, "server", "1.0.0", "Removes all keys from the current database."});
  table.add({"flushall", -1, kWrite | kAclKeyspace | kAclDangerous, 0, 0, 0, handle_flushall, "server", "1.0.0", "Removes all keys from all databases."});
  table.add({"time", 1, kLoading | kStale | kFast, 0, 0, 0, handle_time, "server", "2.6.0", "Returns the server time."});
}

}  // namespace rc
