// Introspection of keys and of the server: OBJECT ENCODING|FREQ|IDLETIME|REFCOUNT|HELP, MEMORY USAGE and
// friends, and DEBUG (the few subcommands that make sense for us).
#include <malloc.h>

#include <algorithm>
#include <chrono>
#include <climits>
#include <cstdlib>
#include <thread>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "protocol/errors.h"
#include "server/command_context.h"
#include "server/command_table.h"
#include "server/commands/arguments.h"
#include "server/commands/help_reply.h"
#include "server/commands/registry.h"
#include "server/config.h"
#include "server/server.h"
#include "store/clock.h"
#include "store/list_value.h"
#include "store/rdb/rdb_reader.h"
#include "store/rdb/rdb_writer.h"

namespace rc {
namespace {

// Redis shares one object for each integer value in [0, 10000) (OBJ_SHARED_INTEGERS); OBJECT REFCOUNT
// then reports INT_MAX (OBJ_SHARED_REFCOUNT).
constexpr int64_t kSharedIntegers = 10000;
// Redis keeps strings up to this many bytes in the same allocation as the object ("embstr").
constexpr size_t kEmbstrLimit = 44;

// The integer value of a string Redis would store "int"-encoded (a canonical decimal fitting in a long,
// at most 20 characters, stored by a command that tries that encoding), if it is one.
std::optional<int64_t> int_encoded_value(const Entry& entry) {
  if (!entry.is_string() || entry.encoding() != StringEncoding::Auto) return std::nullopt;
  const std::string_view value = entry.value();
  if (value.size() > 20) return std::nullopt;
  return parse_int64(value);
}

// OBJECT ENCODING's name for an aggregate: "quicklist" for a list (Redis 7.0's only list encoding), else
// its compact encoding, or "hashtable" ("skiplist" for a sorted set).
std::string_view aggregate_encoding_name(const Entry& entry) {
  if (entry.type() == ValueType::List) return "quicklist";
  if (entry.aggregate_encoding() == AggregateEncoding::Table) {
    return entry.type() == ValueType::ZSet ? "skiplist" : "hashtable";
  }
  return entry.type() == ValueType::Set ? "intset" : "listpack";
}

std::string_view encoding_name(const Entry& entry) {
  if (!entry.is_string()) return aggregate_encoding_name(entry);
  if (int_encoded_value(entry)) return "int";
  if (entry.encoding() == StringEncoding::Raw) return "raw";
  return entry.value().size() <= kEmbstrLimit ? "embstr" : "raw";
}

int64_t refcount(const Entry& entry) {
  const auto value = int_encoded_value(entry);
  return value && *value >= 0 && *value < kSharedIntegers ? INT_MAX : 1;
}

// OBJECT subcommands on a missing key reply a null; otherwise reply(entry) runs under the shard's lock.
template <typename Reply>
void object_reply(CommandContext& ctx, Reply&& reply) {
  ctx.read_key(ctx.arg(2), [&](const Entry* entry) {
    if (entry == nullptr) return ctx.out.null();
    reply(*entry);
  });
}

void handle_object_encoding(CommandContext& ctx) {
  object_reply(ctx, [&](const Entry& entry) { ctx.out.bulk(encoding_name(entry)); });
}

void handle_object_refcount(CommandContext& ctx) {
  object_reply(ctx, [&](const Entry& entry) { ctx.out.integer(refcount(entry)); });
}

// Access times are not tracked yet: every key reads as just used (maxmemory-policy is noeviction, under
// which Redis answers IDLETIME from its LRU clock).
void handle_object_idletime(CommandContext& ctx) {
  object_reply(ctx, [&](const Entry&) { ctx.out.integer(0); });
}

void handle_object_freq(CommandContext& ctx) {
  object_reply(ctx, [&](const Entry&) {
    ctx.out.error(
        "ERR An LFU maxmemory policy is not selected, access frequency not tracked. Please note that when "
        "switching between policies at runtime LRU and LFU data will take some time to adjust.");
  });
}

void handle_object_help(CommandContext& ctx) {
  reply_help(ctx.out, ctx.arg(0),
             {"ENCODING <key>",
              "    Return the kind of internal representation used in order to store the value",
              "    associated with a <key>.",
              "FREQ <key>",
              "    Return the access frequency index of the <key>. The returned integer is",
              "    proportional to the logarithm of the recent access frequency of the key.",
              "IDLETIME <key>",
              "    Return the idle time of the <key>, that is the approximated number of",
              "    seconds elapsed since the last access to the key.",
              "REFCOUNT <key>",
              "    Return the number of references of the value associated with the specified",
              "    <key>."});
}

// MEMORY USAGE key [SAMPLES count]: SAMPLES only matters for aggregates, but is validated as in Redis.
void handle_memory_usage(CommandContext& ctx) {
  for (size_t i = 3; i < ctx.argc(); i += 2) {
    if (!is_word(ctx.arg(i), "samples") || i + 1 >= ctx.argc()) return ctx.out.error(errors::kSyntax);
    const auto samples = integer_or_reply(ctx, ctx.arg(i + 1));
    if (!samples) return;
    if (*samples < 0) return ctx.out.error(errors::kSyntax);
  }
  const std::optional<size_t> bytes = ctx.db().memory_usage(ctx.arg(2));
  if (!bytes) return ctx.out.null();
  ctx.out.integer(static_cast<int64_t>(*bytes));
}

void handle_memory_purge(CommandContext& ctx) {
  malloc_trim(0);
  ctx.out.ok();
}

void handle_memory_malloc_stats(CommandContext& ctx) {
  ctx.out.bulk("Stats not supported for the current allocator");
}

void handle_memory_help(CommandContext& ctx) {
  reply_help(ctx.out, ctx.arg(0),
             {"MALLOC-STATS",
              "    Return internal statistics report from the memory allocator.",
              "PURGE",
              "    Attempt to purge dirty pages for reclamation by the allocator.",
              "USAGE <key> [SAMPLES <count>]",
              "    Return memory in bytes used by <key> and its value. Nested values are",
              "    sampled up to <count> times (default: 5, 0 means sample all)."});
}

// ---- DEBUG ----

// What Redis's DEBUG OBJECT adds for a list: its nodes, their average fill, the fill option, how many nodes
// are compressed and the listpacks' total size.
std::string quicklist_details(const Quicklist& list) {
  size_t listpack_bytes = 0;
  list.for_each_stored_node([&](std::string_view, size_t size, bool, bool) { listpack_bytes += size; });
  const double average = list.node_count() == 0 ? 0 : static_cast<double>(list.size()) / list.node_count();
  return fmt::format(" ql_nodes:{} ql_avg_node:{:.2f} ql_listpack_max:{} ql_compressed:{} ql_uncompressed_size:{}",
                     list.node_count(), average, list.fill(), list.compress_depth() != 0 ? 1 : 0, listpack_bytes);
}

// serializedlength: the bytes the value takes in an RDB file as our writer writes it, without LZF (Redis
// counts its compressed size when rdbcompression is on).
void debug_object(CommandContext& ctx) {
  ctx.db().read(ctx.arg(2), [&](const Entry* entry) {
    if (entry == nullptr) return ctx.out.error(errors::kNoSuchKey);
    const int64_t lru_clock = (unix_time_ms() / 1000) & ((1 << 24) - 1);
    std::string text = fmt::format("Value at:{} refcount:{} encoding:{} serializedlength:{} lru:{} lru_seconds_idle:0",
                                   static_cast<const void*>(entry), refcount(*entry), encoding_name(*entry),
                                   rdb::serialized_value_length(*entry), lru_clock);
    if (entry->type() == ValueType::List) text += quicklist_details(list_value::elements(*entry));
    ctx.out.simple(text);
  });
}

// DEBUG RELOAD [NOSAVE]: saves the dataset to the RDB file (unless NOSAVE), empties it and loads the file back,
// as Redis does to check that every value survives persistence. Other clients may run meanwhile (Redis stops
// them): it is a debugging command.
void debug_reload(CommandContext& ctx) {
  bool save = true;
  for (size_t i = 2; i < ctx.argc(); ++i) {
    if (!is_word(ctx.arg(i), "nosave")) return ctx.out.error("ERR DEBUG RELOAD only supports the MERGE, NOFLUSH and NOSAVE options.");
    save = false;
  }
  if (save && ctx.server.persistence().save() != SaveOutcome::Ok) return ctx.out.error("ERR");
  Keyspace& keyspace = ctx.server.keyspace();
  keyspace.discard_all_for_reload();
  const rdb::LoadResult result = rdb::load_rdb_file(ctx.server.persistence().file_path(), keyspace, unix_time_ms());
  if (!result.ok) {
    spdlog::warn("DEBUG RELOAD: {}", result.error);
    return ctx.out.error("ERR Error trying to load the RDB dump, check server logs.");
  }
  spdlog::warn("DB reloaded by DEBUG RELOAD");
  ctx.out.ok();
}

void debug_help(CommandContext& ctx) {
  reply_help(ctx.out, ctx.arg(0),
             {"OBJECT <key>",
              "    Show low level info about `key` and associated value.",
              "QUICKLIST-PACKED-THRESHOLD <size>",
              "    Sets the threshold for elements to be inserted as plain vs packed nodes",
              "    Default value is 1GB, allows values up to 4GB. Setting to 0 restores to default.",
              "RELOAD [NOSAVE]",
              "    Save the RDB on disk and reload it back to memory. With NOSAVE the file is not",
              "    saved first.",
              "SET-ACTIVE-EXPIRE <0|1>",
              "    Setting it to 0 disables expiring keys in background when they are not",
              "    accessed (otherwise the Redis behavior). Setting it to 1 reenables back the",
              "    default.",
              "SLEEP <seconds>",
              "    Stop the server for <seconds>. Decimals allowed."});
}

// DEBUG as Redis runs it with enable-debug-command set; subcommands we do not implement get Redis's
// answer for an unknown one. SLEEP only stops this client's thread, not the whole server.
void handle_debug(CommandContext& ctx) {
  const std::string_view sub = ctx.arg(1);
  const size_t argc = ctx.argc();
  if (argc == 2 && is_word(sub, "help")) return debug_help(ctx);
  if (argc == 3 && is_word(sub, "object")) return debug_object(ctx);
  if (is_word(sub, "reload")) return debug_reload(ctx);
  if (argc == 3 && is_word(sub, "sleep")) {
    const std::string seconds(ctx.arg(2));
    const double value = std::strtod(seconds.c_str(), nullptr);  // Redis's strtod: garbage reads as 0
    // Bounded (30 years) so that the conversion to the clock's integer ticks cannot overflow.
    if (value > 0) std::this_thread::sleep_for(std::chrono::duration<double>(std::min(value, 1e9)));
    return ctx.out.ok();
  }
  if (argc == 3 && is_word(sub, "quicklist-packed-threshold")) {
    const auto bytes = parse_memory(ctx.arg(2));
    if (!bytes || !Quicklist::set_packed_threshold(static_cast<uint64_t>(*bytes))) {
      return ctx.out.error(errors::kPackedThresholdRange);
    }
    return ctx.out.ok();
  }
  if (argc == 3 && is_word(sub, "set-active-expire")) {
    const std::string flag(ctx.arg(2));
    ctx.server.keyspace().set_active_expire(std::atoi(flag.c_str()) != 0);
    return ctx.out.ok();
  }
  ctx.out.error(errors::unknown_subcommand_or_arity(sub, "debug"));
}

}  // namespace

void register_object(CommandTable& table) {
  table.add({"object", -2, 0, 0, 0, 0, nullptr, "generic", "2.2.3", "A container for object introspection commands.",
             {
                 {"encoding", 3, kReadonly, 2, 2, 1, handle_object_encoding, "generic", "2.2.3",
                  "Returns the internal encoding of a Redis object."},
                 {"freq", 3, kReadonly, 2, 2, 1, handle_object_freq, "generic", "4.0.0",
                  "Returns the logarithmic access frequency counter of a Redis object."},
                 {"idletime", 3, kReadonly, 2, 2, 1, handle_object_idletime, "generic", "2.2.3",
                  "Returns the time since the last access to a Redis object."},
                 {"refcount", 3, kReadonly, 2, 2, 1, handle_object_refcount, "generic", "2.2.3",
                  "Returns the reference count of a value of a key."},
                 {"help", 2, kLoading | kStale, 0, 0, 0, handle_object_help, "generic", "6.2.0",
                  "Returns helpful text about the different subcommands."},
             }});
  table.add({"memory", -2, 0, 0, 0, 0, nullptr, "server", "4.0.0", "A container for memory diagnostics commands.",
             {
                 {"usage", -3, kReadonly, 2, 2, 1, handle_memory_usage, "server", "4.0.0",
                  "Estimates the memory usage of a key."},
                 {"purge", 2, 0, 0, 0, 0, handle_memory_purge, "server", "4.0.0",
                  "Asks the allocator to release memory."},
                 {"malloc-stats", 2, 0, 0, 0, 0, handle_memory_malloc_stats, "server", "4.0.0",
                  "Returns the allocator statistics."},
                 {"help", 2, kLoading | kStale, 0, 0, 0, handle_memory_help, "server", "4.0.0",
                  "Returns helpful text about the different subcommands."},
             }});
  table.add({"debug", -2, kAdmin | kNoScript | kLoading | kStale, 0, 0, 0, handle_debug, "server", "1.0.0",
             "A container for debugging commands."});
}

}  // namespace rc
