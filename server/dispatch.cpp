// Command dispatch, in the order Redis's processCommand checks: the command exists, the subcommand exists,
// the arity fits; only then does the handler run.
#include <fmt/format.h>

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

}  // namespace

Database& CommandContext::db() const { return server.keyspace().db(client.db.load(std::memory_order_relaxed)); }

void CommandContext::propagate(std::initializer_list<std::string_view> command) const {
  AofLog* log = AofLog::active();
  aof_tracking::record(log != nullptr ? log->append(client.db.load(std::memory_order_relaxed), command) : 0);
}

void CommandContext::propagate(const std::vector<std::string_view>& command) const {
  AofLog* log = AofLog::active();
  aof_tracking::record(log != nullptr ? log->append(client.db.load(std::memory_order_relaxed), command) : 0);
}

void execute_command(Server& server, ClientSession& client, std::string& out,
                     const std::vector<std::string_view>& argv) {
  ReplyWriter writer(out, client.protocol);
  client.commands_processed.fetch_add(1, std::memory_order_relaxed);
  const CommandSpec* command = server.commands().find(argv[0]);
  if (command == nullptr) return writer.error(unknown_command_error(argv));
  const CommandSpec* container = nullptr;
  if (!command->subcommands.empty() && argv.size() >= 2) {
    const CommandSpec* sub = CommandTable::find_subcommand(*command, argv[1]);
    if (sub == nullptr) return writer.error(errors::unknown_subcommand(argv[1], command->name));
    container = command;
    command = sub;
  }
  if (!arity_ok(command->arity, argv.size())) {
    return writer.error(errors::wrong_arity(command_fullname(*command, container)));
  }
  // As Redis's authRequired: a client needs AUTH only while a password is set (clearing it at run time
  // lets everybody in; setting one leaves already connected clients authenticated).
  if (!client.authenticated && server.config().password_required() && !(command->flags & kNoAuth)) {
    return writer.error(errors::kNoAuth);
  }
  CommandContext context{server, client, writer, argv};
  const size_t reply_start = out.size();
  const uint64_t mutations_before = t_store_mutations;
  const uint64_t propagations_before = aof_tracking::propagations();
  command->handler(context);
  // The reply waits here (no lock held) until the command's AOF entry is written (fsynced with always).
  aof_tracking::finish_command(*command, mutations_before, propagations_before);
  // Save points count changes as Redis's server.dirty, here one per write command that did not fail.
  if ((command->flags & kWrite) && (out.size() == reply_start || out[reply_start] != '-')) {
    server.stats().dirty.fetch_add(1, std::memory_order_relaxed);
  }
  // HELLO may have switched the protocol for the replies that follow.
  client.protocol = writer.protocol();
}

}  // namespace rc
