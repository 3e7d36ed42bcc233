#pragma once
// The server's configuration parameters, by Redis's names and with Redis's defaults, syntax and errors:
// they come from a config file (`redis-clone /path/redis-clone.conf`, "directive value" lines), from
// the command line (`--maxclients 100`), from the environment (REDIS_CLONE_PASSWORD, so that a password
// need not appear in `ps`), and at run time from CONFIG SET. CONFIG GET and CONFIG REWRITE read them here.
#include <atomic>
#include <cstdint>
#include <map>
#include <optional>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <vector>

namespace rc {

class Config {
 public:
  Config();

  // Sets a parameter from its text. `startup` allows immutable parameters (config file, command line).
  // Returns Redis's error text on failure ("argument must be 'yes' or 'no'", ...).
  std::optional<std::string> set(std::string_view name, std::string_view value, bool startup);
  // Puts back a value text() returned earlier (a CONFIG SET that failed part way), as it was.
  void restore(std::string_view name, const std::string& value);

  // Loads "directive value ..." lines; on error, the message Redis prints (with the line number).
  std::optional<std::string> load_file(const std::string& path);
  // Parses config text (the file's contents, or the command line turned into lines).
  std::optional<std::string> load_text(const std::string& text, const std::string& origin);

  bool known(std::string_view name) const;
  bool is_mutable(std::string_view name) const;
  std::optional<std::string> get(std::string_view name) const;
  // Every (name, value) whose name matches one of the glob patterns, in table order.
  std::vector<std::pair<std::string, std::string>> matching(const std::vector<std::string_view>& patterns) const;

  // CONFIG REWRITE: writes the current values into the config file the server started from.
  std::optional<std::string> rewrite() const;
  const std::string& file() const { return file_; }

  // Values read on hot paths, kept as atomics.
  int64_t maxclients() const { return maxclients_.load(std::memory_order_relaxed); }
  int64_t timeout() const { return timeout_.load(std::memory_order_relaxed); }
  int64_t tcp_keepalive() const { return tcp_keepalive_.load(std::memory_order_relaxed); }
  int64_t proto_max_bulk_len() const { return proto_max_bulk_len_.load(std::memory_order_relaxed); }
  int64_t client_query_buffer_limit() const { return query_buffer_limit_.load(std::memory_order_relaxed); }
  bool protected_mode() const { return protected_mode_.load(std::memory_order_relaxed); }
  bool lazyfree_user_flush() const { return lazyfree_user_flush_.load(std::memory_order_relaxed); }
  bool lazyfree_user_del() const { return lazyfree_user_del_.load(std::memory_order_relaxed); }
  bool password_required() const { return password_set_.load(std::memory_order_relaxed); }
  bool stop_writes_on_bgsave_error() const { return stop_writes_on_bgsave_error_.load(std::memory_order_relaxed); }
  // `save` holds at least one well-formed save point (Redis's saveparamslen > 0).
  bool save_points_configured() const { return save_points_configured_.load(std::memory_order_relaxed); }
  // Constant-time comparison with requirepass.
  bool password_matches(std::string_view candidate) const;
  std::string text(std::string_view name) const { return get(name).value_or(""); }
  int64_t integer(std::string_view name) const;

 private:
  void assign(std::string_view name, std::string value);  // name as the parameter table spells it
  void refresh_cached(std::string_view name);
  std::optional<std::string> normalize_save(std::string_view value, bool startup, std::string& out);
  mutable std::shared_mutex mutex_;
  std::map<std::string, std::string, std::less<>> values_;
  std::string file_;
  bool startup_save_seen_ = false;  // a configuration line or flag has set `save` already
  std::atomic<int64_t> maxclients_{10000};
  std::atomic<int64_t> timeout_{0};
  std::atomic<int64_t> tcp_keepalive_{300};
  std::atomic<int64_t> proto_max_bulk_len_{512LL * 1024 * 1024};
  std::atomic<int64_t> query_buffer_limit_{1LL << 30};
  std::atomic<bool> protected_mode_{true};
  std::atomic<bool> lazyfree_user_flush_{false};
  std::atomic<bool> lazyfree_user_del_{false};
  std::atomic<bool> password_set_{false};
  std::atomic<bool> stop_writes_on_bgsave_error_{true};
  std::atomic<bool> save_points_configured_{false};
};

// "1gb", "512mb", "100k", "12345": Redis's memtoull. nullopt when it is not a memory value.
std::optional<int64_t> parse_memory(std::string_view text);

// A value written as one config-file word: quoted (with escapes) when it holds blanks or quotes, or is empty.
std::string quote_config_word(const std::string& value);

// Splits a line of config text into words as Redis does (quotes as in redis-cli; nullopt if unbalanced).
std::optional<std::vector<std::string>> split_config_line(std::string_view line);

}  // namespace rc
