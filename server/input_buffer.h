#pragma once
// The bytes received from one client and not yet consumed. recv writes straight into the free space at the
// end, the decoder reads the unconsumed part in place, and consumed bytes are only moved (to the front) when
// room is needed, so a large argument is received into its final place and never copied again.
#include <cstddef>
#include <algorithm>
#include <cstring>
#include <memory>
#include <string_view>

namespace rc {

class InputBuffer {
 public:
  // Reads start small, so that an idle connection costs little memory, and double (up to Redis's 16 KB
  // PROTO_IOBUF_LEN) each time a read fills all the room it had, so that a pipelining client soon gets
  // large reads.
  static constexpr size_t kInitialChunk = 512;
  static constexpr size_t kMaxChunk = 16 * 1024;

  std::string_view unconsumed() const { return {data_.get() + begin_, end_ - begin_}; }
  void consume(size_t bytes) {
    begin_ += bytes;
    if (begin_ == end_) begin_ = end_ = 0;
  }

  // Room to receive into: normally a chunk of free bytes (see kInitialChunk); while a large argument is pending (`total_wanted`, the
  // request's declared size), room toward its end, growing at most by doubling so that a client announcing
  // a 512 MB bulk and sending nothing gets no 512 MB allocation. Compacts or reallocates as needed.
  char* prepare_receive(size_t total_wanted = 0);
  size_t free_space() const { return capacity_ - end_; }
  void commit(size_t bytes) {
    if (end_ + bytes == capacity_ && chunk_ < kMaxChunk) chunk_ *= 2;
    end_ += bytes;
  }

  // Gives memory back after a large request once nothing is pending.
  void shrink_if_idle(size_t keep_capacity);

 private:
  std::unique_ptr<char[]> data_;
  size_t chunk_ = kInitialChunk;
  size_t capacity_ = 0;
  size_t begin_ = 0;
  size_t end_ = 0;
};

inline char* InputBuffer::prepare_receive(size_t total_wanted) {
  const size_t pending = end_ - begin_;
  size_t target = pending + chunk_;
  if (total_wanted > target) target = std::min(total_wanted, std::max(target, capacity_ * 2));
  if (end_ < capacity_ && capacity_ - begin_ >= target) return data_.get() + end_;
  if (capacity_ < target) {
    const size_t grown = total_wanted > 0 ? target : std::max(target, capacity_ * 2);
    std::unique_ptr<char[]> fresh(new char[grown]);
    if (pending) std::memcpy(fresh.get(), data_.get() + begin_, pending);
    data_ = std::move(fresh);
    capacity_ = grown;
  } else if (pending) {
    std::memmove(data_.get(), data_.get() + begin_, pending);
  }
  begin_ = 0;
  end_ = pending;
  return data_.get() + end_;
}

inline void InputBuffer::shrink_if_idle(size_t keep_capacity) {
  if (begin_ == end_ && capacity_ > keep_capacity) {
    data_.reset();
    capacity_ = 0;
    begin_ = end_ = 0;
  }
}

}  // namespace rc
