// Sorted sets in RDB files, both ways, as Redis 7.0's rdbSaveObject and rdbLoadObject handle them.
//
// Writing: a listpack goes out as its blob (ZSET_LISTPACK), a skiplist as ZSET_2: a count, then each member
// string and its score as 8 bytes little endian, from the highest to the lowest as Redis writes them.
//
// Reading builds the entry the way Redis's loader would, so OBJECT ENCODING agrees after a restart:
//   ZSET, ZSET_2    a skiplist, made a listpack afterwards when the count is within
//                   zset-max-listpack-entries and every member within zset-max-listpack-value bytes;
//   ZSET_LISTPACK, ZSET_ZIPLIST
//                   the blob (a ziplist converted to a listpack), made a skiplist when it has more members
//                   than zset-max-listpack-entries (Redis checks only the count here).
// Blobs are deep-validated; a member twice or a NaN score fails the load; an empty sorted set is skipped.
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <string>

#include <fmt/format.h>

#include "store/listpack.h"
#include "store/rdb/legacy_encodings.h"
#include "store/rdb/rdb_format.h"
#include "store/rdb/rdb_reader.h"
#include "store/rdb/rdb_writer.h"
#include "store/skiplist.h"
#include "store/zset_value.h"

namespace rc::rdb {

void RdbWriter::write_zset(const Entry& zset) {
  if (zset.aggregate_encoding() == AggregateEncoding::Compact) return string(zset_value::listpack_bytes(zset));
  const Skiplist& list = *static_cast<const Skiplist*>(zset.aggregate());
  length(list.size());
  for (const Skiplist::Node* node = list.last(); node != nullptr; node = node->backward) {
    string(node->member());
    uint64_t bits = 0;
    std::memcpy(&bits, &node->score, sizeof bits);
    char little_endian[8];
    for (int i = 0; i < 8; ++i) little_endian[i] = static_cast<char>(bits >> (8 * i));
    raw(little_endian, sizeof little_endian);
    flush_if_full();
  }
}

bool RdbParser::is_zset_type(uint8_t type) {
  return type == kTypeZset || type == kTypeZset2 || type == kTypeZsetZiplist || type == kTypeZsetListpack;
}

// ZSET_2's binary double, or ZSET's text form: a length byte (253 NaN, 254 +inf, 255 -inf) then the text.
double RdbParser::read_score(bool binary) {
  if (binary) {
    const uint64_t bits = read_little_endian(8);
    double score = 0;
    std::memcpy(&score, &bits, sizeof score);
    return score;
  }
  const uint8_t length = read_byte();
  if (length == 253) return std::nan("");
  if (length == 254) return INFINITY;
  if (length == 255) return -INFINITY;
  std::string text;
  for (uint8_t i = 0; i < length; ++i) text.push_back(static_cast<char>(read_byte()));
  return std::strtod(text.c_str(), nullptr);
}

EntryPtr RdbParser::read_zset(uint8_t type, const std::string& key, int64_t expire_at_ms) {
  const uint64_t count = read_length("zset size");
  if (count == 0) return nullptr;
  EntryPtr zset(zset_value::create_skiplist(key, expire_at_ms));
  auto& list = *static_cast<Skiplist*>(zset->aggregate());
  std::string member;
  for (uint64_t i = 0; i < count; ++i) {
    const uint64_t start = offset();
    read_string(member, "zset member");
    const double score = read_score(type == kTypeZset2);
    if (std::isnan(score)) fail_value(start, key, "a sorted set score is NaN");
    if (list.find(member) != nullptr) fail_value(start, key, "a sorted set member appears twice");
    list.insert(score, member);
  }
  zset_value::convert_to_listpack_if_fits(*zset, *limits_);
  return zset;
}

EntryPtr RdbParser::read_zset_blob(uint8_t type, const std::string& key, int64_t expire_at_ms) {
  const uint64_t start = offset();
  std::string blob;
  read_string(blob, type_name(type).data());
  std::optional<Listpack> pairs;
  if (type == kTypeZsetListpack) {
    if (Listpack::validate_pairs(blob, true)) pairs.emplace(std::move(blob));
  } else {
    pairs = listpack_from_ziplist_pairs(blob);
  }
  if (!pairs) {
    fail_value(start, key, fmt::format("{} integrity check failed (the blob is corrupt, has a member twice or a "
                                       "member without its score)", type_name(type)));
  }
  if (pairs->empty()) return nullptr;
  return EntryPtr(zset_value::from_listpack(key, std::move(*pairs), expire_at_ms, *limits_));
}

}  // namespace rc::rdb
