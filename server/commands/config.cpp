// CONFIG GET|SET|RESETSTAT. CONFIG GET answers Redis's parameter names with our effective values, which is
// what redis-benchmark, redis-cli and client libraries ask for when they connect.
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "protocol/errors.h"
#include "server/aof_log.h"
#include "server/command_context.h"
#include "server/command_table.h"
#include "server/commands/arguments.h"
#include "server/commands/registry.h"
#include "server/server.h"
#include "server/descriptor_limit.h"
#include "server/log_level.h"

#include <algorithm>

namespace rc {
namespace {

void handle_config_get(CommandContext& ctx) {
  const std::vector<std::string_view> patterns(ctx.argv.begin() + 2, ctx.argv.end());
  const auto matched = ctx.server.config().matching(patterns);
  ctx.out.map(matched.size());
  for (const auto& [name, value] : matched) {
    ctx.out.bulk(name);
    ctx.out.bulk(value);
  }
}

// CONFIG SET name value [name value ...]: all or nothing, as in Redis 7 (every value is checked first).
void handle_config_set(CommandContext& ctx) {
  Config& config = ctx.server.config();
  if (ctx.argc() % 2 != 0) return ctx.out.error(errors::kSyntax);
  for (size_t i = 2; i < ctx.argc(); i += 2) {
    const std::string_view name = ctx.arg(i);
    if (!config.known(name)) {
      return ctx.out.error(fmt::format("ERR Unknown option or number of arguments for CONFIG SET - '{}'", name));
    }
    for (size_t j = 2; j < i; j += 2) {
      if (is_word(ctx.arg(j), name)) {
        return ctx.out.error(fmt::format("ERR CONFIG SET failed (possibly related to argument '{}') - "
                                         "duplicate parameter", name));
      }
    }
    if (!config.is_mutable(name)) {
      return ctx.out.error(fmt::format(
          "ERR CONFIG SET failed (possibly related to argument '{}') - can't set immutable config", name));
    }
  }
  std::vector<std::pair<std::string, std::string>> previous;
  for (size_t i = 2; i < ctx.argc(); i += 2) {
    const std::string name = ascii_lowercase(ctx.arg(i));
    previous.emplace_back(name, config.text(name));
    if (const auto error = config.set(name, ctx.arg(i + 1), false)) {
      for (const auto& [restore, value] : previous) config.restore(restore, value);
      return ctx.out.error(fmt::format("ERR CONFIG SET failed (possibly related to argument '{}') - {}", name, *error));
    }
  }
  // As Redis's updateAppendonly: the AOF starts or stops after every value was accepted; when it cannot
  // start, every value goes back.
  for (const auto& [name, value] : previous) {
    if (name != "appendonly") continue;
    AofLog& log = ctx.server.aof();
    if (config.text(name) == "yes") {
      const auto error = log.enable();
      if (error) {
        spdlog::warn("{}", *error);
        for (const auto& [restore, old] : previous) config.restore(restore, old);
        return ctx.out.error(fmt::format("ERR CONFIG SET failed (possibly related to argument '{}') - "
                                         "Unable to turn on AOF. Check server logs.", name));
      }
    } else {
      log.disable();
    }
  }
  ctx.server.apply_config();
  apply_log_level(config.text("loglevel"));
  raise_descriptor_limit(static_cast<size_t>(config.maxclients()));
  ctx.out.ok();
}

void handle_config_rewrite(CommandContext& ctx) {
  if (const auto error = ctx.server.config().rewrite()) return ctx.out.error(*error);
  ctx.out.ok();
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
                 {"rewrite", 2, kAdminFlags, 0, 0, 0, handle_config_rewrite, "server", "2.8.0",
                  "Persists the effective configuration to file."},
                 {"resetstat", 2, kAdminFlags, 0, 0, 0, handle_config_resetstat, "server", "2.0.0",
                  "Resets the server's statistics."},
             }});
}

}  // namespace rc
