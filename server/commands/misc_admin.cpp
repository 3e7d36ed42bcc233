// Server commands about databases and scripting state: SWAPDB, and FUNCTION answering as a Redis
// with no function library loaded (there is no scripting engine yet).
#include <climits>

#include <fmt/format.h>

#include "protocol/errors.h"
#include "server/command_context.h"
#include "server/command_table.h"
#include "server/commands/arguments.h"
#include "server/commands/help_reply.h"
#include "server/commands/registry.h"
#include "server/server.h"

namespace rc {
namespace {

// A SWAPDB index: anything but an int is `error` (Redis's getIntFromObjectOrReply with a message).
std::optional<int> swapdb_index_or_reply(CommandContext& ctx, std::string_view argument, std::string_view error) {
  const auto value = parse_int64(argument);
  if (!value || *value < INT_MIN || *value > INT_MAX) {
    ctx.out.error(error);
    return std::nullopt;
  }
  return static_cast<int>(*value);
}

// SWAPDB a b: atomic, under every shard lock of both databases. Clients keep their database number and so
// see the other contents at once.
void handle_swapdb(CommandContext& ctx) {
  const auto first = swapdb_index_or_reply(ctx, ctx.arg(1), "ERR invalid first DB index");
  if (!first) return;
  const auto second = swapdb_index_or_reply(ctx, ctx.arg(2), "ERR invalid second DB index");
  if (!second) return;
  Keyspace& keyspace = ctx.server.keyspace();
  const auto in_range = [&](int index) { return index >= 0 && index < keyspace.database_count(); };
  if (!in_range(*first) || !in_range(*second)) return ctx.out.error(errors::kDbIndexOutOfRange);
  keyspace.swap(ctx.client.db.load(std::memory_order_relaxed), *first, *second);
  ctx.out.ok();
}

// ---- FUNCTION ----

void handle_function_flush(CommandContext& ctx) {
  if (ctx.argc() > 3) {
    return ctx.out.error(errors::unknown_subcommand_or_arity(ctx.arg(1), "function"));
  }
  if (ctx.argc() == 3 && !is_word(ctx.arg(2), "sync") && !is_word(ctx.arg(2), "async")) {
    return ctx.out.error("ERR FUNCTION FLUSH only supports SYNC|ASYNC option");
  }
  ctx.out.ok();
}

// FUNCTION LIST [WITHCODE] [LIBRARYNAME pattern]: each option once, in any order; no library to list.
void handle_function_list(CommandContext& ctx) {
  bool with_code = false;
  bool library_name = false;
  for (size_t i = 2; i < ctx.argc(); ++i) {
    if (!with_code && is_word(ctx.arg(i), "withcode")) {
      with_code = true;
    } else if (!library_name && is_word(ctx.arg(i), "libraryname")) {
      if (i + 1 >= ctx.argc()) return ctx.out.error("ERR library name argument was not given");
      library_name = true;
      ++i;
    } else {
      return ctx.out.error(fmt::format("ERR Unknown argument {}", ctx.arg(i).substr(0, ctx.arg(i).find('\0'))));
    }
  }
  ctx.out.array(0);
}

void handle_function_delete(CommandContext& ctx) { ctx.out.error("ERR Library not found"); }

void handle_function_kill(CommandContext& ctx) { ctx.out.error("NOTBUSY No scripts in execution right now."); }

void handle_function_stats(CommandContext& ctx) {
  ctx.out.map(2);
  ctx.out.bulk("running_script");
  ctx.out.null();
  ctx.out.bulk("engines");
  ctx.out.map(1);
  ctx.out.bulk("LUA");
  ctx.out.map(2);
  ctx.out.bulk("libraries_count");
  ctx.out.integer(0);
  ctx.out.bulk("functions_count");
  ctx.out.integer(0);
}

void handle_function_help(CommandContext& ctx) {
  reply_help(ctx.out, ctx.arg(0),
             {"DELETE <LIBRARY NAME>",
              "    Delete the given library.",
              "LIST [LIBRARYNAME PATTERN] [WITHCODE]",
              "    Return general information on all the libraries:",
              "    * Library name",
              "    * The engine used to run the Library",
              "    * Library description",
              "    * Functions list",
              "    * Library code (if WITHCODE is given)",
              "    It also possible to get only function that matches a pattern using LIBRARYNAME argument.",
              "STATS",
              "    Return information about the current function running:",
              "    * Function name",
              "    * Command used to run the function",
              "    * Duration in MS that the function is running",
              "    If no function is running, return nil",
              "    In addition, returns a list of available engines.",
              "KILL",
              "    Kill the current running function.",
              "FLUSH [ASYNC|SYNC]",
              "    Delete all the libraries.",
              "    When called without the optional mode argument, the behavior is determined by the",
              "    lazyfree-lazy-user-flush configuration directive. Valid modes are:",
              "    * ASYNC: Asynchronously flush the libraries.",
              "    * SYNC: Synchronously flush the libraries."});
}

}  // namespace

void register_misc_admin(CommandTable& table) {
  table.add({"swapdb", 3, kWrite | kFast | kAclKeyspace | kAclDangerous, 0, 0, 0, handle_swapdb, "server", "4.0.0", "Swaps two Redis databases."});
  table.add({"function", -2, 0, 0, 0, 0, nullptr, "scripting", "7.0.0", "A container for function commands.",
             {
                 {"flush", -2, kNoScript | kWrite, 0, 0, 0, handle_function_flush, "scripting", "7.0.0",
                  "Deletes all libraries and functions."},
                 {"list", -2, kNoScript, 0, 0, 0, handle_function_list, "scripting", "7.0.0",
                  "Returns information about all libraries."},
                 {"delete", 3, kNoScript | kWrite, 0, 0, 0, handle_function_delete, "scripting", "7.0.0",
                  "Deletes a library and its functions."},
                 {"kill", 2, kNoScript | kAllowBusy, 0, 0, 0, handle_function_kill, "scripting", "7.0.0",
                  "Terminates a function during execution."},
                 {"stats", 2, kNoScript | kAllowBusy, 0, 0, 0, handle_function_stats, "scripting", "7.0.0",
                  "Returns information about a function during execution."},
                 {"help", 2, kLoading | kStale, 0, 0, 0, handle_function_help, "scripting", "7.0.0",
                  "Returns helpful text about the different subcommands."},
             }});
}

}  // namespace rc
