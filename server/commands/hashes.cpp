// Hash commands (Redis's t_hash.c): HSET, HMSET, HSETNX, HGET, HMGET, HDEL, HLEN, HSTRLEN, HEXISTS, HKEYS,
// HVALS, HGETALL, HINCRBY, HINCRBYFLOAT and HSCAN; HRANDFIELD is in hash_random.cpp. The value rules (the
// listpack and its conversion to a table) are store/hash_value's; this file checks types, replies and
// propagates. A hash is created by the first write that adds a field and deleted with its last field.
#include <cmath>
#include <cstdint>
#include <optional>
#include <string>

#include "protocol/errors.h"
#include "protocol/numbers.h"
#include "server/command_context.h"
#include "server/command_table.h"
#include "server/commands/arguments.h"
#include "server/commands/element_reply.h"
#include "server/commands/registry.h"
#include "server/commands/scan_arguments.h"
#include "server/server.h"
#include "store/hash_value.h"
#include "store/string_ops.h"

namespace rc {
namespace {

using Element = hash_value::Element;

const EncodingLimits& limits(const CommandContext& ctx) { return ctx.server.keyspace().limits(); }

// The key's hash, to change it: created empty when the key is missing (Redis's hashTypeLookupWriteOrCreate).
// Called only once the command is sure to add a field, so that no empty hash is ever left behind.
Entry& hash_to_change(KeySlot& slot) {
  if (slot.get() == nullptr) slot.adopt(EntryPtr(hash_value::create(slot.key())));
  return *slot.edit();
}

// HSET key field value [field value ...] (replies the number of new fields) and HMSET (replies OK).
void set_fields(CommandContext& ctx, std::string_view command) {
  // The arity allows any count from 4 on; an odd one (a field without a value) is an arity error too.
  if (ctx.argc() % 2 != 0) return ctx.out.error(errors::wrong_arity(command));
  ctx.db().write(ctx.arg(1), [&](KeySlot& slot) {
    if (ctx.wrong_type(slot.get(), ValueType::Hash)) return;
    Entry& hash = hash_to_change(slot);
    int64_t added = 0;
    for (size_t i = 2; i < ctx.argc(); i += 2) {
      added += hash_value::set(hash, ctx.arg(i), ctx.arg(i + 1), limits(ctx)) ? 1 : 0;
    }
    ctx.propagate_as_received();
    ctx.notify(keyspace_events::kHash, "hset", ctx.arg(1));
    if (command == "hset") return ctx.out.integer(added);
    ctx.out.ok();
  });
}

void handle_hset(CommandContext& ctx) { set_fields(ctx, "hset"); }
void handle_hmset(CommandContext& ctx) { set_fields(ctx, "hmset"); }

void handle_hsetnx(CommandContext& ctx) {
  ctx.db().write(ctx.arg(1), [&](KeySlot& slot) {
    if (ctx.wrong_type(slot.get(), ValueType::Hash)) return;
    if (slot.get() != nullptr && hash_value::contains(*slot.get(), ctx.arg(2))) return ctx.out.integer(0);
    hash_value::set(hash_to_change(slot), ctx.arg(2), ctx.arg(3), limits(ctx));
    ctx.propagate_as_received();
    ctx.notify(keyspace_events::kHash, "hset", ctx.arg(1));
    ctx.out.integer(1);
  });
}

// The field's value as a bulk string, or a null when the hash or the field is missing.
void reply_field(CommandContext& ctx, const Entry* hash, std::string_view field) {
  const auto value = hash != nullptr ? hash_value::get(*hash, field) : std::nullopt;
  if (!value) return ctx.out.null();
  bulk_element(ctx.out, *value);
}

void handle_hget(CommandContext& ctx) {
  ctx.read_key(ctx.arg(1), [&](const Entry* hash) {
    if (ctx.wrong_type(hash, ValueType::Hash)) return;
    reply_field(ctx, hash, ctx.arg(2));
  });
}

// A missing key is an empty hash: a null for each field.
void handle_hmget(CommandContext& ctx) {
  ctx.read_key(ctx.arg(1), [&](const Entry* hash) {
    if (ctx.wrong_type(hash, ValueType::Hash)) return;
    ctx.out.array(ctx.argc() - 2);
    for (size_t i = 2; i < ctx.argc(); ++i) reply_field(ctx, hash, ctx.arg(i));
  });
}

// HDEL key field [field ...]: the number of fields removed; the key goes with the last field (the fields
// named after that are not looked at, as in Redis).
void handle_hdel(CommandContext& ctx) {
  ctx.db().write(ctx.arg(1), [&](KeySlot& slot) {
    if (ctx.wrong_type(slot.get(), ValueType::Hash)) return;
    int64_t removed = 0;
    for (size_t i = 2; i < ctx.argc() && slot.get() != nullptr; ++i) {
      if (!hash_value::remove(*slot.get(), ctx.arg(i))) continue;
      ++removed;
      if (hash_value::length(*slot.edit()) == 0) slot.erase();
    }
    if (removed > 0) {
      ctx.propagate_as_received();
      ctx.notify(keyspace_events::kHash, "hdel", ctx.arg(1));
      if (slot.get() == nullptr) ctx.notify(keyspace_events::kGeneric, "del", ctx.arg(1));
    }
    ctx.out.integer(removed);
  });
}

// HLEN, HSTRLEN and HEXISTS: an integer about the hash, 0 for a missing key.
template <typename Measure>
void reply_hash_integer(CommandContext& ctx, Measure&& measure) {
  ctx.read_key(ctx.arg(1), [&](const Entry* hash) {
    if (ctx.wrong_type(hash, ValueType::Hash)) return;
    ctx.out.integer(hash != nullptr ? static_cast<int64_t>(measure(*hash)) : 0);
  });
}

void handle_hlen(CommandContext& ctx) {
  reply_hash_integer(ctx, [](const Entry& hash) { return hash_value::length(hash); });
}

void handle_hstrlen(CommandContext& ctx) {
  reply_hash_integer(ctx, [&](const Entry& hash) {
    const auto value = hash_value::get(hash, ctx.arg(2));
    return value ? value->to_string().size() : 0;
  });
}

void handle_hexists(CommandContext& ctx) {
  reply_hash_integer(ctx, [&](const Entry& hash) { return hash_value::contains(hash, ctx.arg(2)) ? 1 : 0; });
}

enum HashParts { kFields = 1, kValues = 2 };

// HKEYS, HVALS (arrays) and HGETALL (a map in RESP3), in storage order.
void reply_all(CommandContext& ctx, int parts) {
  const bool pairs = parts == (kFields | kValues);
  ctx.read_key(ctx.arg(1), [&](const Entry* hash) {
    if (ctx.wrong_type(hash, ValueType::Hash)) return;
    const size_t length = hash != nullptr ? hash_value::length(*hash) : 0;
    pairs ? ctx.out.map(length) : ctx.out.array(length);
    if (hash == nullptr) return;
    hash_value::for_each(*hash, [&](const Element& field, const Element& value) {
      if (parts & kFields) bulk_element(ctx.out, field);
      if (parts & kValues) bulk_element(ctx.out, value);
    });
  });
}

void handle_hkeys(CommandContext& ctx) { reply_all(ctx, kFields); }
void handle_hvals(CommandContext& ctx) { reply_all(ctx, kValues); }
void handle_hgetall(CommandContext& ctx) { reply_all(ctx, kFields | kValues); }

// HINCRBY key field increment: the field (0 when missing) must hold a strict decimal integer.
void handle_hincrby(CommandContext& ctx) {
  const auto increment = integer_or_reply(ctx, ctx.arg(3));
  if (!increment) return;
  ctx.db().write(ctx.arg(1), [&](KeySlot& slot) {
    if (ctx.wrong_type(slot.get(), ValueType::Hash)) return;
    int64_t current = 0;
    if (const auto value = slot.get() != nullptr ? hash_value::get(*slot.get(), ctx.arg(2)) : std::nullopt) {
      const auto parsed = value->is_integer() ? value->integer() : parse_int64(value->string());
      if (!parsed) return ctx.out.error(errors::kHashValueNotInteger);
      current = *parsed;
    }
    const auto sum = add_checked(current, *increment);
    if (!sum) return ctx.out.error(errors::kOverflow);
    hash_value::set(hash_to_change(slot), ctx.arg(2), std::to_string(*sum), limits(ctx));
    ctx.propagate_as_received();
    ctx.notify(keyspace_events::kHash, "hincrby", ctx.arg(1));
    ctx.out.integer(*sum);
  });
}

// HINCRBYFLOAT key field increment: long double arithmetic and INCRBYFLOAT's text for the result, replied
// as a bulk string (RESP3 too) and propagated as HSET of that text, as Redis does, so that a replay does not
// depend on float arithmetic.
void handle_hincrbyfloat(CommandContext& ctx) {
  const auto increment = parse_long_double_or_infinity(ctx.arg(3));
  if (!increment) return ctx.out.error(errors::kNotFloat);
  if (std::isinf(*increment)) return ctx.out.error(errors::kNanOrInfinityValue);
  ctx.db().write(ctx.arg(1), [&](KeySlot& slot) {
    if (ctx.wrong_type(slot.get(), ValueType::Hash)) return;
    long double current = 0;
    if (const auto value = slot.get() != nullptr ? hash_value::get(*slot.get(), ctx.arg(2)) : std::nullopt) {
      const auto parsed = value->is_integer() ? static_cast<long double>(value->integer())
                                              : parse_long_double_or_infinity(value->string());
      if (!parsed) return ctx.out.error(errors::kHashValueNotFloat);
      current = *parsed;
    }
    const long double sum = current + *increment;
    if (std::isnan(sum) || std::isinf(sum)) return ctx.out.error(errors::kNanOrInfinity);
    const std::string text = format_long_double(sum);
    hash_value::set(hash_to_change(slot), ctx.arg(2), text, limits(ctx));
    ctx.propagate({"HSET", ctx.arg(1), ctx.arg(2), text});
    ctx.notify(keyspace_events::kHash, "hincrbyfloat", ctx.arg(1));
    ctx.out.bulk(text);
  });
}

// HSCAN key cursor [MATCH pattern] [COUNT count]: fields with their values; a listpack is returned whole
// with cursor 0, as Redis does.
void handle_hscan(CommandContext& ctx) {
  reply_key_scan(ctx, ValueType::Hash, 2, [](const Entry& hash, uint64_t cursor, size_t count, auto& strings) {
    return hash_value::scan(hash, cursor, count, [&](const Element& field, const Element& value) {
      strings.push_back(field.to_string());
      strings.push_back(value.to_string());
    });
  });
}

}  // namespace

void register_hashes(CommandTable& table) {
  constexpr uint32_t kSet = kWrite | kDenyOom | kFast;
  constexpr uint32_t kGet = kReadonly | kFast;
  //         name      arity flags first last step handler
  table.add({"hset", -4, kSet, 1, 1, 1, handle_hset, "hash", "2.0.0", "Set the string value of a hash field"});
  table.add({"hsetnx", 4, kSet, 1, 1, 1, handle_hsetnx, "hash", "2.0.0",
             "Set the value of a hash field, only if the field does not exist"});
  table.add({"hmset", -4, kSet, 1, 1, 1, handle_hmset, "hash", "2.0.0", "Set multiple hash fields to multiple values"});
  table.add({"hget", 3, kGet, 1, 1, 1, handle_hget, "hash", "2.0.0", "Get the value of a hash field"});
  table.add({"hmget", -3, kGet, 1, 1, 1, handle_hmget, "hash", "2.0.0", "Get the values of all the given hash fields"});
  table.add({"hdel", -3, kWrite | kFast, 1, 1, 1, handle_hdel, "hash", "2.0.0", "Delete one or more hash fields"});
  table.add({"hlen", 2, kGet, 1, 1, 1, handle_hlen, "hash", "2.0.0", "Get the number of fields in a hash"});
  table.add({"hstrlen", 3, kGet, 1, 1, 1, handle_hstrlen, "hash", "3.2.0",
             "Get the length of the value of a hash field"});
  table.add({"hexists", 3, kGet, 1, 1, 1, handle_hexists, "hash", "2.0.0", "Determine if a hash field exists"});
  table.add({"hkeys", 2, kReadonly, 1, 1, 1, handle_hkeys, "hash", "2.0.0", "Get all the fields in a hash"});
  table.add({"hvals", 2, kReadonly, 1, 1, 1, handle_hvals, "hash", "2.0.0", "Get all the values in a hash"});
  table.add({"hgetall", 2, kReadonly, 1, 1, 1, handle_hgetall, "hash", "2.0.0",
             "Get all the fields and values in a hash"});
  table.add({"hincrby", 4, kSet, 1, 1, 1, handle_hincrby, "hash", "2.0.0",
             "Increment the integer value of a hash field by the given number"});
  table.add({"hincrbyfloat", 4, kSet, 1, 1, 1, handle_hincrbyfloat, "hash", "2.6.0",
             "Increment the float value of a hash field by the given amount"});
  table.add({"hscan", -3, kReadonly, 1, 1, 1, handle_hscan, "hash", "2.8.0",
             "Incrementally iterate hash fields and associated values"});
}

}  // namespace rc
