// String commands: GET, SET and their relatives (server/commands/string_*.cpp hold the rest).
#include "protocol/errors.h"
#include "server/command_context.h"
#include "server/command_table.h"
#include "server/commands/arguments.h"
#include "server/commands/registry.h"
#include "store/clock.h"

namespace rc {
namespace {

void handle_get(CommandContext& ctx) {
  ctx.db().read(ctx.arg(1), [&](const Entry* entry) {
    if (entry == nullptr) return ctx.out.null();
    ctx.out.bulk(entry->value());
  });
}

// SET's options, as parseExtendedStringArgumentsOrReply reads them: each option may appear once, and the
// conflicting ones (NX/XX, and the expiry forms among themselves) are a syntax error.
struct SetOptions {
  bool nx = false;
  bool xx = false;
  bool get = false;
  bool keep_ttl = false;
  enum class Expiry { None, Ex, Px, ExAt, PxAt } expiry = Expiry::None;
  std::string_view expiry_argument;
};

std::optional<SetOptions> parse_set_options(CommandContext& ctx) {
  SetOptions options;
  using Expiry = SetOptions::Expiry;
  for (size_t i = 3; i < ctx.argc(); ++i) {
    const std::string_view option = ctx.arg(i);
    const bool has_next = i + 1 < ctx.argc();
    const Expiry kind = is_word(option, "ex")     ? Expiry::Ex
                        : is_word(option, "px")   ? Expiry::Px
                        : is_word(option, "exat") ? Expiry::ExAt
                        : is_word(option, "pxat") ? Expiry::PxAt
                                                  : Expiry::None;
    if (is_word(option, "nx") && !options.xx) {
      options.nx = true;
    } else if (is_word(option, "xx") && !options.nx) {
      options.xx = true;
    } else if (is_word(option, "get")) {
      options.get = true;
    } else if (is_word(option, "keepttl") && options.expiry == Expiry::None) {
      options.keep_ttl = true;
    } else if (kind != Expiry::None && has_next && !options.keep_ttl &&
               (options.expiry == Expiry::None || options.expiry == kind)) {
      // Repeating the same expiry option is allowed (the last one wins); mixing two kinds is not.
      options.expiry = kind;
      options.expiry_argument = ctx.arg(++i);
    } else {
      ctx.out.error(errors::kSyntax);
      return std::nullopt;
    }
  }
  return options;
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
  const auto options = parse_set_options(ctx);
  if (!options) return;
  using Expiry = SetOptions::Expiry;
  int64_t expire_at = Entry::kNoExpiry;
  if (options->expiry != Expiry::None) {
    const bool seconds = options->expiry == Expiry::Ex || options->expiry == Expiry::ExAt;
    const bool relative = options->expiry == Expiry::Ex || options->expiry == Expiry::Px;
    const auto at = expire_at_or_reply(ctx, options->expiry_argument, seconds, relative, "set");
    if (!at) return;
    expire_at = *at;
  }
  ctx.db().write(ctx.arg(1), [&](KeySlot& slot) {
    const Entry* current = slot.get();
    if (options->get) {
      if (current == nullptr) {
        ctx.out.null();
      } else {
        ctx.out.bulk(current->value());
      }
    }
    if ((options->nx && current != nullptr) || (options->xx && current == nullptr)) {
      if (!options->get) ctx.out.null();
      return;
    }
    const int64_t keep = options->keep_ttl && current != nullptr ? current->expire_at() : Entry::kNoExpiry;
    slot.set(ctx.arg(2), options->expiry != Expiry::None ? expire_at : keep);
    if (!options->get) ctx.out.ok();
  });
}

}  // namespace

void register_strings(CommandTable& table) {
  //          name   arity flags                first last step handler     group     since    summary
  table.add({"get", 2, kReadonly | kFast, 1, 1, 1, handle_get, "string", "1.0.0", "Returns the string value of a key."});
  table.add({"set", -3, kWrite | kDenyOom, 1, 1, 1, handle_set, "string", "1.0.0",
             "Sets the string value of a key, ignoring its type. The key is created if it doesn't exist."});
}

}  // namespace rc
