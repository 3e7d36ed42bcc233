// Hashes and sets in RDB files (store/rdb/rdb_aggregates.cpp): every encoding written as Redis 7.0 writes
// it and read back, with and without a TTL, at 100k fields; a file written by redis-server 7.0.15; the
// encodings Redis's loader picks under this server's limits; the older HASH_ZIPLIST and HASH_ZIPMAP;
// corrupt blobs and repeated fields rejected, empty aggregates skipped; DEBUG OBJECT's serializedlength.
#include <catch2/catch.hpp>

#include <cstdint>
#include <map>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "tests/unit/hex_bytes.h"
#include "store/encoding_limits.h"
#include "store/hash_value.h"
#include "store/intset.h"
#include "store/keyspace.h"
#include "store/listpack.h"
#include "store/rdb/crc64.h"
#include "store/rdb/rdb_format.h"
#include "store/rdb/rdb_reader.h"
#include "store/rdb/rdb_writer.h"
#include "store/set_value.h"
#include "tests/unit/temp_dir.h"

namespace {

using rc::AggregateEncoding;
using rc::EncodingLimits;
using rc::Entry;
using rc::EntryPtr;
using rc::ValueType;
using rc::rdb::FormatError;
using rc::rdb::KeyRecord;
using rc::test::from_hex;
using rc::rdb::RdbParser;
using rc::rdb::RdbWriter;
using rc::rdb::WriteOptions;
using Fields = std::map<std::string, std::string>;
using Members = std::set<std::string>;

constexpr int64_t kFarFuture = 4102444800000;  // 2100-01-01, in ms

// prefix + number (GCC 12 warns falsely (-Wrestrict) about "literal" + std::string).
std::string numbered(std::string_view prefix, int64_t i) {
  std::string text(prefix);
  text += std::to_string(i);
  return text;
}

Fields fields_of(const Entry& hash) {
  Fields out;
  rc::hash_value::for_each(hash, [&](const rc::ListpackElement& field, const rc::ListpackElement& value) {
    out[field.to_string()] = value.to_string();
  });
  return out;
}

Members members_of(const Entry& set) {
  Members out;
  rc::set_value::for_each(set, [&](std::string_view member) { out.emplace(member); });
  return out;
}

EntryPtr make_hash(std::string_view key, const Fields& fields, const EncodingLimits& limits,
                   int64_t expire_at_ms = Entry::kNoExpiry) {
  EntryPtr hash(rc::hash_value::create(key, expire_at_ms));
  for (const auto& [field, value] : fields) rc::hash_value::set(*hash, field, value, limits);
  return hash;
}

EntryPtr make_set(std::string_view key, const Members& members, const EncodingLimits& limits,
                  int64_t expire_at_ms = Entry::kNoExpiry) {
  EntryPtr set(rc::set_value::create_for(key, *members.begin(), limits, expire_at_ms));
  for (const std::string& member : members) rc::set_value::add(*set, member, limits);
  return set;
}

// A file with `entries` in database 0, as the writer makes it.
std::string file_of(const std::vector<const Entry*>& entries, WriteOptions options = {}) {
  RdbWriter writer(options);
  writer.begin(1700000000, 0);
  writer.select_db(0, entries.size(), 0);
  for (const Entry* entry : entries) writer.key_entry(*entry);
  REQUIRE(writer.finish());
  return std::string(writer.bytes());
}

std::string rdb_string(std::string_view value) {
  WriteOptions options;
  options.compress = false;
  RdbWriter writer(options);
  writer.string(value);
  return std::string(writer.bytes());
}

std::string rdb_length(uint64_t value) {
  RdbWriter writer(WriteOptions{});
  writer.length(value);
  return std::string(writer.bytes());
}

// One key's record made by hand: the type byte, the key, then `value_bytes` as given.
std::string record(uint8_t type, std::string_view key, std::string_view value_bytes) {
  std::string out(1, static_cast<char>(type));
  out += rdb_string(key);
  out += value_bytes;
  return out;
}

// A plain HASH or SET value: the count, then each string.
std::string counted(const std::vector<std::string>& strings, size_t count) {
  std::string out = rdb_length(count);
  for (const std::string& s : strings) out += rdb_string(s);
  return out;
}

// A whole file around hand-made records: header, SELECTDB 0, the records, EOF and the checksum.
std::string file_of_records(const std::vector<std::string>& records) {
  std::string out = "REDIS0010";
  out += "\xfe";
  out += '\0';
  for (const std::string& r : records) out += r;
  out += '\xff';
  const uint64_t crc = rc::rdb::crc64(0, out.data(), out.size());
  for (int shift = 0; shift < 64; shift += 8) out += static_cast<char>(crc >> shift);
  return out;
}

std::vector<KeyRecord> parse_all(std::string_view bytes, const EncodingLimits* limits = nullptr) {
  RdbParser parser(bytes, limits);
  std::vector<KeyRecord> records;
  KeyRecord record;
  while (parser.next(record)) records.push_back(std::move(record));
  return records;
}

KeyRecord parse_one(std::string_view bytes, const EncodingLimits* limits = nullptr) {
  auto records = parse_all(bytes, limits);
  REQUIRE(records.size() == 1);
  REQUIRE(records[0].aggregate);
  return std::move(records[0]);
}

std::string parse_error(std::string_view bytes, const EncodingLimits* limits = nullptr) {
  try {
    parse_all(bytes, limits);
  } catch (const FormatError& error) {
    return error.what();
  }
  FAIL("no FormatError");
  return "";
}

std::string listpack_blob(const std::vector<std::string>& elements) {
  rc::Listpack listpack;
  for (const std::string& element : elements) listpack.append(element);
  return std::string(listpack.bytes());
}

std::string intset_blob(const std::vector<int64_t>& members) {
  rc::Intset intset;
  for (const int64_t member : members) intset.add(member);
  return std::string(intset.bytes());
}

}  // namespace

