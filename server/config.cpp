#include "server/config.h"

#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <mutex>
#include <sstream>

#include <fmt/format.h>

#include "protocol/ascii_case.h"
#include "protocol/inline_splitter.h"
#include "protocol/numbers.h"
#include "server/persistence.h"
#include "server/pubsub.h"
#include "store/glob.h"
#include "store/keyspace_events.h"

namespace rc {
namespace {

enum class Type { Bool, Integer, Memory, Enum, String };

struct Parameter {
  std::string_view name;
  Type type;
  std::string_view default_value;
  bool is_mutable;
  int64_t min = 0;
  int64_t max = INT64_MAX;
  std::string_view choices = {};  // Enum: "a|b|c"
};

// The parameters redis-clone understands. Immutable ones can only be given at startup; persistence and
// memory parameters are listed with what the server really does (no saving, no eviction) and cannot be
// changed until those features exist, so that CONFIG SET never claims a change that has no effect.
constexpr Parameter kParameters[] = {
    {"bind", Type::String, "* -::*", false},
    {"port", Type::Integer, "5001", false, 0, 65535},
    {"protected-mode", Type::Bool, "yes", true},
    {"requirepass", Type::String, "", true},
    {"maxclients", Type::Integer, "10000", true, 1, UINT32_MAX},
    {"timeout", Type::Integer, "0", true, 0, INT32_MAX},
    {"tcp-keepalive", Type::Integer, "300", true, 0, INT32_MAX},
    {"databases", Type::Integer, "16", false, 1, INT32_MAX},
    {"loglevel", Type::Enum, "notice", true, 0, 0, "debug|verbose|notice|warning"},
    {"proto-max-bulk-len", Type::Memory, "536870912", true, 1024 * 1024, INT64_MAX},
    {"client-query-buffer-limit", Type::Memory, "1073741824", true, 1024 * 1024, INT64_MAX},
    {"lazyfree-lazy-user-flush", Type::Bool, "no", true},
    // DEL frees a big value in the background, as UNLINK does.
    {"lazyfree-lazy-user-del", Type::Bool, "no", true},
    // Whether a key removed because its time ran out is propagated (AOF) as UNLINK rather than DEL.
    {"lazyfree-lazy-expire", Type::Bool, "no", true},
    {"hz", Type::Integer, "10", false, 1, 500},
    // Redis's default save points: a snapshot after an hour with one change, 5 minutes with 100 or a
    // minute with 10,000, and at shutdown. `--save ""` turns them off (tests and benchmarks do).
    // CONFIG SET save takes effect at the next once-a-second check.
    {"save", Type::String, "3600 1 300 100 60 10000", true},
    // With save points and this on, a failed background save refuses writes until a save succeeds.
    {"stop-writes-on-bgsave-error", Type::Bool, "yes", true},
    // The AOF (server/aof_log.h). CONFIG SET appendonly starts or stops it (handle_config_set); the
    // rewrite settings and aof-use-rdb-preamble are read at each rewrite, the others at startup or when
    // it starts.
    {"appendonly", Type::Bool, "no", true},
    {"appendfsync", Type::Enum, "everysec", false, 0, 0, "always|everysec|no"},
    {"appenddirname", Type::String, "appendonlydir", false},
    {"appendfilename", Type::String, "appendonly.aof", false},
    {"auto-aof-rewrite-percentage", Type::Integer, "100", true, 0, INT32_MAX},
    {"auto-aof-rewrite-min-size", Type::Memory, "67108864", true},
    {"aof-load-truncated", Type::Bool, "yes", true},
    {"aof-use-rdb-preamble", Type::Bool, "yes", true},
    // Where SAVE, BGSAVE and the startup load go. Startup only: Redis 7 refuses CONFIG SET of these two
    // unless enable-protected-configs is set (pointing them at ~/.ssh is a classic attack).
    {"dir", Type::String, "", false},
    {"dbfilename", Type::String, "dump.rdb", false},
    {"rdbcompression", Type::Bool, "yes", true},
    {"rdbchecksum", Type::Bool, "yes", false},
    {"maxmemory", Type::Memory, "0", false},
    {"maxmemory-policy", Type::Enum, "noeviction", false, 0, 0,
     "volatile-lru|volatile-lfu|volatile-random|volatile-ttl|allkeys-lru|allkeys-lfu|allkeys-random|noeviction"},
    {"io-threads", Type::Integer, "1", false, 1, 128},
    {"cluster-enabled", Type::Bool, "no", false},
    {"replica-read-only", Type::Bool, "yes", false},
    // When a hash, set or sorted set leaves its compact encoding (listpack, intset) for a hash table or a
    // skiplist, as Redis decides.
    {"hash-max-listpack-entries", Type::Integer, "512", true, 0, INT64_MAX},
    {"hash-max-listpack-value", Type::Memory, "64", true, 0, INT64_MAX},
    {"set-max-intset-entries", Type::Integer, "512", true, 0, INT64_MAX},
    // How a list's nodes fill and compress (store/quicklist.h); a list keeps the values it was created with.
    {"list-max-listpack-size", Type::Integer, "-2", true, INT32_MIN, INT32_MAX},
    {"list-compress-depth", Type::Integer, "0", true, 0, INT32_MAX},
    {"zset-max-listpack-entries", Type::Integer, "128", true, 0, INT64_MAX},
    {"zset-max-listpack-value", Type::Memory, "64", true, 0, INT64_MAX},
    // Per client class: hard limit, soft limit, soft seconds (server/pubsub.h enforces the pubsub class).
    // CONFIG SET changes only the classes it names.
    // Keyspace notifications (store/keyspace_events.h); read back in Redis's normal form ("KEA" -> "AKE").
    {"notify-keyspace-events", Type::String, "", true},
    {"client-output-buffer-limit", Type::String, "normal 0 0 0 slave 268435456 67108864 60 pubsub 33554432 8388608 60",
     true},
};

// Redis 7.0's older names of some parameters, which CONFIG GET/SET and config files still accept.
constexpr std::pair<std::string_view, std::string_view> kAliases[] = {
    {"hash-max-ziplist-entries", "hash-max-listpack-entries"},
    {"hash-max-ziplist-value", "hash-max-listpack-value"},
    {"list-max-ziplist-size", "list-max-listpack-size"},
    {"zset-max-ziplist-entries", "zset-max-listpack-entries"},
    {"zset-max-ziplist-value", "zset-max-listpack-value"},
};

const Parameter* find_parameter(std::string_view name) {
  for (const auto& [alias, canonical] : kAliases) {
    if (equals_ignore_case(alias, name)) name = canonical;
  }
  for (const Parameter& p : kParameters) {
    if (equals_ignore_case(p.name, name)) return &p;
  }
  return nullptr;
}

// Validates and normalizes a value the way Redis's typed configs do; error text on failure.
std::optional<std::string> normalize(const Parameter& p, std::string_view value, std::string& out) {
  switch (p.type) {
    case Type::Bool: {
      const std::string lower = ascii_lowercase(value);
      if (lower != "yes" && lower != "no") return std::string("argument must be 'yes' or 'no'");
      out = lower;
      return std::nullopt;
    }
    case Type::Integer:
    case Type::Memory: {
      const auto number = p.type == Type::Memory ? parse_memory(value) : parse_int64(value);
      if (!number) {
        return std::string(p.type == Type::Memory ? "argument must be a memory value"
                                                  : "argument couldn't be parsed into an integer");
      }
      if (*number < p.min || *number > p.max) {
        return fmt::format("argument must be between {} and {} inclusive", p.min, p.max);
      }
      out = std::to_string(*number);
      return std::nullopt;
    }
    case Type::Enum: {
      const std::string lower = ascii_lowercase(value);
      std::string_view choices = p.choices;
      for (size_t start = 0; start <= choices.size();) {
        const size_t bar = std::min(choices.find('|', start), choices.size());
        if (choices.substr(start, bar - start) == lower) {
          out = lower;
          return std::nullopt;
        }
        start = bar + 1;
      }
      std::string listed;
      for (const char c : choices) listed += c == '|' ? std::string(", ") : std::string(1, c);
      return fmt::format("argument(s) must be one of the following: {}", listed);
    }
    case Type::String:
      out = std::string(value);
      return std::nullopt;
  }
  return std::nullopt;
}

}  // namespace

std::optional<int64_t> parse_memory(std::string_view text) {
  const std::string lower = ascii_lowercase(text);
  static const std::pair<std::string_view, int64_t> kUnits[] = {
      {"gb", 1LL << 30}, {"mb", 1LL << 20}, {"kb", 1LL << 10}, {"g", 1000LL * 1000 * 1000},
      {"m", 1000LL * 1000}, {"k", 1000LL}, {"b", 1}};
  int64_t multiplier = 1;
  std::string_view digits = lower;
  for (const auto& [suffix, factor] : kUnits) {
    if (digits.size() > suffix.size() && digits.substr(digits.size() - suffix.size()) == suffix) {
      multiplier = factor;
      digits.remove_suffix(suffix.size());
      break;
    }
  }
  const auto value = parse_int64(digits);
  if (!value || *value < 0 || *value > INT64_MAX / multiplier) return std::nullopt;
  return *value * multiplier;
}


std::string quote_config_word(const std::string& value) {
  if (!value.empty() && value.find_first_of(" \t\"'\\\r\n") == std::string::npos) return value;
  std::string out = "\"";
  for (const char c : value) {
    if (c == '"' || c == '\\') out.push_back('\\');
    if (c == '\n') {
      out += "\\n";
      continue;
    }
    out.push_back(c);
  }
  return out + "\"";
}

namespace {

// Directives whose value is a list of words ("save 3600 1 300 100", "bind 127.0.0.1 -::1").
bool takes_several_words(std::string_view name) {
  return name == "save" || name == "bind" || equals_ignore_case(name, "client-output-buffer-limit");
}

}  // namespace

std::optional<std::vector<std::string>> split_config_line(std::string_view line) {
  return split_inline_arguments(line);
}

Config::Config() {
  for (const Parameter& p : kParameters) values_.emplace(std::string(p.name), std::string(p.default_value));
  char cwd[4096];
  if (::getcwd(cwd, sizeof cwd) != nullptr) values_["dir"] = cwd;
  // The cached copies start from the defaults too (a default such as save's is not the type's zero).
  for (const Parameter& p : kParameters) refresh_cached(p.name);
}

bool Config::known(std::string_view name) const { return find_parameter(name) != nullptr; }

bool Config::is_mutable(std::string_view name) const {
  const Parameter* p = find_parameter(name);
  return p != nullptr && p->is_mutable;
}

std::optional<std::string> Config::set(std::string_view name, std::string_view value, bool startup) {
  const Parameter* p = find_parameter(name);
  if (p == nullptr) return std::string("Bad directive or wrong number of arguments");
  if (!startup && !p->is_mutable) return std::string("can't set immutable config");
  std::string normalized;
  if (p->name == std::string_view("client-output-buffer-limit")) {
    auto merged = merge_output_buffer_limits(text(p->name), value);
    if (!merged.error.empty()) return merged.error;
    normalized = std::move(merged.value);
  } else if (p->name == std::string_view("notify-keyspace-events")) {
    const auto classes = keyspace_events::parse_classes(value);
    if (!classes) return std::string("Invalid event class character. Use 'Ag$lshzxeKEtmdn'.");
    normalized = keyspace_events::format_classes(*classes);
  } else if (auto error = p->name == std::string_view("save") ? normalize_save(value, startup, normalized)
                                                               : normalize(*p, value, normalized)) {
    return error;
  }
  assign(p->name, std::move(normalized));
  return std::nullopt;
}

void Config::restore(std::string_view name, const std::string& value) {
  if (const Parameter* p = find_parameter(name)) assign(p->name, value);
}

void Config::assign(std::string_view name, std::string value) {
  {
    std::unique_lock lock(mutex_);
    values_[std::string(name)] = std::move(value);
  }
  refresh_cached(name);
}

// Redis's rules for `save`: CONFIG SET replaces the points. Configuration lines and flags add up
// ("save 900 1" then "save 300 10" keeps both), the first of them replacing the default; `save ""` clears.
std::optional<std::string> Config::normalize_save(std::string_view value, bool startup, std::string& out) {
  auto points = parse_save_points(value, startup ? SaveWords::AnyWhitespace : SaveWords::SingleSpaces);
  if (!points) return std::string("Invalid save parameters");
  if (startup && startup_save_seen_ && !value.empty()) {
    auto earlier = parse_save_points(text("save")).value_or(std::vector<SavePoint>{});
    points->insert(points->begin(), earlier.begin(), earlier.end());
  }
  startup_save_seen_ = startup_save_seen_ || startup;
  out = format_save_points(*points);
  return std::nullopt;
}

void Config::refresh_cached(std::string_view name) {
  const std::string value = text(name);
  if (name == "maxclients") maxclients_ = integer(name);
  if (name == "timeout") timeout_ = integer(name);
  if (name == "tcp-keepalive") tcp_keepalive_ = integer(name);
  if (name == "proto-max-bulk-len") proto_max_bulk_len_ = integer(name);
  if (name == "client-query-buffer-limit") query_buffer_limit_ = integer(name);
  if (name == "protected-mode") protected_mode_ = value == "yes";
  if (name == "lazyfree-lazy-user-flush") lazyfree_user_flush_ = value == "yes";
  if (name == "lazyfree-lazy-user-del") lazyfree_user_del_ = value == "yes";
  if (name == "requirepass") password_set_ = !value.empty();
  if (name == "stop-writes-on-bgsave-error") stop_writes_on_bgsave_error_ = value == "yes";
  if (name == "save") {
    const auto points = parse_save_points(value);
    save_points_configured_ = points && !points->empty();
  }
}

std::optional<std::string> Config::get(std::string_view name) const {
  const Parameter* p = find_parameter(name);
  if (p == nullptr) return std::nullopt;
  std::shared_lock lock(mutex_);
  const auto it = values_.find(p->name);
  return it == values_.end() ? std::nullopt : std::optional<std::string>(it->second);
}

int64_t Config::integer(std::string_view name) const { return parse_int64(text(name)).value_or(0); }

bool Config::password_matches(std::string_view candidate) const {
  const std::string secret = text("requirepass");
  // Constant time in the secret's content: every byte is compared whatever the first mismatch, and the
  // length difference is folded into the result rather than returned early.
  unsigned char difference = static_cast<unsigned char>(secret.size() != candidate.size());
  const size_t length = std::max(secret.size(), candidate.size());
  for (size_t i = 0; i < length; ++i) {
    const unsigned char a = i < secret.size() ? static_cast<unsigned char>(secret[i]) : 0;
    const unsigned char b = i < candidate.size() ? static_cast<unsigned char>(candidate[i]) : 0;
    difference |= static_cast<unsigned char>(a ^ b);
  }
  return difference == 0 && !secret.empty();
}

std::vector<std::pair<std::string, std::string>> Config::matching(const std::vector<std::string_view>& patterns) const {
  // As Redis's CONFIG GET: a name without glob characters is looked up directly and answered under the
  // spelling the client used; a pattern matches every parameter name. Each parameter appears once.
  std::vector<std::pair<std::string, std::string>> found;
  std::vector<const Parameter*> seen;
  std::shared_lock lock(mutex_);
  auto add = [&](const Parameter& p, std::string_view shown) {
    if (std::find(seen.begin(), seen.end(), &p) != seen.end()) return;
    seen.push_back(&p);
    found.emplace_back(std::string(shown), values_.find(p.name)->second);
  };
  for (std::string_view pattern : patterns) {
    if (pattern.find_first_of("[*?") == std::string_view::npos) {
      if (const Parameter* p = find_parameter(pattern)) add(*p, pattern);
      continue;
    }
    for (const Parameter& p : kParameters) {
      if (glob_match(pattern, p.name, true)) add(p, p.name);
    }
    for (const auto& [alias, canonical] : kAliases) {
      if (glob_match(pattern, alias, true)) add(*find_parameter(canonical), alias);
    }
  }
  return found;
}

std::optional<std::string> Config::load_text(const std::string& text, const std::string& origin) {
  std::istringstream lines(text);
  std::string line;
  for (int number = 1; std::getline(lines, line); ++number) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    const size_t first = line.find_first_not_of(" \t");
    if (first == std::string::npos || line[first] == '#') continue;
    const auto words = split_config_line(line);
    std::string error;
    if (!words) {
      error = "Unbalanced quotes in configuration line";
    } else if (!known((*words)[0])) {
      error = "Bad directive or wrong number of arguments";
    } else if (!takes_several_words((*words)[0]) && words->size() != 2) {
      error = "wrong number of arguments";
    } else {
      std::string value;
      for (size_t i = 1; i < words->size(); ++i) value += (i > 1 ? " " : "") + (*words)[i];
      if (auto failed = set((*words)[0], value, true)) error = *failed;
    }
    if (!error.empty()) {
      return fmt::format("\n*** FATAL CONFIG FILE ERROR (redis-clone) ***\nReading the configuration {}, at line {}\n>>> '{}'\n{}",
                         origin, number, line, error);
    }
  }
  return std::nullopt;
}

