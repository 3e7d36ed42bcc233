#include "store/rdb/crc64.h"

#include <array>
#include <cstring>

namespace rc::rdb {
namespace {

// The polynomial with its bits reversed, for the reflected (least significant bit first) algorithm.
constexpr uint64_t kReflectedPolynomial = 0x95ac9329ac4bc9b5ULL;

// Slicing by 8: tables[k][b] is the CRC contribution of byte b followed by k zero bytes, so eight input
// bytes are folded in with eight lookups instead of eight dependent steps. A whole RDB file goes through
// this, so it is worth the 16 KiB of tables.
using Tables = std::array<std::array<uint64_t, 256>, 8>;

constexpr Tables make_tables() {
  Tables tables{};
  for (uint64_t byte = 0; byte < 256; ++byte) {
    uint64_t crc = byte;
    for (int bit = 0; bit < 8; ++bit) crc = (crc & 1) ? (crc >> 1) ^ kReflectedPolynomial : crc >> 1;
    tables[0][byte] = crc;
  }
  for (size_t k = 1; k < 8; ++k) {
    for (size_t byte = 0; byte < 256; ++byte) {
      const uint64_t previous = tables[k - 1][byte];
      tables[k][byte] = (previous >> 8) ^ tables[0][previous & 0xff];
    }
  }
  return tables;
}

constexpr Tables kTables = make_tables();

uint64_t load_little_endian(const unsigned char* bytes) {
  uint64_t value = 0;
  for (int i = 7; i >= 0; --i) value = (value << 8) | bytes[i];
  return value;
}

}  // namespace

uint64_t crc64(uint64_t crc, const void* data, size_t size) {
  const auto* bytes = static_cast<const unsigned char*>(data);
  while (size >= 8) {
    crc ^= load_little_endian(bytes);
    crc = kTables[7][crc & 0xff] ^ kTables[6][(crc >> 8) & 0xff] ^ kTables[5][(crc >> 16) & 0xff] ^
          kTables[4][(crc >> 24) & 0xff] ^ kTables[3][(crc >> 32) & 0xff] ^ kTables[2][(crc >> 40) & 0xff] ^
          kTables[1][(crc >> 48) & 0xff] ^ kTables[0][crc >> 56];
    bytes += 8;
    size -= 8;
  }
  while (size-- > 0) crc = kTables[0][(crc ^ *bytes++) & 0xff] ^ (crc >> 8);
  return crc;
}

}  // namespace rc::rdb
