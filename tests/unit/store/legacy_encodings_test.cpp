// Ziplists and zipmaps from old RDB files turned into listpacks: the listpacks redis-server 7.0.15 made
// of the same blobs (RESTOREd with the old type, then DUMPed), the rules Redis checks while loading, and
// corrupt blobs, which must give nullopt or a valid listpack without reading outside the blob.
#include <catch2/catch.hpp>

#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "tests/unit/hex_bytes.h"
#include "store/listpack.h"
#include "store/rdb/legacy_encodings.h"

using rc::Listpack;
using rc::rdb::listpack_from_ziplist;
using rc::rdb::listpack_from_ziplist_pairs;
using rc::rdb::listpack_from_zipmap;

using rc::test::from_hex;
using rc::test::to_hex;

namespace {

std::string little_endian(uint64_t value, size_t width) {
  std::string out;
  for (size_t i = 0; i < width; ++i) out += static_cast<char>(value >> (8 * i));
  return out;
}

// A ziplist entry's encoding and data, as the format describes it (Redis 6.2 picks the same). Built with
// += : GCC 12 warns falsely (-Wrestrict) about std::string + std::string.
std::string zip_encoded(std::string_view value, bool encode_integers) {
  const std::optional<int64_t> integer = rc::listpack_integer_value(value);
  std::string out;
  if (encode_integers && integer) {
    const int64_t v = *integer;
    const uint64_t raw = static_cast<uint64_t>(v);
    if (v >= 0 && v <= 12) return std::string(1, static_cast<char>(0xF1 + v));
    if (v >= -128 && v <= 127) {
      out = "\xfe";
      out += little_endian(raw, 1);
    } else if (v >= -32768 && v <= 32767) {
      out = "\xc0";
      out += little_endian(raw, 2);
    } else if (v >= -(int64_t{1} << 23) && v < (int64_t{1} << 23)) {
      out = "\xf0";
      out += little_endian(raw, 3);
    } else if (v >= INT32_MIN && v <= INT32_MAX) {
      out = "\xd0";
      out += little_endian(raw, 4);
    } else {
      out = "\xe0";
      out += little_endian(raw, 8);
    }
    return out;
  }
  const size_t n = value.size();
  if (n <= 63) {
    out += static_cast<char>(n);
  } else if (n <= 16383) {
    out += static_cast<char>(0x40 | (n >> 8));
    out += static_cast<char>(n & 0xFF);
  } else {
    out += '\x80';
    for (const int shift : {24, 16, 8, 0}) out += static_cast<char>(n >> shift);
  }
  out += value;
  return out;
}

// A whole ziplist; `big_prevlen` writes every prevlen in 5 bytes, as Redis may leave them.
std::string ziplist(const std::vector<std::string>& values, bool encode_integers = true, bool big_prevlen = false) {
  std::string entries;
  size_t previous = 0;
  size_t last = 10;
  for (const std::string& value : values) {
    last = 10 + entries.size();
    const size_t start = entries.size();
    if (previous < 254 && !big_prevlen) {
      entries += static_cast<char>(previous);
    } else {
      entries += '\xfe';
      entries += little_endian(previous, 4);
    }
    entries += zip_encoded(value, encode_integers);
    previous = entries.size() - start;
  }
  std::string out = little_endian(10 + entries.size() + 1, 4);
  out += little_endian(last, 4);
  out += little_endian(std::min<size_t>(values.size(), 65535), 2);
  out += entries;
  out += '\xff';
  return out;
}

void append_zipmap_length(std::string& out, size_t n) {
  if (n < 254) {
    out += static_cast<char>(n);
  } else {
    out += '\xfe';
    out += little_endian(n, 4);
  }
}

// A zipmap of field,value pairs, each value followed by `unused` spare bytes.
std::string zipmap(const std::vector<std::pair<std::string, std::string>>& pairs, size_t unused = 0) {
  std::string out(1, static_cast<char>(std::min<size_t>(pairs.size(), 254)));
  for (const auto& [field, value] : pairs) {
    append_zipmap_length(out, field.size());
    out += field;
    append_zipmap_length(out, value.size());
    out += static_cast<char>(unused);
    out += value;
    out.append(unused, '\0');
  }
  out += '\xff';
  return out;
}

Listpack listpack_of(const std::vector<std::string>& values) {
  Listpack listpack;
  for (const std::string& value : values) listpack.append(value);
  return listpack;
}

std::vector<std::string> elements(const Listpack& listpack) {
  std::vector<std::string> out;
  for (const rc::ListpackElement element : listpack) out.push_back(element.to_string());
  return out;
}

}  // namespace

