#include "server/options.h"

#include <fmt/format.h>

#include "protocol/numbers.h"

namespace rc {

std::optional<std::pair<std::string, int>> parse_listen_address(const std::string& text) {
  const size_t colon = text.rfind(':');
  if (colon == std::string::npos) return std::nullopt;
  std::string host = text.substr(0, colon);
  const auto port = parse_int64(text.substr(colon + 1));
  if (!port || *port < 0 || *port > 65535) return std::nullopt;
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  if (host.find_first_of(" []") != std::string::npos) return std::nullopt;
  return std::pair(host, static_cast<int>(*port));
}

std::string usage_text() {
  return "Usage: redis-clone [/path/to/redis-clone.conf] [options]\n"
         "  --listenAddr ADDR        address to listen on, [host]:port (default :5001, every interface)\n"
         "  --loglevel LEVEL         debug, verbose, notice (default) or warning\n"
         "  --databases N            number of databases (default 16)\n"
         "  --requirepass PASSWORD   require AUTH (or set REDIS_CLONE_PASSWORD in the environment)\n"
         "  --protected-mode yes|no  refuse non-loopback clients while no password is set (default yes)\n"
         "  --bind ADDR... --port N  Redis-style listening address (instead of --listenAddr)\n"
         "  --maxclients N, --timeout SECONDS, --tcp-keepalive SECONDS, ... any config directive\n"
         "  --version                print the version and exit\n"
         "  --help                   print this help and exit\n"
         "Examples: redis-clone --listenAddr 127.0.0.1:6380\n"
         "          redis-clone /etc/redis-clone.conf --loglevel verbose\n";
}

namespace {

// --listenAddr is the one flag that is not a config directive: it sets bind and port together.
std::optional<std::string> add_listen_address(CommandLine& line, const std::string& value) {
  const auto address = parse_listen_address(value);
  if (!address) return fmt::format("invalid --listenAddr '{}': expected [host]:port, e.g. :5001", value);
  if (address->first.empty()) {
    line.directives.push_back({"bind", {"*", "-::*"}});
  } else {
    line.directives.push_back({"bind", {address->first}});
  }
  line.directives.push_back({"port", {std::to_string(address->second)}});
  return std::nullopt;
}

bool is_flag(const std::string& arg) { return arg.size() > 2 && arg.rfind("--", 0) == 0; }

}  // namespace

ParseOutcome parse_options(const std::vector<std::string>& args) {
  ParseOutcome outcome;
  CommandLine& line = outcome.command_line;
  size_t i = 0;
  if (!args.empty() && !args[0].empty() && args[0][0] != '-') line.config_file = args[i++];
  for (; i < args.size(); ++i) {
    const std::string& arg = args[i];
    if (arg == "--help" || arg == "-h") return {ParseOutcome::Kind::Help, {}, {}};
    if (arg == "--version" || arg == "-v") return {ParseOutcome::Kind::Version, {}, {}};
    if (!is_flag(arg)) return {ParseOutcome::Kind::Error, {}, fmt::format("unexpected argument '{}' (see --help)", arg)};
    std::string name = arg.substr(2);
    std::vector<std::string> words;
    const size_t equals = name.find('=');
    if (equals != std::string::npos) {
      words.push_back(name.substr(equals + 1));
      name = name.substr(0, equals);
    } else {
      // Redis style: the values are every word up to the next flag (`--save 900 1 300 10`).
      for (; i + 1 < args.size() && !is_flag(args[i + 1]); ++i) words.push_back(args[i + 1]);
      if (words.empty()) return {ParseOutcome::Kind::Error, {}, fmt::format("option '--{}' needs a value (see --help)", name)};
    }
    if (name == "listenAddr") {
      if (words.size() != 1) return {ParseOutcome::Kind::Error, {}, "--listenAddr takes one address"};
      if (auto error = add_listen_address(line, words[0])) return {ParseOutcome::Kind::Error, {}, *error};
      continue;
    }
    line.directives.emplace_back(name, std::move(words));
  }
  return outcome;
}

}  // namespace rc