std::optional<std::string> Config::load_file(const std::string& path) {
  std::ifstream in(path);
  if (!in) return fmt::format("Fatal error, can't open config file '{}': No such file or directory", path);
  std::stringstream contents;
  contents << in.rdbuf();
  file_ = path;
  return load_text(contents.str(), "file");
}

std::optional<std::string> Config::rewrite() const {
  if (file_.empty()) return std::string("ERR The server is running without a config file");
  // Keep comments and unknown lines; replace each known directive's first line with its current value,
  // drop its repeats, and append changed parameters that the file did not mention.
  std::ifstream in(file_);
  std::vector<std::string> out;
  std::vector<std::string> written;
  std::string line;
  while (std::getline(in, line)) {
    const auto words = split_config_line(line);
    const Parameter* p = words && !words->empty() && line.find_first_not_of(" \t") != std::string::npos &&
                                 line[line.find_first_not_of(" \t")] != '#'
                             ? find_parameter((*words)[0])
                             : nullptr;
    if (p == nullptr) {
      out.push_back(line);
      continue;
    }
    if (std::find(written.begin(), written.end(), p->name) != written.end()) continue;
    written.emplace_back(p->name);
    out.push_back(fmt::format("{} {}", p->name, quote_config_word(text(p->name))));
  }
  for (const Parameter& p : kParameters) {
    if (std::find(written.begin(), written.end(), p.name) != written.end()) continue;
    const std::string value = text(p.name);
    if (value == p.default_value || p.name == "dir") continue;
    out.push_back(fmt::format("{} {}", p.name, quote_config_word(value)));
  }
  const std::string temporary = file_ + ".tmp-rewrite";
  {
    std::ofstream file(temporary, std::ios::trunc);
    for (const auto& kept : out) file << kept << "\n";
    if (!file.flush()) return fmt::format("ERR Rewriting config file: {}", "write failed");
  }
  if (std::rename(temporary.c_str(), file_.c_str()) != 0) {
    std::remove(temporary.c_str());
    return std::string("ERR Rewriting config file: rename failed");
  }
  return std::nullopt;
}

}  // namespace rc
