#pragma once
// The load of the data files (RDB or AOF) at start. The server listens before it loads, as Redis does:
// meanwhile every command without the "loading" flag is answered -LOADING, and INFO persistence shows
// how far the load has got.
#include <atomic>
#include <cstdint>
#include <string>

namespace rc {

class LoadingState {
 public:
  // From now on INFO says loading:1 and commands wait for the data. Called before the server listens.
  void begin();
  // The size of the files about to be loaded (INFO's loading_total_bytes).
  void set_total_bytes(uint64_t bytes) { total_.store(bytes, std::memory_order_relaxed); }
  // The loaders store how many of those bytes they have read.
  std::atomic<uint64_t>& loaded_bytes() { return loaded_; }
  // SIGTERM or SHUTDOWN during the load: the loaders stop at the next key or command.
  void cancel() { cancelled_.store(true, std::memory_order_relaxed); }
  const std::atomic<bool>& cancelled() const { return cancelled_; }
  void end();

  bool active() const { return active_.load(std::memory_order_acquire); }
  // INFO persistence's loading_* lines while loading (Redis 7.0's names and arithmetic), else "".
  std::string info_fields() const;

 private:
  std::atomic<bool> active_{false};
  std::atomic<int64_t> start_time_s_{0};
  std::atomic<uint64_t> total_{0};
  std::atomic<uint64_t> loaded_{0};
  std::atomic<bool> cancelled_{false};
};

}  // namespace rc
