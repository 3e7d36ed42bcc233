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
#include <random>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "protocol/errors.h"
#include "server/connection.h"
#include "store/clock.h"

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

}  // namespace

Server::Server(ServerOptions options)
    : options_(std::move(options)),
      keyspace_(options_.databases),
      commands_(build_command_table()),
      start_time_ms_(unix_time_ms()),
      run_id_(make_run_id()) {}

Server::~Server() { stop(); }

std::optional<std::string> Server::listen() {
  std::string error;
  listen_fd_ = bind_listener(options_.host, options_.port, error);
  if (listen_fd_ < 0) return error;
  bound_port_ = bound_port_of(listen_fd_);
  return std::nullopt;
}

void Server::start() {
  expiry_ = std::make_unique<ActiveExpiry>(keyspace_);
  acceptor_ = std::thread([this] { accept_loop(); });
}

void Server::accept_loop() {
  while (!stopping_.load()) {
    sockaddr_storage peer{};
    socklen_t length = sizeof peer;
    const int fd = ::accept4(listen_fd_, reinterpret_cast<sockaddr*>(&peer), &length, SOCK_CLOEXEC);
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

namespace {

// TCP_NODELAY: replies go out at once. Keepalive as Redis's tcp-keepalive 300, so dead peers are noticed.
void configure_client_socket(int fd) {
  const int yes = 1;
  const int idle_seconds = 300;
  const int interval_seconds = idle_seconds / 3;
  const int probes = 3;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &yes, sizeof yes);
  setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &yes, sizeof yes);
  setsockopt(fd, IPPROTO_TCP, TCP_KEEPIDLE, &idle_seconds, sizeof idle_seconds);
  setsockopt(fd, IPPROTO_TCP, TCP_KEEPINTVL, &interval_seconds, sizeof interval_seconds);
  setsockopt(fd, IPPROTO_TCP, TCP_KEEPCNT, &probes, sizeof probes);
}

}  // namespace

void Server::serve_client(int fd) {
  configure_client_socket(fd);
  if (clients_.count() >= max_clients_) {
    static constexpr std::string_view kTooMany = "-ERR max number of clients reached\r\n";
    [[maybe_unused]] const ssize_t ignored = ::send(fd, kTooMany.data(), kTooMany.size(), MSG_NOSIGNAL);
    ::close(fd);
    stats_.rejected_connections.fetch_add(1);
    return;
  }
  sockaddr_storage peer{};
  sockaddr_storage local{};
  socklen_t peer_length = sizeof peer;
  socklen_t local_length = sizeof local;
  getpeername(fd, reinterpret_cast<sockaddr*>(&peer), &peer_length);
  getsockname(fd, reinterpret_cast<sockaddr*>(&local), &local_length);
  auto session = clients_.add(fd, address_text(peer), address_text(local), unix_time_ms());
  try {
    std::thread([this, session]() mutable {
      try {
        Connection(*this, session).run();
      } catch (const std::exception& error) {
        spdlog::warn("client {} ({}) closed after an internal error: {}", session->id, session->peer, error.what());
      }
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

void Server::stop() {
  if (stopping_.exchange(true)) return;
  if (listen_fd_ >= 0) {
    ::shutdown(listen_fd_, SHUT_RDWR);  // wakes accept()
  }
  if (acceptor_.joinable()) acceptor_.join();
  if (listen_fd_ >= 0) {
    ::close(listen_fd_);
    listen_fd_ = -1;
  }
  clients_.shutdown_all();
  if (!clients_.wait_empty(std::chrono::seconds(10))) {
    spdlog::warn("{} client thread(s) did not finish within 10 s", clients_.count());
  }
  expiry_.reset();
}

void Server::request_shutdown() { ::kill(::getpid(), SIGTERM); }

}  // namespace rc
