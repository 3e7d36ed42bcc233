// RDB snapshots: CRC-64, LZF, every string encoding and length class, expiry, several databases, files
// written by Redis 7.0.15, atomic saves, and corrupt or truncated input rejected with its offset.
#include <catch2/catch.hpp>

#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <atomic>
#include <chrono>
#include <map>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "server/config.h"
#include "server/persistence.h"
#include "store/clock.h"
#include "store/keyspace.h"
#include "store/rdb/crc64.h"
#include "store/rdb/lzf.h"
#include "store/rdb/rdb_reader.h"
#include "store/rdb/rdb_writer.h"
#include "store/rdb/snapshot_locks.h"

namespace {

using rc::rdb::FormatError;
using rc::rdb::KeyRecord;
using rc::rdb::RdbParser;
using rc::rdb::RdbWriter;
using rc::rdb::WriteOptions;

std::string from_hex(std::string_view hex) {
  std::string out;
  for (size_t i = 0; i + 1 < hex.size(); i += 2) {
    while (hex[i] == ' ') ++i;
    out.push_back(static_cast<char>(std::stoi(std::string(hex.substr(i, 2)), nullptr, 16)));
  }
  return out;
}

// prefix + number, built with += (GCC 12 warns falsely (-Wrestrict) about "literal" + std::string).
std::string key_name(std::string_view prefix, int i) {
  std::string text(prefix);
  text += std::to_string(i);
  return text;
}

std::string random_bytes(size_t size, uint32_t seed) {
  std::mt19937 random(seed);
  std::string out(size, '\0');
  for (char& c : out) c = static_cast<char>(random());
  return out;
}

std::string repetitive_text(size_t size) {
  static const std::string kWords = "the quick brown fox jumps over the lazy dog; ";
  std::string out;
  while (out.size() < size) out += kWords.substr(out.size() % 7);
  out.resize(size);
  return out;
}

// The bytes RdbWriter::string produces for `value`.
std::string encoded(std::string_view value, bool compress = true) {
  WriteOptions options;
  options.compress = compress;
  RdbWriter writer(options);
  writer.string(value);
  return std::string(writer.bytes());
}

std::string encoded_length(uint64_t value) {
  RdbWriter writer(WriteOptions{});
  writer.length(value);
  return std::string(writer.bytes());
}

struct Pair {
  std::string key;
  std::string value;
  int64_t expire_at_ms = -1;
};

// A whole file in memory: header, one database, the pairs, EOF and checksum.
std::string file_with(const std::vector<Pair>& pairs, int db = 0, WriteOptions options = {}) {
  RdbWriter writer(options);
  writer.begin(1700000000, 123456);
  writer.select_db(db, pairs.size(), 0);
  for (const Pair& p : pairs) writer.key_value(p.key, p.value, p.expire_at_ms);
  REQUIRE(writer.finish());
  return std::string(writer.bytes());
}

std::vector<KeyRecord> parse_all(std::string_view bytes) {
  RdbParser parser(bytes);
  std::vector<KeyRecord> records;
  KeyRecord record;
  for (int guard = 0; guard < 1000000 && parser.next(record); ++guard) records.push_back(std::move(record));
  return records;
}

// The FormatError that parsing `bytes` raises (fails the test when there is none).
FormatError parse_error(std::string_view bytes) {
  try {
    parse_all(bytes);
  } catch (const FormatError& error) {
    return error;
  }
  FAIL("no FormatError for input of " << bytes.size() << " bytes");
  return FormatError(0, "");
}

std::string round_trip_value(const std::string& value) {
  const auto records = parse_all(file_with({{"k", value}}));
  REQUIRE(records.size() == 1);
  return records[0].value;
}

class TempDir {
 public:
  TempDir() {
    char pattern[] = "/tmp/rdb-test-XXXXXX";
    REQUIRE(::mkdtemp(pattern) != nullptr);
    path_ = pattern;
  }
  ~TempDir() { std::filesystem::remove_all(path_); }
  const std::string& path() const { return path_; }
  std::string file(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

void put(rc::Keyspace& keyspace, int db, const std::string& key, const std::string& value, int64_t expire_at = -1) {
  keyspace.db(db).write(key, [&](rc::KeySlot& slot) {
    slot.set(value, expire_at < 0 ? rc::Entry::kNoExpiry : expire_at);
  });
}

std::optional<std::pair<std::string, int64_t>> get(rc::Keyspace& keyspace, int db, const std::string& key) {
  return keyspace.db(db).read(key, [](const rc::Entry* entry) -> std::optional<std::pair<std::string, int64_t>> {
    if (entry == nullptr) return std::nullopt;
    return std::pair(std::string(entry->value()), entry->expire_at());
  });
}

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

void write_file(const std::string& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << bytes;
}

rc::rdb::SaveRequest request_for(const TempDir& dir) {
  rc::rdb::SaveRequest request;
  request.dir = dir.path();
  request.filename = "dump.rdb";
  request.now_ms = rc::unix_time_ms();
  return request;
}

// What Redis 7.0.15 wrote (SAVE) for: SET int8 12, SET int16 -1234, SET int32 123456789,
// SET big 12345678901, SET plain hello, SET lzf <"abc" x 40>, SET ttl v PXAT 4102444800000, and in db 2
// SET other db2.
constexpr std::string_view kRedisDump =
    "524544495330303130fa0972656469732d76657206372e302e3135fa0a72656469732d62697473c040fa056374696d65"
    "c2bc48076bfa08757365642d6d656dc288b80e00fa08616f662d62617365c000fe00fb07010004696e7438c00cfc00d8"
    "c32cbb030000000374746c01760005696e743332c215cd5b0700036269670b313233343536373839303100036c7a66c3"
    "0b40780361626361e069020162630005706c61696e0568656c6c6f0005696e743136c12efbfe02fb010000056f746865"
    "7203646232ff0d1abe3b4e8ee295";

}  // namespace

TEST_CASE("CRC-64 is Redis's Jones CRC", "[rdb]") {
  CHECK(rc::rdb::crc64(0, "123456789", 9) == 0xe9c6d914c4b8d9caULL);
  CHECK(rc::rdb::crc64(0, "", 0) == 0);
  SECTION("fed in pieces it gives the same value") {
    const std::string data = random_bytes(10007, 1);
    const uint64_t whole = rc::rdb::crc64(0, data.data(), data.size());
    for (const size_t cut : {size_t{0}, size_t{1}, size_t{7}, size_t{8}, size_t{9}, size_t{5000}, data.size()}) {
      const uint64_t first = rc::rdb::crc64(0, data.data(), cut);
      CHECK(rc::rdb::crc64(first, data.data() + cut, data.size() - cut) == whole);
    }
  }
}

TEST_CASE("LZF round trips", "[rdb][lzf]") {
  rc::rdb::LzfCompressor compressor;
  auto round_trip = [&](const std::string& input) {
    // Room for incompressible data: one control byte per 32 literals.
    std::vector<char> compressed(input.size() + input.size() / 32 + 16);
    const size_t size = compressor.compress(input, compressed.data(), compressed.size());
    REQUIRE(size > 0);
    std::string output(input.size(), '\0');
    REQUIRE(rc::rdb::lzf_decompress(std::string_view(compressed.data(), size), output.data(), output.size()) ==
            input.size());
    CHECK(output == input);
    return size;
  };
  SECTION("edge sizes, random and repetitive") {
    for (const size_t size : {1, 2, 3, 4, 5, 31, 32, 33, 63, 64, 263, 264, 265, 266, 8191, 8192, 8193, 8194,
                              65536, 100003}) {
      INFO("size " << size);
      round_trip(random_bytes(size, static_cast<uint32_t>(size)));
      round_trip(repetitive_text(size));
      round_trip(std::string(size, 'a'));
    }
  }
  SECTION("compressible data shrinks a lot") {
    CHECK(round_trip(std::string(100000, 'x')) < 1500);
    CHECK(round_trip(repetitive_text(100000)) < 2000);
  }
  SECTION("matches farther back than 8192 bytes are not used") {
    const std::string block = random_bytes(9000, 7);
    round_trip(block + block);
  }
  SECTION("the compressor is reusable: earlier inputs never leak into later output") {
    for (uint32_t seed = 0; seed < 50; ++seed) {
      round_trip(random_bytes(100 + seed * 37, seed) + repetitive_text(seed * 11));
    }
  }
  SECTION("calls that fail (no gain) leave nothing behind for the next ones") {
    for (uint32_t seed = 0; seed < 300; ++seed) {
      const std::string input = random_bytes(1000, seed);
      std::vector<char> out(input.size() - 4);
      const size_t size = compressor.compress(input, out.data(), out.size());
      if (size == 0) continue;
      std::string back(input.size(), '\0');
      REQUIRE(rc::rdb::lzf_decompress(std::string_view(out.data(), size), back.data(), back.size()) == input.size());
      REQUIRE(back == input);
    }
    round_trip(repetitive_text(5000));
  }
  SECTION("incompressible data does not fit in size - 4") {
    const std::string input = random_bytes(1000, 3);
    std::vector<char> out(input.size() - 4);
    CHECK(compressor.compress(input, out.data(), out.size()) == 0);
  }
}

TEST_CASE("LZF decompression rejects malformed input", "[rdb][lzf]") {
  char out[64];
  CHECK(rc::rdb::lzf_decompress(from_hex("05616263"), out, sizeof out) == 0);      // literal run past the input
  CHECK(rc::rdb::lzf_decompress(from_hex("0061 2005"), out, sizeof out) == 0);     // reference before the start
  CHECK(rc::rdb::lzf_decompress(from_hex("0061 e0"), out, sizeof out) == 0);       // reference cut short
  CHECK(rc::rdb::lzf_decompress(from_hex("0061 e0ff00"), out, sizeof out) == 0);   // 264 bytes into 64
  CHECK(rc::rdb::lzf_decompress(from_hex("0061 2000"), out, sizeof out) == 4);     // "a" then 3 more: fine
  CHECK(std::string(out, 4) == "aaaa");
}

TEST_CASE("lengths use the 6, 14, 32 and 64-bit forms", "[rdb]") {
  CHECK(encoded_length(0) == from_hex("00"));
  CHECK(encoded_length(63) == from_hex("3f"));
  CHECK(encoded_length(64) == from_hex("4040"));
  CHECK(encoded_length(16383) == from_hex("7fff"));
  CHECK(encoded_length(16384) == from_hex("8000004000"));
  CHECK(encoded_length(UINT32_MAX) == from_hex("80ffffffff"));
  CHECK(encoded_length(uint64_t{1} << 32) == from_hex("810000000100000000"));
}

TEST_CASE("strings use Redis's encodings", "[rdb]") {
  SECTION("canonical integers of 8, 16 and 32 bits") {
    CHECK(encoded("0") == from_hex("c000"));
    CHECK(encoded("12") == from_hex("c00c"));
    CHECK(encoded("-128") == from_hex("c080"));
    CHECK(encoded("127") == from_hex("c07f"));
    CHECK(encoded("128") == from_hex("c18000"));
    CHECK(encoded("-1234") == from_hex("c12efb"));
    CHECK(encoded("-32768") == from_hex("c10080"));
    CHECK(encoded("32768") == from_hex("c200800000"));
    CHECK(encoded("123456789") == from_hex("c215cd5b07"));
    CHECK(encoded("2147483647") == from_hex("c2ffffff7f"));
    CHECK(encoded("-2147483648") == from_hex("c200000080"));
  }
  SECTION("anything else that looks numeric stays text") {
    for (const std::string text : {"2147483648", "-2147483649", "12345678901", "007", "-0", "+1", " 1", "1 ", "0x10",
                                   "1.5", "-"}) {
      INFO(text);
      CHECK(encoded(text) == std::string(1, static_cast<char>(text.size())) + text);
    }
  }
  SECTION("plain strings with each length class") {
    CHECK(encoded("") == from_hex("00"));
    CHECK(encoded("hello") == from_hex("05") + "hello");
    const std::string s63 = random_bytes(63, 1);
    const std::string s64 = random_bytes(64, 2);
    const std::string s16384 = random_bytes(16384, 3);
    CHECK(encoded(s63) == from_hex("3f") + s63);
    CHECK(encoded(s64) == from_hex("4040") + s64);
    CHECK(encoded(s16384) == from_hex("8000004000") + s16384);
  }
  SECTION("LZF for values over 20 bytes that shrink by more than 4") {
    const std::string text(1000, 'a');
    const std::string bytes = encoded(text);
    CHECK(static_cast<uint8_t>(bytes[0]) == 0xc3);
    CHECK(bytes.size() < 40);
    CHECK(encoded(std::string(20, 'a')) == from_hex("14") + std::string(20, 'a'));  // 20 bytes: never compressed
    CHECK(static_cast<uint8_t>(encoded(std::string(21, 'a'))[0]) == 0xc3);
    CHECK(encoded(text, false) == from_hex("43e8") + text);  // rdbcompression no
  }
  SECTION("every encoding reads back") {
    for (const std::string& value :
         {std::string(), std::string("0"), std::string("-1234"), std::string("2147483647"), std::string("007"),
          std::string("12345678901"), random_bytes(63, 4), random_bytes(64, 5), random_bytes(16383, 6),
          random_bytes(16384, 7), random_bytes(70000, 8), std::string(21, 'z'), repetitive_text(1000),
          repetitive_text(300000), std::string("\0\r\n\xff", 4)}) {
      CHECK(round_trip_value(value) == value);
    }
  }
}

TEST_CASE("files start as Redis 7.0 writes them", "[rdb]") {
  const std::string bytes = file_with({{"key", "value"}});
  const std::string expected_start =
      "REDIS0010" + from_hex("fa09") + "redis-ver" + from_hex("06") + "7.0.15" + from_hex("fa0a") + "redis-bits" +
      from_hex("c040fa05") + "ctime" + from_hex("c200f15365fa08") + "used-mem" + from_hex("c240e20100fa08") +
      "aof-base" + from_hex("c000fe00fb0100") + from_hex("0003") + "key" + from_hex("05") + "value" + from_hex("ff");
  CHECK(bytes.substr(0, bytes.size() - 8) == expected_start);
  const uint64_t crc = rc::rdb::crc64(0, bytes.data(), bytes.size() - 8);
  std::string trailer;
  for (int shift = 0; shift < 64; shift += 8) trailer.push_back(static_cast<char>(crc >> shift));
  CHECK(bytes.substr(bytes.size() - 8) == trailer);
  SECTION("rdbchecksum no writes a zero trailer, which readers accept") {
    WriteOptions options;
    options.checksum = false;
    const std::string unchecked = file_with({{"key", "value"}}, 0, options);
    CHECK(unchecked.substr(unchecked.size() - 8) == std::string(8, '\0'));
    RdbParser parser(unchecked);
    KeyRecord record;
    CHECK(parser.next(record));
    CHECK_FALSE(parser.next(record));
    CHECK(parser.checksum_skipped());
  }
}

TEST_CASE("a file written by Redis 7.0.15 loads", "[rdb]") {
  const std::string dump = from_hex(kRedisDump);
  RdbParser parser(dump);
  std::map<std::string, KeyRecord> keys;
  KeyRecord record;
  while (parser.next(record)) {
    const std::string key = record.key;
    keys[key] = std::move(record);
  }
  CHECK(parser.version() == 10);
  REQUIRE(keys.size() == 8);
  CHECK(keys["int8"].value == "12");
  CHECK(keys["int16"].value == "-1234");
  CHECK(keys["int32"].value == "123456789");
  CHECK(keys["big"].value == "12345678901");
  CHECK(keys["plain"].value == "hello");
  std::string abc;
  for (int i = 0; i < 40; ++i) abc += "abc";
  CHECK(keys["lzf"].value == abc);
  CHECK(keys["ttl"].expire_at_ms == 4102444800000);
  CHECK(keys["ttl"].value == "v");
  CHECK(keys["other"].db == 2);
  CHECK(keys["plain"].db == 0);
  CHECK(parser.aux_fields().front() == std::pair<std::string, std::string>("redis-ver", "7.0.15"));
}

TEST_CASE("expiry and databases survive a save and a load", "[rdb]") {
  TempDir dir;
  rc::Keyspace source(16);
  const int64_t now = rc::unix_time_ms();
  put(source, 0, "plain", "v0");
  put(source, 0, "ttl", "v1", now + 3600000);
  put(source, 0, "gone", "v2", now - 1000);  // already expired: not written
  put(source, 3, "n", "42");
  put(source, 15, "long", repetitive_text(5000), now + 60000);
  for (int i = 0; i < 5000; ++i) put(source, 7, key_name("k", i), std::to_string(i * 7919));

  const rc::rdb::SaveResult saved = rc::rdb::save_rdb_file(source, request_for(dir));
  REQUIRE(saved.ok);
  CHECK(saved.keys == 5004);
  CHECK(std::filesystem::exists(dir.file("dump.rdb")));
  CHECK(std::distance(std::filesystem::directory_iterator(dir.path()), {}) == 1);  // no temp file left

  rc::Keyspace loaded(16);
  const rc::rdb::LoadResult result = rc::rdb::load_rdb_file(dir.file("dump.rdb"), loaded, rc::unix_time_ms());
  REQUIRE(result.ok);
  CHECK(result.found);
  CHECK(result.keys_loaded == 5004);
  CHECK(result.version == 10);
  CHECK(result.redis_version == "7.0.15");
  CHECK(get(loaded, 0, "plain") == std::pair<std::string, int64_t>("v0", -1));
  CHECK(get(loaded, 0, "ttl") == std::pair<std::string, int64_t>("v1", now + 3600000));
  CHECK_FALSE(get(loaded, 0, "gone"));
  CHECK(get(loaded, 3, "n") == std::pair<std::string, int64_t>("42", -1));
  CHECK(get(loaded, 15, "long") == std::pair<std::string, int64_t>(repetitive_text(5000), now + 60000));
  CHECK(loaded.db(7).size() == 5000);
  CHECK(get(loaded, 7, "k4999")->first == std::to_string(4999 * 7919));
  CHECK(loaded.db(1).size() == 0);
  CHECK(loaded.db(0).expiring() == 1);

  SECTION("keys whose time passed while the file was on disk are skipped") {
    rc::Keyspace later(16);
    const auto late = rc::rdb::load_rdb_file(dir.file("dump.rdb"), later, now + 3600000);
    REQUIRE(late.ok);
    CHECK(late.keys_expired == 2);
    CHECK(late.keys_loaded == 5002);
    CHECK_FALSE(get(later, 0, "ttl"));
  }
  SECTION("a server with fewer databases refuses the file") {
    rc::Keyspace small(4);
    const auto refused = rc::rdb::load_rdb_file(dir.file("dump.rdb"), small, now);
    CHECK_FALSE(refused.ok);
    CHECK_THAT(refused.error, Catch::Contains("database 7"));
  }
}

TEST_CASE("only non-empty databases get SELECTDB", "[rdb]") {
  rc::Keyspace keyspace(16);
  put(keyspace, 5, "a", "b");
  RdbWriter writer(WriteOptions{});
  writer.begin(0, 0);
  CHECK(rc::rdb::write_keyspace(keyspace, writer, rc::unix_time_ms()) == 1);
  REQUIRE(writer.finish());
  const std::string bytes(writer.bytes());
  CHECK(bytes.find(from_hex("fe05fb0100")) != std::string::npos);
  CHECK(bytes.find(from_hex("fe00")) == std::string::npos);
}

TEST_CASE("old and optional opcodes are understood", "[rdb]") {
  // Version 9 file without checksum check (zero trailer): EXPIRETIME in seconds, IDLE, FREQ, RESIZEDB
  // with a 64-bit length, an unknown aux field, and a function library (skipped).
  std::string body = "REDIS0009" + from_hex("fa") + encoded("x-unknown") + encoded("1") + from_hex("f5") +
                     encoded("#!lua name=lib\nredis.register_function('f', function() return 1 end)") +
                     from_hex("fe01fb810000000100000000 00") + from_hex("fd") + from_hex("00c2eb0b") +
                     from_hex("00") + encoded("secs") + encoded("v") + from_hex("f805 f903") + from_hex("00") +
                     encoded("lru") + encoded("w") + from_hex("ff") + std::string(8, '\0');
  RdbParser parser(body);
  std::vector<KeyRecord> records;
  KeyRecord record;
  while (parser.next(record)) records.push_back(std::move(record));
  REQUIRE(records.size() == 2);
  CHECK(records[0].db == 1);
  CHECK(records[0].expire_at_ms == int64_t{200000000} * 1000);
  CHECK(records[1].expire_at_ms == -1);  // the TTL belongs to one key only
  CHECK(records[1].value == "w");
  CHECK(parser.version() == 9);
  CHECK(parser.skipped_functions() == 1);
}

TEST_CASE("corrupt and truncated files are rejected with the offset", "[rdb]") {
  const std::string good = file_with({{"alpha", "1"}, {"beta", repetitive_text(500)}, {"gamma", "xyz", 4102444800000}});
  REQUIRE(parse_all(good).size() == 3);

  SECTION("every truncation fails, at an offset inside the file") {
    for (size_t size = 0; size < good.size(); ++size) {
      const FormatError error = parse_error(std::string_view(good).substr(0, size));
      INFO("truncated to " << size << ": " << error.what());
      CHECK(error.offset() <= size);
    }
  }
  SECTION("a changed byte breaks the checksum") {
    std::string bad = good;
    const size_t at = bad.find("xyz");
    bad[at] = 'X';
    const FormatError error = parse_error(bad);
    CHECK(error.offset() == good.size() - 8);
    CHECK_THAT(std::string(error.what()), Catch::Contains("checksum"));
    SECTION("unless checksums are off (rdbchecksum no)") {
      RdbParser parser(bad);
      parser.set_verify_checksum(false);
      KeyRecord record;
      int keys = 0;
      while (parser.next(record)) ++keys;
      CHECK(keys == 3);
    }
  }
  SECTION("every single-byte change is caught") {
    for (size_t i = 0; i < good.size(); ++i) {
      std::string bad = good;
      bad[i] = static_cast<char>(bad[i] ^ 0x5a);
      INFO("byte " << i);
      CHECK_THROWS_AS(parse_all(bad), FormatError);
    }
  }
  SECTION("random damage never crashes, hangs or loads garbage unnoticed") {
    std::mt19937 random(12345);
    for (int round = 0; round < 3000; ++round) {
      std::string bad = good;
      const int edits = 1 + static_cast<int>(random() % 4);
      for (int e = 0; e < edits; ++e) bad[random() % bad.size()] = static_cast<char>(random());
      if (round % 3 == 0) bad.resize(random() % bad.size());
      // With the checksum ignored the parser walks deep into the damage: lengths, encodings, LZF.
      RdbParser parser(bad);
      parser.set_verify_checksum(round % 2 == 0);
      KeyRecord record;
      try {
        for (int keys = 0; keys < 100 && parser.next(record); ++keys) {
        }
      } catch (const FormatError& error) {
        CHECK(error.offset() <= bad.size());
      }
    }
  }
  SECTION("unknown opcode") {
    std::string bad = good;
    const size_t at = bad.find(from_hex("0005") + "alpha");
    bad[at] = 0x42;
    const FormatError error = parse_error(bad);
    CHECK(error.offset() == at);
    CHECK_THAT(std::string(error.what()), Catch::Contains("unknown opcode or value type 66"));
  }
  SECTION("other value types are named") {
    std::string bad = good;
    const size_t at = bad.find(from_hex("0005") + "alpha");
    bad[at] = 6;
    const FormatError error = parse_error(bad);
    CHECK(error.offset() == at);
    CHECK_THAT(std::string(error.what()), Catch::Contains("value type 6 (module) of key 'alpha' is not supported"));
  }
  SECTION("bad magic and unsupported versions") {
    CHECK_THAT(std::string(parse_error("RADIS0010" + good.substr(9)).what()), Catch::Contains("signature"));
    const FormatError newer = parse_error("REDIS0011" + good.substr(9));
    CHECK(newer.offset() == 5);
    CHECK_THAT(std::string(newer.what()), Catch::Contains("version 11"));
  }
  SECTION("a length past the end of the file") {
    const std::string bad = "REDIS0010" + from_hex("00") + encoded("k") + from_hex("80 7fffffff") + "abc";
    const FormatError error = parse_error(bad);
    CHECK(error.offset() == 12);
    CHECK_THAT(std::string(error.what()), Catch::Contains("past the end"));
  }
  SECTION("LZF data that does not decompress to its length") {
    std::string bad = "REDIS0010" + from_hex("00") + encoded("k") + from_hex("c3 04 0a 03616263") + from_hex("ff") +
                      std::string(8, '\0');
    CHECK_THAT(std::string(parse_error(bad).what()), Catch::Contains("LZF"));
    bad = "REDIS0010" + from_hex("00") + encoded("k") + from_hex("c3 01 81 00000000ffffffff 00");
    CHECK_THAT(std::string(parse_error(bad).what()), Catch::Contains("LZF"));
  }
  SECTION("unknown string encoding") {
    const std::string bad = "REDIS0010" + from_hex("00") + encoded("k") + from_hex("c7");
    const FormatError error = parse_error(bad);
    CHECK(error.offset() == 12);
    CHECK_THAT(std::string(error.what()), Catch::Contains("unknown string encoding 7"));
  }
  SECTION("module data") {
    CHECK_THAT(std::string(parse_error("REDIS0010" + from_hex("f7")).what()), Catch::Contains("module"));
  }
}

TEST_CASE("loading files: missing, duplicate keys, errors name the file and offset", "[rdb]") {
  TempDir dir;
  rc::Keyspace keyspace(16);
  SECTION("no file: nothing to load, not an error") {
    const auto result = rc::rdb::load_rdb_file(dir.file("dump.rdb"), keyspace, 0);
    CHECK(result.ok);
    CHECK_FALSE(result.found);
  }
  SECTION("a key twice") {
    write_file(dir.file("dump.rdb"), file_with({{"same", "1"}, {"same", "2"}}));
    const auto result = rc::rdb::load_rdb_file(dir.file("dump.rdb"), keyspace, 0);
    CHECK_FALSE(result.ok);
    CHECK_THAT(result.error, Catch::Contains("duplicate key 'same'"));
  }
  SECTION("a truncated file") {
    const std::string good = file_with({{"a", repetitive_text(3000)}});
    write_file(dir.file("dump.rdb"), good.substr(0, 100));
    const auto result = rc::rdb::load_rdb_file(dir.file("dump.rdb"), keyspace, 0);
    CHECK_FALSE(result.ok);
    CHECK(result.found);
    CHECK_THAT(result.error, Catch::StartsWith("Bad RDB file '" + dir.file("dump.rdb") + "' at byte offset "));
    CHECK(result.error_offset <= 100);
  }
  SECTION("large files go through the read buffer in pieces") {
    for (int i = 0; i < 3000; ++i) put(keyspace, 0, key_name("key", i), random_bytes(1000, i));
    REQUIRE(rc::rdb::save_rdb_file(keyspace, request_for(dir)).ok);
    rc::Keyspace loaded(16);
    const auto result = rc::rdb::load_rdb_file(dir.file("dump.rdb"), loaded, rc::unix_time_ms());
    INFO(result.error);
    REQUIRE(result.ok);
    CHECK(result.keys_loaded == 3000);
    CHECK(get(loaded, 0, "key2999")->first == random_bytes(1000, 2999));
    std::string bytes = read_file(dir.file("dump.rdb"));
    // A bit flipped inside a value that lies past the first 2 MB, where only the checksum can catch it.
    // (Where each key lands depends on the table's order; a fixed offset may hit a length or a key.)
    size_t flip = std::string::npos;
    for (int i = 0; i < 3000 && flip == std::string::npos; ++i) {
      const size_t at = bytes.find(random_bytes(1000, i));
      if (at != std::string::npos && at > 2 * 1024 * 1024) flip = at + 500;
    }
    REQUIRE(flip != std::string::npos);
    bytes[flip] ^= 1;
    write_file(dir.file("dump.rdb"), bytes);
    rc::Keyspace corrupt(16);
    const auto bad = rc::rdb::load_rdb_file(dir.file("dump.rdb"), corrupt, rc::unix_time_ms());
    CHECK_FALSE(bad.ok);
    CHECK(bad.error_offset == bytes.size() - 8);
  }
}

TEST_CASE("a failed save leaves the previous file alone", "[rdb]") {
  TempDir dir;
  rc::Keyspace keyspace(16);
  put(keyspace, 0, "k", "first");
  REQUIRE(rc::rdb::save_rdb_file(keyspace, request_for(dir)).ok);
  const std::string before = read_file(dir.file("dump.rdb"));
  put(keyspace, 0, "k", "second");
  SECTION("the directory is gone") {
    rc::rdb::SaveRequest request = request_for(dir);
    request.dir = dir.file("missing");
    const auto result = rc::rdb::save_rdb_file(keyspace, request);
    CHECK_FALSE(result.ok);
    CHECK_THAT(result.error, Catch::Contains("No such file or directory"));
  }
  SECTION("dbfilename is a path") {
    rc::rdb::SaveRequest request = request_for(dir);
    request.filename = "sub/dump.rdb";
    CHECK_FALSE(rc::rdb::save_rdb_file(keyspace, request).ok);
  }
  SECTION("the rename target cannot be replaced (a directory in the way)") {
    rc::rdb::SaveRequest request = request_for(dir);
    request.filename = "blocked.rdb";
    std::filesystem::create_directory(dir.file("blocked.rdb"));
    std::filesystem::create_directory(dir.file("blocked.rdb/inside"));
    CHECK_FALSE(rc::rdb::save_rdb_file(keyspace, request).ok);
    CHECK_FALSE(std::filesystem::exists(dir.file("temp-" + std::to_string(::getpid()) + ".rdb")));
  }
  CHECK(read_file(dir.file("dump.rdb")) == before);
}

TEST_CASE("save points parse as Redis's pairs", "[rdb]") {
  using Points = std::vector<std::pair<int64_t, int64_t>>;
  auto parsed = [](std::string_view text, rc::SaveWords words = rc::SaveWords::AnyWhitespace) -> std::optional<Points> {
    const auto points = rc::parse_save_points(text, words);
    if (!points) return std::nullopt;
    Points out;
    for (const auto& p : *points) out.emplace_back(p.seconds, p.changes);
    return out;
  };
  CHECK(parsed("") == Points{});
  CHECK(parsed("3600 1 300 100 60 10000") == Points{{3600, 1}, {300, 100}, {60, 10000}});
  CHECK(parsed("  900   1 ") == Points{{900, 1}});
  CHECK_FALSE(parsed("3600"));
  CHECK_FALSE(parsed("3600 1 300"));
  CHECK_FALSE(parsed("a b"));
  CHECK_FALSE(parsed("-1 5"));
  CHECK_FALSE(parsed("0 5"));   // seconds start at 1
  CHECK_FALSE(parsed("5 -1"));  // changes at 0
  CHECK(parsed("5 0") == Points{{5, 0}});
  CHECK(parsed("010 +5") == Points{{10, 5}});  // as strtoll reads them
  CHECK_FALSE(parsed("10 5x"));
  CHECK_FALSE(parsed("10 +"));
  // CONFIG SET's split keeps the empty words between single spaces.
  const auto single = rc::SaveWords::SingleSpaces;
  CHECK(parsed("", single) == Points{});
  CHECK(parsed("900 1 300 10", single) == Points{{900, 1}, {300, 10}});
  CHECK_FALSE(parsed("900  1", single));
  CHECK_FALSE(parsed("900 1 ", single));
  CHECK_FALSE(parsed(" 900 1", single));
  CHECK(parsed("900  1 ", single) == Points{{900, 0}, {1, 0}});  // four words: 900, "", 1, ""
}

TEST_CASE("save points print as Redis's CONFIG GET shows them", "[rdb]") {
  CHECK(rc::format_save_points({}) == "");
  CHECK(rc::format_save_points({{3600, 1}, {300, 100}}) == "3600 1 300 100");
  CHECK(rc::format_save_points(*rc::parse_save_points("  010   5 ")) == "10 5");
}

TEST_CASE("snapshot locks hold writers back and let readers through", "[rdb][concurrency]") {
  rc::Keyspace keyspace(4);
  put(keyspace, 2, "key", "old");
  std::atomic<bool> written{false};
  std::thread writer;
  {
    rc::rdb::SnapshotLocks locks(keyspace);
    writer = std::thread([&] {
      put(keyspace, 2, "key", "new");
      written = true;
    });
    // A reader gets through at once; the writer must still be waiting a while later.
    CHECK(get(keyspace, 2, "key")->first == "old");
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(200);
    while (std::chrono::steady_clock::now() < deadline && !written) std::this_thread::sleep_for(std::chrono::milliseconds(5));
    CHECK_FALSE(written);
  }
  writer.join();
  CHECK(written);
  CHECK(get(keyspace, 2, "key")->first == "new");
}

TEST_CASE("Persistence: SAVE and BGSAVE write files that load back", "[rdb]") {
  TempDir dir;
  rc::Config config;
  REQUIRE_FALSE(config.set("dir", dir.path(), true));
  rc::Keyspace keyspace(16);
  std::atomic<uint64_t> dirty{0};
  rc::ForkSlot forks;
  rc::Persistence persistence(config, keyspace, dirty, 1000, forks);
  CHECK(persistence.last_save_time() == 1000);
  CHECK(persistence.save_points_configured());  // Redis's defaults: "3600 1 300 100 60 10000"
  for (int i = 0; i < 20000; ++i) put(keyspace, i % 3, key_name("k", i), repetitive_text(i % 100));
  dirty = 20000;

  REQUIRE(persistence.save() == rc::SaveOutcome::Ok);
  CHECK(persistence.info().changes_since_last_save == 0);
  CHECK(persistence.last_save_time() >= rc::unix_time_ms() / 1000 - 1);

  put(keyspace, 9, "after-save", "x");
  dirty += 1;
  REQUIRE(persistence.bgsave() == rc::BgsaveOutcome::Started);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (persistence.info().bgsave_in_progress && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  const rc::PersistenceInfo info = persistence.info();
  REQUIRE_FALSE(info.bgsave_in_progress);
  CHECK(info.last_bgsave_ok);
  CHECK(info.saves == 2);
  CHECK(info.changes_since_last_save == 0);

  rc::Keyspace loaded(16);
  const auto result = rc::rdb::load_rdb_file(dir.file("dump.rdb"), loaded, rc::unix_time_ms());
  REQUIRE(result.ok);
  CHECK(result.keys_loaded == 20001);
  CHECK(get(loaded, 9, "after-save")->first == "x");
  CHECK(get(loaded, 1, "k19999")->first == repetitive_text(19999 % 100));

  SECTION("a save that cannot be written is reported and leaves nothing behind") {
    std::filesystem::remove(dir.file("dump.rdb"));
    std::filesystem::create_directories(dir.file("dump.rdb/inside"));
    CHECK(persistence.save() == rc::SaveOutcome::Failed);
    REQUIRE(persistence.bgsave() == rc::BgsaveOutcome::Started);
    const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    while (persistence.info().bgsave_in_progress && std::chrono::steady_clock::now() < until) {
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    CHECK_FALSE(persistence.info().last_bgsave_ok);
    size_t entries = 0;
    for ([[maybe_unused]] const auto& entry : std::filesystem::directory_iterator(dir.path())) ++entries;
    CHECK(entries == 1);  // the blocking directory only: no temp file left
  }
}
