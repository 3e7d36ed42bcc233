// Hashes and sets in RDB files (lists are in rdb_lists.cpp), both ways, as Redis 7.0's rdbSaveObject and rdbLoadObject handle them.
//
// Writing: a listpack hash and an intset set go out as their blob (HASH_LISTPACK, SET_INTSET), a table as
// a count followed by its strings (HASH, SET), each string in Redis's encodings (integers, LZF).
//
// Reading builds the entry the way Redis's loader would, so OBJECT ENCODING agrees after a restart:
//   SET            intset while the count is within set-max-intset-entries and every member is an
//                  integer, else a table (converted at the first member that is not an integer);
//   HASH           listpack while the count is within hash-max-listpack-entries and every field and value
//                  within hash-max-listpack-value bytes, else a table (converted at the first long one);
//   SET_INTSET     the blob, converted when it has more members than set-max-intset-entries;
//   HASH_LISTPACK, HASH_ZIPLIST
//                  the blob (a ziplist converted to a listpack), converted when it has more fields than
//                  hash-max-listpack-entries: Redis checks only the count here, not the lengths;
//   HASH_ZIPMAP    converted to a listpack, then to a table when over either limit.
// Blobs are deep-validated whatever sanitize-dump-payload says (Redis only checks them shallowly at load):
// a corrupt one must fail the load here, not crash a later command. A field or member twice is an error.
// An aggregate with no element is skipped (null), as Redis skips such keys.
#include <algorithm>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <unordered_set>
#include <utility>

#include <fmt/format.h>

#include "store/encoding_limits.h"
#include "store/hash_table.h"
#include "store/hash_value.h"
#include "store/intset.h"
#include "store/listpack.h"
#include "store/rdb/legacy_encodings.h"
#include "store/rdb/rdb_format.h"
#include "store/rdb/rdb_reader.h"
#include "store/rdb/rdb_writer.h"
#include "store/set_value.h"

