#include "server/server.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <algorithm>
#include <random>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "protocol/errors.h"
#include "server/aof_log.h"
#include "server/connection.h"
#include "store/clock.h"
#include "store/keyspace_events.h"

namespace rc {
namespace {

std::string make_run_id() {
  std::random_device device;
  std::string id;
  for (int i = 0; i < 40; ++i) id.push_back("0123456789abcdef"[device() % 16]);
  return id;
}

std::string address_text(const sockaddr_storage& address) {
  char host[INET6_ADDRSTRLEN] = "?";
  int port = 0;
  if (address.ss_family == AF_INET) {
    const auto* v4 = reinterpret_cast<const sockaddr_in*>(&address);
    inet_ntop(AF_INET, &v4->sin_addr, host, sizeof host);
    port = ntohs(v4->sin_port);
  } else if (address.ss_family == AF_INET6) {
    const auto* v6 = reinterpret_cast<const sockaddr_in6*>(&address);
    inet_ntop(AF_INET6, &v6->sin6_addr, host, sizeof host);
    port = ntohs(v6->sin6_port);
    // A v4 client on a dual-stack socket shows as ::ffff:a.b.c.d; Redis shows a.b.c.d.
    if (std::strncmp(host, "::ffff:", 7) == 0 && std::strchr(host + 7, '.') != nullptr) {
      return fmt::format("{}:{}", host + 7, port);
    }
  }
  return fmt::format("{}:{}", host, port);
}

// Binds one socket to host:port ("" = every interface, IPv6 dual-stack when available).
int bind_listener(const std::string& host, int port, std::string& error) {
  addrinfo hints{};
  hints.ai_family = host.empty() ? AF_INET6 : AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
  addrinfo* results = nullptr;
  const std::string port_text = std::to_string(port);
  int rc = getaddrinfo(host.empty() ? nullptr : host.c_str(), port_text.c_str(), &hints, &results);
  if (rc != 0 && host.empty()) {
    hints.ai_family = AF_INET;
    rc = getaddrinfo(nullptr, port_text.c_str(), &hints, &results);
  }
  if (rc != 0) {
    error = fmt::format("Could not resolve listen address '{}': {}", host, gai_strerror(rc));
    return -1;
  }
  int fd = -1;
  for (addrinfo* ai = results; ai != nullptr; ai = ai->ai_next) {
    fd = ::socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
    if (fd < 0) continue;
    const int yes = 1;
    const int no = 0;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
    if (ai->ai_family == AF_INET6 && host.empty()) setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &no, sizeof no);
    if (::bind(fd, ai->ai_addr, ai->ai_addrlen) == 0 && ::listen(fd, 511) == 0) break;
    error = fmt::format("Could not create server TCP listening socket {}:{}: bind: {}",
                        host.empty() ? "*" : host, port, std::strerror(errno));
    ::close(fd);
    fd = -1;
  }
  freeaddrinfo(results);
  return fd;
}

int bound_port_of(int fd) {
  sockaddr_storage address{};
  socklen_t length = sizeof address;
  if (getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length) != 0) return 0;
  if (address.ss_family == AF_INET) return ntohs(reinterpret_cast<sockaddr_in*>(&address)->sin_port);
  return ntohs(reinterpret_cast<sockaddr_in6*>(&address)->sin6_port);
}

// TCP_NODELAY: replies go out at once. Keepalive as Redis's tcp-keepalive, so dead peers are noticed.
void configure_client_socket(int fd, int idle_seconds) {
  const int yes = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &yes, sizeof yes);
  if (idle_seconds <= 0) return;
  const int interval_seconds = std::max(1, idle_seconds / 3);
  const int probes = 3;
  setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &yes, sizeof yes);
  setsockopt(fd, IPPROTO_TCP, TCP_KEEPIDLE, &idle_seconds, sizeof idle_seconds);
  setsockopt(fd, IPPROTO_TCP, TCP_KEEPINTVL, &interval_seconds, sizeof interval_seconds);
  setsockopt(fd, IPPROTO_TCP, TCP_KEEPCNT, &probes, sizeof probes);
}

}  // namespace

Server::Server(Config& config)
    : config_(config),
      keyspace_(static_cast<int>(config.integer("databases"))),
      commands_(build_command_table()),
      start_time_ms_(unix_time_ms()),
      run_id_(make_run_id()),
      aof_(std::make_unique<AofLog>(config_, keyspace_, forks_)) {
  apply_config();
}

