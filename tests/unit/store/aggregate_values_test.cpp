// Hashes and sets as values of an entry: encodings and their conversions (listpack/intset -> table at
// the configured limits), and the entry's ownership of its aggregate (handed over on resize and rename,
// copied on clone, freed with the entry: run under ASan in the sanitizer suite).
#include <catch2/catch.hpp>

#include <map>
#include <set>
#include <string>

#include "store/entry.h"
#include "store/hash_value.h"
#include "store/set_value.h"

namespace {

using rc::AggregateEncoding;
using rc::EncodingLimits;
using rc::EntryPtr;

std::string numbered(std::string_view prefix, int i) {
  std::string text(prefix);
  text += std::to_string(i);
  return text;
}

std::map<std::string, std::string> hash_contents(const rc::Entry& hash) {
  std::map<std::string, std::string> contents;
  rc::hash_value::for_each(hash, [&](rc::ListpackElement field, rc::ListpackElement value) {
    contents[field.to_string()] = value.to_string();
  });
  return contents;
}

std::set<std::string> set_contents(const rc::Entry& set) {
  std::set<std::string> members;
  rc::set_value::for_each(set, [&](std::string_view member) { members.emplace(member); });
  return members;
}

}  // namespace

TEST_CASE("hash value: a listpack until hash-max-listpack-entries, then a table with the same fields") {
  EncodingLimits limits;
  limits.hash_max_listpack_entries = 4;
  EntryPtr hash(rc::hash_value::create("h"));
  CHECK(hash->type() == rc::ValueType::Hash);
  std::map<std::string, std::string> expected;
  for (int i = 0; i < 4; ++i) {
    CHECK(rc::hash_value::set(*hash, numbered("f", i), numbered("v", i), limits));
    expected[numbered("f", i)] = numbered("v", i);
  }
  CHECK(hash->aggregate_encoding() == AggregateEncoding::Compact);
  CHECK_FALSE(rc::hash_value::set(*hash, "f1", "changed", limits));  // an update, not a new field
  expected["f1"] = "changed";
  CHECK(rc::hash_value::length(*hash) == 4);
  CHECK(rc::hash_value::set(*hash, "f4", "12345", limits));
  expected["f4"] = "12345";
  CHECK(hash->aggregate_encoding() == AggregateEncoding::Table);
  CHECK(hash_contents(*hash) == expected);
  CHECK(rc::hash_value::get(*hash, "f4")->to_string() == "12345");
  CHECK_FALSE(rc::hash_value::get(*hash, "missing"));
  CHECK(rc::hash_value::remove(*hash, "f0"));
  CHECK_FALSE(rc::hash_value::remove(*hash, "f0"));
  CHECK(rc::hash_value::length(*hash) == 4);
}

TEST_CASE("hash value: a field or value longer than hash-max-listpack-value converts at once") {
  EncodingLimits limits;
  limits.hash_max_listpack_value = 8;
  EntryPtr hash(rc::hash_value::create("h"));
  rc::hash_value::set(*hash, "short", "12345678", limits);
  CHECK(hash->aggregate_encoding() == AggregateEncoding::Compact);
  CHECK(rc::hash_value::get(*hash, "short")->is_integer());  // as Redis's listpack stores it
  rc::hash_value::set(*hash, "long", "123456789", limits);
  CHECK(hash->aggregate_encoding() == AggregateEncoding::Table);
  CHECK(hash_contents(*hash) == std::map<std::string, std::string>{{"short", "12345678"}, {"long", "123456789"}});
}

