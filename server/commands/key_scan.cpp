// Commands that walk the keyspace: KEYS, SCAN and RANDOMKEY.
//
// None of them holds a shard lock for more than a slice of about kSliceWork entries: they walk the database
// with Database::scan_slice and release the lock between slices, so a KEYS over millions of keys never
// stalls a writer for long. The price is that KEYS is not a point-in-time snapshot as in Redis (where the
// whole command runs atomically): a key present for the whole command is returned exactly once, a key
// added or removed meanwhile may or may not be. SCAN keeps Redis's guarantee (every key present for the
// whole iteration is returned) and, unlike Redis, never returns a key twice in one iteration.
#include <algorithm>
#include <cctype>
#include <optional>
#include <string>
#include <vector>

#include "protocol/errors.h"
#include "server/command_context.h"
#include "server/command_table.h"
#include "server/commands/arguments.h"
#include "server/commands/registry.h"
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

// A SCAN cursor as Redis reads it with strtoul: optional sign (a negative number wraps around), decimal
// digits up to 2^64-1, no leading space, nothing after (the argument is read as a C string, so a NUL ends
// it, and an empty cursor is 0).
std::optional<uint64_t> parse_scan_cursor(std::string_view text) {
  text = text.substr(0, text.find('\0'));
  if (text.empty()) return 0;
  if (std::isspace(static_cast<unsigned char>(text[0]))) return std::nullopt;
  bool negative = false;
  if (text[0] == '+' || text[0] == '-') {
    negative = text[0] == '-';
    text.remove_prefix(1);
  }
  if (text.empty()) return std::nullopt;
  uint64_t value = 0;
  for (const char c : text) {
    if (c < '0' || c > '9') return std::nullopt;
    const auto digit = static_cast<uint64_t>(c - '0');
    if (value > (UINT64_MAX - digit) / 10) return std::nullopt;
    value = value * 10 + digit;
  }
  return negative ? 0 - value : value;
}

struct ScanOptions {
  uint64_t count = 10;
  std::optional<std::string_view> pattern;  // absent: every key (also for "*")
  std::optional<std::string_view> type;
};

std::optional<ScanOptions> scan_options_or_reply(CommandContext& ctx) {
  ScanOptions options;
  for (size_t i = 2; i < ctx.argc(); i += 2) {
    const std::string_view option = ctx.arg(i);
    const bool has_value = i + 1 < ctx.argc();
    if (is_word(option, "count") && has_value) {
      const auto count = integer_or_reply(ctx, ctx.arg(i + 1));
      if (!count) return std::nullopt;
      if (*count < 1) {
        ctx.out.error(errors::kSyntax);
        return std::nullopt;
      }
      options.count = static_cast<uint64_t>(*count);
    } else if (is_word(option, "match") && has_value) {
      options.pattern = ctx.arg(i + 1);
      if (*options.pattern == "*") options.pattern.reset();
    } else if (is_word(option, "type") && has_value) {
      options.type = ctx.arg(i + 1);
    } else {
      ctx.out.error(errors::kSyntax);
      return std::nullopt;
    }
  }
  return options;
}

// SCAN cursor [MATCH pattern] [COUNT count] [TYPE type]. As Redis, COUNT is the amount of work: the call
// stops once it has examined `count` keys (before MATCH and TYPE filter them) or visited 10 x count buckets.
void handle_scan(CommandContext& ctx) {
  const auto start = parse_scan_cursor(ctx.arg(1));
  if (!start) return ctx.out.error("ERR invalid cursor");
  const auto options = scan_options_or_reply(ctx);
  if (!options) return;
  const Database& db = ctx.db();
  const uint64_t max_buckets = options->count > UINT64_MAX / 10 ? UINT64_MAX : options->count * 10;
  uint64_t buckets = 0;
  uint64_t examined = 0;
  uint64_t cursor = *start;
  std::vector<std::string> keys;
  do {
    const ScanLimits limits{static_cast<size_t>(std::min<uint64_t>(max_buckets - buckets, kSliceWork)),
                            static_cast<size_t>(std::min<uint64_t>(options->count - examined, kSliceWork))};
    const ScanProgress progress = db.scan_slice(cursor, unix_time_ms(), limits, [&](const Entry* entry) {
      keys.emplace_back(entry->key());
    });
    cursor = progress.cursor;
    buckets += progress.buckets;
    examined += progress.entries;
  } while (cursor != 0 && buckets < max_buckets && examined < options->count);
  // Every key is a string; TYPE compares case-insensitively, as Redis's strcasecmp.
  const bool type_matches = !options->type || is_word(*options->type, "string");
  std::erase_if(keys, [&](const std::string& key) {
    return !type_matches || (options->pattern && !glob_match(*options->pattern, key));
  });
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
