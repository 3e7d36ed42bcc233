// LCS key1 key2 [LEN] [IDX] [MINMATCHLEN len] [WITHMATCHLEN]: the longest common subsequence of two
// strings, by the textbook dynamic programming table, walked back the same way as Redis's lcsCommand so
// that the IDX ranges come out identical.
#include <algorithm>
#include <cstdint>
#include <new>
#include <optional>
#include <string>
#include <vector>

#include "protocol/errors.h"
#include "server/command_context.h"
#include "server/command_table.h"
#include "server/commands/arguments.h"
#include "server/commands/registry.h"
#include "store/string_ops.h"

namespace rc {
namespace {

struct LcsOptions {
  bool len = false;
  bool idx = false;
  bool with_match_len = false;
  int64_t min_match_len = 0;
};

std::optional<LcsOptions> parse_lcs_options(CommandContext& ctx) {
  LcsOptions options;
  for (size_t i = 3; i < ctx.argc(); ++i) {
    const std::string_view option = ctx.arg(i);  // is_word reads it as a C string, as Redis
    if (is_word(option, "idx")) {
      options.idx = true;
    } else if (is_word(option, "len")) {
      options.len = true;
    } else if (is_word(option, "withmatchlen")) {
      options.with_match_len = true;
    } else if (is_word(option, "minmatchlen") && i + 1 < ctx.argc()) {
      const auto min = integer_or_reply(ctx, ctx.arg(++i));
      if (!min) return std::nullopt;
      options.min_match_len = *min < 0 ? 0 : *min;
    } else {
      ctx.out.error(errors::kSyntax);
      return std::nullopt;
    }
  }
  if (options.len && options.idx) {
    ctx.out.error(errors::kLcsLenAndIdx);
    return std::nullopt;
  }
  return options;
}

// One matching run: a[a_start..a_end] equals b[b_start..b_end] (inclusive).
struct LcsRange {
  uint32_t a_start, a_end, b_start, b_end;
  uint32_t length() const { return a_end - a_start + 1; }
};

struct LcsResult {
  uint32_t length = 0;
  std::string common;              // the subsequence itself
  std::vector<LcsRange> ranges;    // from the end of the strings backwards, as Redis emits them
};

// The table of LCS lengths of every pair of prefixes: cell (i, j) for a[0..i), b[0..j).
class LcsTable {
 public:
  LcsTable(std::string_view a, std::string_view b) : width_(b.size() + 1), cells_((a.size() + 1) * width_, 0) {
    for (size_t i = 1; i <= a.size(); ++i) {
      for (size_t j = 1; j <= b.size(); ++j) {
        at(i, j) = a[i - 1] == b[j - 1] ? at(i - 1, j - 1) + 1 : std::max(at(i - 1, j), at(i, j - 1));
      }
    }
  }
  uint32_t at(size_t i, size_t j) const { return cells_[i * width_ + j]; }

 private:
  uint32_t& at(size_t i, size_t j) { return cells_[i * width_ + j]; }
  size_t width_;
  std::vector<uint32_t> cells_;
};

// Walks the table back from the end of both strings, collecting the subsequence and the runs of
// consecutive matches; a run is closed at the first mismatch step or when it reaches either string's start.
void walk_back(const LcsTable& table, std::string_view a, std::string_view b, LcsResult& result) {
  result.common.assign(result.length, '\0');
  size_t i = a.size(), j = b.size(), next = result.length;
  std::optional<LcsRange> run;
  while (i > 0 && j > 0) {
    bool close = false;
    if (a[i - 1] == b[j - 1]) {
      result.common[--next] = a[i - 1];
      const auto ai = static_cast<uint32_t>(i - 1), bj = static_cast<uint32_t>(j - 1);
      if (!run) {
        run = LcsRange{ai, ai, bj, bj};
      } else {
        run->a_start = ai;  // consecutive matches always extend the open run backwards
        run->b_start = bj;
      }
      close = ai == 0 || bj == 0;
      --i;
      --j;
    } else {
      if (table.at(i - 1, j) > table.at(i, j - 1)) {
        --i;
      } else {
        --j;
      }
      close = run.has_value();
    }
    if (close) {
      result.ranges.push_back(*run);
      run.reset();
    }
  }
}

void reply_ranges(CommandContext& ctx, const LcsResult& result, const LcsOptions& options) {
  size_t shown = 0;
  for (const LcsRange& range : result.ranges) shown += range.length() >= options.min_match_len ? 1 : 0;
  ctx.out.map(2);
  ctx.out.bulk("matches");
  ctx.out.array(shown);
  for (const LcsRange& range : result.ranges) {
    if (range.length() < options.min_match_len) continue;
    ctx.out.array(options.with_match_len ? 3 : 2);
    ctx.out.array(2);
    ctx.out.integer(range.a_start);
    ctx.out.integer(range.a_end);
    ctx.out.array(2);
    ctx.out.integer(range.b_start);
    ctx.out.integer(range.b_end);
    if (options.with_match_len) ctx.out.integer(range.length());
  }
  ctx.out.bulk("len");
  ctx.out.integer(result.length);
}

// Copies the string at `key` ("" when missing); false when it holds another type.
bool read_string(CommandContext& ctx, std::string_view key, std::string& value) {
  return ctx.read_key(key, [&](const Entry* entry) {
    if (entry == nullptr) return true;
    if (!entry->is_string()) return false;
    value.assign(entry->value());
    return true;
  });
}

// Whether the table fits Redis's limits; replies the error otherwise.
bool table_allowed_or_reply(CommandContext& ctx, size_t a_length, size_t b_length) {
  if (a_length >= UINT32_MAX - 1 || b_length >= UINT32_MAX - 1) {
    ctx.out.error(errors::kLcsStringTooLong);
    return false;
  }
  const uint64_t cells = (uint64_t{a_length} + 1) * (uint64_t{b_length} + 1);
  if (cells * sizeof(uint32_t) > kMaxStringLength) {
    ctx.out.error(errors::kLcsTableTooBig);
    return false;
  }
  return true;
}

void run_lcs(CommandContext& ctx, std::string_view a, std::string_view b, const LcsOptions& options) {
  if (!table_allowed_or_reply(ctx, a.size(), b.size())) return;
  LcsResult result;
  try {
    const LcsTable table(a, b);
    result.length = table.at(a.size(), b.size());
    if (options.idx || !options.len) walk_back(table, a, b, result);
  } catch (const std::bad_alloc&) {
    return ctx.out.error(errors::kLcsAllocationFailed);
  }
  if (options.idx) return reply_ranges(ctx, result, options);
  if (options.len) return ctx.out.integer(result.length);
  ctx.out.bulk(result.common);
}

// The two keys are read one after the other, each under its own shard lock (not a snapshot of both), and
// before the options are parsed, so a type error is reported before a syntax error, as in Redis.
void handle_lcs(CommandContext& ctx) {
  std::string a, b;
  const bool a_ok = read_string(ctx, ctx.arg(1), a);
  const bool b_ok = read_string(ctx, ctx.arg(2), b);
  if (!a_ok || !b_ok) return ctx.out.error(errors::kLcsNotStrings);
  const auto options = parse_lcs_options(ctx);
  if (options) run_lcs(ctx, a, b, *options);
}

}  // namespace

void register_string_lcs(CommandTable& table) {
  table.add({"lcs", -3, kReadonly, 1, 2, 1, handle_lcs, "string", "7.0.0", "Find longest common substring"});
}

}  // namespace rc
