#pragma once
// A background thread that frees what FLUSHDB ASYNC, FLUSHALL ASYNC (and lazyfree settings) hand it, so the
// client that asked does not wait for a million free() calls either.
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <mutex>
#include <thread>

#include "store/garbage.h"

namespace rc {

class LazyFree {
 public:
  LazyFree();
  ~LazyFree();
  LazyFree(const LazyFree&) = delete;
  LazyFree& operator=(const LazyFree&) = delete;

  void submit(Garbage garbage);
  // Waits until everything submitted so far is freed (tests, shutdown).
  void drain();
  size_t pending() const;
  // Submissions so far (tests: whether a command handed its garbage over).
  uint64_t submitted() const;

 private:
  void run();
  mutable std::mutex mutex_;
  std::condition_variable wake_;
  std::condition_variable idle_;
  std::deque<Garbage> queue_;
  bool busy_ = false;
  uint64_t submitted_ = 0;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace rc