namespace rc::rdb {

// ---- writing ----

uint8_t value_type_byte(const Entry& entry) {
  const bool compact = entry.aggregate_encoding() == AggregateEncoding::Compact;
  switch (entry.type()) {
    case ValueType::String:
      return kTypeString;
    case ValueType::Hash:
      return compact ? kTypeHashListpack : kTypeHash;
    case ValueType::Set:
      return compact ? kTypeSetIntset : kTypeSet;
    case ValueType::List:
      return kTypeListQuicklist2;
    case ValueType::ZSet:
      return compact ? kTypeZsetListpack : kTypeZset2;
    default:
      return 0xFF;
  }
}

void RdbWriter::write_hash(const Entry& hash) {
  if (hash.aggregate_encoding() == AggregateEncoding::Compact) return string(hash_value::listpack_bytes(hash));
  length(hash_value::length(hash));
  hash_value::for_each(hash, [&](const hash_value::Element& field, const hash_value::Element& value) {
    // A table holds strings only (never the integers a listpack keeps).
    string(field.string());
    string(value.string());
    flush_if_full();
  });
}

void RdbWriter::write_set(const Entry& set) {
  if (set.aggregate_encoding() == AggregateEncoding::Compact) return string(set_value::intset_bytes(set));
  length(set_value::length(set));
  set_value::for_each(set, [&](std::string_view member) {
    string(member);
    flush_if_full();
  });
}

// ---- reading ----

namespace {

// An entry holding an empty table of `type` (a hash or set that is too big for its compact encoding).
Entry* empty_table(std::string_view key, ValueType type, int64_t expire_at_ms) {
  return type == ValueType::Hash ? hash_value::create_table(key, expire_at_ms) : set_value::create_table(key, expire_at_ms);
}

// The loader decides the encoding by the rule of each RDB type (see the top of the file).
EntryPtr hash_from_listpack(std::string_view key, Listpack pairs, int64_t expire_at_ms, bool as_table) {
  return EntryPtr(hash_value::from_listpack(key, std::move(pairs), expire_at_ms,
                                            as_table ? AggregateEncoding::Table : AggregateEncoding::Compact));
}

// A table hash holding `pairs` (the fields read before one turned out too long for a listpack).
EntryPtr hash_table_of(std::string_view key, const Listpack& pairs, int64_t expire_at_ms, const EncodingLimits& limits) {
  EntryPtr hash(empty_table(key, ValueType::Hash, expire_at_ms));
  for (auto it = pairs.begin(); it != pairs.end();) {
    const std::string field = (*it++).to_string();
    const std::string value = (*it++).to_string();
    hash_value::set(*hash, field, value, limits);
  }
  return hash;
}

// The longest field or value of a listpack of pairs, as text.
size_t longest_element(const Listpack& pairs) {
  size_t longest = 0;
  for (const ListpackElement element : pairs) {
    longest = std::max(longest, element.is_integer() ? element.to_string().size() : element.string().size());
  }
  return longest;
}

}  // namespace

bool RdbParser::is_aggregate_type(uint8_t type) {
  switch (type) {
    case kTypeSet:
    case kTypeHash:
    case kTypeHashZipmap:
    case kTypeSetIntset:
    case kTypeHashZiplist:
    case kTypeHashListpack:
    case kTypeList:
    case kTypeListZiplist:
    case kTypeListQuicklist:
    case kTypeListQuicklist2:
      return true;
    default:
      return is_zset_type(type);
  }
}

void RdbParser::fail_value(uint64_t offset, const std::string& key, std::string_view problem) const {
  fail(offset, fmt::format("key '{}': {}", printable(key), problem));
}

EntryPtr RdbParser::read_aggregate(uint8_t type, const std::string& key, int64_t expire_at_ms) {
  switch (type) {
    case kTypeSet:
      return read_set(key, expire_at_ms);
    case kTypeHash:
      return read_hash(key, expire_at_ms);
    case kTypeSetIntset:
      return read_intset(key, expire_at_ms);
    case kTypeList:
    case kTypeListZiplist:
    case kTypeListQuicklist:
    case kTypeListQuicklist2:
      return read_list(type, key, expire_at_ms);
    case kTypeZset:
    case kTypeZset2:
      return read_zset(type, key, expire_at_ms);
    case kTypeZsetZiplist:
    case kTypeZsetListpack:
      return read_zset_blob(type, key, expire_at_ms);
    default:
      return read_hash_blob(type, key, expire_at_ms);
  }
}

EntryPtr RdbParser::read_set(const std::string& key, int64_t expire_at_ms) {
  const uint64_t count = read_length("set size");
  if (count == 0) return nullptr;
  const size_t max_intset = std::min<size_t>(limits_->set_entries(), size_t{1} << 30);  // as Redis caps it
  EntryPtr set(count > max_intset ? empty_table(key, ValueType::Set, expire_at_ms)
                                  : set_value::create_intset(key, expire_at_ms));
  std::string member;
  for (uint64_t i = 0; i < count; ++i) {
    const uint64_t start = offset();
    read_string(member, "set member");
    // add() turns the intset into a table at the first member that is not an integer, as Redis's loader;
    // the count is within the limit, so it never converts for size.
    if (!set_value::add(*set, member, *limits_)) fail_value(start, key, "a set member appears twice");
  }
  return set;
}

EntryPtr RdbParser::read_hash(const std::string& key, int64_t expire_at_ms) {
  const uint64_t count = read_length("hash size");
  if (count == 0) return nullptr;
  EntryPtr table;  // null while the pairs still fit a listpack
  if (count > limits_->hash_entries()) table.reset(empty_table(key, ValueType::Hash, expire_at_ms));
  Listpack pairs;
  std::unordered_set<std::string> fields;  // those in `pairs`, for the duplicate check
  std::string field;
  std::string value;
  for (uint64_t i = 0; i < count; ++i) {
    const uint64_t start = offset();
    read_string(field, "hash field");
    read_string(value, "hash value");
    if (!table) {
      if (!fields.insert(field).second) fail_value(start, key, "a hash field appears twice");
      const size_t longest = limits_->hash_value();
      if (field.size() <= longest && value.size() <= longest && pairs.safe_to_add(field.size() + value.size())) {
        pairs.append(field);
        pairs.append(value);
        continue;
      }
      table = hash_table_of(key, pairs, expire_at_ms, *limits_);
      pairs = Listpack();
      fields.clear();
    }
    if (!hash_value::set(*table, field, value, *limits_)) fail_value(start, key, "a hash field appears twice");
  }
  if (table) return table;
  return hash_from_listpack(key, std::move(pairs), expire_at_ms, false);
}

EntryPtr RdbParser::read_intset(const std::string& key, int64_t expire_at_ms) {
  const uint64_t start = offset();
  std::string blob;
  read_string(blob, "intset");
  std::optional<Intset> members = Intset::adopt(std::move(blob));
  if (!members) fail_value(start, key, "intset integrity check failed (the blob is corrupt)");
  return EntryPtr(set_value::from_intset(key, std::move(*members), expire_at_ms, *limits_));
}

EntryPtr RdbParser::read_hash_blob(uint8_t type, const std::string& key, int64_t expire_at_ms) {
  const uint64_t start = offset();
  std::string blob;
  read_string(blob, type_name(type).data());
  std::optional<Listpack> pairs;
  if (type == kTypeHashListpack) {
    if (Listpack::validate_pairs(blob, true)) pairs.emplace(std::move(blob));
  } else if (type == kTypeHashZiplist) {
    pairs = listpack_from_ziplist_pairs(blob);
  } else {
    pairs = listpack_from_zipmap(blob);
  }
  if (!pairs) {
    fail_value(start, key, fmt::format("{} integrity check failed (the blob is corrupt, has a field twice or a "
                                       "field without its value)", type_name(type)));
  }
  if (pairs->empty()) return nullptr;
  bool as_table = pairs->size() / 2 > limits_->hash_entries();
  if (type == kTypeHashZipmap) as_table = as_table || longest_element(*pairs) > limits_->hash_value();
  return hash_from_listpack(key, std::move(*pairs), expire_at_ms, as_table);
}

}  // namespace rc::rdb