TEST_CASE("rdb aggregates: every encoding round trips, with and without a TTL", "[rdb]") {
  const EncodingLimits limits;
  const Fields small = {{"name", "redis"}, {"age", "15"}, {"neg", "-7"}, {"empty", ""}, {"01", "+1"}};
  Fields long_value = small;
  long_value["long"] = std::string(65, 'x');
  const Members integers = {"1", "-3", "100000", "9223372036854775807", "-9223372036854775808"};
  const Members words = {"a", "b", "12", "007", ""};
  const auto hl = make_hash("hl", small, limits);
  const auto ht = make_hash("ht", long_value, limits, kFarFuture);
  const auto hlx = make_hash("hlx", small, limits, kFarFuture);
  const auto si = make_set("si", integers, limits);
  const auto st = make_set("st", words, limits, kFarFuture + 1);
  const auto six = make_set("six", {"5"}, limits, kFarFuture);
  REQUIRE(hl->aggregate_encoding() == AggregateEncoding::Compact);
  REQUIRE(ht->aggregate_encoding() == AggregateEncoding::Table);
  REQUIRE(si->aggregate_encoding() == AggregateEncoding::Compact);
  REQUIRE(st->aggregate_encoding() == AggregateEncoding::Table);

  for (const bool compress : {true, false}) {
    WriteOptions options;
    options.compress = compress;
    const std::string file = file_of({hl.get(), ht.get(), hlx.get(), si.get(), st.get(), six.get()}, options);
    const auto records = parse_all(file);
    REQUIRE(records.size() == 6);
    std::map<std::string, const KeyRecord*> by_key;
    for (const KeyRecord& r : records) by_key[r.key] = &r;
    const auto check = [&](const std::string& key, const Entry& original) {
      const KeyRecord& r = *by_key.at(key);
      REQUIRE(r.aggregate);
      CHECK(r.aggregate->key() == key);
      CHECK(r.aggregate->type() == original.type());
      CHECK(r.aggregate->aggregate_encoding() == original.aggregate_encoding());
      CHECK(r.expire_at_ms == (original.has_expiry() ? original.expire_at() : -1));
      CHECK(r.aggregate->has_expiry() == original.has_expiry());
      if (original.has_expiry()) CHECK(r.aggregate->expire_at() == original.expire_at());
      if (original.type() == ValueType::Hash) {
        CHECK(fields_of(*r.aggregate) == fields_of(original));
      } else {
        CHECK(members_of(*r.aggregate) == members_of(original));
      }
    };
    check("hl", *hl);
    check("ht", *ht);
    check("hlx", *hlx);
    check("si", *si);
    check("st", *st);
    check("six", *six);
    // A listpack or intset comes back as the same bytes.
    CHECK(rc::hash_value::listpack_bytes(*by_key.at("hl")->aggregate) == rc::hash_value::listpack_bytes(*hl));
    CHECK(rc::set_value::intset_bytes(*by_key.at("si")->aggregate) == rc::set_value::intset_bytes(*si));
  }
}

