// List commands over ranges and searches (Redis's t_list.c): LRANGE, LTRIM, LREM and LPOS. Indexes count
// from 0 at the head, negative ones from -1 at the tail, and ranges are clipped to the list as Redis clips
// them. A write that removes nothing is not propagated (Redis propagates only what changed the dataset).
#include <cstdint>
#include <optional>
#include <vector>

#include "protocol/errors.h"
#include "protocol/numbers.h"
#include "server/command_context.h"
#include "server/command_table.h"
#include "server/commands/arguments.h"
#include "server/commands/registry.h"
#include "store/list_value.h"

namespace rc {
namespace {

// [start, stop] of a list of `length` elements as Redis clips it: nullopt when empty, else the first
// position and the number of elements.
struct Range {
  size_t start;
  size_t count;
};
std::optional<Range> clip_range(int64_t start, int64_t stop, size_t length) {
  const auto size = static_cast<int64_t>(length);
  if (start < 0) start += size;
  if (stop < 0) stop += size;
  if (start < 0) start = 0;
  if (start > stop || start >= size) return std::nullopt;
  if (stop >= size) stop = size - 1;
  return Range{static_cast<size_t>(start), static_cast<size_t>(stop - start + 1)};
}

// LRANGE key start stop: the elements in the range; the indexes are read before the key is looked up.
void handle_lrange(CommandContext& ctx) {
  const auto start = integer_or_reply(ctx, ctx.arg(2));
  if (!start) return;
  const auto stop = integer_or_reply(ctx, ctx.arg(3));
  if (!stop) return;
  ctx.read_key(ctx.arg(1), [&](const Entry* list) {
    if (list == nullptr) return ctx.out.array(0);
    if (ctx.wrong_type(list, ValueType::List)) return;
    const Quicklist& elements = list_value::elements(*list);
    const auto range = clip_range(*start, *stop, elements.size());
    if (!range) return ctx.out.array(0);
    ctx.out.array(range->count);
    size_t left = range->count;
    elements.visit(range->start, false, [&](const ListpackElement& element) {
      if (element.is_integer()) {
        ctx.out.bulk(std::to_string(element.integer()));
      } else {
        ctx.out.bulk(element.string());
      }
      return --left > 0;
    });
  });
}

// LTRIM key start stop: keeps only the range (an empty range deletes the key); always OK.
void handle_ltrim(CommandContext& ctx) {
  const auto start = integer_or_reply(ctx, ctx.arg(2));
  if (!start) return;
  const auto stop = integer_or_reply(ctx, ctx.arg(3));
  if (!stop) return;
  ctx.db().write(ctx.arg(1), [&](KeySlot& slot) {
    if (slot.get() == nullptr) return ctx.out.ok();
    if (ctx.wrong_type(slot.get(), ValueType::List)) return;
    Quicklist& elements = list_value::elements(*slot.get());
    const size_t length = elements.size();
    const auto range = clip_range(*start, *stop, length);
    const size_t kept = range ? range->count : 0;
    if (kept < length) {
      slot.edit();
      if (range) {
        elements.erase_range(range->start + range->count, length - range->start - range->count);
        elements.erase_range(0, range->start);
      }
      if (kept == 0) slot.erase();
      ctx.propagate_as_received();
    }
    ctx.out.ok();
  });
}

// LREM key count element: removes the first |count| elements equal to `element` (from the tail when count
// is negative; all of them for 0) and answers how many went.
void handle_lrem(CommandContext& ctx) {
  const auto count = integer_or_reply(ctx, ctx.arg(2));
  if (!count) return;
  ctx.db().write(ctx.arg(1), [&](KeySlot& slot) {
    if (slot.get() == nullptr) return ctx.out.integer(0);
    if (ctx.wrong_type(slot.get(), ValueType::List)) return;
    // |count| without overflow for INT64_MIN (any limit that large means all).
    const uint64_t limit = *count < 0 ? uint64_t{0} - static_cast<uint64_t>(*count) : static_cast<uint64_t>(*count);
    Quicklist& elements = list_value::elements(*slot.get());
    const size_t removed = elements.remove_matching(ctx.arg(3), limit, *count < 0);
    if (removed > 0) {
      slot.edit();
      if (elements.empty()) slot.erase();
      ctx.propagate_as_received();
    }
    ctx.out.integer(static_cast<int64_t>(removed));
  });
}

// LPOS's options, as Redis reads them.
struct LposOptions {
  int64_t rank = 1;             // the first match to report; negative searches from the tail
  std::optional<int64_t> count;  // COUNT given: an array of up to count matches (0: all)
  int64_t maxlen = 0;           // elements compared at most (0: all)
};

std::optional<LposOptions> lpos_options_or_reply(CommandContext& ctx) {
  LposOptions options;
  for (size_t i = 3; i < ctx.argc(); ++i) {
    const bool has_value = i + 1 < ctx.argc();
    if (is_word(ctx.arg(i), "rank") && has_value) {
      const auto rank = integer_or_reply(ctx, ctx.arg(++i));
      if (!rank) return std::nullopt;
      if (*rank == 0) {
        ctx.out.error(errors::kLposRankZero);
        return std::nullopt;
      }
      options.rank = *rank;
    } else if (is_word(ctx.arg(i), "count") && has_value) {
      const auto count = parse_int64(ctx.arg(++i));
      if (!count || *count < 0) {
        ctx.out.error(errors::kLposCountNegative);
        return std::nullopt;
      }
      options.count = *count;
    } else if (is_word(ctx.arg(i), "maxlen") && has_value) {
      const auto maxlen = parse_int64(ctx.arg(++i));
      if (!maxlen || *maxlen < 0) {
        ctx.out.error(errors::kLposMaxlenNegative);
        return std::nullopt;
      }
      options.maxlen = *maxlen;
    } else {
      ctx.out.error(errors::kSyntax);
      return std::nullopt;
    }
  }
  return options;
}

// LPOS key element [RANK rank] [COUNT num-matches] [MAXLEN len]: the index (from the head) of the
// rank-th match, or with COUNT an array of the indexes of up to num-matches matches from that one on.
void handle_lpos(CommandContext& ctx) {
  const auto options = lpos_options_or_reply(ctx);
  if (!options) return;
  const bool backwards = options->rank < 0;
  // RANK -9223372036854775808 has no positive counterpart: Redis's negation leaves it negative, so every
  // match from the tail qualifies and COUNT never stops the search (its arithmetic overflows too).
  const bool lowest_rank = options->rank == INT64_MIN;
  const uint64_t rank = lowest_rank ? 1 : backwards ? static_cast<uint64_t>(-options->rank)
                                                    : static_cast<uint64_t>(options->rank);
  ctx.read_key(ctx.arg(1), [&](const Entry* list) {
    if (list == nullptr) return options->count ? ctx.out.array(0) : ctx.out.null();
    if (ctx.wrong_type(list, ValueType::List)) return;
    const Quicklist& elements = list_value::elements(*list);
    const size_t length = elements.size();
    const auto maxlen = static_cast<uint64_t>(options->maxlen);
    const auto wanted = lowest_rank && options->count ? 0 : static_cast<uint64_t>(options->count.value_or(1));
    std::vector<int64_t> found;
    uint64_t scanned = 0;
    uint64_t matches = 0;
    elements.visit(backwards ? length - 1 : 0, backwards, [&](const ListpackElement& element) {
      if (maxlen != 0 && scanned >= maxlen) return false;
      if (element.matches(ctx.arg(2)) && ++matches >= rank) {
        found.push_back(static_cast<int64_t>(backwards ? length - scanned - 1 : scanned));
        if (wanted != 0 && found.size() >= wanted) return false;
      }
      ++scanned;
      return true;
    });
    if (options->count) {
      ctx.out.array(found.size());
      for (const int64_t index : found) ctx.out.integer(index);
    } else if (!found.empty()) {
      ctx.out.integer(found.front());
    } else {
      ctx.out.null();
    }
  });
}

}  // namespace

void register_list_ranges(CommandTable& table) {
  //         name      arity flags first last step handler
  table.add({"lrange", 4, kReadonly, 1, 1, 1, handle_lrange, "list", "1.0.0", "Get a range of elements from a list"});
  table.add({"ltrim", 4, kWrite, 1, 1, 1, handle_ltrim, "list", "1.0.0", "Trim a list to the specified range"});
  table.add({"lrem", 4, kWrite, 1, 1, 1, handle_lrem, "list", "1.0.0", "Remove elements from a list"});
  table.add({"lpos", -3, kReadonly, 1, 1, 1, handle_lpos, "list", "6.0.6",
             "Return the index of matching elements on a list"});
}

}  // namespace rc
