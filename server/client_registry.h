#pragma once
// The set of live connections: for CLIENT LIST and INFO clients, for --maxclients, and so that shutdown
// can wake every connection thread (by shutting its socket down) and wait until all have finished.
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <unordered_map>

#include "server/client_session.h"

namespace rc {

class ClientRegistry {
 public:
  std::shared_ptr<ClientSession> add(int fd, std::string peer, std::string local, int64_t now_ms);
  void remove(uint64_t id);

  size_t count() const;
  void for_each(const std::function<void(const ClientSession&)>& visit) const;
  // Wakes every connection thread: its blocking recv or send returns and the thread ends.
  void shutdown_all();
  // Waits until every connection has been removed; false if the deadline passed first.
  bool wait_empty(std::chrono::milliseconds timeout);

  uint64_t total_connections() const;

 private:
  mutable std::mutex mutex_;
  std::condition_variable emptied_;
  std::unordered_map<uint64_t, std::shared_ptr<ClientSession>> clients_;
  uint64_t next_id_ = 1;
  uint64_t total_ = 0;
};

}  // namespace rc