TEST_CASE("legacy: the format's example ziplist becomes redis-server 7.0.15's listpack") {
  // The two entries "2" and "5" of ziplist.c's description, as 4-bit immediates.
  const std::string example = from_hex("0f0000000c000000020000f302f6ff");
  CHECK(ziplist({"2", "5"}) == example);
  const std::optional<Listpack> list = listpack_from_ziplist(example);
  REQUIRE(list);
  CHECK(to_hex(list->bytes()) == "0b000000020002010501ff");  // RESTORE as a type-14 node, DUMP
}

TEST_CASE("legacy: hash and sorted set ziplists become redis-server 7.0.15's listpacks") {
  // A hash ziplist with 5-byte prevlens throughout and "12" and "-0" kept as strings: the integer-looking
  // "12" becomes an integer entry in the listpack, "-0" stays a string.
  const std::string hash = from_hex(
      "650000005c0000000a00fe00000000046e616d65fe0a000000057265646973fe0b00000003616765fe09000000fe0ffe07000000"
      "016efe07000000022d30fe0800000003626967fe09000000e00000000000010000fe0e0000000173fe07000000023132ff");
  const std::optional<Listpack> from_hash = listpack_from_ziplist_pairs(hash);
  REQUIRE(from_hash);
  CHECK(to_hex(from_hash->bytes()) ==
        "360000000a00846e616d65058572656469730683616765040f01816e02822d30038362696704f40000000000010000098173020c01"
        "ff");
  CHECK(elements(*from_hash) ==
        std::vector<std::string>{"name", "redis", "age", "15", "n", "-0", "big", "1099511627776", "s", "12"});

  const std::string zset = from_hex("1800000015000000040000016d0303312e3505016e03f4ff");  // m 1.5, n 3
  const std::optional<Listpack> from_zset = listpack_from_ziplist_pairs(zset);
  REQUIRE(from_zset);
  CHECK(to_hex(from_zset->bytes()) == "140000000400816d0283312e3504816e020301ff");
}

TEST_CASE("legacy: zipmaps become redis-server 7.0.15's listpacks") {
  // zipmap.c's example: "foo" => "bar", "hello" => "world".
  const std::string example = std::string("\x02\x03" "foo\x03\x00" "bar\x05" "hello\x05\x00" "world\xff", 24);
  const std::optional<Listpack> from_example = listpack_from_zipmap(example);
  REQUIRE(from_example);
  CHECK(to_hex(from_example->bytes()) == "1f000000040083666f6f0483626172048568656c6c6f0685776f726c6406ff");

  // Spare bytes after each value, a 5-byte length (300), and a value that reads as an integer.
  const std::string value(300, 'x');
  const std::optional<Listpack> spare = listpack_from_zipmap(zipmap({{"f", "100"}, {"g", value}}, 2));
  REQUIRE(spare);
  CHECK(to_hex(spare->bytes()) == "3f01000004008166026401816702e12c" + to_hex(value) + "02aeff");
}

