#include "store/rdb/lzf.h"

#include <algorithm>
#include <cstring>

namespace rc::rdb {
namespace {

constexpr unsigned kHashBits = 14;
constexpr size_t kHashSize = size_t{1} << kHashBits;
constexpr size_t kMaxLiteralRun = 32;
constexpr size_t kMaxDistance = 8192;  // 13 bits of offset, plus one
constexpr size_t kMinMatch = 3;
constexpr size_t kMaxMatch = 7 + 255 + 2;

uint32_t hash_three(const unsigned char* p) {
  const uint32_t v = (uint32_t{p[0]} << 16) | (uint32_t{p[1]} << 8) | p[2];
  return (v * 2654435761u) >> (32 - kHashBits);  // Knuth's multiplicative hash
}

// Appends to a bounded output; every put reports whether it fit.
class Output {
 public:
  Output(char* data, size_t capacity) : data_(data), capacity_(capacity) {}
  bool literals(const unsigned char* from, size_t count) {
    while (count > 0) {
      const size_t run = std::min(count, kMaxLiteralRun);
      if (capacity_ - size_ < run + 1) return false;
      data_[size_++] = static_cast<char>(run - 1);
      std::memcpy(data_ + size_, from, run);
      size_ += run;
      from += run;
      count -= run;
    }
    return true;
  }
  // A reference copying `length` bytes (3..264) from `distance` (1..8192) bytes back.
  bool reference(size_t length, size_t distance) {
    const size_t encoded_length = length - 2;
    const size_t offset = distance - 1;
    const size_t needed = encoded_length >= 7 ? 3 : 2;
    if (capacity_ - size_ < needed) return false;
    const auto high = static_cast<unsigned char>(offset >> 8);
    if (encoded_length >= 7) {
      data_[size_++] = static_cast<char>((7 << 5) | high);
      data_[size_++] = static_cast<char>(encoded_length - 7);
    } else {
      data_[size_++] = static_cast<char>((encoded_length << 5) | high);
    }
    data_[size_++] = static_cast<char>(offset & 0xff);
    return true;
  }
  size_t size() const { return size_; }

 private:
  char* data_;
  size_t capacity_;
  size_t size_ = 0;
};

}  // namespace

LzfCompressor::LzfCompressor() : last_seen_(std::make_unique<uint32_t[]>(kHashSize)) {}
LzfCompressor::~LzfCompressor() = default;

size_t LzfCompressor::compress(std::string_view input, char* output, size_t capacity) {
  const auto* in = reinterpret_cast<const unsigned char*>(input.data());
  const size_t size = input.size();
  if (size == 0 || size >= UINT32_MAX / 2) return 0;
  // Positions are stored offset by a base that moves past this input whatever the outcome, so that no
  // later call mistakes them for its own; restart the numbering (forgetting everything) before it wraps.
  if (base_ == 0 || base_ > UINT32_MAX - size - 1) {
    std::fill(last_seen_.get(), last_seen_.get() + kHashSize, 0);
    base_ = 1;
  }
  const uint32_t base = base_;
  base_ += static_cast<uint32_t>(size) + 1;
  Output out(output, capacity);
  size_t literal_start = 0;
  size_t position = 0;
  while (position + kMinMatch <= size) {
    uint32_t& slot = last_seen_[hash_three(in + position)];
    const uint32_t seen = slot;
    slot = base + static_cast<uint32_t>(position);
    const size_t candidate = seen - base;  // meaningful only when seen >= base
    if (seen >= base && candidate < position && position - candidate <= kMaxDistance &&
        std::memcmp(in + candidate, in + position, kMinMatch) == 0) {
      const size_t limit = std::min(kMaxMatch, size - position);
      size_t length = kMinMatch;
      while (length < limit && in[candidate + length] == in[position + length]) ++length;
      if (!out.literals(in + literal_start, position - literal_start) ||
          !out.reference(length, position - candidate)) {
        return 0;
      }
      // Remember the sequences inside the match too: later data is likelier to repeat recent bytes.
      for (size_t p = position + 1; p < position + length && p + kMinMatch <= size; ++p) {
        last_seen_[hash_three(in + p)] = base + static_cast<uint32_t>(p);
      }
      position += length;
      literal_start = position;
      continue;
    }
    ++position;
  }
  if (!out.literals(in + literal_start, size - literal_start)) return 0;
  return out.size();
}

size_t lzf_decompress(std::string_view input, char* output, size_t capacity) {
  const auto* in = reinterpret_cast<const unsigned char*>(input.data());
  const size_t in_size = input.size();
  size_t read = 0;
  size_t written = 0;
  while (read < in_size) {
    const unsigned control = in[read++];
    if (control < 32) {
      const size_t run = control + 1;
      if (run > in_size - read || run > capacity - written) return 0;
      std::memcpy(output + written, in + read, run);
      read += run;
      written += run;
      continue;
    }
    size_t length = control >> 5;
    if (length == 7) {
      if (read >= in_size) return 0;
      length += in[read++];
    }
    if (read >= in_size) return 0;
    const size_t distance = ((size_t{control} & 0x1f) << 8) + in[read++] + 1;
    length += 2;
    if (distance > written || length > capacity - written) return 0;
    // Byte by byte: when the distance is shorter than the length, the copy reads what it just wrote.
    const char* from = output + written - distance;
    for (size_t i = 0; i < length; ++i) output[written + i] = from[i];
    written += length;
  }
  return written;
}

}  // namespace rc::rdb