void Server::apply_config() {
  keyspace_.changes().set_unlink_expired(config_.text("lazyfree-lazy-expire") == "yes");
  EncodingLimits& limits = keyspace_.limits();
  limits.hash_max_listpack_entries = static_cast<size_t>(config_.integer("hash-max-listpack-entries"));
  limits.hash_max_listpack_value = static_cast<size_t>(config_.integer("hash-max-listpack-value"));
  limits.set_max_intset_entries = static_cast<size_t>(config_.integer("set-max-intset-entries"));
  limits.list_max_listpack_size = static_cast<int>(config_.integer("list-max-listpack-size"));
  limits.list_compress_depth = static_cast<int>(config_.integer("list-compress-depth"));
  limits.zset_max_listpack_entries = static_cast<size_t>(config_.integer("zset-max-listpack-entries"));
  limits.zset_max_listpack_value = static_cast<size_t>(config_.integer("zset-max-listpack-value"));
  pubsub_.set_limit(pubsub_output_limit(config_.text("client-output-buffer-limit")));
  keyspace_events::set_classes(keyspace_events::parse_classes(config_.text("notify-keyspace-events")).value_or(0));
}

Server::Server() : Server(*new Config()) { owned_config_.reset(&config_); }

Server::~Server() { stop(); }

std::optional<std::string> Server::listen() {
  // bind "* -::*" (the default) is every interface, IPv4 and IPv6, on one dual-stack socket. Otherwise each
  // address gets a socket; a leading '-' marks an address that may be unavailable, as in Redis.
  const int port = static_cast<int>(config_.integer("port"));
  std::string bind = config_.text("bind");
  std::vector<std::string> addresses;
  for (size_t start = 0; start < bind.size();) {
    const size_t space = std::min(bind.find(' ', start), bind.size());
    if (space > start) addresses.push_back(bind.substr(start, space - start));
    start = space + 1;
  }
  const bool everywhere = addresses.empty() || bind == "* -::*" || bind == "*" || bind == "::*" || bind == "-::* *";
  if (everywhere) addresses = {""};
  for (std::string address : addresses) {
    const bool optional = !address.empty() && address[0] == '-';
    if (optional) address.erase(0, 1);
    if (address == "*") address = "0.0.0.0";
    if (address == "::*") address = "::";
    std::string error;
    const int fd = bind_listener(address, port, error);
    if (fd < 0) {
      if (optional) continue;
      for (const int open_fd : listen_fds_) ::close(open_fd);
      listen_fds_.clear();
      return error;
    }
    listen_fds_.push_back(fd);
    bound_port_ = bound_port_of(fd);
  }
  if (listen_fds_.empty()) return std::string("Could not create any listening socket");
  return std::nullopt;
}

void Server::start_accepting() {
  for (const int fd : listen_fds_) acceptors_.emplace_back([this, fd] { accept_loop(fd); });
}

void Server::start_background_jobs() {
  expiry_ = std::make_unique<ActiveExpiry>(keyspace_);
  cron_ = std::thread([this] { cron_loop(); });
}

void Server::accept_loop(int listen_fd) {
  while (!stopping_.load()) {
    sockaddr_storage peer{};
    socklen_t length = sizeof peer;
    const int fd = ::accept4(listen_fd, reinterpret_cast<sockaddr*>(&peer), &length, SOCK_CLOEXEC);
    if (fd < 0) {
      if (stopping_.load()) break;
      if (errno == EINTR || errno == ECONNABORTED) continue;
      // Out of descriptors or memory: log, back off briefly, keep serving the clients we have.
      spdlog::warn("Accepting client connection: {}", std::strerror(errno));
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
      continue;
    }
    serve_client(fd);
  }
}

// Protected mode, as Redis 7: while it is on and no password is set, only loopback clients are served.
bool Server::refuse_if_protected(int fd, const std::string& peer) {
  if (!config_.protected_mode() || config_.password_required()) return false;
  const std::string ip = peer.substr(0, peer.rfind(':'));
  if (ip == "127.0.0.1" || ip == "::1") return false;
  static constexpr std::string_view kDenied =
      "-DENIED Redis is running in protected mode because protected mode is enabled and no password is set "
      "for the default user. In this mode connections are only accepted from the loopback interface. If you "
      "want to connect from external computers to Redis you may adopt one of the following solutions: 1) Just "
      "disable protected mode sending the command 'CONFIG SET protected-mode no' from the loopback interface by "
      "connecting to Redis from the same host the server is running, however MAKE SURE Redis is not publicly "
      "accessible from internet if you do so. Use CONFIG REWRITE to make this change permanent. 2) "
      "Alternatively you can just disable the protected mode by editing the Redis configuration file, and "
      "setting the protected mode option to 'no', and then restarting the server. 3) If you started the server "
      "manually just for testing, restart it with the '--protected-mode no' option. 4) Setup a an "
      "authentication password for the default user. NOTE: You only need to do one of the above things in "
      "order for the server to start accepting connections from the outside.\r\n";
  [[maybe_unused]] const ssize_t ignored = ::send(fd, kDenied.data(), kDenied.size(), MSG_NOSIGNAL);
  ::close(fd);
  stats_.rejected_connections.fetch_add(1);
  return true;
}

