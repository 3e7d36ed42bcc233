// HRANDFIELD key [count [WITHVALUES]] (Redis's hrandfieldCommand): random fields of a hash, distinct for a
// positive count, possibly repeated for a negative one. Every strategy costs O(size + |count|) at worst,
// never O(size x count): a listpack, where a random access is a walk, is read into an array once.
#include <algorithm>
#include <cstdint>
#include <optional>
#include <unordered_set>
#include <utility>
#include <vector>

#include "protocol/errors.h"
#include "protocol/numbers.h"
#include "server/command_context.h"
#include "server/command_table.h"
#include "server/commands/arguments.h"
#include "server/commands/element_reply.h"
#include "server/commands/registry.h"
#include "store/hash_value.h"
#include "store/thread_random.h"

namespace rc {
namespace {

using Pair = std::pair<hash_value::Element, hash_value::Element>;

// Writes picked fields: field, or field value (RESP2, flat) or [field, value] (RESP3, a pair each).
class PickWriter {
 public:
  PickWriter(ReplyWriter& out, bool with_values) : out_(out), with_values_(with_values) {}

  void header(uint64_t picks) {
    out_.array(with_values_ && !out_.resp3() ? picks * 2 : picks);
  }
  void pick(const hash_value::Element& field, const hash_value::Element& value) {
    if (with_values_ && out_.resp3()) out_.array(2);
    bulk_element(out_, field);
    if (with_values_) bulk_element(out_, value);
  }

 private:
  ReplyWriter& out_;
  bool with_values_;
};

std::vector<Pair> all_pairs(const Entry& hash) {
  std::vector<Pair> pairs;
  pairs.reserve(hash_value::length(hash));
  hash_value::for_each(hash, [&](const hash_value::Element& field, const hash_value::Element& value) {
    pairs.emplace_back(field, value);
  });
  return pairs;
}

// `count` picks with repetitions. A table small next to the count, or any listpack, is read into an array
// first; otherwise each pick is one uniform draw from the table.
void reply_repeated(const Entry& hash, uint64_t count, PickWriter& writer) {
  writer.header(count);
  const size_t size = hash_value::length(hash);
  if (hash.aggregate_encoding() == AggregateEncoding::Table && count < size) {
    while (count-- > 0) {
      const auto [field, value] = hash_value::random_field(hash);
      writer.pick(field, value);
    }
    return;
  }
  const std::vector<Pair> pairs = all_pairs(hash);
  while (count-- > 0) {
    const Pair& picked = pairs[thread_random() % pairs.size()];
    writer.pick(picked.first, picked.second);
  }
}

// `count` distinct fields, 0 < count < size. A table much larger than the count is sampled with draws
// until enough distinct fields turn up (few repeats: at most one in three draws); otherwise the fields are
// read into an array and the first `count` places of a random permutation are chosen (Fisher-Yates).
void reply_distinct(const Entry& hash, uint64_t count, PickWriter& writer) {
  writer.header(count);
  const size_t size = hash_value::length(hash);
  if (hash.aggregate_encoding() == AggregateEncoding::Table && count * 3 <= size) {
    std::unordered_set<std::string_view> seen;
    seen.reserve(count);
    while (seen.size() < count) {
      const auto [field, value] = hash_value::random_field(hash);
      if (seen.insert(field.string()).second) writer.pick(field, value);  // a table's fields are bytes
    }
    return;
  }
  std::vector<Pair> pairs = all_pairs(hash);
  for (size_t i = 0; i < count; ++i) {
    std::swap(pairs[i], pairs[i + thread_random() % (pairs.size() - i)]);
    writer.pick(pairs[i].first, pairs[i].second);
  }
}

// HRANDFIELD key count [WITHVALUES], once the arguments are valid.
void reply_with_count(CommandContext& ctx, int64_t count, bool with_values) {
  ctx.read_key(ctx.arg(1), [&](const Entry* hash) {
    if (ctx.wrong_type(hash, ValueType::Hash)) return;
    if (hash == nullptr || count == 0) return ctx.out.array(0);
    PickWriter writer(ctx.out, with_values);
    const uint64_t magnitude = count < 0 ? 0 - static_cast<uint64_t>(count) : static_cast<uint64_t>(count);
    // A single pick needs no distinctness (Redis takes the repeated path for count 1 too).
    if (count < 0 || count == 1) return reply_repeated(*hash, magnitude, writer);
    const size_t size = hash_value::length(*hash);
    if (magnitude < size) return reply_distinct(*hash, magnitude, writer);
    writer.header(size);
    hash_value::for_each(*hash, [&](const hash_value::Element& field, const hash_value::Element& value) {
      writer.pick(field, value);
    });
  });
}

void handle_hrandfield(CommandContext& ctx) {
  if (ctx.argc() == 2) {
    return ctx.read_key(ctx.arg(1), [&](const Entry* hash) {
      if (ctx.wrong_type(hash, ValueType::Hash)) return;
      if (hash == nullptr) return ctx.out.null();
      bulk_element(ctx.out, hash_value::random_field(*hash).first);
    });
  }
  // The count is checked before the key is looked up, as Redis does: in -LONG_MAX..LONG_MAX, and within
  // half of that with WITHVALUES (the reply has two elements a pick).
  const auto count = integer_or_reply(ctx, ctx.arg(2));
  if (!count) return;
  if (*count == INT64_MIN) return ctx.out.error(errors::kCountOutOfRange);
  const bool with_values = ctx.argc() == 4;
  if (ctx.argc() > 4 || (with_values && !is_word(ctx.arg(3), "withvalues"))) return ctx.out.error(errors::kSyntax);
  if (with_values && (*count < -INT64_MAX / 2 || *count > INT64_MAX / 2)) {
    return ctx.out.error(errors::kValueOutOfRange);
  }
  reply_with_count(ctx, *count, with_values);
}

}  // namespace

void register_hash_random(CommandTable& table) {
  table.add({"hrandfield", -2, kReadonly, 1, 1, 1, handle_hrandfield, "hash", "6.2.0",
             "Get one or multiple random fields from a hash"});
}

}  // namespace rc
