#include "store/change_stream.h"

namespace rc {
namespace {

thread_local uint64_t t_published = 0;

}  // namespace

uint64_t ChangeStream::publish(int db, std::span<const std::string_view> argv) {
  ++t_published;
  ChangeConsumer* consumer = consumer_.load(std::memory_order_acquire);
  // With nobody to hand the change to, it takes no place in the stream: the offset counts what consumers
  // saw, and the write path pays no shared atomic (every client thread would bounce its cache line).
  if (consumer == nullptr) return offset_.load(std::memory_order_relaxed);
  std::lock_guard lock(mutex_);
  const uint64_t offset = offset_.fetch_add(1, std::memory_order_acq_rel) + 1;
  consumer->consume(offset, db, argv);
  return offset;
}

void ChangeStream::attach(ChangeConsumer* consumer) {
  std::lock_guard lock(mutex_);
  consumer_.store(consumer, std::memory_order_release);
}

void ChangeStream::detach(ChangeConsumer* consumer) {
  std::lock_guard lock(mutex_);
  if (consumer_.load(std::memory_order_relaxed) == consumer) consumer_.store(nullptr, std::memory_order_release);
}

uint64_t ChangeStream::published_by_this_thread() { return t_published; }

}  // namespace rc
