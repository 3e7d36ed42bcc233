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
  return "Usage: redis-clone [options]\n"
         "  --listenAddr ADDR     address to listen on, [host]:port (default :5001, every interface)\n"
         "  --loglevel LEVEL      debug, verbose, notice (default) or warning\n"
         "  --databases N         number of databases (default 16)\n"
         "  --version             print the version and exit\n"
         "  --help                print this help and exit\n"
         "Example: redis-clone --listenAddr 127.0.0.1:6380\n";
}

namespace {

bool is_log_level(const std::string& level) {
  return level == "debug" || level == "verbose" || level == "notice" || level == "warning";
}

// Applies one "--name value" pair; returns an error line or empty.
std::string apply(ServerOptions& options, const std::string& name, const std::string& value) {
  if (name == "--listenAddr") {
    const auto address = parse_listen_address(value);
    if (!address) return fmt::format("invalid --listenAddr '{}': expected [host]:port, e.g. :5001", value);
    options.host = address->first;
    options.port = address->second;
    options.listen_text = value;
  } else if (name == "--loglevel") {
    if (!is_log_level(value)) return fmt::format("invalid --loglevel '{}': use debug, verbose, notice or warning", value);
    options.loglevel = value;
  } else if (name == "--databases") {
    const auto count = parse_int64(value);
    if (!count || *count < 1 || *count > 1000000) return fmt::format("invalid --databases '{}'", value);
    options.databases = static_cast<int>(*count);
  } else {
    return fmt::format("unknown option '{}' (see --help)", name);
  }
  return {};
}

}  // namespace

ParseOutcome parse_options(const std::vector<std::string>& args) {
  ParseOutcome outcome;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& arg = args[i];
    if (arg == "--help" || arg == "-h") return {ParseOutcome::Kind::Help, {}, {}};
    if (arg == "--version" || arg == "-v") return {ParseOutcome::Kind::Version, {}, {}};
    std::string name = arg;
    std::string value;
    const size_t equals = arg.find('=');
    if (arg.rfind("--", 0) == 0 && equals != std::string::npos) {
      name = arg.substr(0, equals);
      value = arg.substr(equals + 1);
    } else if (arg.rfind("--", 0) == 0 && i + 1 < args.size() &&
               (arg == "--listenAddr" || arg == "--loglevel" || arg == "--databases")) {
      value = args[++i];
    } else if (arg == "--listenAddr" || arg == "--loglevel" || arg == "--databases") {
      return {ParseOutcome::Kind::Error, {}, fmt::format("option '{}' needs a value (see --help)", arg)};
    }
    std::string error = apply(outcome.options, name, value);
    if (!error.empty()) return {ParseOutcome::Kind::Error, {}, error};
  }
  return outcome;
}

}  // namespace rc
