// String commands that get or set a whole value: GET, SET and its variants (SETNX, SETEX, PSETEX, GETSET),
// GETDEL and GETEX. server/commands/string_*.cpp hold the rest of the family.
#include "protocol/errors.h"
#include "server/command_context.h"
#include "server/command_table.h"
#include "server/commands/arguments.h"
#include "server/commands/registry.h"
#include "store/clock.h"
#include "store/string_ops.h"

namespace rc {
namespace {

// Replies the value (or a null for a missing key), as GET does; false after a WRONGTYPE reply.
bool reply_value(CommandContext& ctx, const Entry* entry) {
  if (ctx.wrong_type(entry, ValueType::String)) return false;
  if (entry == nullptr) {
    ctx.out.null();
  } else {
    ctx.out.bulk(entry->value());
  }
  return true;
}

void handle_get(CommandContext& ctx) {
  ctx.read_key(ctx.arg(1), [&](const Entry* entry) { reply_value(ctx, entry); });
}

// The options SET and GETEX share, read as parseExtendedStringArgumentsOrReply does. An option may repeat
// (the last expiry argument wins), but NX/XX exclude each other and so do the expiry forms
// (EX, PX, EXAT, PXAT, KEEPTTL for SET, PERSIST for GETEX); anything else is a syntax error.
struct ExtendedOptions {
  enum class Expiry { None, Ex, Px, ExAt, PxAt, KeepTtl, Persist };
  bool nx = false;
  bool xx = false;
  bool get = false;
  Expiry expiry = Expiry::None;
  std::string_view expiry_argument;

