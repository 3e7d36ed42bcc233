#pragma once
// The constants of the RDB file format (version 10, as Redis 7.0 writes it), shared by the writer and the
// reader. A file is: "REDIS" and the version as four digits; then opcodes and keys; EOF; the CRC-64 of
// everything before it, little endian (0 when written with rdbchecksum no).
#include <cstdint>
#include <iterator>
#include <string_view>

namespace rc::rdb {

inline constexpr int kVersion = 10;  // what we write; we read 1..10
inline constexpr std::string_view kMagic = "REDIS";

// Opcodes: bytes that take the place of a value type before a key.
inline constexpr uint8_t kOpFunction2 = 245;     // a function library (7.0)
inline constexpr uint8_t kOpFunction = 246;      // the 7.0 release candidates' function format
inline constexpr uint8_t kOpModuleAux = 247;
inline constexpr uint8_t kOpIdle = 248;          // LRU idle seconds of the next key (a length)
inline constexpr uint8_t kOpFreq = 249;          // LFU counter of the next key (one byte)
inline constexpr uint8_t kOpAux = 250;           // two strings: a name and a value
inline constexpr uint8_t kOpResizeDb = 251;      // two lengths: keys and keys with a TTL (a sizing hint)
inline constexpr uint8_t kOpExpireTimeMs = 252;  // 8 bytes little endian: Unix time in ms of the next key
inline constexpr uint8_t kOpExpireTime = 253;    // 4 bytes little endian: Unix time in seconds (old files)
inline constexpr uint8_t kOpSelectDb = 254;      // a length: the database of the keys that follow
inline constexpr uint8_t kOpEof = 255;

// Value types (rdb.h's RDB_TYPE_*): those we read; we write 0, 2, 4, 5, 11, 16, 17 and 18, as Redis 7.0 does.
inline constexpr uint8_t kTypeString = 0;
inline constexpr uint8_t kTypeList = 1;           // a count, then the elements as strings (before 3.2)
inline constexpr uint8_t kTypeSet = 2;            // a count, then the members as strings
inline constexpr uint8_t kTypeZset = 3;           // a count, then member strings and scores as text
inline constexpr uint8_t kTypeHash = 4;           // a count, then field and value strings
inline constexpr uint8_t kTypeZset2 = 5;          // a count, then member strings and binary double scores
inline constexpr uint8_t kTypeHashZipmap = 9;     // a zipmap blob (Redis before 2.6)
inline constexpr uint8_t kTypeListZiplist = 10;   // one ziplist blob of the elements (before 3.2)
inline constexpr uint8_t kTypeSetIntset = 11;     // an intset blob
inline constexpr uint8_t kTypeZsetZiplist = 12;   // a ziplist blob of member,score (Redis 2.6 to 6.2)
inline constexpr uint8_t kTypeHashZiplist = 13;   // a ziplist blob of field,value (Redis 2.6 to 6.2)
inline constexpr uint8_t kTypeListQuicklist = 14; // a node count, then a ziplist blob per node (3.2 to 6.2)
inline constexpr uint8_t kTypeHashListpack = 16;  // a listpack blob of field,value (Redis 7.0)
// A node count, then per node its container (a length: 2 packed, a listpack blob; 1 plain, one element)
// and its blob (Redis 7.0).
inline constexpr uint8_t kTypeListQuicklist2 = 18;
inline constexpr uint64_t kQuicklistNodePlain = 1;
inline constexpr uint64_t kQuicklistNodePacked = 2;
inline constexpr uint8_t kTypeZsetListpack = 17;  // a listpack blob of member,score (Redis 7.0)

// Lengths: the top two bits of the first byte say how the rest is stored.
inline constexpr uint8_t kLength6Bit = 0;     // 00xxxxxx
inline constexpr uint8_t kLength14Bit = 1;    // 01xxxxxx xxxxxxxx (big endian)
inline constexpr uint8_t kLength32Bit = 0x80; // then 4 bytes big endian
inline constexpr uint8_t kLength64Bit = 0x81; // then 8 bytes big endian
inline constexpr uint8_t kLengthEncoded = 3;  // 11xxxxxx: a string in a special encoding (below)

// Special string encodings (the low six bits of an 11xxxxxx length byte).
inline constexpr uint8_t kEncodingInt8 = 0;   // 1 byte, signed
inline constexpr uint8_t kEncodingInt16 = 1;  // 2 bytes little endian, signed
inline constexpr uint8_t kEncodingInt32 = 2;  // 4 bytes little endian, signed
inline constexpr uint8_t kEncodingLzf = 3;    // compressed length, original length, LZF data

// Redis 7.0's names of the value types 0..19 (rdb.h), for error messages; "" for numbers it never used.
inline std::string_view type_name(uint8_t type) {
  static constexpr std::string_view kNames[] = {
      "string", "list", "set", "zset", "hash", "zset-2", "module", "module-2", "", "hash-zipmap",
      "list-ziplist", "set-intset", "zset-ziplist", "hash-ziplist", "list-quicklist", "stream-listpacks",
      "hash-listpack", "zset-listpack", "list-quicklist-2", "stream-listpacks-2"};
  return type < std::size(kNames) ? kNames[type] : std::string_view();
}

}  // namespace rc::rdb
