#pragma once
// The server: a listening socket served by an acceptor thread that starts one thread per client, the
// keyspace those threads share, the command table, and the background expiry pass.
#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <condition_variable>
#include <mutex>
#include <thread>
#include <vector>

#include "server/blocking.h"
#include "server/client_registry.h"
#include "server/command_table.h"
#include "server/config.h"
#include "server/loading.h"
#include "server/lookup_stats.h"
#include "server/persistence.h"
#include "server/pubsub.h"
#include "store/active_expiry.h"
#include "store/keyspace.h"

namespace rc {

struct ServerStats {
  std::atomic<uint64_t> commands_processed{0};  // of connections that have closed; live ones add their own
  std::atomic<uint64_t> rejected_connections{0};
  // Successful write commands (Redis's server.dirty): save points and rdb_changes_since_last_save.
  std::atomic<uint64_t> dirty{0};
  LookupStats lookups;  // keyspace_hits / keyspace_misses
};

class AofLog;

class Server {
 public:
  explicit Server(Config& config);
  // A server with the default configuration (tests, tools).
  Server();
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Binds and listens on every address of `bind`; on failure returns the message to print (Redis's wording).
  std::optional<std::string> listen();
  // Starts the acceptor threads: clients are served from now on (-LOADING while loading() is active).
  void start_accepting();
  // Hands the configuration values that live in other parts (the keyspace's) to them: at construction and
  // after every CONFIG SET.
  void apply_config();
  // Starts the background jobs (active expiry, the client cron), once the data is loaded.
  void start_background_jobs();
  // Stops accepting, closes every client, waits for their threads. Idempotent.
  void stop();

  // Asks the process to shut down as on SIGTERM (the SHUTDOWN command, which has made its checks and
  // its save already: main's signal loop then goes straight to the exit).
  void request_shutdown();
  bool shutdown_requested() const { return shutdown_requested_.load(); }

  Keyspace& keyspace() { return keyspace_; }
  const CommandTable& commands() const { return commands_; }
  ClientRegistry& clients() { return clients_; }
  BlockingRegistry& blocking() { return blocking_; }
  PubSubRegistry& pubsub() { return pubsub_; }
  ServerStats& stats() { return stats_; }
  Config& config() { return config_; }
  Persistence& persistence() { return persistence_; }
  ForkSlot& forks() { return forks_; }
  // The append-only file, whether or not appendonly is on (CONFIG SET appendonly starts and stops it).
  AofLog& aof() { return *aof_; }
  LoadingState& loading() { return loading_; }
  int port() const { return bound_port_; }
  int64_t start_time_ms() const { return start_time_ms_; }
  const std::string& run_id() const { return run_id_; }
  size_t max_clients() const { return static_cast<size_t>(config_.maxclients()); }

 private:
  void accept_loop(int listen_fd);
  void serve_client(int fd);
  bool refuse_if_protected(int fd, const std::string& peer);
  void cron_loop();

  std::unique_ptr<Config> owned_config_;  // only when constructed without a configuration
  Config& config_;
  Keyspace keyspace_;
  CommandTable commands_;
  ClientRegistry clients_;
  BlockingRegistry blocking_{*this};
  PubSubRegistry pubsub_;
  ServerStats stats_;
  std::unique_ptr<ActiveExpiry> expiry_;
  std::vector<int> listen_fds_;
  int bound_port_ = 0;
  int64_t start_time_ms_;
  std::string run_id_;
  ForkSlot forks_;  // one BGSAVE or AOF rewrite child at a time
  // After the keyspace, stats and start time it uses (members are initialized in declaration order).
  Persistence persistence_{config_, keyspace_, stats_.dirty, start_time_ms_ / 1000, forks_};
  std::unique_ptr<AofLog> aof_;  // after what it uses; destroyed (stopped) before them
  std::atomic<bool> stopping_{false};
  std::atomic<bool> shutdown_requested_{false};  // by the SHUTDOWN command
  LoadingState loading_;
  std::vector<std::thread> acceptors_;
  std::mutex cron_mutex_;
  std::condition_variable cron_wake_;
  std::thread cron_;
};

}  // namespace rc