  // EX, PX, EXAT or PXAT: a time argument to validate.
  bool has_expire_time() const {
    return expiry != Expiry::None && expiry != Expiry::KeepTtl && expiry != Expiry::Persist;
  }
};

enum class OptionsOf { Set, GetEx };

// The expiry form an option word names, if it takes a time argument.
std::optional<ExtendedOptions::Expiry> timed_expiry(std::string_view option) {
  using Expiry = ExtendedOptions::Expiry;
  if (is_word(option, "ex")) return Expiry::Ex;
  if (is_word(option, "px")) return Expiry::Px;
  if (is_word(option, "exat")) return Expiry::ExAt;
  if (is_word(option, "pxat")) return Expiry::PxAt;
  return std::nullopt;
}

// Reads one option at argv[i] (and its argument), advancing i past what it used; false on a syntax error.
bool read_option(CommandContext& ctx, OptionsOf kind, size_t& i, ExtendedOptions& options) {
  using Expiry = ExtendedOptions::Expiry;
  const std::string_view option = ctx.arg(i);  // is_word reads it as a C string, as Redis
  const bool for_set = kind == OptionsOf::Set;
  const auto expiry_free_or = [&](Expiry form) { return options.expiry == Expiry::None || options.expiry == form; };
  if (for_set && is_word(option, "nx") && !options.xx) {
    options.nx = true;
  } else if (for_set && is_word(option, "xx") && !options.nx) {
    options.xx = true;
  } else if (for_set && is_word(option, "get")) {
    options.get = true;
  } else if (for_set && is_word(option, "keepttl") && expiry_free_or(Expiry::KeepTtl)) {
    options.expiry = Expiry::KeepTtl;
  } else if (!for_set && is_word(option, "persist") && expiry_free_or(Expiry::Persist)) {
    options.expiry = Expiry::Persist;
  } else if (const auto form = timed_expiry(option); form && expiry_free_or(*form) && i + 1 < ctx.argc()) {
    options.expiry = *form;
    options.expiry_argument = ctx.arg(++i);
  } else {
    return false;
  }
  return true;
}

std::optional<ExtendedOptions> parse_extended_options(CommandContext& ctx, OptionsOf kind) {
  ExtendedOptions options;
  for (size_t i = kind == OptionsOf::Set ? 3 : 2; i < ctx.argc(); ++i) {
    if (!read_option(ctx, kind, i, options)) {
      ctx.out.error(errors::kSyntax);
      return std::nullopt;
    }
  }
  return options;
}

// The absolute expiry the options ask for (Entry::kNoExpiry when none), or nullopt after an error reply.
std::optional<int64_t> expire_time_or_reply(CommandContext& ctx, const ExtendedOptions& options,
                                            std::string_view command) {
  using Expiry = ExtendedOptions::Expiry;
  if (!options.has_expire_time()) return Entry::kNoExpiry;
  const bool seconds = options.expiry == Expiry::Ex || options.expiry == Expiry::ExAt;
  const bool relative = options.expiry == Expiry::Ex || options.expiry == Expiry::Px;
  return expire_at_or_reply(ctx, options.expiry_argument, seconds, relative, command);
}

}  // namespace

std::optional<int64_t> expire_at_or_reply(CommandContext& ctx, std::string_view argument, bool seconds,
                                          bool relative, std::string_view command) {
  const auto value = integer_or_reply(ctx, argument);
  if (!value) return std::nullopt;
  int64_t ms = *value;
  // Non-positive times and seconds that overflow as milliseconds are rejected, as getExpireMillisecondsOrReply.
  if (ms <= 0 || (seconds && ms > INT64_MAX / 1000)) {
    ctx.out.error(errors::invalid_expire_time(command));
    return std::nullopt;
  }
  if (seconds) ms *= 1000;
  if (relative) {
    const int64_t now = unix_time_ms();
    if (ms > INT64_MAX - now) {
      ctx.out.error(errors::invalid_expire_time(command));
      return std::nullopt;
    }
    ms += now;
  }
  return ms;
}

namespace {

void handle_set(CommandContext& ctx) {
  const auto options = parse_extended_options(ctx, OptionsOf::Set);
  if (!options) return;
  // The expiry is validated before anything is replied or changed (setGenericCommand).
  const auto expire_at = expire_time_or_reply(ctx, *options, "set");
  if (!expire_at) return;
  ctx.db().write(ctx.arg(1), [&](KeySlot& slot) {
    const Entry* current = slot.get();
    if (options->get) ctx.count_lookup(current);
    if (options->get && !reply_value(ctx, current)) return;
    if ((options->nx && current != nullptr) || (options->xx && current == nullptr)) {
      if (!options->get) ctx.out.null();
      return;
    }
    const bool keep = options->expiry == ExtendedOptions::Expiry::KeepTtl && current != nullptr;
    slot.set(ctx.arg(2), keep ? current->expire_at() : *expire_at);
    // Logged without NX/XX/GET, with an absolute expiry (Redis: SET key value PXAT ms).
    if (keep) {
      ctx.propagate({"SET", ctx.arg(1), ctx.arg(2), "KEEPTTL"});
    } else if (*expire_at != Entry::kNoExpiry) {
      ctx.propagate({"SET", ctx.arg(1), ctx.arg(2), "PXAT", std::to_string(*expire_at)});
    } else {
      ctx.propagate({"SET", ctx.arg(1), ctx.arg(2)});
    }
    ctx.notify(keyspace_events::kString, "set", ctx.arg(1));
    if (!keep && *expire_at != Entry::kNoExpiry) ctx.notify(keyspace_events::kGeneric, "expire", ctx.arg(1));
    if (!options->get) ctx.out.ok();
  });
}

// SETEX/PSETEX key time value: SET with EX/PX, the error naming the command itself.
void set_with_expiry(CommandContext& ctx, bool seconds, std::string_view command) {
  const auto expire_at = expire_at_or_reply(ctx, ctx.arg(2), seconds, true, command);
  if (!expire_at) return;
  ctx.db().write(ctx.arg(1), [&](KeySlot& slot) {
    slot.set(ctx.arg(3), *expire_at);
    ctx.propagate({"SET", ctx.arg(1), ctx.arg(3), "PXAT", std::to_string(*expire_at)});
    ctx.notify(keyspace_events::kString, "set", ctx.arg(1));
    ctx.notify(keyspace_events::kGeneric, "expire", ctx.arg(1));
  });
  ctx.out.ok();
}

void handle_setex(CommandContext& ctx) { set_with_expiry(ctx, true, "setex"); }
void handle_psetex(CommandContext& ctx) { set_with_expiry(ctx, false, "psetex"); }

void handle_setnx(CommandContext& ctx) {
  ctx.db().write(ctx.arg(1), [&](KeySlot& slot) {
    if (slot.get() != nullptr) return ctx.out.integer(0);
    slot.set(ctx.arg(2), Entry::kNoExpiry);
    ctx.propagate({"SET", ctx.arg(1), ctx.arg(2)});
    ctx.notify(keyspace_events::kString, "set", ctx.arg(1));
    ctx.out.integer(1);
  });
}

// GETSET: the old value, then a plain SET (which drops any TTL).
void handle_getset(CommandContext& ctx) {
  ctx.db().write(ctx.arg(1), [&](KeySlot& slot) {
    ctx.count_lookup(slot.get());
    if (!reply_value(ctx, slot.get())) return;
    slot.set(ctx.arg(2), Entry::kNoExpiry);
    ctx.propagate({"SET", ctx.arg(1), ctx.arg(2)});
    ctx.notify(keyspace_events::kString, "set", ctx.arg(1));
  });
}

void handle_getdel(CommandContext& ctx) {
  ctx.db().write(ctx.arg(1), [&](KeySlot& slot) {
    ctx.count_lookup(slot.get());
    if (!reply_value(ctx, slot.get())) return;
    if (slot.erase()) {
      ctx.propagate({"DEL", ctx.arg(1)});
      ctx.notify(keyspace_events::kGeneric, "del", ctx.arg(1));
    }
  });
}

// Applies GETEX's expiry option to a key that exists: an EXAT/PXAT already in the past deletes it.
// Logged as DEL, PEXPIREAT or PERSIST.
void apply_getex_expiry(CommandContext& ctx, KeySlot& slot, const ExtendedOptions& options, int64_t expire_at) {
  using Expiry = ExtendedOptions::Expiry;
  const bool absolute = options.expiry == Expiry::ExAt || options.expiry == Expiry::PxAt;
  if (absolute && expire_at <= unix_time_ms()) {
    slot.erase();
    ctx.propagate({"DEL", ctx.arg(1)});
    ctx.notify(keyspace_events::kGeneric, "del", ctx.arg(1));
  } else if (options.has_expire_time()) {
    slot.set_expiry(expire_at);
    ctx.propagate({"PEXPIREAT", ctx.arg(1), std::to_string(expire_at)});
    ctx.notify(keyspace_events::kGeneric, "expire", ctx.arg(1));
  } else if (options.expiry == Expiry::Persist && slot.get()->has_expiry()) {
    slot.set_expiry(Entry::kNoExpiry);
    ctx.propagate({"PERSIST", ctx.arg(1)});
    ctx.notify(keyspace_events::kGeneric, "persist", ctx.arg(1));
  }
}

// GETEX key [EX|PX|EXAT|PXAT time | PERSIST]. As in getexCommand, a missing key answers a null before the
// time is even looked at, and an invalid time is reported only for an existing key.
void handle_getex(CommandContext& ctx) {
  const auto options = parse_extended_options(ctx, OptionsOf::GetEx);
  if (!options) return;
  ctx.db().write(ctx.arg(1), [&](KeySlot& slot) {
    const Entry* entry = slot.get();
    ctx.count_lookup(entry);
    if (entry == nullptr) return ctx.out.null();
    if (ctx.wrong_type(entry, ValueType::String)) return;
    const auto expire_at = expire_time_or_reply(ctx, *options, "getex");
    if (!expire_at) return;
    ctx.out.bulk(entry->value());
    apply_getex_expiry(ctx, slot, *options, *expire_at);
  });
}

}  // namespace

void register_strings(CommandTable& table) {
  //          name       arity flags                       first last step handler
  table.add({"get", 2, kReadonly | kFast, 1, 1, 1, handle_get, "string", "1.0.0", "Get the value of a key"});
  table.add({"set", -3, kWrite | kDenyOom, 1, 1, 1, handle_set, "string", "1.0.0", "Set the string value of a key"});
  table.add({"setnx", 3, kWrite | kDenyOom | kFast, 1, 1, 1, handle_setnx, "string", "1.0.0",
             "Set the value of a key, only if the key does not exist"});
  table.add({"setex", 4, kWrite | kDenyOom, 1, 1, 1, handle_setex, "string", "2.0.0",
             "Set the value and expiration of a key"});
  table.add({"psetex", 4, kWrite | kDenyOom, 1, 1, 1, handle_psetex, "string", "2.6.0",
             "Set the value and expiration in milliseconds of a key"});
  table.add({"getset", 3, kWrite | kDenyOom | kFast, 1, 1, 1, handle_getset, "string", "1.0.0",
             "Set the string value of a key and return its old value"});
  table.add({"getdel", 2, kWrite | kFast, 1, 1, 1, handle_getdel, "string", "6.2.0",
             "Get the value of a key and delete the key"});
  table.add({"getex", -2, kWrite | kFast, 1, 1, 1, handle_getex, "string", "6.2.0",
             "Get the value of a key and optionally set its expiration"});
}

}  // namespace rc
