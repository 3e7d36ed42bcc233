#pragma once
// Small helpers for reading command arguments the way Redis does.
#include <algorithm>
#include <cctype>
#include <cstdint>
#include <optional>
#include <string_view>

#include "protocol/errors.h"
#include "protocol/ascii_case.h"
#include "protocol/numbers.h"
#include "server/command_context.h"

namespace rc {

// Case-insensitive comparison of an argument with an option word ("nx", "EX", ...). Redis compares option
// words as C strings, so a NUL byte ends the argument ("EX\0junk" is EX).
inline bool is_word(std::string_view argument, std::string_view word) {
  return equals_ignore_case(argument.substr(0, argument.find('\0')), word);
}

// The argument as an integer, or replies "value is not an integer or out of range" and returns nullopt.
inline std::optional<int64_t> integer_or_reply(CommandContext& ctx, std::string_view argument,
                                               std::string_view error = errors::kNotInteger) {
  const auto value = parse_int64(argument);
  if (!value) ctx.out.error(error);
  return value;
}

// An expiry argument as an absolute Unix time in ms: `seconds` for EX/EXAT/EXPIRE units, `relative` for
// EX/PX/EXPIRE/PEXPIRE. Replies "invalid expire time in '<command>' command" for non-positive or overflowing
// times, or the integer error, and returns nullopt.
std::optional<int64_t> expire_at_or_reply(CommandContext& ctx, std::string_view argument, bool seconds,
                                          bool relative, std::string_view command);

// A database number as Redis's getIntFromObjectOrReply reads it (then selectDb's range check): nullopt
// after replying the error.
std::optional<int> db_index_or_reply(CommandContext& ctx, std::string_view argument);  // keys.cpp

}  // namespace rc
