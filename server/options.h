#pragma once
// Command-line options: `redis-clone --listenAddr :5001 [--loglevel notice] [--databases 16]`.
#include <optional>
#include <string>
#include <vector>

namespace rc {

struct ServerOptions {
  std::string host;       // empty: every interface
  int port = 5001;
  std::string loglevel = "notice";
  int databases = 16;
  std::string listen_text = ":5001";
};

// Splits "host:port", ":port", "[v6]:port"; nullopt when it is not an address.
std::optional<std::pair<std::string, int>> parse_listen_address(const std::string& text);

struct ParseOutcome {
  enum class Kind { Run, Help, Version, Error } kind = Kind::Run;
  ServerOptions options;
  std::string error;  // one line, for Kind::Error
};

ParseOutcome parse_options(const std::vector<std::string>& args);

std::string usage_text();

}  // namespace rc
