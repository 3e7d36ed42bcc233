// BGREWRITEAOF: a new base for the append-only file, written by a forked child (server/aof_log.h).
#include "server/aof_log.h"
#include "server/command_context.h"
#include "server/command_table.h"
#include "server/commands/registry.h"
#include "server/server.h"

namespace rc {
namespace {

void handle_bgrewriteaof(CommandContext& ctx) {
  // Redis can rewrite with appendonly no too; here the log rewrites only while it is on (CONFIG SET
  // appendonly yes starts it with a rewrite).
  switch (ctx.server.aof().rewrite()) {
    case RewriteOutcome::Disabled:
      return ctx.out.error("ERR Append only file is disabled (appendonly no)");
    case RewriteOutcome::Started:
      return ctx.out.simple("Background append only file rewriting started");
    case RewriteOutcome::Scheduled:
      return ctx.out.simple("Background append only file rewriting scheduled");
    case RewriteOutcome::InProgress:
      return ctx.out.error("ERR Background append only file rewriting already in progress");
    case RewriteOutcome::Failed:
      return ctx.out.error("ERR Can't execute an AOF background rewriting. Please check the server logs for more information.");
  }
}

}  // namespace

void register_aof_commands(CommandTable& table) {
  table.add({"bgrewriteaof", 1, kAdmin | kNoScript | kNoAsyncLoading, 0, 0, 0, handle_bgrewriteaof, "server", "1.0.0",
             "Asynchronously rewrite the append-only file"});
}

}  // namespace rc
