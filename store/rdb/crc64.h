#pragma once
// The CRC-64 that Redis puts at the end of an RDB file: the "Jones" polynomial 0xad93d23594c935a9, bits
// reflected, initial value 0 and no final xor (so crc64(0, "123456789") == 0xe9c6d914c4b8d9ca). The
// running value can be fed in pieces: crc64(crc64(0, a), b) == crc64(0, a + b).
#include <cstddef>
#include <cstdint>

namespace rc::rdb {

uint64_t crc64(uint64_t crc, const void* data, size_t size);

}  // namespace rc::rdb
