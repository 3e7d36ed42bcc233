#pragma once
// The arguments of SCAN and of the per-key scans (HSCAN, SSCAN, ZSCAN), read as Redis's
// parseScanCursorOrReply and scanGenericCommand read them, so that every scan answers the same errors; and
// the per-key scans' common course.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "server/command_context.h"

namespace rc {

// A SCAN cursor as Redis reads it with strtoul: optional sign (a negative number wraps around), decimal
// digits up to 2^64-1, no leading space, nothing after (the argument is read as a C string, so a NUL ends
// it, and an empty cursor is 0).
std::optional<uint64_t> parse_scan_cursor(std::string_view text);
// The cursor, or replies "ERR invalid cursor" and returns nullopt.
std::optional<uint64_t> scan_cursor_or_reply(CommandContext& ctx, std::string_view argument);

struct ScanOptions {
  uint64_t count = 10;
  std::optional<std::string_view> pattern;  // absent: every element (also for "*")
  std::optional<std::string_view> type;     // SCAN only
};

// The options from argument `first` on: COUNT n (n >= 1), MATCH pattern, and TYPE name when
// `type_allowed` (SCAN; the per-key scans answer a syntax error to it, as Redis). Repeats are allowed, the
// last one wins. Replies the error and returns nullopt on a bad option.
std::optional<ScanOptions> scan_options_or_reply(CommandContext& ctx, size_t first, bool type_allowed);

// What one call of a per-key scan found: the next cursor, and the elements' strings (`stride` strings an
// element: 1 for a set's member, 2 for a hash's field and value), copied out of the value.
struct KeyScanBatch {
  uint64_t cursor = 0;
  std::vector<std::string> strings;
};

// Replies [cursor, strings] keeping the elements whose first string matches `pattern` (all when absent).
void reply_key_scan_batch(CommandContext& ctx, const KeyScanBatch& batch, size_t stride,
                          std::optional<std::string_view> pattern);

// HSCAN/SSCAN/ZSCAN key cursor [MATCH pattern] [COUNT count], as Redis's scanGenericCommand on one value:
// the cursor is read first, a missing key answers an empty scan before the options are read, another type
// WRONGTYPE. scan(const Entry& value, uint64_t cursor, size_t count, std::vector<std::string>& strings)
// copies one batch under the shard lock and returns the next cursor; MATCH runs after the lock is released.
template <typename Scan>
void reply_key_scan(CommandContext& ctx, ValueType type, size_t stride, Scan&& scan) {
  const auto cursor = scan_cursor_or_reply(ctx, ctx.arg(2));
  if (!cursor) return;
  std::optional<std::string_view> pattern;
  const auto batch = ctx.read_key(ctx.arg(1), [&](const Entry* value) -> std::optional<KeyScanBatch> {
    if (ctx.wrong_type(value, type)) return std::nullopt;
    if (value == nullptr) return KeyScanBatch{};
    const auto options = scan_options_or_reply(ctx, 3, false);
    if (!options) return std::nullopt;
    pattern = options->pattern;
    KeyScanBatch found;
    // COUNT is a hint; bounded so that a 10 x COUNT bucket budget cannot overflow.
    const auto count = static_cast<size_t>(std::min<uint64_t>(options->count, UINT32_MAX));
    found.cursor = scan(*value, *cursor, count, found.strings);
    return found;
  });
  if (batch) reply_key_scan_batch(ctx, *batch, stride, pattern);
}

}  // namespace rc
