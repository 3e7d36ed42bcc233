#include "store/entry.h"

#include <malloc.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <new>

#include "store/aggregate.h"

namespace rc {
namespace {

// The payload starts right after the flags byte; the expiry is read and written with memcpy since it is
// not aligned.
constexpr size_t kPayloadOffset = sizeof(Entry*) + 1;

size_t varint_size(uint64_t value) {
  size_t size = 1;
  while (value >= 0x80) {
    value >>= 7;
    ++size;
  }
  return size;
}

char* write_varint(char* out, uint64_t value) {
  while (value >= 0x80) {
    *out++ = static_cast<char>((value & 0x7f) | 0x80);
    value >>= 7;
  }
  *out++ = static_cast<char>(value);
  return out;
}

const char* read_varint(const char* in, uint64_t& value) {
  value = 0;
  for (int shift = 0;; shift += 7) {
    const auto byte = static_cast<uint8_t>(*in++);
    value |= static_cast<uint64_t>(byte & 0x7f) << shift;
    if ((byte & 0x80) == 0) return in;
  }
}

struct Layout {
  const char* key;
  size_t key_length;
  const char* value;
  size_t value_length;
};

Layout read_layout(const char* payload, bool has_expiry) {
  const char* cursor = payload + (has_expiry ? sizeof(int64_t) : 0);
  uint64_t key_length = 0;
  uint64_t value_length = 0;
  cursor = read_varint(cursor, key_length);
  cursor = read_varint(cursor, value_length);
  return {cursor, key_length, cursor + key_length, value_length};
}

}  // namespace

std::string_view value_type_name(ValueType type) {
  switch (type) {
    case ValueType::String: return "string";
    case ValueType::List: return "list";
    case ValueType::Set: return "set";
    case ValueType::ZSet: return "zset";
    case ValueType::Hash: return "hash";
    case ValueType::Stream: return "stream";
  }
  return "none";
}

// Allocates an entry with the key copied and `value_length` value bytes left for the caller to fill;
// `capacity` >= value_length reserves room for in-place growth.
Entry* Entry::allocate(std::string_view key, size_t value_length, int64_t expire_at_ms, size_t capacity) {
  const bool has_expiry = expire_at_ms != kNoExpiry;
  if (capacity < value_length) capacity = value_length;
  const size_t bytes = kPayloadOffset + (has_expiry ? sizeof(int64_t) : 0) + varint_size(key.size()) +
                       varint_size(value_length) + key.size() + capacity;
  // The header object itself is sizeof(Entry) (padding included) even when the payload is tiny; malloc's
  // smallest chunk is larger anyway, so this costs nothing.
  void* memory = std::malloc(std::max(bytes, sizeof(Entry)));
  if (memory == nullptr) throw std::bad_alloc();
  auto* entry = new (memory) Entry();
  entry->flags_ = has_expiry ? kHasExpiry : 0;
  char* cursor = entry->payload();
  if (has_expiry) {
    std::memcpy(cursor, &expire_at_ms, sizeof expire_at_ms);
    cursor += sizeof expire_at_ms;
  }
  cursor = write_varint(cursor, key.size());
  cursor = write_varint(cursor, value_length);
  if (!key.empty()) std::memcpy(cursor, key.data(), key.size());
  return entry;
}

Entry* Entry::create(std::string_view key, std::string_view value, int64_t expire_at_ms,
                     size_t value_capacity) {
  Entry* entry = allocate(key, value.size(), expire_at_ms, value_capacity);
  if (!value.empty()) std::memcpy(entry->value_data(), value.data(), value.size());
  return entry;
}

Entry* Entry::create_aggregate(std::string_view key, ValueType type, AggregateEncoding encoding, void* aggregate,
                              int64_t expire_at_ms) {
  Entry* entry = allocate(key, sizeof aggregate, expire_at_ms, 0);
  entry->flags_ = static_cast<uint8_t>((entry->flags_ & kHasExpiry) | (static_cast<uint8_t>(type) << 4));
  entry->set_aggregate(aggregate, encoding);
  return entry;
}

void Entry::destroy(Entry* entry) noexcept {
  if (entry == nullptr) return;
  if (!entry->is_string()) destroy_aggregate(entry->type(), entry->aggregate_encoding(), entry->aggregate());
  entry->~Entry();
  std::free(entry);
}

Entry* Entry::resized(Entry& source, size_t value_length, int64_t expire_at_ms, size_t value_capacity) {
  const std::string_view old_value = source.value();
  Entry* copy = allocate(source.key(), value_length, expire_at_ms, value_capacity);
  const size_t kept = old_value.size() < value_length ? old_value.size() : value_length;
  if (kept) std::memcpy(copy->value_data(), old_value.data(), kept);
  copy->flags_ = static_cast<uint8_t>((source.flags_ & ~kHasExpiry) | (copy->flags_ & kHasExpiry));
  if (!source.is_string()) hand_over_aggregate(source, *copy);
  return copy;
}

Entry* Entry::renamed(Entry& source, std::string_view key) {
  const std::string_view value = source.value();
  Entry* copy = allocate(key, value.size(), source.expire_at(), 0);
  if (!value.empty()) std::memcpy(copy->value_data(), value.data(), value.size());
  copy->flags_ = source.flags_;
  if (!source.is_string()) hand_over_aggregate(source, *copy);
  return copy;
}

Entry* Entry::clone(const Entry& source, std::string_view key) {
  if (source.is_string()) {
    Entry* copy = create(key, source.value(), source.expire_at());
    copy->flags_ = source.flags_;
    return copy;
  }
  void* aggregate = copy_aggregate(source.type(), source.aggregate_encoding(), source.aggregate());
  return create_aggregate(key, source.type(), source.aggregate_encoding(), aggregate, source.expire_at());
}

void Entry::hand_over_aggregate(Entry& source, Entry& target) {
  target.set_aggregate(source.aggregate(), source.aggregate_encoding());
  source.set_aggregate(nullptr, source.aggregate_encoding());
}

void* Entry::aggregate() const {
  void* pointer = nullptr;
  std::memcpy(&pointer, read_layout(payload(), has_expiry()).value, sizeof pointer);  // unaligned
  return pointer;
}

void Entry::set_aggregate(void* aggregate, AggregateEncoding encoding) {
  std::memcpy(value_data(), &aggregate, sizeof aggregate);
  flags_ = static_cast<uint8_t>((flags_ & ~kTableEncoding) | (encoding == AggregateEncoding::Table ? kTableEncoding : 0));
}

bool Entry::resize_in_place(size_t value_length) {
  const std::string_view current = value();
  if (varint_size(value_length) != varint_size(current.size())) return false;
  const size_t offset = static_cast<size_t>(current.data() - reinterpret_cast<const char*>(this));
  if (offset + value_length > allocated_size()) return false;
  const std::string_view name = key();
  char* cursor = payload() + (has_expiry() ? sizeof(int64_t) : 0);
  cursor = write_varint(cursor, name.size());
  write_varint(cursor, value_length);
  return true;
}

const char* Entry::payload() const { return reinterpret_cast<const char*>(this) + kPayloadOffset; }
char* Entry::payload() { return reinterpret_cast<char*>(this) + kPayloadOffset; }

std::string_view Entry::key() const {
  const Layout layout = read_layout(payload(), has_expiry());
  return {layout.key, layout.key_length};
}

std::string_view Entry::value() const {
  const Layout layout = read_layout(payload(), has_expiry());
  return {layout.value, layout.value_length};
}

char* Entry::value_data() { return const_cast<char*>(read_layout(payload(), has_expiry()).value); }

int64_t Entry::expire_at() const {
  if (!has_expiry()) return kNoExpiry;
  int64_t at = 0;
  std::memcpy(&at, payload(), sizeof at);
  return at;
}

void Entry::set_expire_at(int64_t at_ms) {
  if (has_expiry()) std::memcpy(payload(), &at_ms, sizeof at_ms);
}

void Entry::set_encoding(StringEncoding encoding) {
  uint8_t bits = 0;
  if (encoding == StringEncoding::Raw) bits = kRawEncoding;
  if (encoding == StringEncoding::NotInteger) bits = kNotIntegerEncoding;
  flags_ = static_cast<uint8_t>((flags_ & ~(kRawEncoding | kNotIntegerEncoding)) | bits);
}

size_t Entry::allocated_size() const {
  const size_t own = malloc_usable_size(const_cast<Entry*>(this));
  if (is_string()) return own;
  return own + aggregate_memory(type(), aggregate_encoding(), aggregate());
}

}  // namespace rc
