#include "store/listpack.h"

#include <malloc.h>

#include <cassert>
#include <cstring>
#include <functional>
#include <limits>
#include <new>
#include <stdexcept>
#include <unordered_set>

#include "protocol/numbers.h"

namespace rc {
namespace {

constexpr uint8_t kEnd = 0xFF;
constexpr std::string_view kEmptyListpack("\x07\x00\x00\x00\x00\x00\xff", Listpack::kHeaderSize + 1);

// First bytes of the encodings that are not told apart by a prefix of high bits.
constexpr uint8_t kString32 = 0xF0;
constexpr uint8_t kInt16 = 0xF1;
constexpr uint8_t kInt24 = 0xF2;
constexpr uint8_t kInt32 = 0xF3;
constexpr uint8_t kInt64 = 0xF4;

bool is_uint7(uint8_t first) { return (first & 0x80) == 0; }
bool is_string6(uint8_t first) { return (first & 0xC0) == 0x80; }
bool is_int13(uint8_t first) { return (first & 0xE0) == 0xC0; }
bool is_string12(uint8_t first) { return (first & 0xF0) == 0xE0; }

const uint8_t* unsigned_bytes(const char* data) { return reinterpret_cast<const uint8_t*>(data); }

// A malloc'd copy of `bytes`; throws std::bad_alloc as new would.
uint8_t* malloc_copy(std::string_view bytes) {
  void* const block = std::malloc(bytes.size());
  if (block == nullptr) throw std::bad_alloc();
  return static_cast<uint8_t*>(std::memcpy(block, bytes.data(), bytes.size()));
}

uint64_t read_le(const uint8_t* in, size_t width) {
  uint64_t value = 0;
  for (size_t i = 0; i < width; ++i) value |= static_cast<uint64_t>(in[i]) << (8 * i);
  return value;
}

void write_le(uint8_t* out, uint64_t value, size_t width) {
  for (size_t i = 0; i < width; ++i) out[i] = static_cast<uint8_t>(value >> (8 * i));
}

// The low `bits` bits of `raw` as a two's complement number.
int64_t sign_extend(uint64_t raw, unsigned bits) {
  const unsigned unused = 64 - bits;
  return static_cast<int64_t>(raw << unused) >> unused;
}

// Bytes of an entry's type and length, from its first byte; 0 for a byte that starts no entry
// (0xF5..0xFE, and the terminator).
size_t encoding_header_size(uint8_t first) {
  if (is_uint7(first) || is_string6(first) || is_int13(first)) return 1;
  if (is_string12(first)) return 2;
  if (first == kString32) return 5;
  if (first >= kInt16 && first <= kInt64) return 1;
  return 0;
}

// Bytes of an entry's encoding and data, without the backlen. Reads the length bytes after the first, so
// encoding_header_size(p[0]) bytes must be readable.
uint64_t encoded_size(const uint8_t* p) {
  const uint8_t first = p[0];
  if (is_uint7(first)) return 1;
  if (is_string6(first)) return 1 + (first & 0x3F);
  if (is_int13(first)) return 2;
  if (is_string12(first)) return 2 + ((static_cast<uint64_t>(first & 0x0F) << 8) | p[1]);
  switch (first) {
    case kString32: return 5 + read_le(p + 1, 4);
    case kInt16: return 3;
    case kInt24: return 4;
    case kInt32: return 5;
    case kInt64: return 9;
    default: return 0;
  }
}

// The backlen holds an entry's encoded size in 7-bit groups, most significant first, every byte but the
// first with its high bit set, so that it can be read from its last byte backwards. Redis switches to
// the next size one value early (16383 takes 3 bytes, not 2); the same limits keep the bytes identical.
size_t backlen_size(uint64_t encoded) {
  if (encoded <= 127) return 1;
  if (encoded < 16383) return 2;
  if (encoded < 2097151) return 3;
  if (encoded < 268435455) return 4;
  return 5;
}

size_t encode_backlen(uint64_t encoded, uint8_t* out) {
  const size_t size = backlen_size(encoded);
  for (size_t i = 0; i < size; ++i) {
    const uint8_t group = static_cast<uint8_t>((encoded >> (7 * (size - 1 - i))) & 0x7F);
    out[i] = i == 0 ? group : (group | 0x80);
  }
  return size;
}

// Reads a backlen whose last byte is at `last`, going backwards over at most 5 bytes and never below
// offset 0; nullopt when it does not end within them. Like Redis, it stops at the first byte without the
// high bit, wherever that is: validation then requires the value to equal the entry's encoded size.
std::optional<uint64_t> decode_backlen(const uint8_t* bytes, size_t last) {
  uint64_t value = 0;
  for (unsigned shift = 0; shift <= 28; shift += 7) {
    const uint8_t byte = bytes[last];
    value |= static_cast<uint64_t>(byte & 0x7F) << shift;
    if ((byte & 0x80) == 0) return value;
    if (last == 0) return std::nullopt;
    --last;
  }
  return std::nullopt;
}

// An element ready to be written: `bytes` holds the encoding (and, for an integer, its value), `payload`
// a string's bytes.
struct Encoding {
  uint8_t bytes[9];
  size_t size = 0;
  std::string_view payload;
  std::string_view head() const { return {reinterpret_cast<const char*>(bytes), size}; }
};

Encoding encode_integer(int64_t value) {
  Encoding encoding;
  const uint64_t raw = static_cast<uint64_t>(value);
  auto with_width = [&](uint8_t first, size_t width) {
    encoding.bytes[0] = first;
    write_le(encoding.bytes + 1, raw, width);
    encoding.size = 1 + width;
  };
  if (value >= 0 && value <= 127) {
    encoding.bytes[0] = static_cast<uint8_t>(value);
    encoding.size = 1;
  } else if (value >= -4096 && value <= 4095) {
    encoding.bytes[0] = static_cast<uint8_t>(0xC0 | ((raw >> 8) & 0x1F));
    encoding.bytes[1] = static_cast<uint8_t>(raw);
    encoding.size = 2;
  } else if (value >= std::numeric_limits<int16_t>::min() && value <= std::numeric_limits<int16_t>::max()) {
    with_width(kInt16, 2);
  } else if (value >= -(int64_t{1} << 23) && value < (int64_t{1} << 23)) {
    with_width(kInt24, 3);
  } else if (value >= std::numeric_limits<int32_t>::min() && value <= std::numeric_limits<int32_t>::max()) {
    with_width(kInt32, 4);
  } else {
    with_width(kInt64, 8);
  }
  return encoding;
}

Encoding encode_string(std::string_view text) {
  if (text.size() > std::numeric_limits<uint32_t>::max()) throw std::length_error("listpack string over 4 GB");
  Encoding encoding;
  const size_t length = text.size();
  if (length < 64) {
    encoding.bytes[0] = static_cast<uint8_t>(0x80 | length);
    encoding.size = 1;
  } else if (length < 4096) {
    encoding.bytes[0] = static_cast<uint8_t>(0xE0 | (length >> 8));
    encoding.bytes[1] = static_cast<uint8_t>(length);
    encoding.size = 2;
  } else {
    encoding.bytes[0] = kString32;
    write_le(encoding.bytes + 1, length, 4);
    encoding.size = 5;
  }
  encoding.payload = text;
  return encoding;
}

Encoding encode_value(std::string_view text) {
  const std::optional<int64_t> integer = listpack_integer_value(text);
  return integer ? encode_integer(*integer) : encode_string(text);
}

ListpackElement decode_element(const uint8_t* p) {
  const uint8_t first = p[0];
  const char* text = reinterpret_cast<const char*>(p);
  if (is_uint7(first)) return ListpackElement::of_integer(first);
  if (is_string6(first)) return ListpackElement::of_string({text + 1, static_cast<size_t>(first & 0x3F)});
  if (is_int13(first)) return ListpackElement::of_integer(sign_extend(((first & 0x1F) << 8) | p[1], 13));
  if (is_string12(first)) return ListpackElement::of_string({text + 2, ((first & 0x0FU) << 8) | p[1]});
  switch (first) {
    case kString32: return ListpackElement::of_string({text + 5, static_cast<size_t>(read_le(p + 1, 4))});
    case kInt16: return ListpackElement::of_integer(sign_extend(read_le(p + 1, 2), 16));
    case kInt24: return ListpackElement::of_integer(sign_extend(read_le(p + 1, 3), 24));
    case kInt32: return ListpackElement::of_integer(sign_extend(read_le(p + 1, 4), 32));
    default: return ListpackElement::of_integer(static_cast<int64_t>(read_le(p + 1, 8)));
  }
}

// The offset after the (valid) entry at `offset`.
size_t next_entry(const uint8_t* bytes, size_t offset) {
  const uint64_t encoded = encoded_size(bytes + offset);
  return offset + encoded + backlen_size(encoded);
}

// The offset after the entry at `offset` when it lies wholly before the terminator at `end` and its
// backlen agrees with its encoding; nullopt otherwise. Reads nothing at or past `end`.
std::optional<size_t> validated_next(const uint8_t* bytes, size_t end, size_t offset) {
  const size_t header = encoding_header_size(bytes[offset]);
  if (header == 0 || header > end - offset) return std::nullopt;
  const uint64_t encoded = encoded_size(bytes + offset);
  const uint64_t entry = encoded + backlen_size(encoded);
  if (entry > end - offset) return std::nullopt;
  if (decode_backlen(bytes, offset + entry - 1) != encoded) return std::nullopt;
  return offset + entry;
}

bool validate_entries(const uint8_t* bytes, size_t size) {
  const size_t end = size - 1;
  size_t offset = Listpack::kHeaderSize;
  uint64_t count = 0;
  while (bytes[offset] != kEnd) {
    const std::optional<size_t> next = validated_next(bytes, end, offset);
    if (!next) return false;
    offset = *next;
    ++count;
  }
  if (offset != end) return false;  // a stray 0xFF before the last byte
  const uint64_t header_count = read_le(bytes + 4, 2);
  return header_count == Listpack::kUnknownCount || header_count == count;
}

// Whether `inner` points into `outer`'s bytes (std::less orders pointers of unrelated objects too).
bool points_into(std::string_view inner, std::string_view outer) {
  const std::less<const char*> before;
  return !inner.empty() && !before(inner.data(), outer.data()) && before(inner.data(), outer.data() + outer.size());
}

}  // namespace

std::optional<int64_t> listpack_integer_value(std::string_view text) {
  // Redis's string2ll and lpStringToInt64 accept exactly the same texts; parse_int64 follows string2ll.
  return parse_int64(text);
}

std::string ListpackElement::to_string() const {
  return is_integer_ ? std::to_string(integer_) : std::string(text_);
}

bool ListpackElement::matches(std::string_view text) const {
  if (!is_integer_) return text_ == text;
  const std::optional<int64_t> value = listpack_integer_value(text);
  return value && *value == integer_;
}

ListpackElement Listpack::Iterator::operator*() const { return owner_->element_at(offset_); }

Listpack::Iterator& Listpack::Iterator::operator++() {
  offset_ = owner_->next_offset(offset_);
  return *this;
}

Listpack::Iterator Listpack::Iterator::operator++(int) {
  const Iterator before = *this;
  ++*this;
  return before;
}

Listpack::Iterator& Listpack::Iterator::operator--() {
  offset_ = owner_->previous_offset(offset_);
  return *this;
}

Listpack::Iterator Listpack::Iterator::operator--(int) {
  const Iterator before = *this;
  --*this;
  return before;
}

Listpack::Listpack() : buffer_(malloc_copy(kEmptyListpack)) {}

Listpack::Listpack(std::string validated_bytes) : buffer_(malloc_copy(validated_bytes)) {
  assert(validate(validated_bytes, true));
  store_count_if_it_fits();
}

Listpack::Listpack(const Listpack& other) : buffer_(malloc_copy(other.bytes())) {}

Listpack& Listpack::operator=(const Listpack& other) { return *this = Listpack(other); }

size_t Listpack::allocated_bytes() const { return malloc_usable_size(buffer_.get()); }

size_t Listpack::total_bytes() const { return static_cast<size_t>(read_le(buffer_.get(), 4)); }

std::optional<Listpack> Listpack::adopt(std::string blob) {
  if (!validate(blob, true)) return std::nullopt;
  return Listpack(std::move(blob));
}

bool Listpack::validate(std::string_view blob, bool deep) {
  if (blob.size() < kHeaderSize + 1) return false;
  const uint8_t* bytes = unsigned_bytes(blob.data());
  if (read_le(bytes, 4) != blob.size() || bytes[blob.size() - 1] != kEnd) return false;
  return !deep || validate_entries(bytes, blob.size());
}

bool Listpack::validate_pairs(std::string_view blob, bool deep) {
  if (!validate(blob, deep)) return false;
  if (!deep) return true;
  // Safe to walk now: the entries were just checked.
  const uint8_t* bytes = unsigned_bytes(blob.data());
  std::unordered_set<std::string> fields;
  bool is_field = true;
  for (size_t offset = kHeaderSize; bytes[offset] != kEnd; offset = next_entry(bytes, offset)) {
    if (is_field && !fields.insert(decode_element(bytes + offset).to_string()).second) return false;
    is_field = !is_field;
  }
  return is_field;  // false: a field without its value
}

size_t Listpack::size() const {
  const uint16_t count = header_count();
  return count != kUnknownCount ? count : walk_count();
}

size_t Listpack::walk_count() const {
  const size_t end_offset = total_bytes() - 1;
  size_t count = 0;
  for (size_t offset = kHeaderSize; offset != end_offset; offset = next_offset(offset)) ++count;
  return count;
}

void Listpack::store_count_if_it_fits() {
  if (header_count() != kUnknownCount) return;
  const size_t count = walk_count();
  if (count < kUnknownCount) set_header_count(static_cast<uint16_t>(count));
}

Listpack::Iterator Listpack::seek(int64_t index) const {
  const uint16_t count = header_count();
  bool from_back = index < 0;
  if (count != kUnknownCount) {
    if (index < 0) index += count;
    if (index < 0 || index >= count) return end();
    // From whichever end is nearer; a backward walk counts -1 as the last element.
    from_back = index > count / 2;
    if (from_back) index -= count;
  }
  if (!from_back) {
    Iterator it = begin();
    for (; index > 0 && it != end(); --index) ++it;
    return it;
  }
  Iterator it = end();
  for (; index < 0; ++index) {
    if (it == begin()) return end();
    --it;
  }
  return it;
}

std::optional<ListpackElement> Listpack::at(int64_t index) const {
  const Iterator it = seek(index);
  if (it == end()) return std::nullopt;
  return *it;
}

Listpack::Iterator Listpack::find(Iterator from, std::string_view value, size_t skip) const {
  // Parsed once: an integer element can only equal a value that spells an integer.
  const std::optional<int64_t> as_integer = listpack_integer_value(value);
  const size_t end_offset = total_bytes() - 1;
  size_t to_skip = 0;
  for (size_t offset = from.offset_; offset != end_offset; offset = next_offset(offset)) {
    if (to_skip > 0) {
      --to_skip;
      continue;
    }
    const ListpackElement element = element_at(offset);
    const bool equal = element.is_integer() ? as_integer == element.integer() : element.string() == value;
    if (equal) return {this, offset};
    to_skip = skip;
  }
  return end();
}

Listpack::Iterator Listpack::insert(Iterator position, std::string_view value) {
  const Encoding encoding = encode_value(value);
  return splice(position.offset_, 0, encoding.head(), encoding.payload, true);
}

Listpack::Iterator Listpack::insert_integer(Iterator position, int64_t value) {
  const Encoding encoding = encode_integer(value);
  return splice(position.offset_, 0, encoding.head(), {}, true);
}

bool Listpack::insert_at(size_t index, std::string_view value) {
  const size_t count = size();
  if (index > count) return false;
  insert(index == count ? end() : seek(static_cast<int64_t>(index)), value);
  return true;
}

Listpack::Iterator Listpack::replace(Iterator position, std::string_view value) {
  const Encoding encoding = encode_value(value);
  const size_t old_size = next_offset(position.offset_) - position.offset_;
  return splice(position.offset_, old_size, encoding.head(), encoding.payload, false);
}

Listpack::Iterator Listpack::replace_integer(Iterator position, int64_t value) {
  const Encoding encoding = encode_integer(value);
  const size_t old_size = next_offset(position.offset_) - position.offset_;
  return splice(position.offset_, old_size, encoding.head(), {}, false);
}

Listpack::Iterator Listpack::erase(Iterator position) {
  return remove_bytes(position.offset_, next_offset(position.offset_) - position.offset_, 1);
}

Listpack::Iterator Listpack::erase(Iterator first, Iterator last) {
  size_t removed = 0;
  for (Iterator it = first; it != last; ++it) ++removed;
  return remove_bytes(first.offset_, last.offset_ - first.offset_, removed);
}

bool Listpack::erase_range(int64_t index, size_t count) {
  const Iterator first = seek(index);
  if (first == end()) return false;
  Iterator last = first;
  for (size_t i = 0; i < count && last != end(); ++i) ++last;
  erase(first, last);
  return true;
}

Listpack::Iterator Listpack::splice(size_t offset, size_t removed_bytes, std::string_view encoding,
                                    std::string_view payload, bool adds_element) {
  const uint64_t encoded = encoding.size() + payload.size();
  uint8_t backlen[5];
  const size_t backlen_length = encode_backlen(encoded, backlen);
  const uint64_t entry = encoded + backlen_length;
  if (total_bytes() - removed_bytes + entry > std::numeric_limits<uint32_t>::max()) {
    throw std::length_error("listpack over 4 GB");
  }
  // A replacement may be a string of this very listpack: copy it before the bytes move.
  std::string own_copy;
  if (points_into(payload, bytes())) payload = own_copy.assign(payload);
  resize_range(offset, removed_bytes, entry);
  uint8_t* const out = buffer_.get() + offset;
  std::memcpy(out, encoding.data(), encoding.size());
  if (!payload.empty()) std::memcpy(out + encoding.size(), payload.data(), payload.size());
  std::memcpy(out + encoded, backlen, backlen_length);
  const uint16_t count = header_count();
  // An insertion never brings an unknown count back below 65535.
  if (adds_element && count != kUnknownCount) set_header_count(static_cast<uint16_t>(count + 1));
  return {this, offset};
}

Listpack::Iterator Listpack::remove_bytes(size_t offset, size_t removed_bytes, size_t removed_elements) {
  resize_range(offset, removed_bytes, 0);
  const uint16_t count = header_count();
  if (count != kUnknownCount) {
    set_header_count(static_cast<uint16_t>(count - removed_elements));
  } else {
    store_count_if_it_fits();  // as Redis, whose callers ask lpLength after deleting
  }
  return {this, offset};
}

void Listpack::resize_range(size_t offset, size_t removed_bytes, size_t inserted_bytes) {
  const size_t old_total = total_bytes();
  const size_t new_total = old_total - removed_bytes + inserted_bytes;
  // Grown before the tail moves up, shrunk after it moves down: the tail always fits the block.
  if (new_total > old_total) resize_buffer(old_total, new_total);
  uint8_t* const at = buffer_.get() + offset;
  std::memmove(at + inserted_bytes, at + removed_bytes, old_total - offset - removed_bytes);
  if (new_total < old_total) resize_buffer(old_total, new_total);
  set_total_bytes(new_total);
}

// realloc, which often resizes in place. A failed growth throws std::bad_alloc with nothing changed; a
// failed shrink (C allows one) keeps the larger block, which still holds the bytes.
void Listpack::resize_buffer(size_t old_size, size_t new_size) {
  void* const block = std::realloc(buffer_.get(), new_size);
  if (block == nullptr) {
    if (new_size > old_size) throw std::bad_alloc();
    return;
  }
  buffer_.release();  // realloc has kept or freed the old block: `block` is the one to own
  buffer_.reset(static_cast<uint8_t*>(block));
}

size_t Listpack::next_offset(size_t offset) const {
  return next_entry(buffer_.get(), offset);
}

size_t Listpack::previous_offset(size_t offset) const {
  const uint64_t encoded = decode_backlen(buffer_.get(), offset - 1).value_or(0);
  return offset - encoded - backlen_size(encoded);
}

ListpackElement Listpack::element_at(size_t offset) const {
  return decode_element(buffer_.get() + offset);
}

uint16_t Listpack::header_count() const {
  return static_cast<uint16_t>(read_le(buffer_.get() + 4, 2));
}

void Listpack::set_header_count(uint16_t count) {
  write_le(buffer_.get() + 4, count, 2);
}

void Listpack::set_total_bytes(size_t total) { write_le(buffer_.get(), total, 4); }

}  // namespace rc
