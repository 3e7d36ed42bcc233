// Expiry commands: EXPIRE, PEXPIRE, EXPIREAT, PEXPIREAT (with NX|XX|GT|LT), TTL, PTTL, EXPIRETIME,
// PEXPIRETIME and PERSIST. Expiry times are absolute Unix times in milliseconds (store/clock.h).
#include <fmt/format.h>

#include "protocol/errors.h"
#include "server/command_context.h"
#include "server/command_table.h"
#include "server/commands/arguments.h"
#include "server/commands/registry.h"
#include "store/clock.h"

namespace rc {
namespace {

enum ExpireCondition : unsigned { kIfNoExpiry = 1, kIfExpiry = 2, kIfGreater = 4, kIfLess = 8 };

// An option as Redis's addReplyErrorFormat shows it: read as a C string, newlines turned into spaces.
std::string printable_option(std::string_view option) {
  std::string text(option.substr(0, option.find('\0')));
  for (char& c : text) {
    if (c == '\r' || c == '\n') c = ' ';
  }
  return text;
}

// NX|XX|GT|LT after the key and time, as parseExtendedExpireArgumentsOrReply: any order, repeats allowed,
// the conflicting pairs rejected once all are read. nullopt after replying the error.
std::optional<unsigned> expire_conditions_or_reply(CommandContext& ctx) {
  unsigned conditions = 0;
  for (size_t i = 3; i < ctx.argc(); ++i) {
    const std::string_view option = ctx.arg(i);
    if (is_word(option, "nx")) {
      conditions |= kIfNoExpiry;
    } else if (is_word(option, "xx")) {
      conditions |= kIfExpiry;
    } else if (is_word(option, "gt")) {
      conditions |= kIfGreater;
    } else if (is_word(option, "lt")) {
      conditions |= kIfLess;
    } else {
      ctx.out.error(fmt::format("ERR Unsupported option {}", printable_option(option)));
      return std::nullopt;
    }
  }
  if ((conditions & kIfNoExpiry) && (conditions & (kIfExpiry | kIfGreater | kIfLess))) {
    ctx.out.error("ERR NX and XX, GT or LT options at the same time are not compatible");
    return std::nullopt;
  }
  if ((conditions & kIfGreater) && (conditions & kIfLess)) {
    ctx.out.error("ERR GT and LT options at the same time are not compatible");
    return std::nullopt;
  }
  return conditions;
}

// Whether the conditions allow replacing `current` (Entry::kNoExpiry: none, which counts as infinite).
bool conditions_allow(unsigned conditions, int64_t current, int64_t when) {
  const bool has_expiry = current != Entry::kNoExpiry;
  if ((conditions & kIfNoExpiry) && has_expiry) return false;
  if ((conditions & kIfExpiry) && !has_expiry) return false;
  if ((conditions & kIfGreater) && (!has_expiry || when <= current)) return false;
  if ((conditions & kIfLess) && has_expiry && when >= current) return false;
  return true;
}

// The absolute time in ms for EXPIRE-family arguments, as expireGenericCommand computes it: negative
// values are allowed (they delete the key), only overflow is an error. nullopt after replying the error.
std::optional<int64_t> expire_time_or_reply(CommandContext& ctx, int64_t basetime, bool seconds,
                                            std::string_view command) {
  const auto value = integer_or_reply(ctx, ctx.arg(2));
  if (!value) return std::nullopt;
  int64_t when = *value;
  if (seconds) {
    if (when > INT64_MAX / 1000 || when < INT64_MIN / 1000) {
      ctx.out.error(errors::invalid_expire_time(command));
      return std::nullopt;
    }
    when *= 1000;
  }
  if (when > INT64_MAX - basetime) {
    ctx.out.error(errors::invalid_expire_time(command));
    return std::nullopt;
  }
  return when + basetime;
}

void expire_generic(CommandContext& ctx, bool relative, bool seconds, std::string_view command) {
  const auto conditions = expire_conditions_or_reply(ctx);
  if (!conditions) return;
  const auto when = expire_time_or_reply(ctx, relative ? unix_time_ms() : 0, seconds, command);
  if (!when) return;
  const int64_t applied = ctx.db().write(ctx.arg(1), [&](KeySlot& slot) -> int64_t {
    const Entry* entry = slot.get();
    if (entry == nullptr || !conditions_allow(*conditions, entry->expire_at(), *when)) return 0;
    // A time already past deletes the key (Redis replicates this as a DEL) and still counts as applied.
    if (*when <= slot.now_ms()) {
      slot.erase();
      ctx.propagate({"DEL", ctx.arg(1)});
      ctx.notify(keyspace_events::kGeneric, "del", ctx.arg(1));
    } else {
      slot.set_expiry(*when);
      ctx.propagate({"PEXPIREAT", ctx.arg(1), std::to_string(*when)});
      ctx.notify(keyspace_events::kGeneric, "expire", ctx.arg(1));
    }
    return 1;
  });
  ctx.out.integer(applied);
}

void handle_expire(CommandContext& ctx) { expire_generic(ctx, true, true, "expire"); }
void handle_pexpire(CommandContext& ctx) { expire_generic(ctx, true, false, "pexpire"); }
void handle_expireat(CommandContext& ctx) { expire_generic(ctx, false, true, "expireat"); }
void handle_pexpireat(CommandContext& ctx) { expire_generic(ctx, false, false, "pexpireat"); }

// TTL, PTTL, EXPIRETIME, PEXPIRETIME: -2 for a missing key, -1 for a key without expiry, else the time
// left (or the absolute time), in seconds rounded to the nearest as Redis does, or in milliseconds.
void reply_ttl(CommandContext& ctx, bool milliseconds, bool absolute) {
  const int64_t ttl = ctx.read_key(ctx.arg(1), [&](const Entry* entry) -> int64_t {
    if (entry == nullptr) return -2;
    if (!entry->has_expiry()) return -1;
    const int64_t value = absolute ? entry->expire_at() : entry->expire_at() - unix_time_ms();
    return value < 0 ? 0 : value;
  });
  if (ttl < 0 || milliseconds) return ctx.out.integer(ttl);
  // (ttl + 500) / 1000 without overflowing when the expiry is near INT64_MAX (PEXPIREAT k 9223372036854775807).
  ctx.out.integer(ttl / 1000 + (ttl % 1000 + 500) / 1000);
}

void handle_ttl(CommandContext& ctx) { reply_ttl(ctx, false, false); }
void handle_pttl(CommandContext& ctx) { reply_ttl(ctx, true, false); }
void handle_expiretime(CommandContext& ctx) { reply_ttl(ctx, false, true); }
void handle_pexpiretime(CommandContext& ctx) { reply_ttl(ctx, true, true); }

void handle_persist(CommandContext& ctx) {
  const int64_t removed = ctx.db().write(ctx.arg(1), [&](KeySlot& slot) -> int64_t {
    const Entry* entry = slot.get();
    if (entry == nullptr || !entry->has_expiry()) return 0;
    slot.set_expiry(Entry::kNoExpiry);
    ctx.propagate({"PERSIST", ctx.arg(1)});
    ctx.notify(keyspace_events::kGeneric, "persist", ctx.arg(1));
    return 1;
  });
  ctx.out.integer(removed);
}

}  // namespace

void register_expire(CommandTable& table) {
  //         name           arity flags           first last step handler
  table.add({"expire", -3, kWrite | kFast, 1, 1, 1, handle_expire, "generic", "1.0.0",
             "Sets the expiration time of a key in seconds."});
  table.add({"pexpire", -3, kWrite | kFast, 1, 1, 1, handle_pexpire, "generic", "2.6.0",
             "Sets the expiration time of a key in milliseconds."});
  table.add({"expireat", -3, kWrite | kFast, 1, 1, 1, handle_expireat, "generic", "1.2.0",
             "Sets the expiration time of a key to a Unix timestamp."});
  table.add({"pexpireat", -3, kWrite | kFast, 1, 1, 1, handle_pexpireat, "generic", "2.6.0",
             "Sets the expiration time of a key to a Unix milliseconds timestamp."});
  table.add({"ttl", 2, kReadonly | kFast, 1, 1, 1, handle_ttl, "generic", "1.0.0",
             "Returns the expiration time in seconds of a key."});
  table.add({"pttl", 2, kReadonly | kFast, 1, 1, 1, handle_pttl, "generic", "2.6.0",
             "Returns the expiration time in milliseconds of a key."});
  table.add({"expiretime", 2, kReadonly | kFast, 1, 1, 1, handle_expiretime, "generic", "7.0.0",
             "Returns the expiration time of a key as a Unix timestamp."});
  table.add({"pexpiretime", 2, kReadonly | kFast, 1, 1, 1, handle_pexpiretime, "generic", "7.0.0",
             "Returns the expiration time of a key as a Unix milliseconds timestamp."});
  table.add({"persist", 2, kWrite | kFast, 1, 1, 1, handle_persist, "generic", "2.2.0",
             "Removes the expiration time of a key."});
}

}  // namespace rc