TEST_CASE("rdb aggregates: the type bytes and blobs are Redis 7.0's", "[rdb]") {
  const EncodingLimits limits;
  const auto hl = make_hash("h", {{"a", "1"}, {"b", "2"}}, limits);
  const auto ht = make_hash("h", {{"a", std::string(65, 'y')}}, limits);
  const auto si = make_set("s", {"1", "2"}, limits);
  const auto st = make_set("s", {"x"}, limits);
  CHECK(rc::rdb::value_type_byte(*hl) == rc::rdb::kTypeHashListpack);
  CHECK(rc::rdb::value_type_byte(*ht) == rc::rdb::kTypeHash);
  CHECK(rc::rdb::value_type_byte(*si) == rc::rdb::kTypeSetIntset);
  CHECK(rc::rdb::value_type_byte(*st) == rc::rdb::kTypeSet);

  const auto body = [](const Entry& entry) {
    WriteOptions options;
    options.compress = false;
    RdbWriter writer(options);
    writer.key_entry(entry);
    return std::string(writer.bytes());
  };
  // HSET h a 1 b 2 and SADD s 1 2 in redis-server 7.0.15, DUMPed: type byte, then the blob as a string.
  const std::string listpack = from_hex("1100000004008161020101816202020" "1ff");
  const std::string intset = from_hex("020000000200000001000200");
  CHECK(body(*hl) == record(16, "h", rdb_string(listpack)));
  CHECK(rdb_string(listpack) == from_hex("11" "11000000040081610201018162020201ff"));
  CHECK(body(*ht) == record(4, "h", counted({"a", std::string(65, 'y')}, 1)));
  CHECK(body(*si) == record(11, "s", rdb_string(intset)));
  CHECK(rdb_string(intset) == from_hex("0c" "020000000200000001000200"));
  CHECK(body(*st) == record(2, "s", counted({"x"}, 1)));

  // DEBUG OBJECT's serializedlength: redis-server 7.0.15 says 18 for this hash (the blob and its length).
  CHECK(rc::rdb::serialized_value_length(*hl) == 18);
  CHECK(rc::rdb::serialized_value_length(*si) == 13);
  CHECK(rc::rdb::serialized_value_length(*ht) == 1 + 2 + 2 + 65);
  CHECK(rc::rdb::serialized_value_length(*st) == 1 + 2);
}

