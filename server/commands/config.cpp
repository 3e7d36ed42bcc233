// CONFIG GET|SET|RESETSTAT. CONFIG GET answers Redis's parameter names with our effective values, which is
// what redis-benchmark, redis-cli and client libraries ask for when they connect.
#include <fmt/format.h>

#include "protocol/errors.h"
#include "server/command_context.h"
#include "server/command_table.h"
#include "server/commands/arguments.h"
#include "server/commands/registry.h"
#include "server/server.h"
#include "store/glob.h"

namespace rc {
namespace {

std::vector<std::pair<std::string, std::string>> config_values(Server& server) {
  const ServerOptions& options = server.options();
  return {
      {"bind", options.host.empty() ? "* -::*" : options.host},
      {"port", std::to_string(server.port())},
      {"databases", std::to_string(options.databases)},
      {"maxclients", std::to_string(server.max_clients())},
      {"timeout", "0"},
      {"tcp-keepalive", "300"},
      {"protected-mode", "no"},
      {"save", ""},
      {"appendonly", "no"},
      {"appendfsync", "everysec"},
      {"dir", "/"},
      {"dbfilename", "dump.rdb"},
      {"maxmemory", "0"},
      {"maxmemory-policy", "noeviction"},
      {"proto-max-bulk-len", "536870912"},
      {"client-query-buffer-limit", "1073741824"},
      {"lazyfree-lazy-user-flush", "no"},
      {"loglevel", options.loglevel},
      {"hz", "10"},
      {"requirepass", ""},
      {"io-threads", "1"},
      {"cluster-enabled", "no"},
      {"slave-read-only", "yes"},
      {"replica-read-only", "yes"},
  };
}

void handle_config_get(CommandContext& ctx) {
  const auto values = config_values(ctx.server);
  std::vector<const std::pair<std::string, std::string>*> matched;
  for (const auto& entry : values) {
    for (size_t i = 2; i < ctx.argc(); ++i) {
      if (glob_match(ctx.arg(i), entry.first, true)) {
        matched.push_back(&entry);
        break;
      }
    }
  }
  ctx.out.map(matched.size());
  for (const auto* entry : matched) {
    ctx.out.bulk(entry->first);
    ctx.out.bulk(entry->second);
  }
}

void handle_config_set(CommandContext& ctx) {
  if (ctx.argc() % 2 != 0) return ctx.out.error(errors::wrong_arity("config|set"));
  // None of our parameters can change at run time yet: say so the way Redis does for unknown ones.
  const auto values = config_values(ctx.server);
  const std::string_view name = ctx.arg(2);
  for (const auto& entry : values) {
    if (is_word(name, entry.first)) {
      return ctx.out.error(fmt::format(
          "ERR CONFIG SET failed (possibly related to argument '{}') - can't set immutable config", entry.first));
    }
  }
  ctx.out.error(fmt::format("ERR Unknown option or number of arguments for CONFIG SET - '{}'", name));
}

void handle_config_resetstat(CommandContext& ctx) { ctx.out.ok(); }

}  // namespace

void register_config(CommandTable& table) {
  constexpr uint32_t kAdminFlags = kAdmin | kNoScript | kLoading | kStale;
  table.add({"config", -2, 0, 0, 0, 0, nullptr, "server", "2.0.0", "A container for server configuration commands.",
             {
                 {"get", -3, kAdminFlags, 0, 0, 0, handle_config_get, "server", "2.0.0",
                  "Returns the effective values of configuration parameters."},
                 {"set", -4, kAdminFlags | kMayReplicate, 0, 0, 0, handle_config_set, "server", "2.0.0",
                  "Sets configuration parameters in-flight."},
                 {"resetstat", 2, kAdminFlags, 0, 0, 0, handle_config_resetstat, "server", "2.0.0",
                  "Resets the server's statistics."},
             }});
}

}  // namespace rc
