#include "store/intset.h"

#include <malloc.h>

#include <cassert>
#include <cstring>
#include <limits>
#include <new>

namespace rc {
namespace {

constexpr std::string_view kEmptyIntset("\x02\x00\x00\x00\x00\x00\x00\x00", Intset::kHeaderSize);

// A malloc'd copy of `bytes`; throws std::bad_alloc as new would.
char* malloc_copy(std::string_view bytes) {
  void* const block = std::malloc(bytes.size());
  if (block == nullptr) throw std::bad_alloc();
  return static_cast<char*>(std::memcpy(block, bytes.data(), bytes.size()));
}

uint64_t read_le(const char* in, size_t width) {
  uint64_t value = 0;
  for (size_t i = 0; i < width; ++i) value |= static_cast<uint64_t>(static_cast<uint8_t>(in[i])) << (8 * i);
  return value;
}

void write_le(char* out, uint64_t value, size_t width) {
  for (size_t i = 0; i < width; ++i) out[i] = static_cast<char>(value >> (8 * i));
}

// A member of `width` bytes at `in`, sign-extended.
int64_t read_member(const char* in, size_t width) {
  const unsigned unused = static_cast<unsigned>(64 - 8 * width);
  return static_cast<int64_t>(read_le(in, width) << unused) >> unused;
}

size_t width_for(int64_t value) {
  if (value < std::numeric_limits<int32_t>::min() || value > std::numeric_limits<int32_t>::max()) return 8;
  if (value < std::numeric_limits<int16_t>::min() || value > std::numeric_limits<int16_t>::max()) return 4;
  return 2;
}

bool members_ascend(const char* members, size_t count, size_t width) {
  for (size_t i = 1; i < count; ++i) {
    if (read_member(members + (i - 1) * width, width) >= read_member(members + i * width, width)) return false;
  }
  return true;
}

}  // namespace

Intset::Intset() : buffer_(malloc_copy(kEmptyIntset)) {}

Intset::Intset(std::string validated_bytes) : buffer_(malloc_copy(validated_bytes)) {
  assert(validate(validated_bytes, true));
}

Intset::Intset(const Intset& other) : buffer_(malloc_copy(other.bytes())) {}

Intset& Intset::operator=(const Intset& other) { return *this = Intset(other); }

size_t Intset::allocated_bytes() const { return malloc_usable_size(buffer_.get()); }

std::optional<Intset> Intset::adopt(std::string blob) {
  if (!validate(blob, true)) return std::nullopt;
  return Intset(std::move(blob));
}

bool Intset::validate(std::string_view blob, bool deep) {
  if (blob.size() < kHeaderSize) return false;
  const uint64_t width = read_le(blob.data(), 4);
  if (width != 2 && width != 4 && width != 8) return false;
  const uint64_t count = read_le(blob.data() + 4, 4);
  if (count == 0 || kHeaderSize + count * width != blob.size()) return false;
  return !deep || members_ascend(blob.data() + kHeaderSize, count, width);
}

bool Intset::add(int64_t value) {
  if (width_for(value) > member_width()) {
    // Wider than every member, so it goes before all of them (negative) or after all (positive).
    widen_and_add(value);
    return true;
  }
  const Position position = search(value);
  if (position.found) return false;
  const size_t count = size();
  const size_t width = member_width();
  resize_buffer(kHeaderSize + count * width, kHeaderSize + (count + 1) * width);
  char* const slot = buffer_.get() + kHeaderSize + position.index * width;
  std::memmove(slot + width, slot, (count - position.index) * width);
  set(position.index, value);
  set_size(count + 1);
  return true;
}

bool Intset::remove(int64_t value) {
  if (width_for(value) > member_width()) return false;
  const Position position = search(value);
  if (!position.found) return false;
  const size_t count = size();
  const size_t width = member_width();
  char* const slot = buffer_.get() + kHeaderSize + position.index * width;
  std::memmove(slot, slot + width, (count - 1 - position.index) * width);
  set_size(count - 1);
  resize_buffer(kHeaderSize + count * width, kHeaderSize + (count - 1) * width);
  return true;
}

bool Intset::contains(int64_t value) const {
  return width_for(value) <= member_width() && search(value).found;
}

size_t Intset::size() const { return static_cast<size_t>(read_le(buffer_.get() + 4, 4)); }

size_t Intset::member_width() const { return static_cast<size_t>(read_le(buffer_.get(), 4)); }

int64_t Intset::get(size_t index) const {
  const size_t width = member_width();
  return read_member(buffer_.get() + kHeaderSize + index * width, width);
}

Intset::Position Intset::search(int64_t value) const {
  size_t low = 0;
  size_t high = size();  // the answer is in [low, high]
  while (low < high) {
    const size_t middle = low + (high - low) / 2;
    const int64_t member = get(middle);
    if (member == value) return {middle, true};
    if (member < value) {
      low = middle + 1;
    } else {
      high = middle;
    }
  }
  return {low, false};
}

void Intset::widen_and_add(int64_t value) {
  const size_t old_width = member_width();
  const size_t new_width = width_for(value);
  const size_t count = size();
  const size_t shift = value < 0 ? 1 : 0;  // a negative newcomer is the smallest member
  resize_buffer(total_bytes(), kHeaderSize + (count + 1) * new_width);
  // In place from the last member down, as Redis's intsetUpgradeAndAdd: each moves to a higher offset, so
  // none is overwritten before it is read.
  char* const members = buffer_.get() + kHeaderSize;
  for (size_t i = count; i-- > 0;) {
    const int64_t member = read_member(members + i * old_width, old_width);
    write_le(members + (i + shift) * new_width, static_cast<uint64_t>(member), new_width);
  }
  const size_t slot = value < 0 ? 0 : count;
  write_le(members + slot * new_width, static_cast<uint64_t>(value), new_width);
  write_le(buffer_.get(), new_width, 4);
  set_size(count + 1);
}

void Intset::set(size_t index, int64_t value) {
  const size_t width = member_width();
  write_le(buffer_.get() + kHeaderSize + index * width, static_cast<uint64_t>(value), width);
}

void Intset::set_size(size_t count) { write_le(buffer_.get() + 4, count, 4); }

// realloc, which often resizes in place. A failed growth throws std::bad_alloc with nothing changed; a
// failed shrink (C allows one) keeps the larger block, which still holds the bytes.
void Intset::resize_buffer(size_t old_size, size_t new_size) {
  void* const block = std::realloc(buffer_.get(), new_size);
  if (block == nullptr) {
    if (new_size > old_size) throw std::bad_alloc();
    return;
  }
  buffer_.release();  // realloc has kept or freed the old block: `block` is the one to own
  buffer_.reset(static_cast<char*>(block));
}

}  // namespace rc