TEST_CASE("rdb aggregates: a file written by redis-server 7.0.15 loads with the same encodings", "[rdb]") {
  // HSET hl name redis age 15; HSET ht f <70 x> n 7; SADD si 1 2 -3 100000; SADD st a b; HSET hx k v and
  // SADD sx 5, both with PEXPIREAT 4102444800000; SAVE. ht's long value is LZF-compressed.
  const std::string dump = from_hex(
      "524544495330303130fa0972656469732d76657206372e302e3135fa0a72656469732d62697473c040fa056374696d65c2e9d612"
      "6bfa08757365642d6d656dc2e8790f00fa08616f662d62617365c000fe00fb0602fc00d8c32cbb0300000b0273780a0200000001"
      "00000005001002686c1b1b0000000400846e616d65058572656469730683616765040f01fffc00d8c32cbb030000100268780d0d"
      "0000000200816b02817602ff0202737402016201610402687402016ec0070166c3094046017878e039000178780b027369180400"
      "000004000000fdffffff0100000002000000a0860100ff97c7a5d24710a90e");
  std::map<std::string, KeyRecord> keys;
  for (KeyRecord& r : parse_all(dump)) keys[r.key] = std::move(r);
  REQUIRE(keys.size() == 6);
  const auto encoding = [&](const std::string& key) { return keys.at(key).aggregate->aggregate_encoding(); };
  CHECK(encoding("hl") == AggregateEncoding::Compact);
  CHECK(encoding("ht") == AggregateEncoding::Table);
  CHECK(encoding("si") == AggregateEncoding::Compact);
  CHECK(encoding("st") == AggregateEncoding::Table);
  CHECK(fields_of(*keys.at("hl").aggregate) == Fields{{"name", "redis"}, {"age", "15"}});
  CHECK(fields_of(*keys.at("ht").aggregate) == Fields{{"f", std::string(70, 'x')}, {"n", "7"}});
  CHECK(members_of(*keys.at("si").aggregate) == Members{"1", "2", "-3", "100000"});
  CHECK(members_of(*keys.at("st").aggregate) == Members{"a", "b"});
  CHECK(fields_of(*keys.at("hx").aggregate) == Fields{{"k", "v"}});
  CHECK(keys.at("hx").expire_at_ms == kFarFuture);
  CHECK(keys.at("hx").aggregate->expire_at() == kFarFuture);
  CHECK(members_of(*keys.at("sx").aggregate) == Members{"5"});
  CHECK(keys.at("sx").aggregate->expire_at() == kFarFuture);
  CHECK(keys.at("hl").aggregate->type() == ValueType::Hash);
  CHECK(keys.at("si").aggregate->type() == ValueType::Set);

  SECTION("and our writer gives back the same listpack and intset records") {
    const std::string ours = file_of({keys.at("hl").aggregate.get(), keys.at("si").aggregate.get()});
    CHECK(ours.find(record(16, "hl", rdb_string(rc::hash_value::listpack_bytes(*keys.at("hl").aggregate)))) !=
          std::string::npos);
    CHECK(dump.find(record(16, "hl", rdb_string(rc::hash_value::listpack_bytes(*keys.at("hl").aggregate)))) !=
          std::string::npos);
    CHECK(dump.find(record(11, "si", rdb_string(rc::set_value::intset_bytes(*keys.at("si").aggregate)))) !=
          std::string::npos);
  }
}

