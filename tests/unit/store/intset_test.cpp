// The intset: its bytes against Redis 7.0's format (and against blobs redis-server 7.0.15 dumped for the
// same SADD/SREM), widening 16 -> 32 -> 64 bits, order and membership, and validation of corrupt blobs.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cstdint>
#include <limits>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "tests/unit/hex_bytes.h"
#include "store/intset.h"

using rc::Intset;

using rc::test::from_hex;
using rc::test::to_hex;

namespace {

std::vector<int64_t> members(const Intset& set) { return {set.begin(), set.end()}; }

}  // namespace

TEST_CASE("intset: an empty set has 16-bit members and none of them") {
  const Intset set;
  CHECK(to_hex(set.bytes()) == "0200000000000000");
  CHECK(set.empty());
  CHECK(set.member_width() == 2);
  CHECK(set.begin() == set.end());
  CHECK_FALSE(set.contains(0));
  // Redis never stores an empty set, and refuses one in a file.
  CHECK_FALSE(Intset::validate(set.bytes(), true));
}

TEST_CASE("intset: members stay sorted, duplicates are refused") {
  std::mt19937_64 random(11);
  Intset set;
  std::set<int64_t> expected;
  for (int i = 0; i < 3000; ++i) {
    const int64_t value = static_cast<int64_t>(random() % 2001) - 1000;
    CHECK(set.add(value) == expected.insert(value).second);
  }
  CHECK(members(set) == std::vector<int64_t>(expected.begin(), expected.end()));
  CHECK(set.size() == expected.size());
  CHECK(set.member_width() == 2);
  for (int64_t value = -1001; value <= 1001; ++value) CHECK(set.contains(value) == (expected.count(value) == 1));
  for (int i = 0; i < 1000; ++i) {
    const int64_t value = static_cast<int64_t>(random() % 2001) - 1000;
    CHECK(set.remove(value) == (expected.erase(value) == 1));
  }
  CHECK(members(set) == std::vector<int64_t>(expected.begin(), expected.end()));
  CHECK(Intset::validate(set.bytes(), true));
  CHECK(set.get(0) == *expected.begin());
  CHECK(set.get(set.size() - 1) == *expected.rbegin());
}

TEST_CASE("intset: widening 16 -> 32 -> 64 bits gives redis-server 7.0.15's bytes") {
  Intset set;
  for (const int64_t value : {5, -3, 1}) set.add(value);
  CHECK(to_hex(set.bytes()) == "0200000003000000fdff01000500");
  CHECK(set.add(40000));
  CHECK(set.member_width() == 4);
  CHECK(to_hex(set.bytes()) == "0400000004000000fdffffff0100000005000000409c0000");
  CHECK(set.add(-(int64_t{1} << 40)));  // negative and wider: it goes first
  CHECK(set.member_width() == 8);
  CHECK(to_hex(set.bytes()) ==
        "08000000050000000000000000fffffffdffffffffffffff01000000000000000500000000000000409c000000000000");
  CHECK(members(set) == std::vector<int64_t>{-(int64_t{1} << 40), -3, 1, 5, 40000});
  // Removing the wide members never narrows the set again (SREM, then DUMP).
  CHECK(set.remove(-(int64_t{1} << 40)));
  CHECK(set.remove(40000));
  CHECK(to_hex(set.bytes()) == "0800000003000000fdffffffffffffff01000000000000000500000000000000");
}

TEST_CASE("intset: the width each value needs, at every boundary") {
  const std::vector<std::pair<int64_t, size_t>> cases = {
      {0, 2},
      {32767, 2},
      {-32768, 2},
      {32768, 4},
      {-32769, 4},
      {std::numeric_limits<int32_t>::max(), 4},
      {std::numeric_limits<int32_t>::min(), 4},
      {int64_t{1} << 31, 8},
      {-(int64_t{1} << 31) - 1, 8},
      {std::numeric_limits<int64_t>::max(), 8},
      {std::numeric_limits<int64_t>::min(), 8},
  };
  for (const auto& [value, width] : cases) {
    INFO(value);
    Intset set;
    set.add(value);
    CHECK(set.member_width() == width);
    CHECK(set.get(0) == value);
    CHECK(set.contains(value));
    CHECK(set.bytes().size() == Intset::kHeaderSize + width);
  }
  Intset set;
  set.add(std::numeric_limits<int64_t>::max());
  set.add(std::numeric_limits<int64_t>::min());
  set.add(-32769);
  set.add(32767);
  CHECK(members(set) == std::vector<int64_t>{std::numeric_limits<int64_t>::min(), -32769, 32767,
                                             std::numeric_limits<int64_t>::max()});
}

