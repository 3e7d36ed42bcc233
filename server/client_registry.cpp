#include "server/client_registry.h"

#include <sys/socket.h>

namespace rc {

std::shared_ptr<ClientSession> ClientRegistry::add(int fd, std::string peer, std::string local, int64_t now_ms) {
  std::lock_guard lock(mutex_);
  auto session = std::make_shared<ClientSession>(next_id_++, fd, std::move(peer), std::move(local), now_ms);
  session->last_interaction_ms = now_ms;
  clients_.emplace(session->id, session);
  ++total_;
  return session;
}

void ClientRegistry::remove(uint64_t id) {
  std::lock_guard lock(mutex_);
  clients_.erase(id);
  if (clients_.empty()) emptied_.notify_all();
}

size_t ClientRegistry::count() const {
  std::lock_guard lock(mutex_);
  return clients_.size();
}

uint64_t ClientRegistry::total_connections() const {
  std::lock_guard lock(mutex_);
  return total_;
}

void ClientRegistry::for_each(const std::function<void(const ClientSession&)>& visit) const {
  std::lock_guard lock(mutex_);
  for (const auto& [id, session] : clients_) visit(*session);
}

void ClientRegistry::shutdown_all() {
  std::lock_guard lock(mutex_);
  for (const auto& [id, session] : clients_) ::shutdown(session->fd, SHUT_RDWR);
}

bool ClientRegistry::wait_empty(std::chrono::milliseconds timeout) {
  std::unique_lock lock(mutex_);
  return emptied_.wait_for(lock, timeout, [this] { return clients_.empty(); });
}

}  // namespace rc
