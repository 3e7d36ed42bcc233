#include "protocol/errors.h"

#include <fmt/format.h>

#include <algorithm>
#include <cstring>

#include "protocol/ascii_case.h"

namespace rc::errors {

std::string protocol_expected_dollar(char got) {
  return fmt::format("ERR Protocol error: expected '$', got '{}'", got);
}

std::string misconf_aof(int error_number) {
  return fmt::format("MISCONF Errors writing to the AOF file: {}", std::strerror(error_number));
}

std::string wrong_arity(std::string_view command_fullname) {
  return fmt::format("ERR wrong number of arguments for '{}' command", command_fullname);
}

std::string at_least_one_key(std::string_view command_fullname) {
  return fmt::format("ERR at least 1 input key is needed for '{}' command", command_fullname);
}

std::string invalid_expire_time(std::string_view command) {
  return fmt::format("ERR invalid expire time in '{}' command", command);
}

namespace {

// Redis prints the subcommand with "%.128s", which also stops at a NUL byte.
std::string_view as_printed(std::string_view subcommand) {
  return subcommand.substr(0, std::min(subcommand.find('\0'), size_t{128}));
}

}  // namespace

std::string unknown_subcommand(std::string_view subcommand, std::string_view container) {
  return fmt::format("ERR unknown subcommand '{}'. Try {} HELP.", as_printed(subcommand), ascii_uppercase(container));
}

std::string unknown_subcommand_or_arity(std::string_view subcommand, std::string_view container) {
  return fmt::format("ERR unknown subcommand or wrong number of arguments for '{}'. Try {} HELP.",
                     as_printed(subcommand), ascii_uppercase(container));
}

}  // namespace rc::errors
