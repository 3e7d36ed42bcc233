// COMMAND, COMMAND COUNT|INFO|DOCS|LIST: answered from the command table, so a command is described where
// it is declared and nowhere else.
#include <string>

#include "server/command_context.h"
#include "server/command_table.h"
#include "server/commands/arguments.h"
#include "server/commands/registry.h"
#include "server/server.h"

namespace rc {
namespace {

struct FlagName {
  uint32_t flag;
  std::string_view name;
};

constexpr FlagName kFlagNames[] = {
    {kWrite, "write"},         {kReadonly, "readonly"},   {kDenyOom, "denyoom"},     {kAdmin, "admin"},
    {kPubSub, "pubsub"},       {kNoScript, "noscript"},   {kBlocking, "blocking"},   {kLoading, "loading"},
    {kStale, "stale"},         {kSkipMonitor, "skip_monitor"}, {kSkipSlowlog, "skip_slowlog"},
    {kFast, "fast"},           {kNoAuth, "no_auth"},      {kNoMandatoryKeys, "no_mandatory_keys"},
    {kNoMulti, "no_multi"},    {kAllowBusy, "allow_busy"}, {kNoAsyncLoading, "no_async_loading"},
    {kMovableKeys, "movablekeys"},
};

// As Redis's setImplicitACLCategories plus the categories its command files list: those the flags imply,
// those of the group (a container such as CLIENT has none of its subcommands'), and the explicit ones.
std::vector<std::string> acl_categories(const CommandSpec& spec) {
  std::vector<std::string> categories;
  const bool container = spec.handler == nullptr;
  if (spec.flags & kWrite) categories.push_back("@write");
  if (spec.flags & kReadonly) categories.push_back("@read");
  if (spec.flags & (kAdmin | kAclAdmin)) categories.push_back("@admin");
  if (spec.flags & (kAdmin | kAclDangerous)) categories.push_back("@dangerous");
  if (spec.flags & kPubSub) categories.push_back("@pubsub");  // before @fast/@slow, in Redis's category order
  categories.push_back(spec.flags & kFast ? "@fast" : "@slow");
  if (spec.flags & kBlocking) categories.push_back("@blocking");
  if (!container && spec.group == "string") categories.push_back("@string");
  if (!container && spec.group == "hash") categories.push_back("@hash");
  if (!container && spec.group == "set") categories.push_back("@set");
  if (!container && spec.group == "list") categories.push_back("@list");
  if (!container && spec.group == "sorted-set") categories.push_back("@sortedset");
  if ((!container && spec.group == "generic") || (spec.flags & kAclKeyspace)) categories.push_back("@keyspace");
  if ((!container && spec.group == "connection") || (spec.flags & kAclConnection)) {
    categories.push_back("@connection");
  }
  if (!container && spec.group == "scripting") categories.push_back("@scripting");
  if (!container && spec.group == "transactions") categories.push_back("@transaction");
  return categories;
}

void reply_info(CommandContext& ctx, const CommandSpec& spec, const CommandSpec* container) {
  ctx.out.array(10);
  ctx.out.bulk(command_fullname(spec, container));
  ctx.out.integer(spec.arity);
  size_t flag_count = 0;
  for (const FlagName& flag : kFlagNames) flag_count += (spec.flags & flag.flag) ? 1 : 0;
  ctx.out.set(flag_count);
  for (const FlagName& flag : kFlagNames) {
    if (spec.flags & flag.flag) ctx.out.simple(flag.name);
  }
  ctx.out.integer(spec.first_key);
  ctx.out.integer(spec.last_key);
  ctx.out.integer(spec.key_step);
  const auto categories = acl_categories(spec);
  ctx.out.set(categories.size());
  for (const auto& category : categories) ctx.out.simple(category);
  ctx.out.set(0);    // tips
  ctx.out.array(0);  // key specifications
  ctx.out.array(spec.subcommands.size());
  for (const CommandSpec& sub : spec.subcommands) reply_info(ctx, sub, &spec);
}

void reply_docs(CommandContext& ctx, const CommandSpec& spec, const CommandSpec* container) {
  ctx.out.map(spec.subcommands.empty() ? 3 : 4);
  ctx.out.bulk("summary");
  ctx.out.bulk(spec.summary);
  ctx.out.bulk("since");
  ctx.out.bulk(spec.since);
  ctx.out.bulk("group");
  ctx.out.bulk(spec.group);
  if (spec.subcommands.empty()) return;
  ctx.out.bulk("subcommands");
  ctx.out.map(spec.subcommands.size());
  for (const CommandSpec& sub : spec.subcommands) {
    ctx.out.bulk(command_fullname(sub, &spec));
    reply_docs(ctx, sub, &spec);
  }
  (void)container;
}

void handle_command(CommandContext& ctx) {
  const auto& all = ctx.server.commands().all();
  ctx.out.array(all.size());
  for (const CommandSpec& spec : all) reply_info(ctx, spec, nullptr);
}

void handle_command_count(CommandContext& ctx) { ctx.out.integer(static_cast<int64_t>(ctx.server.commands().size())); }

void handle_command_list(CommandContext& ctx) {
  const auto& all = ctx.server.commands().all();
  ctx.out.array(all.size());
  for (const CommandSpec& spec : all) ctx.out.bulk(spec.name);
}

// "config|get" names a subcommand, as in Redis 7.
std::pair<const CommandSpec*, const CommandSpec*> lookup(CommandContext& ctx, std::string_view name) {
  const size_t bar = name.find('|');
  const CommandSpec* spec = ctx.server.commands().find(name.substr(0, bar));
  if (spec == nullptr || bar == std::string_view::npos) return {spec, nullptr};
  return {CommandTable::find_subcommand(*spec, name.substr(bar + 1)), spec};
}

void handle_command_info(CommandContext& ctx) {
  if (ctx.argc() == 2) return handle_command(ctx);
  ctx.out.array(ctx.argc() - 2);
  for (size_t i = 2; i < ctx.argc(); ++i) {
    const auto [spec, container] = lookup(ctx, ctx.arg(i));
    if (spec == nullptr) {
      ctx.out.null_array();
    } else {
      reply_info(ctx, *spec, container);
    }
  }
}

void handle_command_docs(CommandContext& ctx) {
  const auto& all = ctx.server.commands().all();
  if (ctx.argc() == 2) {
    ctx.out.map(all.size());
    for (const CommandSpec& spec : all) {
      ctx.out.bulk(spec.name);
      reply_docs(ctx, spec, nullptr);
    }
    return;
  }
  std::vector<std::pair<const CommandSpec*, const CommandSpec*>> found;
  for (size_t i = 2; i < ctx.argc(); ++i) {
    const auto match = lookup(ctx, ctx.arg(i));
    if (match.first != nullptr) found.push_back(match);
  }
  ctx.out.map(found.size());
  for (const auto& [spec, container] : found) {
    ctx.out.bulk(command_fullname(*spec, container));
    reply_docs(ctx, *spec, container);
  }
}

}  // namespace

void register_command_docs(CommandTable& table) {
  constexpr uint32_t kFlags = kLoading | kStale | kAclConnection;
  table.add({"command", -1, kFlags, 0, 0, 0, handle_command, "server", "2.8.13",
             "Returns detailed information about all commands.",
             {
                 {"count", 2, kFlags, 0, 0, 0, handle_command_count, "server", "2.8.13", "Returns a count of commands."},
                 {"info", -2, kFlags, 0, 0, 0, handle_command_info, "server", "2.8.13",
                  "Returns information about one, multiple or all commands."},
                 {"docs", -2, kFlags, 0, 0, 0, handle_command_docs, "server", "7.0.0",
                  "Returns documentary information about one, multiple or all commands."},
                 {"list", -2, kFlags, 0, 0, 0, handle_command_list, "server", "7.0.0", "Returns a list of command names."},
             }});
}

}  // namespace rc