TEST_CASE("intset: a value wider than every member is never one of them") {
  Intset set;
  set.add(1);
  set.add(2);
  CHECK_FALSE(set.contains(int64_t{1} << 40));
  CHECK_FALSE(set.remove(int64_t{1} << 40));
  CHECK_FALSE(set.remove(3));
  CHECK(set.add(-100000));  // widens to 32 bits, placed first
  CHECK(members(set) == std::vector<int64_t>{-100000, 1, 2});
  CHECK(set.add(100000));
  CHECK(members(set) == std::vector<int64_t>{-100000, 1, 2, 100000});
  CHECK_FALSE(set.add(100000));
}

TEST_CASE("intset: validate agrees with redis-server 7.0.15 on crafted blobs") {
  struct Case {
    const char* what;
    const char* hex;
    bool redis_accepts;
  };
  const std::vector<Case> cases = {
      {"no members", "0200000000000000", false},
      {"width 3", "0300000001000000010000", false},
      {"a duplicate", "020000000200000002000200", false},
      {"descending", "020000000200000002000100", false},
      {"count 2 over one member's bytes", "0200000002000000010002", false},
      {"small members in a 32-bit set", "04000000020000000100000002000000", true},
      {"-1", "0200000001000000ffff", true},
  };
  for (const Case& c : cases) {
    INFO(c.what);
    CHECK(Intset::validate(from_hex(c.hex), true) == c.redis_accepts);
  }
  CHECK_FALSE(Intset::validate("", false));
  CHECK_FALSE(Intset::validate(from_hex("02000000010000"), false));
  CHECK(Intset::validate(from_hex("020000000200000002000100"), false));  // shallow: order not checked
  const std::optional<Intset> adopted = Intset::adopt(from_hex("04000000020000000100000002000000"));
  REQUIRE(adopted);
  CHECK(members(*adopted) == std::vector<int64_t>{1, 2});
  CHECK_FALSE(Intset::adopt(from_hex("020000000200000002000100")));
}

TEST_CASE("intset: corrupted blobs are rejected or hold a proper set") {
  std::mt19937_64 random(99);
  size_t accepted = 0;
  size_t rejected = 0;
  for (int round = 0; round < 20000; ++round) {
    Intset source;
    const uint64_t width_bits = std::vector<uint64_t>{15, 31, 63}[random() % 3];
    for (uint64_t i = 1 + random() % 6; i > 0; --i) source.add(static_cast<int64_t>(random() >> (64 - width_bits)) - 3);
    std::string blob(source.bytes());
    const size_t at = random() % blob.size();
    switch (random() % 4) {
      case 0: blob[at] = static_cast<char>(random()); break;
      case 1: blob[at] = static_cast<char>(blob[at] ^ (1 << (random() % 8))); break;
      case 2: blob.resize(at); break;
      default: blob.erase(at, 1); break;
    }
    const std::optional<Intset> set = Intset::adopt(blob);
    if (!set) {
      ++rejected;
      continue;
    }
    ++accepted;
    const std::vector<int64_t> values = members(*set);
    CHECK(std::set<int64_t>(values.begin(), values.end()).size() == values.size());
    CHECK(std::is_sorted(values.begin(), values.end()));
    for (const int64_t value : values) CHECK(set->contains(value));
  }
  CHECK(accepted > 1000);
  CHECK(rejected > 1000);
}

TEST_CASE("intset: random_member draws every member") {
  Intset set;
  for (const int64_t value : {-7, 0, 3, 70000}) set.add(value);
  std::mt19937_64 random(5);
  std::set<int64_t> drawn;
  for (int i = 0; i < 200; ++i) {
    const int64_t value = set.random_member(random);
    CHECK(set.contains(value));
    drawn.insert(value);
  }
  CHECK(drawn.size() == 4);
}

