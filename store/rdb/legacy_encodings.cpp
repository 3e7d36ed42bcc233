#include "store/rdb/legacy_encodings.h"

#include <cstdint>
#include <limits>
#include <string>
#include <unordered_set>

namespace rc::rdb {
namespace {

constexpr uint8_t kEnd = 0xFF;
constexpr uint8_t kBigLength = 0xFE;  // ziplist prevlen and zipmap length: four bytes follow

constexpr size_t kZiplistHeaderSize = 10;

// Ziplist encoding bytes (strings: the top two bits; integers: the whole byte).
constexpr uint8_t kZipString6 = 0x00;
constexpr uint8_t kZipString14 = 0x40;
constexpr uint8_t kZipString32 = 0x80;
constexpr uint8_t kZipInt16 = 0xC0;
constexpr uint8_t kZipInt32 = 0xD0;
constexpr uint8_t kZipInt64 = 0xE0;
constexpr uint8_t kZipInt24 = 0xF0;
constexpr uint8_t kZipInt8 = 0xFE;
constexpr uint8_t kZipImmediateMin = 0xF1;  // 0xF1..0xFD hold 0..12 in the byte itself
constexpr uint8_t kZipImmediateMax = 0xFD;

uint8_t byte_at(std::string_view blob, uint64_t offset) { return static_cast<uint8_t>(blob[offset]); }

uint64_t read_le(std::string_view blob, uint64_t offset, size_t width) {
  uint64_t value = 0;
  for (size_t i = 0; i < width; ++i) value |= static_cast<uint64_t>(byte_at(blob, offset + i)) << (8 * i);
  return value;
}

uint64_t read_be(std::string_view blob, uint64_t offset, size_t width) {
  uint64_t value = 0;
  for (size_t i = 0; i < width; ++i) value = (value << 8) | byte_at(blob, offset + i);
  return value;
}

int64_t sign_extend(uint64_t raw, unsigned bits) {
  const unsigned unused = 64 - bits;
  return static_cast<int64_t>(raw << unused) >> unused;
}

// One decoded ziplist entry: its size, the size its prevlen gives the entry before, and its value.
struct ZiplistEntry {
  uint64_t size;
  uint64_t previous_size;
  ListpackElement value;
};

// What an entry's encoding byte says: how many bytes the type and length take (1, 2 or 5), and an
// integer's width (0 for a string, whose length follows, and for an immediate).
struct ZipEncoding {
  size_t header;
  size_t integer_width;
};

// nullopt for a byte no entry uses. Strings are told by their top two bits only, as in Redis.
std::optional<ZipEncoding> zip_encoding(uint8_t encoding) {
  switch (encoding & 0xC0) {
    case kZipString6: return ZipEncoding{1, 0};
    case kZipString14: return ZipEncoding{2, 0};
    case kZipString32: return ZipEncoding{5, 0};
    default: break;
  }
  switch (encoding) {
    case kZipInt8: return ZipEncoding{1, 1};
    case kZipInt16: return ZipEncoding{1, 2};
    case kZipInt24: return ZipEncoding{1, 3};
    case kZipInt32: return ZipEncoding{1, 4};
    case kZipInt64: return ZipEncoding{1, 8};
    default: break;
  }
  if (encoding >= kZipImmediateMin && encoding <= kZipImmediateMax) return ZipEncoding{1, 0};
  return std::nullopt;
}

uint64_t zip_string_length(std::string_view blob, uint64_t offset) {
  const uint8_t first = byte_at(blob, offset);
  switch (first & 0xC0) {
    case kZipString6: return first & 0x3F;
    case kZipString14: return (static_cast<uint64_t>(first & 0x3F) << 8) | byte_at(blob, offset + 1);
    default: return read_be(blob, offset + 1, 4);
  }
}

int64_t zip_integer(std::string_view blob, uint64_t offset, size_t width) {
  const uint8_t encoding = byte_at(blob, offset);
  if (width == 0) return (encoding & 0x0F) - 1;  // immediate
  return sign_extend(read_le(blob, offset + 1, width), static_cast<unsigned>(8 * width));
}

// The entry at `offset`, when its prevlen, encoding and data all end before the terminator at `end`;
// nullopt otherwise. The caller checks the prevlen against the entry before.
std::optional<ZiplistEntry> read_ziplist_entry(std::string_view blob, uint64_t end, uint64_t offset) {
  const size_t prevlen_size = byte_at(blob, offset) < kBigLength ? 1 : 5;
  if (prevlen_size > end - offset) return std::nullopt;
  const uint64_t previous_size = prevlen_size == 1 ? byte_at(blob, offset) : read_le(blob, offset + 1, 4);
  const uint64_t encoding_offset = offset + prevlen_size;
  const std::optional<ZipEncoding> encoding = zip_encoding(byte_at(blob, encoding_offset));
  if (!encoding || encoding->header > end - encoding_offset) return std::nullopt;
  const bool is_string = byte_at(blob, encoding_offset) < 0xC0;
  const uint64_t data_size = is_string ? zip_string_length(blob, encoding_offset) : encoding->integer_width;
  const uint64_t data_offset = encoding_offset + encoding->header;
  if (data_size > end - data_offset) return std::nullopt;
  const ListpackElement value =
      is_string ? ListpackElement::of_string(blob.substr(data_offset, data_size))
                : ListpackElement::of_integer(zip_integer(blob, encoding_offset, encoding->integer_width));
  return ZiplistEntry{data_offset + data_size - offset, previous_size, value};
}

// Calls visit(ListpackElement) for every entry of a ziplist, checking it as Redis's deep validation does;
// false on the first inconsistency or when visit returns false.
template <typename Visit>
bool walk_ziplist(std::string_view blob, Visit&& visit) {
  if (blob.size() < kZiplistHeaderSize + 1) return false;
  const uint64_t end = blob.size() - 1;
  if (read_le(blob, 0, 4) != blob.size() || byte_at(blob, end) != kEnd) return false;
  const uint64_t tail_offset = read_le(blob, 4, 4);
  if (tail_offset > end) return false;
  uint64_t offset = kZiplistHeaderSize;
  uint64_t last_offset = 0;
  uint64_t previous_size = 0;
  uint64_t count = 0;
  while (byte_at(blob, offset) != kEnd) {
    const std::optional<ZiplistEntry> entry = read_ziplist_entry(blob, end, offset);
    if (!entry || entry->previous_size != previous_size || !visit(entry->value)) return false;
    last_offset = offset;
    previous_size = entry->size;
    offset += entry->size;
    ++count;
  }
  if (offset != end) return false;  // a stray 0xFF before the last byte
  if (count > 0 && last_offset != tail_offset) return false;
  const uint64_t header_count = read_le(blob, 8, 2);
  return header_count == std::numeric_limits<uint16_t>::max() || header_count == count;
}

// Whether one more element keeps the listpack under its 4 GB header limit (an entry adds at most 5
// encoding and 5 backlen bytes to a string; a ziplist can hold a little less than that, so a huge one
// may not fit once converted).
bool fits(const Listpack& listpack, const ListpackElement& element) {
  const uint64_t payload = element.is_integer() ? 0 : element.string().size();
  return listpack.total_bytes() + payload + 10 <= std::numeric_limits<uint32_t>::max();
}

void append_element(Listpack& listpack, const ListpackElement& element) {
  if (element.is_integer()) {
    listpack.append_integer(element.integer());
  } else {
    listpack.append(element.string());
  }
}

// Lengths in a zipmap: one byte below 0xFE, else 0xFE and a little-endian u32 (an 0xFF where a value's
// length goes is read the same way, as Redis does).
size_t zipmap_length_size(uint8_t first) { return first < kBigLength ? 1 : 5; }

uint64_t zipmap_length(std::string_view blob, uint64_t offset) {
  const uint8_t first = byte_at(blob, offset);
  return first < kBigLength ? first : read_le(blob, offset + 1, 4);
}

// One zipmap string (a key, or a value when `has_free_byte`) at `offset`: its bytes and the offset after
// it; nullopt when it does not end before the terminator at `end`.
struct ZipmapString {
  std::string_view text;
  uint64_t next;
};

std::optional<ZipmapString> read_zipmap_string(std::string_view blob, uint64_t end, uint64_t offset,
                                               bool has_free_byte) {
  const size_t length_size = zipmap_length_size(byte_at(blob, offset));
  if (length_size > end - offset) return std::nullopt;
  const uint64_t length = zipmap_length(blob, offset);
  uint64_t data_offset = offset + length_size;
  uint64_t unused = 0;
  if (has_free_byte) unused = byte_at(blob, data_offset++);  // readable: data_offset <= end
  if (data_offset > end || length + unused > end - data_offset) return std::nullopt;
  return ZipmapString{blob.substr(data_offset, length), data_offset + length + unused};
}

}  // namespace

std::optional<Listpack> listpack_from_ziplist(std::string_view ziplist) {
  Listpack listpack;
  const bool valid = walk_ziplist(ziplist, [&](const ListpackElement& element) {
    if (!fits(listpack, element)) return false;
    append_element(listpack, element);
    return true;
  });
  if (!valid) return std::nullopt;
  return listpack;
}

std::optional<Listpack> listpack_from_ziplist_pairs(std::string_view ziplist) {
  Listpack listpack;
  std::unordered_set<std::string> fields;
  bool is_field = true;
  const bool valid = walk_ziplist(ziplist, [&](const ListpackElement& element) {
    if (is_field && !fields.insert(element.to_string()).second) return false;
    if (!fits(listpack, element)) return false;
    append_element(listpack, element);
    is_field = !is_field;
    return true;
  });
  if (!valid || !is_field) return std::nullopt;  // !is_field: a field without its value
  return listpack;
}

std::optional<Listpack> listpack_from_zipmap(std::string_view zipmap) {
  if (zipmap.size() < 2 || byte_at(zipmap, zipmap.size() - 1) != kEnd) return std::nullopt;
  const uint64_t end = zipmap.size() - 1;
  Listpack listpack;
  std::unordered_set<std::string_view> fields;
  uint64_t offset = 1;  // after the count
  uint64_t count = 0;
  while (byte_at(zipmap, offset) != kEnd) {
    const std::optional<ZipmapString> field = read_zipmap_string(zipmap, end, offset, false);
    if (!field) return std::nullopt;
    const std::optional<ZipmapString> value = read_zipmap_string(zipmap, end, field->next, true);
    if (!value || !fields.insert(field->text).second) return std::nullopt;
    if (!listpack.safe_to_add(field->text.size() + value->text.size())) return std::nullopt;
    listpack.append(field->text);
    listpack.append(value->text);
    offset = value->next;
    ++count;
  }
  const uint8_t header_count = byte_at(zipmap, 0);
  if (count == 0 || (header_count != kBigLength && header_count != count)) return std::nullopt;
  return listpack;
}

}  // namespace rc::rdb
