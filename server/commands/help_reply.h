#pragma once
// The reply of a container's HELP subcommand, shaped as Redis's addReplyHelp: a first line naming the
// command, the given lines, then "HELP" and its description, each as a simple string.
#include <initializer_list>
#include <string_view>

#include "protocol/ascii_case.h"
#include "protocol/reply_writer.h"

namespace rc {

inline void reply_help(ReplyWriter& out, std::string_view command, std::initializer_list<std::string_view> lines) {
  out.array(lines.size() + 3);
  out.simple(ascii_uppercase(command) + " <subcommand> [<arg> [value] [opt] ...]. Subcommands are:");
  for (const std::string_view line : lines) out.simple(line);
  out.simple("HELP");
  out.simple("    Prints this help.");
}

}  // namespace rc
