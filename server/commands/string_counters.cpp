// Counters kept in strings: INCR, DECR, INCRBY, DECRBY, INCRBYFLOAT. The new value is written as its decimal
// text, so OBJECT ENCODING reports an integer result as "int". The key's TTL is kept, as Redis does.
#include <cmath>
#include <cstdint>
#include <optional>
#include <string>

#include "protocol/errors.h"
#include "protocol/numbers.h"
#include "server/command_context.h"
#include "server/command_table.h"
#include "server/commands/arguments.h"
#include "server/commands/registry.h"
#include "store/string_ops.h"

namespace rc {
namespace {

// Stores `text` as the key's new value, keeping its TTL if it has one.
Entry* store_number(KeySlot& slot, std::string_view text) {
  const Entry* current = slot.get();
  return slot.set(text, current != nullptr ? current->expire_at() : Entry::kNoExpiry);
}

// INCRBY's core (incrDecrCommand): a missing key counts as 0; the value must be a strict decimal integer.
void increment_by(CommandContext& ctx, int64_t delta) {
  ctx.db().write(ctx.arg(1), [&](KeySlot& slot) {
    const Entry* current = slot.get();
    if (ctx.wrong_type(current, ValueType::String)) return;
    const auto value = current != nullptr ? parse_int64(current->value()) : std::optional<int64_t>(0);
    if (!value) return ctx.out.error(errors::kNotInteger);
    const auto sum = add_checked(*value, delta);
    if (!sum) return ctx.out.error(errors::kOverflow);
    const std::string text = std::to_string(*sum);
    store_number(slot, text);
    ctx.propagate({"SET", ctx.arg(1), text, "KEEPTTL"});
    ctx.notify(keyspace_events::kString, "incrby", ctx.arg(1));
    ctx.out.integer(*sum);
  });
}

void handle_incr(CommandContext& ctx) { increment_by(ctx, 1); }
void handle_decr(CommandContext& ctx) { increment_by(ctx, -1); }

void handle_incrby(CommandContext& ctx) {
  const auto delta = integer_or_reply(ctx, ctx.arg(2));
  if (delta) increment_by(ctx, *delta);
}

void handle_decrby(CommandContext& ctx) {
  const auto delta = integer_or_reply(ctx, ctx.arg(2));
  if (!delta) return;
  // -INT64_MIN does not exist.
  if (*delta == INT64_MIN) return ctx.out.error(errors::kDecrementOverflow);
  increment_by(ctx, -*delta);
}

// INCRBYFLOAT key increment: long double arithmetic, the result in Redis's human-friendly text (no
// exponent, at most 17 decimals), replied as a bulk string in RESP2 and RESP3 alike.
void handle_incrbyfloat(CommandContext& ctx) {
  ctx.db().write(ctx.arg(1), [&](KeySlot& slot) {
    const Entry* current = slot.get();
    if (ctx.wrong_type(current, ValueType::String)) return;
    // The stored value is read before the increment, as incrbyfloatCommand does (same error either way).
    const auto value =
        current != nullptr ? parse_long_double_or_infinity(current->value()) : std::optional<long double>(0);
    if (!value) return ctx.out.error(errors::kNotFloat);
    const auto increment = parse_long_double_or_infinity(ctx.arg(2));
    if (!increment) return ctx.out.error(errors::kNotFloat);
    const long double sum = *value + *increment;
    if (std::isnan(sum) || std::isinf(sum)) return ctx.out.error(errors::kNanOrInfinity);
    const std::string text = format_long_double(sum);
    // Stored as text, as Redis does: OBJECT ENCODING says embstr even for "2".
    store_number(slot, text)->set_encoding(StringEncoding::NotInteger);
    ctx.propagate({"SET", ctx.arg(1), text, "KEEPTTL"});  // the result, not the float arithmetic
    ctx.notify(keyspace_events::kString, "incrbyfloat", ctx.arg(1));
    ctx.out.bulk(text);
  });
}

}  // namespace

void register_string_counters(CommandTable& table) {
  table.add({"incr", 2, kWrite | kDenyOom | kFast, 1, 1, 1, handle_incr, "string", "1.0.0",
             "Increment the integer value of a key by one"});
  table.add({"decr", 2, kWrite | kDenyOom | kFast, 1, 1, 1, handle_decr, "string", "1.0.0",
             "Decrement the integer value of a key by one"});
  table.add({"incrby", 3, kWrite | kDenyOom | kFast, 1, 1, 1, handle_incrby, "string", "1.0.0",
             "Increment the integer value of a key by the given amount"});
  table.add({"decrby", 3, kWrite | kDenyOom | kFast, 1, 1, 1, handle_decrby, "string", "1.0.0",
             "Decrement the integer value of a key by the given number"});
  table.add({"incrbyfloat", 3, kWrite | kDenyOom | kFast, 1, 1, 1, handle_incrbyfloat, "string", "2.6.0",
             "Increment the float value of a key by the given amount"});
}

}  // namespace rc