TEST_CASE("legacy: any ziplist converts to the listpack of the same values appended") {
  std::mt19937_64 random(3);
  const std::vector<std::string> pool = {"0", "12", "13", "-1", "127", "-128", "-129", "32767", "32768", "-8388608",
                                         "-8388609", "2147483647", "2147483648", "-9223372036854775808", "01", "",
                                         std::string(63, 'a'), std::string(64, 'b'), std::string(253, 'c'),
                                         std::string(254, 'd'), std::string(16384, 'e'), "value"};
  for (int round = 0; round < 300; ++round) {
    std::vector<std::string> values;
    for (uint64_t i = random() % 30; i > 0; --i) values.push_back(pool[random() % pool.size()]);
    const bool encode_integers = random() % 2 == 0;
    const bool big_prevlen = random() % 4 == 0;
    const std::optional<Listpack> converted = listpack_from_ziplist(ziplist(values, encode_integers, big_prevlen));
    REQUIRE(converted);
    CHECK(converted->bytes() == listpack_of(values).bytes());
  }
}

TEST_CASE("legacy: ziplist pairs need an even count and distinct fields") {
  CHECK(listpack_from_ziplist_pairs(ziplist({"f", "1", "g", "2"})));
  CHECK_FALSE(listpack_from_ziplist_pairs(ziplist({"f", "1", "g"})));
  CHECK_FALSE(listpack_from_ziplist_pairs(ziplist({"f", "1", "f", "2"})));
  CHECK_FALSE(listpack_from_ziplist_pairs(ziplist({"7", "a", "7", "b"}, false)));
  // The integer 7 (immediate 0xf8) and the string "7" are the same field.
  const std::string mixed = from_hex("16000000120000000400" "00f8" "020161" "030137" "030162" "ff");
  REQUIRE(listpack_from_ziplist(mixed));
  CHECK(elements(*listpack_from_ziplist(mixed)) == std::vector<std::string>{"7", "a", "7", "b"});
  CHECK_FALSE(listpack_from_ziplist_pairs(mixed));
  // Values may repeat.
  CHECK(listpack_from_ziplist_pairs(ziplist({"f", "1", "g", "1"})));
  // An empty ziplist is valid and gives an empty listpack (Redis then drops the key).
  const std::optional<Listpack> empty = listpack_from_ziplist_pairs(ziplist({}));
  REQUIRE(empty);
  CHECK(empty->empty());
  CHECK(listpack_from_ziplist(ziplist({}))->empty());
}

TEST_CASE("legacy: ziplist header and entry checks") {
  const std::string good = ziplist({"a", "100000", std::string(300, 'x'), "7"});
  REQUIRE(listpack_from_ziplist(good));
  auto with_byte = [&](size_t at, char value) {
    std::string blob = good;
    blob[at] = value;
    return blob;
  };
  CHECK_FALSE(listpack_from_ziplist(good.substr(0, good.size() - 1)));     // size field disagrees
  CHECK_FALSE(listpack_from_ziplist(with_byte(good.size() - 1, '\x00')));   // no terminator
  CHECK_FALSE(listpack_from_ziplist(with_byte(8, 3)));                      // count 3 for 4 entries
  CHECK(listpack_from_ziplist(with_byte(8, '\xff').replace(9, 1, "\xff"))); // 65535: count unknown
  CHECK_FALSE(listpack_from_ziplist(with_byte(4, static_cast<char>(good[4] + 1))));  // tail offset off
  CHECK_FALSE(listpack_from_ziplist(with_byte(12 + 1, 1)));                 // second prevlen: 1, not 3
  CHECK_FALSE(listpack_from_ziplist(with_byte(11, '\xc1')));                // no such encoding
  CHECK_FALSE(listpack_from_ziplist(with_byte(11, '\x3f')));                // longer: the next prevlen disagrees
  CHECK_FALSE(listpack_from_ziplist(with_byte(19, '\x7f')));                // a string running past the end
  CHECK_FALSE(listpack_from_ziplist(with_byte(10, 5)));                     // first prevlen must be 0
  CHECK_FALSE(listpack_from_ziplist(""));
  CHECK_FALSE(listpack_from_ziplist(from_hex("0a0000000a0000000000ff").substr(0, 10)));
  CHECK(listpack_from_ziplist(from_hex("0b0000000a0000000000ff")));        // empty
}