TEST_CASE("rdb aggregates: the loader picks encodings by this server's limits, as Redis's", "[rdb]") {
  EncodingLimits limits;
  limits.hash_max_listpack_entries = 3;
  limits.hash_max_listpack_value = 10;
  limits.set_max_intset_entries = 3;
  const auto encoding_of = [&](const std::string& file) { return parse_one(file, &limits).aggregate->aggregate_encoding(); };
  const auto hash_record = [](const std::vector<std::string>& strings) {
    return file_of_records({record(rc::rdb::kTypeHash, "h", counted(strings, strings.size() / 2))});
  };
  const auto set_record = [](const std::vector<std::string>& strings) {
    return file_of_records({record(rc::rdb::kTypeSet, "s", counted(strings, strings.size()))});
  };

  SECTION("HASH: a listpack when few and short, else a table") {
    CHECK(encoding_of(hash_record({"a", "1", "b", "2", "c", "3"})) == AggregateEncoding::Compact);
    CHECK(encoding_of(hash_record({"a", "1", "b", "2", "c", "3", "d", "4"})) == AggregateEncoding::Table);
    CHECK(encoding_of(hash_record({"a", "1", "b", std::string(11, 'v')})) == AggregateEncoding::Table);
    CHECK(encoding_of(hash_record({std::string(11, 'f'), "1"})) == AggregateEncoding::Table);
    CHECK(encoding_of(hash_record({"a", std::string(10, 'v')})) == AggregateEncoding::Compact);
    const KeyRecord converted = parse_one(hash_record({"a", "1", "b", std::string(11, 'v'), "c", "3"}), &limits);
    CHECK(fields_of(*converted.aggregate) == Fields{{"a", "1"}, {"b", std::string(11, 'v')}, {"c", "3"}});
    // The listpack Redis builds: strings that read as integers become integers.
    const KeyRecord compact = parse_one(hash_record({"n", "123", "m", "0123"}), &limits);
    CHECK(rc::hash_value::listpack_bytes(*compact.aggregate) == listpack_blob({"n", "123", "m", "0123"}));
  }
  SECTION("SET: an intset when few and all integers, else a table") {
    CHECK(encoding_of(set_record({"1", "-2", "300"})) == AggregateEncoding::Compact);
    CHECK(encoding_of(set_record({"1", "2", "3", "4"})) == AggregateEncoding::Table);
    CHECK(encoding_of(set_record({"1", "x"})) == AggregateEncoding::Table);
    CHECK(encoding_of(set_record({"1", "01"})) == AggregateEncoding::Table);  // not canonical: a string
    CHECK(members_of(*parse_one(set_record({"5", "x", "-1"}), &limits).aggregate) == Members{"5", "x", "-1"});
    limits.set_max_intset_entries = 0;
    CHECK(encoding_of(set_record({"1"})) == AggregateEncoding::Table);
  }
  SECTION("SET_INTSET: converted when over set-max-intset-entries") {
    CHECK(encoding_of(file_of_records({record(11, "s", rdb_string(intset_blob({1, 2, 3})))})) ==
          AggregateEncoding::Compact);
    const std::string four = file_of_records({record(11, "s", rdb_string(intset_blob({1, 2, 3, 4})))});
    CHECK(encoding_of(four) == AggregateEncoding::Table);
    CHECK(members_of(*parse_one(four, &limits).aggregate) == Members{"1", "2", "3", "4"});
  }
  SECTION("HASH_LISTPACK: converted when over the count only, as Redis 7.0 (a long value stays)") {
    CHECK(encoding_of(file_of_records({record(16, "h", rdb_string(listpack_blob({"a", std::string(100, 'v')})))})) ==
          AggregateEncoding::Compact);
    const std::string four = file_of_records(
        {record(16, "h", rdb_string(listpack_blob({"a", "1", "b", "2", "c", "3", "d", "4"})))});
    CHECK(encoding_of(four) == AggregateEncoding::Table);
    CHECK(fields_of(*parse_one(four, &limits).aggregate) == Fields{{"a", "1"}, {"b", "2"}, {"c", "3"}, {"d", "4"}});
  }
  SECTION("a hash listpack read with the defaults stays as it was") {
    const std::string file =
        file_of_records({record(16, "h", rdb_string(listpack_blob({"a", "1", "b", "2", "c", "3", "d", "4"})))});
    CHECK(parse_one(file).aggregate->aggregate_encoding() == AggregateEncoding::Compact);
  }
}