TEST_CASE("intset: the object is one pointer, and release and from_raw hand its buffer over") {
  STATIC_REQUIRE(sizeof(Intset) == sizeof(void*));
  Intset set;
  for (const int64_t value : {3, -1, 70000}) set.add(value);
  const std::string before(set.bytes());
  const char* const data = set.bytes().data();
  void* const raw = set.release();
  CHECK(raw == data);
  Intset back = Intset::from_raw(raw);
  CHECK(back.bytes() == before);
  CHECK(back.bytes().data() == data);  // taken over, not copied
  CHECK(back.add(int64_t{1} << 40));
  CHECK(members(back) == std::vector<int64_t>{-1, 3, 70000, int64_t{1} << 40});

  // A released object may be assigned to (and then used), or destroyed.
  set = Intset();
  CHECK(set.add(9));
  CHECK(members(set) == std::vector<int64_t>{9});
  Intset released;
  Intset::from_raw(released.release()).add(1);  // freed with its temporary: LeakSanitizer checks
}

TEST_CASE("intset: copies are deep, moves hand the buffer over") {
  Intset original;
  for (const int64_t value : {1, 2, 3}) original.add(value);
  Intset copy = original;
  CHECK(copy.bytes() == original.bytes());
  CHECK(copy.bytes().data() != original.bytes().data());
  copy.add(4);
  CHECK(members(original) == std::vector<int64_t>{1, 2, 3});
  CHECK(members(copy) == std::vector<int64_t>{1, 2, 3, 4});

  Intset assigned;
  assigned.add(-5);
  assigned = original;
  CHECK(assigned.bytes() == original.bytes());
  CHECK(assigned.bytes().data() != original.bytes().data());
  const Intset& same = assigned;
  assigned = same;
  CHECK(assigned.bytes() == original.bytes());

  const char* const data = copy.bytes().data();
  Intset moved = std::move(copy);
  CHECK(moved.bytes().data() == data);
  copy = original;  // a moved-from object may be assigned to
  CHECK(copy.bytes() == original.bytes());
  Intset target;
  target = std::move(moved);
  CHECK(target.bytes().data() == data);
  CHECK(members(target) == std::vector<int64_t>{1, 2, 3, 4});
}

TEST_CASE("intset: growing, widening in place and shrinking through many reallocs") {
  std::mt19937_64 random(77);
  Intset set;
  std::set<int64_t> expected;
  auto check_buffer = [&] {
    REQUIRE(set.bytes().size() == Intset::kHeaderSize + set.size() * set.member_width());
    REQUIRE(set.allocated_bytes() >= set.bytes().size());
  };
  // 16-bit members, then a widening to 32 bits over thousands of them (negative: it goes first), more
  // 32-bit ones, then a widening to 64 bits (positive: it goes last).
  for (int i = 0; i < 5000; ++i) {
    const int64_t value = static_cast<int16_t>(random());
    CHECK(set.add(value) == expected.insert(value).second);
    check_buffer();
  }
  CHECK(set.add(-100000));
  expected.insert(-100000);
  CHECK(set.member_width() == 4);
  CHECK(members(set) == std::vector<int64_t>(expected.begin(), expected.end()));
  for (int i = 0; i < 3000; ++i) {
    const int64_t value = static_cast<int32_t>(random());
    CHECK(set.add(value) == expected.insert(value).second);
    check_buffer();
  }
  CHECK(set.add(int64_t{1} << 50));
  expected.insert(int64_t{1} << 50);
  CHECK(set.member_width() == 8);
  CHECK(members(set) == std::vector<int64_t>(expected.begin(), expected.end()));
  CHECK(Intset::validate(set.bytes(), true));

  const std::vector<int64_t> all(expected.begin(), expected.end());
  for (const int64_t value : all) {
    if (random() % 4 == 0) continue;
    CHECK(set.remove(value));
    expected.erase(value);
    check_buffer();
  }
  CHECK(members(set) == std::vector<int64_t>(expected.begin(), expected.end()));
  CHECK(Intset::validate(set.bytes(), true));
}
