// The chained hash table: lookups, resizing, and the reverse-binary scan that visits every entry present
// throughout a scan exactly once, however the table grows or shrinks between steps.
#include <catch2/catch.hpp>

#include <map>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "store/hash_table.h"

namespace {

// prefix + number (built with += : GCC 12 warns falsely (-Wrestrict) about std::string + std::string).
std::string key_name(std::string_view prefix, int i) {
  std::string text(prefix);
  text += std::to_string(i);
  return text;
}

void insert(rc::HashTable& table, const std::string& key) {
  table.insert(rc::Entry::create(key, "v"), rc::hash_key(key));
}

void remove(rc::HashTable& table, const std::string& key) {
  rc::Entry** link = table.find_link(key, rc::hash_key(key));
  REQUIRE(link != nullptr);
  rc::Entry::destroy(table.remove(link));
}

// One scan step; counts the visits of each key.
uint64_t step(const rc::HashTable& table, uint64_t cursor, std::map<std::string, int>& seen) {
  return table.scan(cursor, [&](const rc::Entry* entry) { ++seen[std::string(entry->key())]; });
}

}  // namespace

TEST_CASE("hash table: insert, find, replace, remove") {
  rc::HashTable table;
  CHECK(table.size() == 0);
  CHECK(table.find("a", rc::hash_key("a")) == nullptr);
  for (int i = 0; i < 1000; ++i) insert(table, key_name("k", i));
  CHECK(table.size() == 1000);
  CHECK(table.bucket_count() >= 1000);
  for (int i = 0; i < 1000; ++i) {
    const std::string key = key_name("k", i);
    const rc::Entry* entry = table.find(key, rc::hash_key(key));
    REQUIRE(entry != nullptr);
    CHECK(entry->key() == key);
  }
  rc::Entry** link = table.find_link("k5", rc::hash_key("k5"));
  REQUIRE(link != nullptr);
  rc::Entry::destroy(table.replace(link, rc::Entry::create("k5", "new")));
  CHECK(table.find("k5", rc::hash_key("k5"))->value() == "new");
  for (int i = 0; i < 1000; ++i) remove(table, key_name("k", i));
  CHECK(table.size() == 0);
  CHECK(table.bucket_count() <= 4);  // shrunk back as it emptied
}

TEST_CASE("hash table: a full scan visits every entry exactly once") {
  rc::HashTable table;
  for (int i = 0; i < 5000; ++i) insert(table, key_name("k", i));
  std::map<std::string, int> seen;
  uint64_t cursor = 0;
  do {
    cursor = step(table, cursor, seen);
  } while (cursor != 0);
  CHECK(seen.size() == 5000);
  for (const auto& [key, visits] : seen) CHECK(visits == 1);
}

TEST_CASE("hash table: scan keeps its guarantee when the table grows or shrinks between steps") {
  rc::HashTable table;
  for (int i = 0; i < 200; ++i) insert(table, key_name("stable", i));
  std::map<std::string, int> seen;
  uint64_t cursor = 0;
  int steps = 0;
  int grown = 0;
  int resizes = 0;
  do {
    cursor = step(table, cursor, seen);
    ++steps;
    // Alternate: grow the table a lot, then shrink it back, several times during the scan.
    if (steps % 7 == 0 && resizes++ < 20) {
      if (grown == 0) {
        const size_t before = table.bucket_count();
        for (int i = 0; i < 4000; ++i) insert(table, key_name("extra", i));
        CHECK(table.bucket_count() > before);
        grown = 1;
      } else {
        const size_t before = table.bucket_count();
        for (int i = 0; i < 4000; ++i) remove(table, key_name("extra", i));
        CHECK(table.bucket_count() < before);
        grown = 0;
      }
    }
  } while (cursor != 0);
  for (int i = 0; i < 200; ++i) {
    INFO(key_name("stable", i));
    CHECK(seen[key_name("stable", i)] == 1);
  }
  CHECK(resizes >= 20);  // the table did change size mid-scan, both ways
}

TEST_CASE("hash table: scan_remove unlinks what the predicate picks") {
  rc::HashTable table;
  for (int i = 0; i < 100; ++i) insert(table, key_name("k", i));
  std::vector<rc::Entry*> removed;
  uint64_t cursor = 0;
  do {
    cursor = table.scan_remove(cursor, [](const rc::Entry* entry) { return entry->key().back() == '7'; }, removed);
  } while (cursor != 0);
  CHECK(removed.size() == 10);
  CHECK(table.size() == 90);
  for (rc::Entry* entry : removed) rc::Entry::destroy(entry);
}

TEST_CASE("hash table: random_entry returns present entries, and nullptr when empty") {
  rc::HashTable table;
  std::mt19937_64 random(42);
  CHECK(table.random_entry(random) == nullptr);
  for (int i = 0; i < 50; ++i) insert(table, key_name("k", i));
  std::set<std::string> picked;
  for (int i = 0; i < 2000; ++i) {
    const rc::Entry* entry = table.random_entry(random);
    REQUIRE(entry != nullptr);
    picked.insert(std::string(entry->key()));
  }
  CHECK(picked.size() == 50);  // every key turns up with 2000 draws among 50
}
