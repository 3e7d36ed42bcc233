#include "store/lazy_free.h"

namespace rc {

LazyFree::LazyFree() : thread_([this] { run(); }) {}

LazyFree::~LazyFree() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  thread_.join();
}

void LazyFree::submit(Garbage garbage) {
  if (garbage.empty()) return;
  {
    std::lock_guard lock(mutex_);
    queue_.push_back(std::move(garbage));
    ++submitted_;
  }
  wake_.notify_one();
}

void LazyFree::drain() {
  std::unique_lock lock(mutex_);
  idle_.wait(lock, [this] { return queue_.empty() && !busy_; });
}

size_t LazyFree::pending() const {
  std::lock_guard lock(mutex_);
  return queue_.size() + (busy_ ? 1 : 0);
}

uint64_t LazyFree::submitted() const {
  std::lock_guard lock(mutex_);
  return submitted_;
}

void LazyFree::run() {
  std::unique_lock lock(mutex_);
  for (;;) {
    wake_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
    if (queue_.empty()) return;  // stopping with nothing left
    Garbage next = std::move(queue_.front());
    queue_.pop_front();
    busy_ = true;
    lock.unlock();
    next.clear();
    lock.lock();
    busy_ = false;
    if (queue_.empty()) idle_.notify_all();
  }
}

}  // namespace rc