TEST_CASE("set value: an intset while every member is an integer and few, else a table") {
  EncodingLimits limits;
  limits.set_max_intset_entries = 3;
  EntryPtr set(rc::set_value::create_for("s", "10", limits));
  CHECK(set->aggregate_encoding() == AggregateEncoding::Compact);
  for (const char* member : {"10", "-5", "70000"}) CHECK(rc::set_value::add(*set, member, limits));
  CHECK_FALSE(rc::set_value::add(*set, "10", limits));
  CHECK(set->aggregate_encoding() == AggregateEncoding::Compact);
  CHECK(set_contents(*set) == std::set<std::string>{"10", "-5", "70000"});
  CHECK(rc::set_value::contains(*set, "-5"));
  CHECK_FALSE(rc::set_value::contains(*set, "abc"));
  CHECK_FALSE(rc::set_value::contains(*set, "010"));  // not an integer as Redis reads one
  CHECK(rc::set_value::add(*set, "4", limits));       // a fourth member: over the limit
  CHECK(set->aggregate_encoding() == AggregateEncoding::Table);
  CHECK(set_contents(*set) == std::set<std::string>{"10", "-5", "70000", "4"});

  EntryPtr words(rc::set_value::create_for("w", "a", limits));
  CHECK(words->aggregate_encoding() == AggregateEncoding::Table);
  EntryPtr mixed(rc::set_value::create_for("m", "1", limits));
  rc::set_value::add(*mixed, "1", limits);
  rc::set_value::add(*mixed, "x", limits);  // a non-integer converts at once
  CHECK(mixed->aggregate_encoding() == AggregateEncoding::Table);
  CHECK(rc::set_value::remove(*mixed, "1"));
  CHECK(set_contents(*mixed) == std::set<std::string>{"x"});
}

TEST_CASE("set value: a table's members are visited bucket by bucket in index order") {
  // A set stored from this walk (SUNIONSTORE and friends) allocates its members in its own bucket order,
  // the order its destructor frees them in; a scan cursor's bit-reversed order made freeing it slow.
  EncodingLimits limits;
  EntryPtr set(rc::set_value::create_table("s"));
  constexpr int kMembers = 1000;
  for (int i = 0; i < kMembers; ++i) rc::set_value::add(*set, numbered("member:", i), limits);
  const auto& table = *static_cast<const rc::HashTable*>(set->aggregate());
  const uint64_t mask = table.bucket_count() - 1;
  REQUIRE(table.bucket_count() >= 1024);
  uint64_t previous_bucket = 0;
  bool in_order = true;
  std::set<std::string> visited;
  rc::set_value::for_each(*set, [&](std::string_view member) {
    const uint64_t bucket = rc::hash_key(member) & mask;
    in_order = in_order && bucket >= previous_bucket;
    previous_bucket = bucket;
    visited.emplace(member);
  });
  CHECK(in_order);
  CHECK(visited.size() == kMembers);
}

TEST_CASE("entry: an aggregate moves on resize and rename, is copied by clone, and is freed once") {
  EncodingLimits limits;
  limits.hash_max_listpack_entries = 2;
  for (const int fields : {2, 50}) {  // listpack, then table
    EntryPtr hash(rc::hash_value::create("h"));
    for (int i = 0; i < fields; ++i) rc::hash_value::set(*hash, numbered("f", i), "v", limits);
    const auto contents = hash_contents(*hash);
    // With a TTL now: a new entry, which takes the aggregate over; the old one must not free it.
    EntryPtr with_ttl(rc::Entry::resized(*hash, hash->value().size(), 1234));
    hash.reset();
    CHECK(with_ttl->expire_at() == 1234);
    CHECK(hash_contents(*with_ttl) == contents);
    EntryPtr renamed(rc::Entry::renamed(*with_ttl, "other"));
    with_ttl.reset();
    CHECK(renamed->key() == "other");
    CHECK(renamed->expire_at() == 1234);
    EntryPtr copy(rc::Entry::clone(*renamed, "copy"));
    rc::hash_value::set(*copy, "only-in-copy", "v", limits);
    CHECK(hash_contents(*renamed) == contents);
    CHECK(hash_contents(*copy).size() == contents.size() + 1);
    CHECK(copy->allocated_size() > 0);
  }
}
