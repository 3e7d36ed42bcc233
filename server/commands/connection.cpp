// Connection commands: PING, ECHO, HELLO, AUTH, SELECT, QUIT and CLIENT.
#include <fmt/format.h>

#include "protocol/errors.h"
#include "protocol/numbers.h"
#include "server/command_context.h"
#include "server/command_table.h"
#include "server/commands/arguments.h"
#include "server/commands/registry.h"
#include "server/server.h"
#include "store/clock.h"

#include "build_info.h"

namespace rc {
namespace {

void handle_ping(CommandContext& ctx) {
  if (ctx.argc() > 2) return ctx.out.error(errors::wrong_arity("ping"));
  // A RESP2 subscriber's replies are arrays shaped as its messages, so that its reader can tell them apart.
  if (ctx.client.subscribed() && !ctx.out.resp3()) {
    ctx.out.array(2);
    ctx.out.bulk("pong");
    return ctx.out.bulk(ctx.argc() == 2 ? ctx.arg(1) : std::string_view());
  }
  if (ctx.argc() == 2) return ctx.out.bulk(ctx.arg(1));
  ctx.out.simple("PONG");
}

void handle_echo(CommandContext& ctx) { ctx.out.bulk(ctx.arg(1)); }

// The only user is "default", as in a Redis without ACL rules: without requirepass it accepts any
// password ("nopass"), with it only that password (compared in constant time).
bool authenticate(CommandContext& ctx, std::string_view user, std::string_view password) {
  if (user != "default") return false;
  return !ctx.server.config().password_required() || ctx.server.config().password_matches(password);
}

void handle_auth(CommandContext& ctx) {
  if (ctx.argc() > 3) return ctx.out.error(errors::kSyntax);
  if (ctx.argc() == 2 && !ctx.server.config().password_required()) {
    return ctx.out.error(
        "ERR AUTH <password> called without any password configured for the default user. "
        "Are you sure your configuration is correct?");
  }
  const std::string_view user = ctx.argc() == 2 ? "default" : ctx.arg(1);
  if (!authenticate(ctx, user, ctx.arg(ctx.argc() - 1))) return ctx.out.error(errors::kWrongPass);
  ctx.client.authenticated = true;
  ctx.out.ok();
}

// Client names may not contain spaces or special characters: CLIENT LIST must stay splittable by spaces.
bool valid_client_name(std::string_view name) {
  for (const char c : name) {
    if (c < '!' || c > '~') return false;
  }
  return true;
}

bool set_client_name_or_reply(CommandContext& ctx, std::string_view name) {
  if (!valid_client_name(name)) {
    ctx.out.error("ERR Client names cannot contain spaces, newlines or special characters.");
    return false;
  }
  std::lock_guard lock(ctx.client.mutex);
  ctx.client.name = std::string(name);
  return true;
}

void handle_hello(CommandContext& ctx) {
  int64_t version = 0;
  size_t next = 1;
  if (ctx.argc() >= 2) {
    const auto parsed = parse_int64(ctx.arg(next++));
    if (!parsed) return ctx.out.error("ERR Protocol version is not an integer or out of range");
    if (*parsed < 2 || *parsed > 3) return ctx.out.error(errors::kNoProto);
    version = *parsed;
  }
  for (size_t j = next; j < ctx.argc(); ++j) {
    const size_t more = ctx.argc() - 1 - j;
    if (is_word(ctx.arg(j), "auth") && more >= 2) {
      if (!authenticate(ctx, ctx.arg(j + 1), ctx.arg(j + 2))) return ctx.out.error(errors::kWrongPass);
      ctx.client.authenticated = true;
      j += 2;
    } else if (is_word(ctx.arg(j), "setname") && more >= 1) {
      if (!set_client_name_or_reply(ctx, ctx.arg(j + 1))) return;
      ++j;
    } else {
      const std::string_view option = ctx.arg(j);
      return ctx.out.error(fmt::format("ERR Syntax error in HELLO option '{}'", option.substr(0, option.find('\0'))));
    }
  }
  if (!ctx.client.authenticated && ctx.server.config().password_required()) {
    return ctx.out.error(
        "NOAUTH HELLO must be called with the client already authenticated, otherwise the HELLO AUTH "
        "<user> <pass> option can be used to authenticate the client and select the RESP protocol version "
        "at the same time");
  }
  if (version != 0) ctx.out.set_protocol(static_cast<int>(version));
  ctx.out.map(7);
  ctx.out.bulk("server");
  ctx.out.bulk("redis");
  ctx.out.bulk("version");
  ctx.out.bulk(REDIS_COMPAT_VERSION);
  ctx.out.bulk("proto");
  ctx.out.integer(ctx.out.protocol());
  ctx.out.bulk("id");
  ctx.out.integer(static_cast<int64_t>(ctx.client.id));
  ctx.out.bulk("mode");
  ctx.out.bulk("standalone");
  ctx.out.bulk("role");
  ctx.out.bulk("master");
  ctx.out.bulk("modules");
  ctx.out.array(0);
}

void handle_select(CommandContext& ctx) {
  const auto index = db_index_or_reply(ctx, ctx.arg(1));
  if (!index) return;
  ctx.client.db.store(*index);
  ctx.out.ok();
}

// RESET: the connection as if it had just connected (Redis's clearClientConnectionState): no subscriptions,
// database 0, RESP2, no name, and authenticated only if no password is required.
void handle_reset(CommandContext& ctx) {
  ctx.client.transaction.discard();  // RESET also ends MULTI and every WATCH
  ctx.server.pubsub().forget(ctx.client);
  ctx.client.db.store(0);
  ctx.out.set_protocol(2);
  ctx.client.authenticated = !ctx.server.config().password_required();
  ctx.client.reply_off = false;
  ctx.client.reply_skip_next = false;
  {
    std::lock_guard lock(ctx.client.mutex);
    ctx.client.name.clear();
  }
  ctx.out.simple("RESET");
}

void handle_quit(CommandContext& ctx) {
  ctx.client.close_after_reply = true;
  ctx.out.ok();
}

// ---- CLIENT ----

void handle_client_id(CommandContext& ctx) { ctx.out.integer(static_cast<int64_t>(ctx.client.id)); }

void handle_client_setname(CommandContext& ctx) {
  if (set_client_name_or_reply(ctx, ctx.arg(2))) ctx.out.ok();
}

void handle_client_getname(CommandContext& ctx) {
  std::string name;
  {
    std::lock_guard lock(ctx.client.mutex);
    name = ctx.client.name;
  }
  if (name.empty()) return ctx.out.null();
  ctx.out.bulk(name);
}

// CLIENT SETINFO LIB-NAME|LIB-VER value (Redis 7.2; clients such as go-redis v9 send it on connect).
void handle_client_setinfo(CommandContext& ctx) {
  const std::string_view attribute = ctx.arg(2);
  const std::string_view value = ctx.arg(3);
  const bool lib_name = is_word(attribute, "lib-name");
  if (!lib_name && !is_word(attribute, "lib-ver")) {
    return ctx.out.error(fmt::format("ERR Unrecognized option '{}'", attribute.substr(0, attribute.find('\0'))));
  }
  if (!valid_client_name(value)) {
    return ctx.out.error(fmt::format("ERR {} cannot contain spaces, newlines or special characters.",
                                     lib_name ? "lib-name" : "lib-ver"));
  }
  std::lock_guard lock(ctx.client.mutex);
  (lib_name ? ctx.client.lib_name : ctx.client.lib_version) = std::string(value);
  ctx.out.ok();
}

// The flags= field, in Redis's order: P (has subscriptions), b (blocked); N when none applies.
std::string client_flags(const ClientSession& client) {
  std::string flags;
  if (client.subscribed()) flags += 'P';
  if (client.blocked.load()) flags += 'b';
  return flags.empty() ? "N" : flags;
}

// One line of CLIENT LIST / CLIENT INFO, with Redis 7's field names.
std::string describe_client(const ClientSession& client, int64_t now_ms) {
  const CommandSpec* last_command = client.last_command.load(std::memory_order_relaxed);
  std::lock_guard lock(client.mutex);
  return fmt::format(
      "id={} addr={} laddr={} fd={} name={} age={} idle={} flags={} db={} sub={} psub={} ssub={} multi=-1 "
      "qbuf={} qbuf-free={} argv-mem=0 multi-mem=0 rbs=0 rbp=0 obl=0 oll=0 omem=0 tot-mem=0 events=r "
      "cmd={} user=default redir=-1 resp={} lib-name={} lib-ver={}\n",
      client.id, client.peer, client.local, client.fd, client.name, (now_ms - client.created_ms) / 1000,
      (now_ms - client.last_interaction_ms.load()) / 1000, client_flags(client), client.db.load(),
      client.channel_subscriptions.load(), client.pattern_subscriptions.load(), client.shard_subscriptions.load(),
      client.query_buffer.load(),
      client.query_buffer_free.load(), last_command == nullptr ? "NULL" : last_command->fullname,
      client.protocol.load(), client.lib_name, client.lib_version);
}

void handle_client_list(CommandContext& ctx) {
  std::string text;
  const int64_t now = unix_time_ms();
  ctx.server.clients().for_each([&](const ClientSession& client) { text += describe_client(client, now); });
  ctx.out.verbatim(text);
}

// CLIENT UNBLOCK id [TIMEOUT|ERROR]: ends another client's blocking command, with the reply of a timeout or an
// UNBLOCKED error; 1 if it was blocked, else 0.
void handle_client_unblock(CommandContext& ctx) {
  if (ctx.argc() > 4) return ctx.out.error(errors::unknown_subcommand_or_arity(ctx.arg(1), "client"));
  bool with_error = false;
  if (ctx.argc() == 4) {
    with_error = is_word(ctx.arg(3), "error");
    if (!with_error && !is_word(ctx.arg(3), "timeout")) {
      return ctx.out.error("ERR CLIENT UNBLOCK reason should be TIMEOUT or ERROR");
    }
  }
  const auto id = parse_int64(ctx.arg(2));
  if (!id) return ctx.out.error(errors::kNotInteger);
  ctx.out.integer(*id > 0 && ctx.server.blocking().unblock(static_cast<uint64_t>(*id), with_error) ? 1 : 0);
}

// CLIENT REPLY ON|OFF|SKIP (the dispatcher drops the replies).
void handle_client_reply(CommandContext& ctx) {
  const std::string_view mode = ctx.arg(2);
  if (is_word(mode, "on")) {
    ctx.client.reply_off = false;
    ctx.client.reply_skip = false;
    ctx.client.reply_skip_next = false;
    return ctx.out.ok();
  }
  if (is_word(mode, "off")) {
    ctx.client.reply_off = true;
    return;
  }
  if (is_word(mode, "skip")) {
    if (!ctx.client.reply_off) ctx.client.reply_skip_next = true;
    return;
  }
  ctx.out.error(errors::kSyntax);
}

void handle_client_info(CommandContext& ctx) { ctx.out.verbatim(describe_client(ctx.client, unix_time_ms())); }

}  // namespace

void register_connection(CommandTable& table) {
  constexpr uint32_t kConn = kNoScript | kLoading | kStale | kFast;
  constexpr uint32_t kClient = kNoScript | kLoading | kStale;  // CLIENT's subcommands are not "fast"
  table.add({"ping", -1, kFast, 0, 0, 0, handle_ping, "connection", "1.0.0", "Returns the server's liveliness response."});
  table.add({"echo", 2, kFast | kLoading | kStale, 0, 0, 0, handle_echo, "connection", "1.0.0", "Returns the given string."});
  table.add({"hello", -1, kConn | kNoAuth | kAllowBusy, 0, 0, 0, handle_hello, "connection", "6.0.0",
             "Handshakes with the Redis server."});
  table.add({"auth", -2, kConn | kNoAuth | kAllowBusy, 0, 0, 0, handle_auth, "connection", "1.0.0",
             "Authenticates the connection."});
  table.add({"select", 2, kLoading | kStale | kFast, 0, 0, 0, handle_select, "connection", "1.0.0",
             "Changes the selected database."});
  table.add({"reset", 1, kNoScript | kLoading | kStale | kFast | kNoAuth | kAllowBusy, 0, 0, 0, handle_reset,
             "connection", "6.2.0", "Reset the connection"});
  table.add({"quit", -1, kNoAuth | kAllowBusy | kFast | kLoading | kStale | kNoScript, 0, 0, 0, handle_quit,
             "connection", "1.0.0", "Closes the connection."});
  table.add({"client", -2, 0, 0, 0, 0, nullptr, "connection", "2.4.0", "A container for client connection commands.",
             {
                 {"id", 2, kClient, 0, 0, 0, handle_client_id, "connection", "5.0.0", "Returns the unique client ID of the connection."},
                 {"setname", 3, kClient, 0, 0, 0, handle_client_setname, "connection", "2.6.9", "Sets the connection name."},
                 {"getname", 2, kClient, 0, 0, 0, handle_client_getname, "connection", "2.6.9", "Returns the name of the connection."},
                 {"setinfo", 4, kClient, 0, 0, 0, handle_client_setinfo, "connection", "7.2.0",
                  "Sets information specific to the client or connection."},
                 {"list", -2, kAdmin | kNoScript | kLoading | kStale, 0, 0, 0, handle_client_list, "connection", "2.4.0",
                  "Lists open connections."},
                 {"reply", 3, kClient, 0, 0, 0, handle_client_reply, "connection", "3.2.0",
                  "Instruct the server whether to reply to commands"},
                 {"info", 2, kClient, 0, 0, 0, handle_client_info, "connection", "6.2.0",
                  "Returns information about the connection."},
                 {"unblock", -3, kAdmin | kNoScript | kLoading | kStale, 0, 0, 0, handle_client_unblock, "connection",
                  "5.0.0", "Unblocks a client blocked by a blocking command from a different connection."},
             }});
}

}  // namespace rc