TEST_CASE("rdb aggregates: older hash encodings (ziplist, zipmap) load as listpacks", "[rdb]") {
  // Goldens from tests/unit/store/legacy_encodings_test.cpp: a hash ziplist with 5-byte prevlens, and
  // zipmap.c's example; the listpacks are redis-server 7.0.15's for the same blobs.
  const std::string ziplist = from_hex(
      "650000005c0000000a00fe00000000046e616d65fe0a000000057265646973fe0b00000003616765fe09000000fe0ffe07000000"
      "016efe07000000022d30fe0800000003626967fe09000000e00000000000010000fe0e0000000173fe07000000023132ff");
  const std::string zipmap = std::string("\x02\x03" "foo\x03\x00" "bar\x05" "hello\x05\x00" "world\xff", 24);

  const KeyRecord from_ziplist = parse_one(file_of_records({record(13, "z", rdb_string(ziplist))}));
  CHECK(from_ziplist.aggregate->aggregate_encoding() == AggregateEncoding::Compact);
  CHECK(from_hex("360000000a00846e616d65058572656469730683616765040f01816e02822d30038362696704f40000000000010000098173"
                 "020c01ff") == rc::hash_value::listpack_bytes(*from_ziplist.aggregate));
  CHECK(fields_of(*from_ziplist.aggregate) ==
        Fields{{"name", "redis"}, {"age", "15"}, {"n", "-0"}, {"big", "1099511627776"}, {"s", "12"}});

  const KeyRecord from_zipmap = parse_one(file_of_records({record(9, "m", rdb_string(zipmap))}));
  CHECK(rc::hash_value::listpack_bytes(*from_zipmap.aggregate) ==
        from_hex("1f000000040083666f6f0483626172048568656c6c6f0685776f726c6406ff"));
  CHECK(fields_of(*from_zipmap.aggregate) == Fields{{"foo", "bar"}, {"hello", "world"}});

  SECTION("a ziplist converts by its count, a zipmap also by its longest string (Redis's rules)") {
    EncodingLimits limits;
    limits.hash_max_listpack_value = 4;  // "redis", "hello", "world" are longer
    CHECK(parse_one(file_of_records({record(13, "z", rdb_string(ziplist))}), &limits)
              .aggregate->aggregate_encoding() == AggregateEncoding::Compact);
    CHECK(parse_one(file_of_records({record(9, "m", rdb_string(zipmap))}), &limits).aggregate->aggregate_encoding() ==
          AggregateEncoding::Table);
    limits.hash_max_listpack_value = 64;
    limits.hash_max_listpack_entries = 4;  // the ziplist has 5 fields
    const KeyRecord table = parse_one(file_of_records({record(13, "z", rdb_string(ziplist))}), &limits);
    CHECK(table.aggregate->aggregate_encoding() == AggregateEncoding::Table);
    CHECK(fields_of(*table.aggregate).size() == 5);
  }
}

