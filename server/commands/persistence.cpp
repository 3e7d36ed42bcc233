// Persistence commands: SAVE, BGSAVE, LASTSAVE and SHUTDOWN, with Redis 7.0's replies and errors. The
// work is done by the server's Persistence (server/persistence.h).
#include "protocol/errors.h"
#include "server/aof_log.h"
#include "server/command_context.h"
#include "server/command_table.h"
#include "server/commands/arguments.h"
#include "server/commands/registry.h"
#include "server/persistence.h"
#include "server/server.h"

namespace rc {
namespace {

constexpr std::string_view kBackgroundInProgress = "ERR Background save already in progress";

// SAVE: synchronous, under every shard lock in shared mode; refused while a BGSAVE child runs.
void handle_save(CommandContext& ctx) {
  switch (ctx.server.persistence().save()) {
    case SaveOutcome::Ok:
      return ctx.out.ok();
    case SaveOutcome::BackgroundInProgress:
      return ctx.out.error(kBackgroundInProgress);
    case SaveOutcome::Failed:
      return ctx.out.error("ERR");  // Redis's shared.err; the reason is in the log
  }
}

// BGSAVE [SCHEDULE]. SCHEDULE only matters when another kind of child (an AOF rewrite) runs: the save
// starts when it ends. A running BGSAVE is an error either way, as in Redis.
void handle_bgsave(CommandContext& ctx) {
  if (ctx.argc() > 2 || (ctx.argc() == 2 && !is_word(ctx.arg(1), "schedule"))) return ctx.out.error(errors::kSyntax);
  switch (ctx.server.persistence().bgsave(ctx.argc() == 2)) {
    case BgsaveOutcome::Started:
      return ctx.out.simple("Background saving started");
    case BgsaveOutcome::Scheduled:
      return ctx.out.simple("Background saving scheduled");
    case BgsaveOutcome::OtherChildActive:
      return ctx.out.error(
          "ERR Another child process is active (AOF?): can't BGSAVE right now. Use BGSAVE SCHEDULE in order to "
          "schedule a BGSAVE whenever possible.");
    case BgsaveOutcome::AlreadyInProgress:
      return ctx.out.error(kBackgroundInProgress);
    case BgsaveOutcome::Failed:
      return ctx.out.error("ERR");
  }
}

// The start counts as a save until the first one succeeds, as in Redis.
void handle_lastsave(CommandContext& ctx) { ctx.out.integer(ctx.server.persistence().last_save_time()); }

struct ShutdownFlags {
  bool nosave = false;
  bool save = false;
  bool now = false;    // accepted: there are no replicas to wait for
  bool force = false;  // shut down even when the save fails
  bool abort = false;
};

// SHUTDOWN [NOSAVE|SAVE] [NOW] [FORCE] [ABORT]. On success there is no reply: the server closes every
// connection and exits. The save runs here, so that a failure can be answered ("Errors trying to
// SHUTDOWN") and the server keep running; the exit path saves again only if keys changed meanwhile.
void handle_shutdown(CommandContext& ctx) {
  ShutdownFlags flags;
  for (size_t i = 1; i < ctx.argc(); ++i) {
    const std::string_view word = ctx.arg(i);
    if (is_word(word, "nosave")) {
      flags.nosave = true;
    } else if (is_word(word, "save")) {
      flags.save = true;
    } else if (is_word(word, "now")) {
      flags.now = true;
    } else if (is_word(word, "force")) {
      flags.force = true;
    } else if (is_word(word, "abort")) {
      flags.abort = true;
    } else {
      return ctx.out.error(errors::kSyntax);
    }
  }
  const bool other_flags = flags.nosave || flags.save || flags.now || flags.force;
  if ((flags.abort && other_flags) || (flags.nosave && flags.save)) return ctx.out.error(errors::kSyntax);
  if (flags.abort) return ctx.out.error("ERR No shutdown in progress.");
  // As Redis: a save now would write a half-loaded dataset over the file being loaded.
  if (ctx.server.loading().active()) {
    flags.save = false;
    flags.nosave = true;
  }
  if (ctx.server.aof().refuses_shutdown(flags.force)) {
    return ctx.out.error(errors::kShutdownFailed);
  }
  Persistence& persistence = ctx.server.persistence();
  const bool wants_save = flags.save || (!flags.nosave && persistence.save_points_configured());
  const bool saved = wants_save && persistence.save_for_shutdown();
  if (wants_save && !saved && !flags.force) return ctx.out.error(errors::kShutdownFailed);
  persistence.set_shutdown_mode(saved ? ShutdownSave::Save : ShutdownSave::NoSave);
  ctx.server.request_shutdown();
}

}  // namespace

void register_persistence(CommandTable& table) {
  table.add({"save", 1, kAdmin | kNoScript | kNoMulti | kNoAsyncLoading, 0, 0, 0, handle_save, "server", "1.0.0",
             "Synchronously saves the database(s) to disk."});
  table.add({"bgsave", -1, kAdmin | kNoScript | kNoAsyncLoading, 0, 0, 0, handle_bgsave, "server", "1.0.0",
             "Asynchronously saves the database(s) to disk."});
  table.add({"lastsave", 1, kLoading | kStale | kFast | kAclAdmin | kAclDangerous, 0, 0, 0, handle_lastsave, "server", "1.0.0",
             "Returns the Unix timestamp of the last successful save to disk."});
  table.add({"shutdown", -1, kAdmin | kNoScript | kLoading | kStale | kNoMulti | kAllowBusy, 0, 0, 0, handle_shutdown,
             "server", "1.0.0", "Synchronously saves the database(s) to disk and shuts down the Redis server."});
}

}  // namespace rc
