#pragma once
// The command line: `redis-clone [/path/redis-clone.conf] [--listenAddr :5001] [--directive value ...]`.
// Besides --listenAddr (the original project's flag), every config directive can be given as a flag, as
// redis-server allows (`--port 6380 --protected-mode no`).
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace rc {

struct CommandLine {
  std::string config_file;  // empty: none
  // In order (later ones win): a directive and its words, e.g. {"save", {"900", "1"}}.
  std::vector<std::pair<std::string, std::vector<std::string>>> directives;
};

// Splits "host:port", ":port", "[v6]:port"; nullopt when it is not an address.
std::optional<std::pair<std::string, int>> parse_listen_address(const std::string& text);

struct ParseOutcome {
  enum class Kind { Run, Help, Version, Error } kind = Kind::Run;
  CommandLine command_line;
  std::string error;  // one line, for Kind::Error
};

ParseOutcome parse_options(const std::vector<std::string>& args);

std::string usage_text();

}  // namespace rc