TEST_CASE("rdb aggregates: corrupt blobs and repeated fields or members fail the load", "[rdb]") {
  const std::string listpack = listpack_blob({"a", "1", "b", "2"});
  const std::string intset = intset_blob({1, 2, 300});

  SECTION("blobs that do not validate") {
    std::string short_listpack = listpack;
    short_listpack.pop_back();
    CHECK_THAT(parse_error(file_of_records({record(16, "h", rdb_string(short_listpack))})),
               Catch::Contains("key 'h': hash-listpack integrity check failed"));
    CHECK_THAT(parse_error(file_of_records({record(16, "h", rdb_string(listpack_blob({"a", "1", "a", "2"})))})),
               Catch::Contains("hash-listpack integrity check failed"));
    CHECK_THAT(parse_error(file_of_records({record(16, "h", rdb_string(listpack_blob({"a", "1", "b"})))})),
               Catch::Contains("hash-listpack integrity check failed"));
    std::string unsorted = intset;
    std::swap(unsorted[8], unsorted[10]);  // members 1 and 2 swapped
    CHECK_THAT(parse_error(file_of_records({record(11, "s", rdb_string(unsorted))})),
               Catch::Contains("key 's': intset integrity check failed"));
    CHECK_THAT(parse_error(file_of_records({record(11, "s", rdb_string(intset.substr(0, 12)))})),
               Catch::Contains("intset integrity check failed"));
    CHECK_THAT(parse_error(file_of_records({record(13, "z", rdb_string("not a ziplist"))})),
               Catch::Contains("hash-ziplist integrity check failed"));
    CHECK_THAT(parse_error(file_of_records({record(9, "m", rdb_string("\x01\x03" "foo"))})),
               Catch::Contains("hash-zipmap integrity check failed"));
  }
  SECTION("a field or member twice in a plain hash or set, in either encoding") {
    CHECK_THAT(parse_error(file_of_records({record(4, "h", counted({"a", "1", "a", "2"}, 2))})),
               Catch::Contains("key 'h': a hash field appears twice"));
    std::vector<std::string> big;
    for (int i = 0; i < 600; ++i) big.insert(big.end(), {numbered("f", i), "v"});
    big.insert(big.end(), {"f7", "again"});
    CHECK_THAT(parse_error(file_of_records({record(4, "h", counted(big, big.size() / 2))})),
               Catch::Contains("a hash field appears twice"));
    // A field seen while still a listpack, repeated after a long value made it a table.
    CHECK_THAT(parse_error(file_of_records({record(4, "h", counted({"a", "1", "b", std::string(100, 'x'), "a", "3"}, 3))})),
               Catch::Contains("a hash field appears twice"));
    CHECK_THAT(parse_error(file_of_records({record(2, "s", counted({"1", "2", "1"}, 3))})),
               Catch::Contains("key 's': a set member appears twice"));
    CHECK_THAT(parse_error(file_of_records({record(2, "s", counted({"x", "y", "x"}, 3))})),
               Catch::Contains("a set member appears twice"));
  }
  SECTION("a count larger than what follows") {
    // The EOF opcode is then read as a string: an error, whatever it says.
    CHECK_FALSE(parse_error(file_of_records({record(4, "h", counted({"a", "1"}, 1000000))})).empty());
    CHECK_FALSE(parse_error(file_of_records({record(2, "s", counted({"a"}, 1ull << 40))})).empty());
    const std::string cut = file_of_records({record(2, "s", counted({"a"}, 3))});
    CHECK_THAT(parse_error(cut.substr(0, cut.size() - 9)), Catch::Contains("unexpected end of file"));
  }
  SECTION("random damage to every record never crashes (checksums off: the value checks must hold)") {
    const std::vector<std::string> files = {
        file_of_records({record(16, "h", rdb_string(listpack_blob({"a", "1", "bb", std::string(70, 'z'), "c", "-5"})))}),
        file_of_records({record(11, "s", rdb_string(intset_blob({-70000, 1, 2, 1ll << 40})))}),
        file_of_records({record(4, "h", counted({"a", "1", "b", std::string(70, 'q')}, 2))}),
        file_of_records({record(2, "s", counted({"1", "x", "300"}, 3))}),
    };
    std::mt19937 random(7);
    for (const std::string& good : files) {
      for (int round = 0; round < 2000; ++round) {
        std::string bad = good;
        const size_t at = 11 + random() % (bad.size() - 19);  // the record, not the header or trailer
        bad[at] = static_cast<char>(random());
        RdbParser parser(bad);
        parser.set_verify_checksum(false);  // reach the value checks, not only the checksum
        KeyRecord r;
        try {
          while (parser.next(r)) {
            if (r.aggregate && r.aggregate->type() == ValueType::Hash) fields_of(*r.aggregate);
            if (r.aggregate && r.aggregate->type() == ValueType::Set) members_of(*r.aggregate);
          }
        } catch (const FormatError&) {
        }
      }
    }
  }
}