TEST_CASE("legacy: zipmap checks") {
  CHECK_FALSE(listpack_from_zipmap(std::string("\x00\xff", 2)));  // empty: Redis refuses it
  CHECK_FALSE(listpack_from_zipmap(zipmap({{"f", "1"}, {"f", "2"}})));
  std::string counted = zipmap({{"f", "1"}, {"g", "2"}});
  counted[0] = 3;
  CHECK_FALSE(listpack_from_zipmap(counted));
  counted[0] = '\xfe';  // 254: count unknown
  CHECK(listpack_from_zipmap(counted));
  const std::string good = zipmap({{"field", std::string(300, 'v')}}, 4);
  REQUIRE(listpack_from_zipmap(good));
  for (size_t cut = 0; cut < good.size(); ++cut) {
    std::string truncated = good.substr(0, cut);
    if (!truncated.empty()) truncated.back() = '\xff';
    CHECK_FALSE(listpack_from_zipmap(truncated));
  }
  CHECK_FALSE(listpack_from_zipmap(""));
  CHECK(elements(*listpack_from_zipmap(zipmap({{"a", "-5"}, {"b", ""}}))) == std::vector<std::string>{"a", "-5", "b", ""});
}

TEST_CASE("legacy: corrupted ziplists and zipmaps give nullopt or a valid listpack") {
  std::mt19937_64 random(17);
  const std::vector<std::string> pool = {"0", "12", "-129", "40000", "-8388609", "2147483648", "a", "",
                                         std::string(100, 'b'), std::string(260, 'c'), "field"};
  size_t converted = 0;
  size_t refused = 0;
  for (int round = 0; round < 30000; ++round) {
    std::vector<std::string> values;
    for (uint64_t i = random() % 10; i > 0; --i) values.push_back(pool[random() % pool.size()]);
    const int kind = static_cast<int>(random() % 3);
    std::string blob;
    if (kind == 2) {
      std::vector<std::pair<std::string, std::string>> pairs;
      for (size_t i = 0; i + 1 < values.size(); i += 2) pairs.emplace_back(std::to_string(i) + values[i], values[i + 1]);
      blob = zipmap(pairs, random() % 3);
    } else {
      const bool encode_integers = random() % 4 != 0;  // one call per statement: argument order is unspecified
      blob = ziplist(values, encode_integers, random() % 4 == 0);
    }
    for (uint64_t changes = 1 + random() % 2; changes > 0 && !blob.empty(); --changes) {
      const size_t at = random() % blob.size();
      switch (random() % 4) {
        case 0: blob[at] = static_cast<char>(random()); break;
        case 1: blob[at] = static_cast<char>(blob[at] ^ (1 << (random() % 8))); break;
        case 2: blob.erase(at, 1 + random() % 2); break;
        default: blob.insert(at, 1, static_cast<char>(random())); break;
      }
    }
    if (kind != 2 && blob.size() >= 4 && random() % 4 != 0) blob.replace(0, 4, little_endian(blob.size(), 4));
    const std::optional<Listpack> result = kind == 0   ? listpack_from_ziplist(blob)
                                           : kind == 1 ? listpack_from_ziplist_pairs(blob)
                                                       : listpack_from_zipmap(blob);
    if (!result) {
      ++refused;
      continue;
    }
    ++converted;
    CHECK(Listpack::validate(result->bytes(), true));
    if (kind != 0) CHECK(Listpack::validate_pairs(result->bytes(), true));
    CHECK(elements(*result).size() == result->size());
  }
  CHECK(converted > 1000);
  CHECK(refused > 1000);
}
