// Publish/subscribe commands: SUBSCRIBE, UNSUBSCRIBE, PSUBSCRIBE, PUNSUBSCRIBE, PUBLISH, their shard forms
// (SSUBSCRIBE, SUNSUBSCRIBE, SPUBLISH) and PUBSUB. The registry (server/pubsub.h) does the work and writes the
// confirmations; a client with subscriptions is restricted in RESP2 by the dispatcher.
#include <string_view>
#include <vector>

#include "protocol/errors.h"
#include "server/command_context.h"
#include "server/command_table.h"
#include "server/commands/help_reply.h"
#include "server/commands/registry.h"
#include "server/pubsub.h"
#include "server/server.h"

namespace rc {
namespace {

using Kind = PubSubRegistry::Kind;

std::vector<std::string_view> arguments_from(const CommandContext& ctx, size_t first) {
  return std::vector<std::string_view>(ctx.argv.begin() + static_cast<std::ptrdiff_t>(first), ctx.argv.end());
}

void handle_subscribe(CommandContext& ctx) {
  ctx.server.pubsub().subscribe(ctx.client, ctx.out, arguments_from(ctx, 1), Kind::Channel);
}

void handle_ssubscribe(CommandContext& ctx) {
  ctx.server.pubsub().subscribe(ctx.client, ctx.out, arguments_from(ctx, 1), Kind::Shard);
}

void handle_unsubscribe(CommandContext& ctx) {
  ctx.server.pubsub().unsubscribe(ctx.client, ctx.out, arguments_from(ctx, 1), Kind::Channel);
}

void handle_sunsubscribe(CommandContext& ctx) {
  ctx.server.pubsub().unsubscribe(ctx.client, ctx.out, arguments_from(ctx, 1), Kind::Shard);
}

void handle_psubscribe(CommandContext& ctx) {
  ctx.server.pubsub().psubscribe(ctx.client, ctx.out, arguments_from(ctx, 1));
}

void handle_punsubscribe(CommandContext& ctx) {
  ctx.server.pubsub().punsubscribe(ctx.client, ctx.out, arguments_from(ctx, 1));
}

// A client that publishes to a channel it listens to (possible in RESP3) gets its own message before the
// PUBLISH reply, as in Redis, where both go to the same output buffer in that order.
void publish(CommandContext& ctx, Kind kind) {
  const size_t receivers = ctx.server.pubsub().publish(ctx.arg(1), ctx.arg(2), kind);
  if (Subscriber* own = ctx.client.subscriber_if_made()) {
    std::string queued;
    own->take_outbox(queued);
    ctx.out.raw(queued);
  }
  ctx.out.integer(static_cast<int64_t>(receivers));
}

void handle_publish(CommandContext& ctx) { publish(ctx, Kind::Channel); }
void handle_spublish(CommandContext& ctx) { publish(ctx, Kind::Shard); }

// PUBSUB's own argument checks come after the table's arity (-2): CHANNELS takes at most one pattern, as in
// Redis's pubsubCommand, which replies to anything else with the subcommand syntax error.
void reply_subcommand_syntax_error(CommandContext& ctx) {
  ctx.out.error(errors::unknown_subcommand_or_arity(ctx.arg(1), "pubsub"));
}

void reply_channels(CommandContext& ctx, Kind kind) {
  if (ctx.argc() > 3) return reply_subcommand_syntax_error(ctx);
  std::optional<std::string_view> pattern;
  if (ctx.argc() == 3) pattern = ctx.arg(2);
  const auto names = ctx.server.pubsub().channels(kind, pattern);
  ctx.out.array(names.size());
  for (const std::string& name : names) ctx.out.bulk(name);
}

void reply_numsub(CommandContext& ctx, Kind kind) {
  ctx.out.array((ctx.argc() - 2) * 2);  // a flat array in RESP3 too, as Redis
  for (size_t i = 2; i < ctx.argc(); ++i) {
    ctx.out.bulk(ctx.arg(i));
    ctx.out.integer(static_cast<int64_t>(ctx.server.pubsub().subscribers(kind, ctx.arg(i))));
  }
}

void handle_pubsub_channels(CommandContext& ctx) { reply_channels(ctx, Kind::Channel); }
void handle_pubsub_shardchannels(CommandContext& ctx) { reply_channels(ctx, Kind::Shard); }
void handle_pubsub_numsub(CommandContext& ctx) { reply_numsub(ctx, Kind::Channel); }
void handle_pubsub_shardnumsub(CommandContext& ctx) { reply_numsub(ctx, Kind::Shard); }

void handle_pubsub_numpat(CommandContext& ctx) {
  ctx.out.integer(static_cast<int64_t>(ctx.server.pubsub().pattern_count()));
}

void handle_pubsub_help(CommandContext& ctx) {
  reply_help(ctx.out, "pubsub",
             {"CHANNELS [<pattern>]",
              "    Return the currently active channels matching a <pattern> (default: '*').",
              "NUMPAT",
              "    Return number of subscriptions to patterns.",
              "NUMSUB [<channel> ...]",
              "    Return the number of subscribers for the specified channels, excluding",
              "    pattern subscriptions(default: no channels).",
              "SHARDCHANNELS [<pattern>]",
              "    Return the currently active shard level channels matching a <pattern> (default: '*').",
              "SHARDNUMSUB [<shardchannel> ...]",
              "    Return the number of subscribers for the specified shard level channel(s)"});
}

}  // namespace

void register_pubsub(CommandTable& table) {
  constexpr uint32_t kSubscribe = kPubSub | kNoScript | kLoading | kStale;
  constexpr uint32_t kIntrospect = kPubSub | kLoading | kStale;
  table.add({"subscribe", -2, kSubscribe, 0, 0, 0, handle_subscribe, "pubsub", "2.0.0",
             "Listen for messages published to the given channels"});
  table.add({"unsubscribe", -1, kSubscribe, 0, 0, 0, handle_unsubscribe, "pubsub", "2.0.0",
             "Stop listening for messages posted to the given channels"});
  table.add({"psubscribe", -2, kSubscribe, 0, 0, 0, handle_psubscribe, "pubsub", "2.0.0",
             "Listen for messages published to channels matching the given patterns"});
  table.add({"punsubscribe", -1, kSubscribe, 0, 0, 0, handle_punsubscribe, "pubsub", "2.0.0",
             "Stop listening for messages posted to channels matching the given patterns"});
  // Shard channels are declared as keys (their position tells a cluster client which node to ask).
  table.add({"ssubscribe", -2, kSubscribe, 1, -1, 1, handle_ssubscribe, "pubsub", "7.0.0",
             "Listen for messages published to the given shard channels"});
  table.add({"sunsubscribe", -1, kSubscribe, 1, -1, 1, handle_sunsubscribe, "pubsub", "7.0.0",
             "Stop listening for messages posted to the given shard channels"});
  table.add({"publish", 3, kPubSub | kLoading | kStale | kFast | kMayReplicate, 0, 0, 0, handle_publish, "pubsub",
             "2.0.0", "Post a message to a channel"});
  table.add({"spublish", 3, kPubSub | kLoading | kStale | kFast | kMayReplicate, 1, 1, 1, handle_spublish, "pubsub",
             "7.0.0", "Post a message to a shard channel"});
  table.add({"pubsub", -2, 0, 0, 0, 0, nullptr, "pubsub", "2.8.0", "A container for Pub/Sub commands",
             {
                 {"channels", -2, kIntrospect, 0, 0, 0, handle_pubsub_channels, "pubsub", "2.8.0",
                  "List active channels"},
                 {"numsub", -2, kIntrospect, 0, 0, 0, handle_pubsub_numsub, "pubsub", "2.8.0",
                  "Get the count of subscribers for channels"},
                 {"numpat", 2, kIntrospect, 0, 0, 0, handle_pubsub_numpat, "pubsub", "2.8.0",
                  "Get the count of unique patterns pattern subscriptions"},
                 {"shardchannels", -2, kIntrospect, 0, 0, 0, handle_pubsub_shardchannels, "pubsub", "7.0.0",
                  "List active shard channels"},
                 {"shardnumsub", -2, kIntrospect, 0, 0, 0, handle_pubsub_shardnumsub, "pubsub", "7.0.0",
                  "Get the count of subscribers for shard channels"},
                 {"help", 2, kLoading | kStale, 0, 0, 0, handle_pubsub_help, "pubsub", "6.2.0",
                  "Show helpful text about the different subcommands"},
             }});
}

}  // namespace rc