TEST_CASE("rdb aggregates: empty hashes and sets are skipped, as Redis skips them", "[rdb]") {
  const std::string empty_listpack = from_hex("07000000" "0000" "ff");
  const std::string empty_ziplist = from_hex("0b000000" "0a000000" "0000" "ff");
  std::string expiry = "\xfc";
  for (int shift = 0; shift < 64; shift += 8) expiry += static_cast<char>(kFarFuture >> shift);
  const std::string file = file_of_records({
      expiry + record(4, "h0", rdb_length(0)),
      record(2, "s0", rdb_length(0)),
      record(16, "hl0", rdb_string(empty_listpack)),
      record(13, "hz0", rdb_string(empty_ziplist)),
      record(0, "after", rdb_string("v")),
  });
  RdbParser parser(file);
  std::vector<KeyRecord> records;
  KeyRecord r;
  while (parser.next(r)) records.push_back(std::move(r));
  REQUIRE(records.size() == 1);
  CHECK(records[0].key == "after");
  CHECK(records[0].expire_at_ms == -1);  // the skipped key's expiry does not carry over
  CHECK(parser.skipped_empty_keys() == 4);
  CHECK(parser.skipped_empty_key_names() == std::vector<std::string>{"h0", "s0", "hl0", "hz0"});
  // An empty intset is not valid (Redis never writes one): corrupt, not empty.
  CHECK_THAT(parse_error(file_of_records({record(11, "s", rdb_string(from_hex("0200000000000000")))})),
             Catch::Contains("intset integrity check failed"));
}

TEST_CASE("rdb aggregates: 100k fields and members round trip through a file", "[rdb]") {
  rc::Keyspace keyspace;
  const EncodingLimits& limits = keyspace.limits();
  Fields fields;
  for (int i = 0; i < 100000; ++i) fields[numbered("field:", i)] = i % 3 == 0 ? std::to_string(i) : numbered("value-", i);
  Members members;
  for (int i = 0; i < 100000; ++i) members.insert(std::to_string(i * 7 - 50000));
  keyspace.db(0).write("big-hash", [&](rc::KeySlot& slot) { slot.adopt(make_hash("big-hash", fields, limits)); });
  keyspace.db(0).write("big-set", [&](rc::KeySlot& slot) { slot.adopt(make_set("big-set", members, limits, kFarFuture)); });
  keyspace.db(3).write("small", [&](rc::KeySlot& slot) { slot.adopt(make_set("small", {"1", "2"}, limits)); });

  rc::test::TempDir dir("rdb-aggregates");
  rc::rdb::SaveRequest request;
  request.dir = dir.path.string();
  request.filename = "dump.rdb";
  request.now_ms = rc::unix_time_ms();
  const auto saved = rc::rdb::save_rdb_file(keyspace, request);
  REQUIRE(saved.ok);
  CHECK(saved.keys == 3);

  rc::Keyspace loaded;
  loaded.limits().set_max_intset_entries = 100000;  // the set fits an intset here
  const auto result = rc::rdb::load_rdb_file((dir.path / "dump.rdb").string(), loaded, rc::unix_time_ms());
  REQUIRE(result.ok);
  CHECK(result.keys_loaded == 3);
  loaded.db(0).read("big-hash", [&](const Entry* hash) {
    REQUIRE(hash != nullptr);
    CHECK(hash->aggregate_encoding() == AggregateEncoding::Table);
    CHECK(fields_of(*hash) == fields);
  });
  loaded.db(0).read("big-set", [&](const Entry* set) {
    REQUIRE(set != nullptr);
    CHECK(set->aggregate_encoding() == AggregateEncoding::Compact);  // within this server's limit
    CHECK(set->expire_at() == kFarFuture);
    CHECK(members_of(*set) == members);
  });
  CHECK(loaded.db(0).expiring() == 1);
  loaded.db(3).read("small", [&](const Entry* set) {
    REQUIRE(set != nullptr);
    CHECK(members_of(*set) == Members{"1", "2"});
  });
}
