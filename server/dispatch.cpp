// Command dispatch, in the order Redis's processCommand checks: the command exists, the subcommand exists,
// the arity fits, the client is authenticated, the disk accepts writes, a RESP2 subscriber runs only pub/sub
// commands; only then does the handler run.
#include <algorithm>
#include <iterator>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "protocol/errors.h"
#include "protocol/reply_writer.h"
#include "server/aof_log.h"
#include "server/command_context.h"
#include "server/command_table.h"
#include "server/connection.h"
#include "server/server.h"
#include "store/mutation_counter.h"

namespace rc {
namespace {

// "unknown command 'foo', with args beginning with: 'a' 'b' " as Redis builds it: each argument quoted,
// the list cut once it reaches 128 characters, and every piece read as a C string (a NUL ends it).
std::string unknown_command_error(const std::vector<std::string_view>& argv) {
  auto c_string = [](std::string_view text, size_t limit) {
    const size_t nul = text.find('\0');
    return text.substr(0, std::min(nul, limit));
  };
  std::string args;
  for (size_t i = 1; i < argv.size() && args.size() < 128; ++i) {
    args += fmt::format("'{}' ", c_string(argv[i], 128 - args.size()));
  }
  return fmt::format("ERR unknown command '{}', with args beginning with: {}", c_string(argv[0], 128), args);
}

bool arity_ok(int arity, size_t argc) {
  return arity > 0 ? argc == static_cast<size_t>(arity) : argc >= static_cast<size_t>(-arity);
}

// Redis refuses PING too while the disk fails, so that monitoring that only pings notices.
bool refused_while_disk_fails(const CommandSpec& command) {
  return (command.flags & kWrite) || command.name == "ping";
}

// As Redis's writeCommandsDeniedByDiskError: the MISCONF error to refuse writes with, checking a failed
// background save first, then the AOF. (The AOF load's replay never gets here with an error: neither a
// save nor the log can have failed before the server starts.)
std::optional<std::string> disk_error_refusal(Server& server) {
  if (server.persistence().refuses_writes()) return std::string(errors::kMisconfBgsave);
  const AofLog& log = server.aof();
  if (!log.logging()) return std::nullopt;
  if (const int error = log.disk_error(); error != 0) return errors::misconf_aof(error);
  return std::nullopt;
}

// Inside MULTI every command is queued (+QUEUED) instead of run, except those that end or shape the
// transaction itself, as Redis's processCommand.
bool runs_inside_multi(const CommandSpec& command) {
  static constexpr std::string_view kImmediate[] = {"exec", "discard", "multi", "watch", "quit", "reset"};
  for (const std::string_view name : kImmediate) {
    if (command.name == name) return true;
  }
  return false;
}

// What a RESP2 client with subscriptions may still run (Redis's processCommand); RESP3 clients run anything,
// since their messages arrive as push frames that cannot be mistaken for replies.
bool allowed_while_subscribed(const CommandSpec& command, const CommandSpec* container) {
  if (container != nullptr) return false;
  static constexpr std::string_view kAllowed[] = {"ping",         "subscribe",   "ssubscribe", "unsubscribe",
                                                  "sunsubscribe", "psubscribe",  "punsubscribe", "quit",
                                                  "reset"};
  return std::find(std::begin(kAllowed), std::end(kAllowed), command.name) != std::end(kAllowed);
}

}  // namespace

Database& CommandContext::db() const { return server.keyspace().db(client.db.load(std::memory_order_relaxed)); }

void CommandContext::count_lookup(const Entry* entry) const { server.stats().lookups.record(entry != nullptr); }

bool CommandContext::wrong_type(const Entry* entry, ValueType type) const {
  if (entry == nullptr || entry->type() == type) return false;
  out.error(errors::kWrongType);
  return true;
}

// The change goes to the server's change stream, which hands it to the AOF (if on) under its ordering; the
// AOF remembers, for this thread, which offset its replies must wait for.
void CommandContext::propagate(std::initializer_list<std::string_view> command) const {
  server.keyspace().changes().publish(client.db.load(std::memory_order_relaxed), command);
}

void CommandContext::propagate(const std::vector<std::string_view>& command) const {
  server.keyspace().changes().publish(client.db.load(std::memory_order_relaxed), command);
}

namespace {

void run_command(Server& server, ClientSession& client, std::string& out, const std::vector<std::string_view>& argv) {
  ReplyWriter writer(out, client.protocol.load(std::memory_order_relaxed));
  client.commands_processed.fetch_add(1, std::memory_order_relaxed);
  TransactionState& transaction = client.transaction;
  // A command refused before it runs makes a transaction being queued fail at EXEC (Redis's flagTransaction).
  auto refuse = [&](std::string_view error) {
    if (transaction.active) transaction.aborted = true;
    writer.error(error);
  };
  const CommandSpec* command = server.commands().find(argv[0]);
  const CommandSpec* container = nullptr;
  if (command != nullptr && !command->subcommands.empty() && argv.size() >= 2) {
    container = command;
    command = CommandTable::find_subcommand(*container, argv[1]);
  }
  client.last_command.store(command, std::memory_order_relaxed);
  if (command == nullptr && container != nullptr) return refuse(errors::unknown_subcommand(argv[1], container->name));
  if (command == nullptr) return refuse(unknown_command_error(argv));
  if (!arity_ok(command->arity, argv.size())) return refuse(errors::wrong_arity(command_fullname(*command, container)));
  // As Redis's authRequired: a client needs AUTH only while a password is set (clearing it at run time
  // lets everybody in; setting one leaves already connected clients authenticated).
  if (!client.authenticated && server.config().password_required() && !(command->flags & kNoAuth)) {
    return refuse(errors::kNoAuth);
  }
  if (transaction.active && (command->flags & kNoMulti)) return refuse("ERR Command not allowed inside a transaction");
  if (refused_while_disk_fails(*command)) {
    if (auto refusal = disk_error_refusal(server)) return refuse(*refusal);
  }
  if (client.subscribed() && !writer.resp3() && !allowed_while_subscribed(*command, container)) {
    return writer.error(fmt::format(
        "ERR Can't execute '{}': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET are allowed in this "
        "context",
        command_fullname(*command, container)));
  }
  // While the data files load (the server listens first, as Redis), only commands with the "loading"
  // flag run. The AOF replay's own client, which has no connection, is the load itself.
  if (server.loading().active() && !(command->flags & kLoading) && client.fd >= 0) return refuse(errors::kLoading);
  if (transaction.active && !runs_inside_multi(*command)) {
    transaction.queued.emplace_back(argv.begin(), argv.end());
    return writer.simple("QUEUED");
  }
  CommandContext context{server, client, writer, argv};
  const uint64_t mutations_before = t_store_mutations;
  const uint64_t published_before = ChangeStream::published_by_this_thread();
  command->handler(context);
  // The reply waits for the command's AOF entry in Connection::flush, with the rest of its batch.
  if ((command->flags & kWrite) && t_store_mutations != mutations_before &&
      ChangeStream::published_by_this_thread() == published_before) {
    spdlog::error("BUG: command '{}' changed the dataset without publishing the change", command->name);
  }
  // Save points count the keys changed, as Redis's server.dirty (see mutation_counter.h).
  if (const uint64_t changes = t_store_mutations - mutations_before; changes != 0) {
    server.stats().dirty.fetch_add(changes, std::memory_order_relaxed);
  }
  // HELLO may have switched the protocol for the replies that follow.
  client.protocol.store(writer.protocol(), std::memory_order_relaxed);
}

}  // namespace

void execute_command(Server& server, ClientSession& client, std::string& out,
                     const std::vector<std::string_view>& argv) {
  const size_t reply_start = out.size();
  run_command(server, client, out, argv);
  // As Redis, CLIENT REPLY OFF/SKIP drops every reply, errors included, and is read after the command ran (so
  // that CLIENT REPLY ON's own +OK goes out).
  if (client.reply_off || client.reply_skip) out.resize(reply_start);
  client.reply_skip = client.reply_skip_next;
  client.reply_skip_next = false;
}

}  // namespace rc
