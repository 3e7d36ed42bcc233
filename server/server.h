#pragma once
// The server: a listening socket served by an acceptor thread that starts one thread per client, the
// keyspace those threads share, the command table, and the background expiry pass.
#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <thread>

#include "server/client_registry.h"
#include "server/command_table.h"
#include "server/options.h"
#include "store/active_expiry.h"
#include "store/keyspace.h"

namespace rc {

struct ServerStats {
  std::atomic<uint64_t> commands_processed{0};  // of connections that have closed; live ones add their own
  std::atomic<uint64_t> rejected_connections{0};
};

class Server {
 public:
  explicit Server(ServerOptions options);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Binds and listens; on failure returns the message to print (Redis's wording).
  std::optional<std::string> listen();
  // Starts the acceptor thread.
  void start();
  // Stops accepting, closes every client, waits for their threads. Idempotent.
  void stop();

  // Asks the process to shut down as on SIGTERM (the SHUTDOWN command).
  void request_shutdown();

  Keyspace& keyspace() { return keyspace_; }
  const CommandTable& commands() const { return commands_; }
  ClientRegistry& clients() { return clients_; }
  ServerStats& stats() { return stats_; }
  const ServerOptions& options() const { return options_; }
  int port() const { return bound_port_; }
  int64_t start_time_ms() const { return start_time_ms_; }
  const std::string& run_id() const { return run_id_; }
  size_t max_clients() const { return max_clients_; }

 private:
  void accept_loop();
  void serve_client(int fd);

  ServerOptions options_;
  Keyspace keyspace_;
  CommandTable commands_;
  ClientRegistry clients_;
  ServerStats stats_;
  std::unique_ptr<ActiveExpiry> expiry_;
  int listen_fd_ = -1;
  int bound_port_ = 0;
  int64_t start_time_ms_;
  std::string run_id_;
  size_t max_clients_ = 10000;
  std::atomic<bool> stopping_{false};
  std::thread acceptor_;
};

}  // namespace rc
