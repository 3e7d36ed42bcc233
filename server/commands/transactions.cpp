// Transactions: MULTI, EXEC, DISCARD, WATCH and UNWATCH (Redis's multi.c). The dispatcher queues the commands
// sent after MULTI (server/dispatch.cpp); EXEC runs them as one atomic step:
//   - it locks, once and in the fixed order, the shards of every key the queued commands name (every shard of
//     every database when one of them names its keys some other way: numkeys arguments, another database,
//     the whole keyspace), and lets their handlers run on those locks (HeldShardsScope), so no other client
//     sees half of the transaction;
//   - their changes are logged together, wrapped in MULTI/EXEC when there are several (ChangeStream capture);
//   - clients blocked on keys the transaction created are served after its last command, still under its locks.
#include <algorithm>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "protocol/errors.h"
#include "server/command_context.h"
#include "server/command_table.h"
#include "server/commands/registry.h"
#include "server/connection.h"
#include "server/server.h"
#include "store/mutation_counter.h"
#include "store/ready_keys.h"
#include "store/shard_locks.h"

namespace rc {
namespace {

// Commands without keys that touch no shard: a transaction of these and keyed commands locks only the keys.
bool keyless_and_harmless(std::string_view name) {
  static constexpr std::string_view kNames[] = {"ping", "echo", "time", "lastsave", "info", "config", "command",
                                                "client", "hello", "auth", "publish", "multi", "exec", "discard",
                                                "watch", "unwatch", "quit", "reset"};
  return std::find(std::begin(kNames), std::end(kNames), name) != std::end(kNames);
}

// Adds the shards a queued command needs to `locks`; false when it needs them all.
bool add_key_shards(const CommandTable& table, Database& db, const std::vector<std::string>& argv, ShardLocks& locks) {
  const CommandSpec* command = table.find(argv[0]);
  if (command != nullptr && !command->subcommands.empty() && argv.size() >= 2) {
    command = CommandTable::find_subcommand(*command, argv[1]);
  }
  if (command == nullptr) return true;  // answers an error without touching anything
  if ((command->flags & kMovableKeys) || command->name == "move" || command->name == "copy") return false;
  if (command->first_key == 0) return keyless_and_harmless(command->name);
  const int argc = static_cast<int>(argv.size());
  const int last = command->last_key < 0 ? argc + command->last_key : command->last_key;
  const int step = std::max(command->key_step, 1);
  for (int i = command->first_key; i <= last && i < argc; i += step) locks.add(db, argv[static_cast<size_t>(i)]);
  return true;
}

void lock_for(CommandContext& ctx, const std::vector<std::vector<std::string>>& queued, ShardLocks& locks) {
  Keyspace& keyspace = ctx.server.keyspace();
  bool everything = false;
  for (const auto& argv : queued) {
    if (!add_key_shards(ctx.server.commands(), ctx.db(), argv, locks)) everything = true;
  }
  if (everything) {
    for (int db = 0; db < keyspace.database_count(); ++db) locks.add_all(keyspace.db(db));
  }
  locks.lock();
}

// Whether EXEC must fail because of WATCH: a watched key was changed, or has expired since it was watched.
bool watch_broken(CommandContext& ctx) {
  TransactionState& transaction = ctx.client.transaction;
  if (transaction.watcher.dirty.load(std::memory_order_relaxed)) return true;
  for (const auto& [db, key] : transaction.watched) {
    if (watched_keys::expired_since_watch(ctx.server.keyspace().db(db), key, &transaction.watcher)) return true;
  }
  return false;
}

void handle_multi(CommandContext& ctx) {
  TransactionState& transaction = ctx.client.transaction;
  if (transaction.active) return ctx.out.error("ERR MULTI calls can not be nested");
  transaction.active = true;
  ctx.out.ok();
}

void handle_discard(CommandContext& ctx) {
  TransactionState& transaction = ctx.client.transaction;
  if (!transaction.active) return ctx.out.error("ERR DISCARD without MULTI");
  transaction.discard();
  ctx.out.ok();
}

void handle_exec(CommandContext& ctx) {
  TransactionState& transaction = ctx.client.transaction;
  if (!transaction.active) return ctx.out.error("ERR EXEC without MULTI");
  if (transaction.aborted) {
    transaction.discard();
    return ctx.out.error("EXECABORT Transaction discarded because of previous errors.");
  }
  if (watch_broken(ctx)) {
    transaction.discard();
    return ctx.out.null_array();
  }
  std::vector<std::vector<std::string>> queued = std::move(transaction.queued);
  transaction.discard();  // the watches end here too, before the commands run

  ShardLocks locks;
  lock_for(ctx, queued, locks);
  // The queued commands count their changes themselves (the dispatcher adds them to the save points' count);
  // EXEC must not count them again.
  const uint64_t mutations_before = t_store_mutations;
  {
    HeldShardsScope scope(locks.locked());
    ChangeStream::Capture capture;
    ChangeStream::begin_capture(capture);
    transaction.executing = true;
    ctx.out.array(queued.size());
    std::string reply;
    std::vector<std::string_view> argv;
    for (const auto& command : queued) {
      argv.assign(command.begin(), command.end());
      reply.clear();
      execute_command(ctx.server, ctx.client, reply, argv);
      ctx.out.raw(reply);
    }
    transaction.executing = false;
    ctx.server.keyspace().changes().end_capture(capture);
    scope.serve_ready();
  }
  t_store_mutations = mutations_before;
}

// WATCH key [key ...]: EXEC will fail if one of them changes (or expires) before it.
void handle_watch(CommandContext& ctx) {
  TransactionState& transaction = ctx.client.transaction;
  if (transaction.active) return ctx.out.error("ERR WATCH inside MULTI is not allowed");
  // Already dirty: nothing watched now can save this transaction, as Redis skips the work too.
  if (transaction.watcher.dirty.load(std::memory_order_relaxed)) return ctx.out.ok();
  const int db = ctx.client.db.load(std::memory_order_relaxed);
  for (size_t i = 1; i < ctx.argc(); ++i) {
    const std::string_view key = ctx.arg(i);
    const bool known = std::any_of(transaction.watched.begin(), transaction.watched.end(),
                                   [&](const auto& watched) { return watched.first == db && watched.second == key; });
    if (known) continue;
    watched_keys::watch(ctx.db(), key, &transaction.watcher);
    transaction.watched.emplace_back(db, std::string(key));
  }
  ctx.out.ok();
}

void handle_unwatch(CommandContext& ctx) {
  ctx.client.transaction.unwatch_all();
  ctx.out.ok();
}

}  // namespace

void register_transactions(CommandTable& table) {
  constexpr uint32_t kControl = kNoScript | kLoading | kStale | kFast | kAllowBusy;
  //         name       arity flags first last step handler
  table.add({"multi", 1, kControl, 0, 0, 0, handle_multi, "transactions", "1.2.0", "Mark the start of a transaction block"});
  table.add({"exec", 1, kNoScript | kLoading | kStale | kSkipSlowlog, 0, 0, 0, handle_exec, "transactions", "1.2.0",
             "Execute all commands issued after MULTI"});
  table.add({"discard", 1, kControl, 0, 0, 0, handle_discard, "transactions", "2.0.0",
             "Discard all commands issued after MULTI"});
  table.add({"watch", -2, kControl, 1, -1, 1, handle_watch, "transactions", "2.2.0",
             "Watch the given keys to determine execution of the MULTI/EXEC block"});
  table.add({"unwatch", 1, kControl, 0, 0, 0, handle_unwatch, "transactions", "2.2.0",
             "Forget about all watched keys"});
}

}  // namespace rc
