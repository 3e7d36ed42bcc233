// Commands that walk the keyspace: KEYS, SCAN and RANDOMKEY.
//
// None of them holds a shard lock for more than a slice of about kSliceWork entries: they walk the database
// with Database::scan_slice and release the lock between slices, so a KEYS over millions of keys never
// stalls a writer for long. The price is that KEYS is not a point-in-time snapshot as in Redis (where the
// whole command runs atomically): a key present for the whole command is returned exactly once, a key
// added or removed meanwhile may or may not be. SCAN keeps Redis's guarantee (every key present for the
// whole iteration is returned) and, unlike Redis, never returns a key twice in one iteration.
#include <algorithm>
#include <optional>
#include <string>
#include <vector>

#include "protocol/errors.h"
#include "server/command_context.h"
#include "server/command_table.h"
#include "server/commands/arguments.h"
#include "server/commands/registry.h"
#include "server/commands/scan_arguments.h"
#include "store/clock.h"
#include "store/glob.h"

namespace rc {
namespace {

// Entries examined (or buckets visited) per shard-lock hold.
constexpr size_t kSliceWork = 1000;

void handle_keys(CommandContext& ctx) {
  const std::string_view pattern = ctx.arg(1);
  const bool all = pattern == "*";
  const Database& db = ctx.db();
  std::string body;  // the elements, written as they are found; the count goes in front at the end
  ReplyWriter elements(body, ctx.out.protocol());
  size_t count = 0;
  std::vector<std::string> slice;
  uint64_t cursor = 0;
  do {
    slice.clear();
    // Keys are copied under the lock and matched after it is released: a costly pattern (glob matching
    // is O(pattern x key)) then never lengthens a lock hold.
    cursor = db.scan_slice(cursor, unix_time_ms(), {kSliceWork, kSliceWork}, [&](const Entry* entry) {
                 slice.emplace_back(entry->key());
               }).cursor;
    for (const std::string& key : slice) {
      if (!all && !glob_match(pattern, key)) continue;
      elements.bulk(key);
      ++count;
    }
  } while (cursor != 0);
  ctx.out.array(count);
  ctx.out.raw(body);
}

// SCAN cursor [MATCH pattern] [COUNT count] [TYPE type]. As Redis, COUNT is the amount of work: the call
// stops once it has examined `count` keys (before MATCH and TYPE filter them) or visited 10 x count buckets.
void handle_scan(CommandContext& ctx) {
  const auto start = scan_cursor_or_reply(ctx, ctx.arg(1));
  if (!start) return;
  const auto options = scan_options_or_reply(ctx, 2, true);
  if (!options) return;
  const Database& db = ctx.db();
  const uint64_t max_buckets = options->count > UINT64_MAX / 10 ? UINT64_MAX : options->count * 10;
  uint64_t buckets = 0;
  uint64_t examined = 0;
  uint64_t cursor = *start;
  std::vector<std::string> keys;
  // TYPE compares case-insensitively, as Redis's strcasecmp; the type is read under the shard's lock.
  const auto wanted = [&](const Entry* entry) {
    return !options->type || is_word(*options->type, value_type_name(entry->type()));
  };
  do {
    const ScanLimits limits{static_cast<size_t>(std::min<uint64_t>(max_buckets - buckets, kSliceWork)),
                            static_cast<size_t>(std::min<uint64_t>(options->count - examined, kSliceWork))};
    const ScanProgress progress = db.scan_slice(cursor, unix_time_ms(), limits, [&](const Entry* entry) {
      if (wanted(entry)) keys.emplace_back(entry->key());
    });
    cursor = progress.cursor;
    buckets += progress.buckets;
    examined += progress.entries;
  } while (cursor != 0 && buckets < max_buckets && examined < options->count);
  std::erase_if(keys, [&](const std::string& key) { return options->pattern && !glob_match(*options->pattern, key); });
  ctx.out.array(2);
  ctx.out.bulk(std::to_string(cursor));
  ctx.out.array(keys.size());
  for (const std::string& key : keys) ctx.out.bulk(key);
}

void handle_randomkey(CommandContext& ctx) {
  const std::optional<std::string> key = ctx.db().random_key();
  if (!key) return ctx.out.null();
  ctx.out.bulk(*key);
}

}  // namespace

void register_key_scan(CommandTable& table) {
  //         name         arity flags      first last step handler
  table.add({"keys", 2, kReadonly | kAclDangerous, 0, 0, 0, handle_keys, "generic", "1.0.0", "Returns all key names that match a pattern."});
  table.add({"scan", -2, kReadonly, 0, 0, 0, handle_scan, "generic", "2.8.0", "Iterates over the key names in the database."});
  table.add({"randomkey", 1, kReadonly, 0, 0, 0, handle_randomkey, "generic", "1.0.0",
             "Returns a random key name from the database."});
}

}  // namespace rc
