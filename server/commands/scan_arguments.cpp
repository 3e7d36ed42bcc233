#include "server/commands/scan_arguments.h"

#include <cctype>

#include "protocol/errors.h"
#include "server/commands/arguments.h"
#include "store/glob.h"

namespace rc {

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

std::optional<uint64_t> scan_cursor_or_reply(CommandContext& ctx, std::string_view argument) {
  const auto cursor = parse_scan_cursor(argument);
  if (!cursor) ctx.out.error(errors::kInvalidCursor);
  return cursor;
}

std::optional<ScanOptions> scan_options_or_reply(CommandContext& ctx, size_t first, bool type_allowed) {
  ScanOptions options;
  for (size_t i = first; i < ctx.argc(); i += 2) {
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
    } else if (is_word(option, "type") && type_allowed && has_value) {
      options.type = ctx.arg(i + 1);
    } else {
      ctx.out.error(errors::kSyntax);
      return std::nullopt;
    }
  }
  return options;
}

void reply_key_scan_batch(CommandContext& ctx, const KeyScanBatch& batch, size_t stride,
                          std::optional<std::string_view> pattern) {
  std::vector<std::string_view> matching;
  for (size_t i = 0; i + stride <= batch.strings.size(); i += stride) {
    if (pattern && !glob_match(*pattern, batch.strings[i])) continue;
    matching.insert(matching.end(), batch.strings.begin() + static_cast<std::ptrdiff_t>(i),
                    batch.strings.begin() + static_cast<std::ptrdiff_t>(i + stride));
  }
  ctx.out.array(2);
  ctx.out.bulk(std::to_string(batch.cursor));
  ctx.out.array(matching.size());
  for (const std::string_view element : matching) ctx.out.bulk(element);
}

}  // namespace rc