void Server::serve_client(int fd) {
  configure_client_socket(fd, static_cast<int>(config_.tcp_keepalive()));
  sockaddr_storage peer{};
  sockaddr_storage local{};
  socklen_t peer_length = sizeof peer;
  socklen_t local_length = sizeof local;
  getpeername(fd, reinterpret_cast<sockaddr*>(&peer), &peer_length);
  getsockname(fd, reinterpret_cast<sockaddr*>(&local), &local_length);
  const std::string peer_text = address_text(peer);
  if (refuse_if_protected(fd, peer_text)) return;
  if (clients_.count() >= max_clients()) {
    static constexpr std::string_view kTooMany = "-ERR max number of clients reached\r\n";
    [[maybe_unused]] const ssize_t ignored = ::send(fd, kTooMany.data(), kTooMany.size(), MSG_NOSIGNAL);
    ::close(fd);
    stats_.rejected_connections.fetch_add(1);
    return;
  }
  auto session = clients_.add(fd, peer_text, address_text(local), unix_time_ms());
  session->authenticated = !config_.password_required();
  try {
    std::thread([this, session]() mutable {
      try {
        Connection(*this, session).run();
      } catch (const std::exception& error) {
        spdlog::warn("client {} ({}) closed after an internal error: {}", session->id, session->peer, error.what());
      }
      // Before the session can go: no publisher may queue for it any more.
      pubsub_.forget(*session);
      stats_.commands_processed.fetch_add(session->commands_processed.load());
      const int client_fd = session->fd;
      clients_.remove(session->id);
      ::close(client_fd);
    }).detach();
  } catch (const std::system_error& error) {
    // No thread could be started (resource limits): refuse this client, keep the others.
    spdlog::warn("cannot start a thread for client {}: {}", session->peer, error.what());
    clients_.remove(session->id);
    ::close(fd);
  }
}

// Once a second: closes clients idle for longer than `timeout` (when set), as Redis's clientsCron does.
void Server::cron_loop() {
  std::unique_lock lock(cron_mutex_);
  while (!stopping_.load()) {
    cron_wake_.wait_for(lock, std::chrono::seconds(1), [this] { return stopping_.load(); });
    const int64_t timeout_s = config_.timeout();
    if (timeout_s <= 0) continue;
    const int64_t now = unix_time_ms();
    clients_.for_each([&](const ClientSession& client) {
      // As Redis, a client waiting in a blocking command is not idle: its own timeout ends the wait. Nor is a
      // subscriber, which may rightly listen for hours without sending anything.
      if (client.blocked.load(std::memory_order_relaxed) || client.subscribed()) return;
      if (now - client.last_interaction_ms.load() > timeout_s * 1000) {
        spdlog::debug("Closing idle client {} ({})", client.id, client.peer);
        ::shutdown(client.fd, SHUT_RDWR);
      }
    });
  }
}

void Server::stop() {
  if (stopping_.exchange(true)) return;
  for (const int fd : listen_fds_) ::shutdown(fd, SHUT_RDWR);  // wakes accept()
  for (auto& acceptor : acceptors_) acceptor.join();
  acceptors_.clear();
  for (const int fd : listen_fds_) ::close(fd);
  listen_fds_.clear();
  {
    std::lock_guard lock(cron_mutex_);
  }
  cron_wake_.notify_all();
  if (cron_.joinable()) cron_.join();
  clients_.shutdown_all();
  if (!clients_.wait_empty(std::chrono::seconds(10))) {
    spdlog::warn("{} client thread(s) did not finish within 10 s", clients_.count());
  }
  expiry_.reset();
}

void Server::request_shutdown() {
  shutdown_requested_.store(true);
  ::kill(::getpid(), SIGTERM);
}

}  // namespace rc
