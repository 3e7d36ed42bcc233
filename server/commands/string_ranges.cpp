// String commands over parts of a value: APPEND, STRLEN, GETRANGE (and its old name SUBSTR), SETRANGE.
// A value modified in place is marked Raw, since Redis's OBJECT ENCODING then says "raw".
#include "protocol/errors.h"
#include "server/command_context.h"
#include "server/command_table.h"
#include "server/commands/arguments.h"
#include "server/commands/registry.h"
#include "store/string_ops.h"

namespace rc {
namespace {

// Appends to an existing string value; the entry is reallocated to the new length.
void append_to(CommandContext& ctx, KeySlot& slot, std::string_view tail) {
  const size_t old_length = slot.get()->value().size();
  if (!fits_string_limit(old_length, tail.size())) return ctx.out.error(errors::kStringTooLong);
  // An empty tail still counts as a change and is logged, as in Redis.
  Entry* entry = tail.empty() ? slot.edit() : slot.resize_value(old_length + tail.size());
  write_at(*entry, old_length, old_length, tail);
  entry->set_encoding(StringEncoding::Raw);
  ctx.propagate_as_received();
  ctx.notify(keyspace_events::kString, "append", ctx.arg(1));
  ctx.out.integer(static_cast<int64_t>(entry->value().size()));
}

void handle_append(CommandContext& ctx) {
  ctx.db().write(ctx.arg(1), [&](KeySlot& slot) {
    const Entry* current = slot.get();
    if (current == nullptr) {
      // A new key holds the argument as SET would store it (OBJECT ENCODING may say "int").
      slot.set(ctx.arg(2), Entry::kNoExpiry);
      ctx.propagate_as_received();
      ctx.notify(keyspace_events::kString, "append", ctx.arg(1));
      return ctx.out.integer(static_cast<int64_t>(ctx.arg(2).size()));
    }
    if (ctx.wrong_type(current, ValueType::String)) return;
    append_to(ctx, slot, ctx.arg(2));
  });
}

void handle_strlen(CommandContext& ctx) {
  ctx.read_key(ctx.arg(1), [&](const Entry* entry) {
    if (entry == nullptr) return ctx.out.integer(0);
    if (ctx.wrong_type(entry, ValueType::String)) return;
    ctx.out.integer(static_cast<int64_t>(entry->value().size()));
  });
}

// GETRANGE/SUBSTR key start end: both indexes are checked before the key is looked up; a missing key is
// an empty string.
void handle_getrange(CommandContext& ctx) {
  const auto start = integer_or_reply(ctx, ctx.arg(2));
  if (!start) return;
  const auto end = integer_or_reply(ctx, ctx.arg(3));
  if (!end) return;
  ctx.read_key(ctx.arg(1), [&](const Entry* entry) {
    if (entry == nullptr) return ctx.out.bulk("");
    if (ctx.wrong_type(entry, ValueType::String)) return;
    ctx.out.bulk(string_range(entry->value(), *start, *end));
  });
}

// SETRANGE on a missing key: an empty patch creates nothing; otherwise zeros up to the offset, then it.
void setrange_missing(CommandContext& ctx, KeySlot& slot, uint64_t offset, std::string_view patch) {
  if (patch.empty()) return ctx.out.integer(0);
  if (!fits_string_limit(offset, patch.size())) return ctx.out.error(errors::kStringTooLong);
  slot.set("", Entry::kNoExpiry);
  Entry* entry = slot.resize_value(offset + patch.size());
  write_at(*entry, 0, offset, patch);
  entry->set_encoding(StringEncoding::Raw);
  ctx.propagate_as_received();
  ctx.notify(keyspace_events::kString, "setrange", ctx.arg(1));
  ctx.out.integer(static_cast<int64_t>(entry->value().size()));
}

// SETRANGE on an existing string: an empty patch changes nothing and answers the current length. The
// limit applies to offset + patch even when the string is already longer, as checkStringLength does.
void setrange_existing(CommandContext& ctx, KeySlot& slot, uint64_t offset, std::string_view patch) {
  const size_t old_length = slot.get()->value().size();
  if (patch.empty()) return ctx.out.integer(static_cast<int64_t>(old_length));
  if (!fits_string_limit(offset, patch.size())) return ctx.out.error(errors::kStringTooLong);
  const size_t needed = offset + patch.size();
  Entry* entry = needed > old_length ? slot.resize_value(needed) : slot.edit();
  write_at(*entry, old_length, offset, patch);
  entry->set_encoding(StringEncoding::Raw);
  ctx.propagate_as_received();
  ctx.notify(keyspace_events::kString, "setrange", ctx.arg(1));
  ctx.out.integer(static_cast<int64_t>(entry->value().size()));
}

void handle_setrange(CommandContext& ctx) {
  const auto offset = integer_or_reply(ctx, ctx.arg(2));
  if (!offset) return;
  if (*offset < 0) return ctx.out.error(errors::kOffsetOutOfRange);
  ctx.db().write(ctx.arg(1), [&](KeySlot& slot) {
    const Entry* current = slot.get();
    if (current == nullptr) return setrange_missing(ctx, slot, static_cast<uint64_t>(*offset), ctx.arg(3));
    if (ctx.wrong_type(current, ValueType::String)) return;
    setrange_existing(ctx, slot, static_cast<uint64_t>(*offset), ctx.arg(3));
  });
}

}  // namespace

void register_string_ranges(CommandTable& table) {
  table.add({"append", 3, kWrite | kDenyOom | kFast, 1, 1, 1, handle_append, "string", "2.0.0",
             "Append a value to a key"});
  table.add({"strlen", 2, kReadonly | kFast, 1, 1, 1, handle_strlen, "string", "2.2.0",
             "Get the length of the value stored in a key"});
  table.add({"getrange", 4, kReadonly, 1, 1, 1, handle_getrange, "string", "2.4.0",
             "Get a substring of the string stored at a key"});
  table.add({"substr", 4, kReadonly, 1, 1, 1, handle_getrange, "string", "1.0.0",
             "Get a substring of the string stored at a key"});
  table.add({"setrange", 4, kWrite | kDenyOom, 1, 1, 1, handle_setrange, "string", "2.2.0",
             "Overwrite part of a string at key starting at the specified offset"});
}

}  // namespace rc
