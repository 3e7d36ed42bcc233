#include "store/change_stream.h"

namespace rc {
namespace {

thread_local uint64_t t_published = 0;
// The transaction (EXEC) this thread is running, whose changes are kept until it ends.
thread_local ChangeStream::Capture* t_capture = nullptr;

}  // namespace

uint64_t ChangeStream::publish(int db, std::span<const std::string_view> argv) {
  ++t_published;
  if (t_capture != nullptr) [[unlikely]] {
    t_capture->changes.emplace_back(db, std::vector<std::string>(argv.begin(), argv.end()));
    return offset_.load(std::memory_order_relaxed);
  }
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

void ChangeStream::begin_capture(Capture& capture) { t_capture = &capture; }

uint64_t ChangeStream::end_capture(Capture& capture) {
  t_capture = nullptr;
  if (capture.changes.empty()) return offset_.load(std::memory_order_relaxed);
  ChangeConsumer* consumer = consumer_.load(std::memory_order_acquire);
  if (consumer == nullptr) return offset_.load(std::memory_order_relaxed);
  std::lock_guard lock(mutex_);
  auto hand_over = [&](int db, std::span<const std::string_view> argv) {
    const uint64_t offset = offset_.fetch_add(1, std::memory_order_acq_rel) + 1;
    consumer->consume(offset, db, argv);
    return offset;
  };
  const bool wrapped = capture.changes.size() > 1;
  const std::string_view multi[] = {"MULTI"};
  const std::string_view exec[] = {"EXEC"};
  if (wrapped) hand_over(capture.changes.front().first, multi);
  uint64_t offset = 0;
  std::vector<std::string_view> argv;
  for (const auto& [db, command] : capture.changes) {
    argv.assign(command.begin(), command.end());
    offset = hand_over(db, argv);
  }
  if (wrapped) offset = hand_over(capture.changes.back().first, exec);
  return offset;
}

}  // namespace rc
