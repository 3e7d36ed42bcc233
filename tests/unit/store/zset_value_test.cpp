// Sorted sets as values of an entry (store/zset_value.h): the listpack until zset-max-listpack-entries or
// -value, then the skiplist with the same contents; built results converted back when they fit; ranges,
// ranks, pops and removals answering the same on both encodings; the listpack's score storage.
#include <catch2/catch.hpp>

#include <cmath>
#include <string>
#include <vector>

#include "store/entry.h"
#include "store/zset_value.h"

namespace {

// "m" and a number (built by appending: GCC 12 warns falsely about operator+ on a temporary).
std::string numbered(long value) {
  std::string text("m");
  text += std::to_string(value);
  return text;
}

using rc::AggregateEncoding;
using rc::EncodingLimits;
using rc::EntryPtr;
namespace zv = rc::zset_value;

zv::ScoredList contents(const rc::Entry& zset) {
  zv::ScoredList out;
  zv::for_each(zset, [&](std::string_view member, double score) { out.push_back({std::string(member), score}); });
  return out;
}

EntryPtr filled(const EncodingLimits& limits, int count) {
  EntryPtr zset(zv::create("z"));
  double unused = 0;
  for (int i = count; i > 0; --i) zv::add(*zset, i % 3, numbered(i), {}, limits, unused);
  return zset;
}

}  // namespace

TEST_CASE("zset value: a listpack until zset-max-listpack-entries, then a skiplist with the same members") {
  EncodingLimits limits;
  limits.zset_max_listpack_entries = 8;
  EntryPtr zset = filled(limits, 8);
  CHECK(zset->aggregate_encoding() == AggregateEncoding::Compact);
  const zv::ScoredList before = contents(*zset);
  double score = 0;
  CHECK(zv::add(*zset, 100, "m9", {}, limits, score) == zv::AddOutcome::Added);
  CHECK(zset->aggregate_encoding() == AggregateEncoding::Table);
  zv::ScoredList expected = before;
  expected.push_back({"m9", 100});
  CHECK(contents(*zset) == expected);
  CHECK(zv::remove(*zset, "m9"));
  CHECK(zset->aggregate_encoding() == AggregateEncoding::Table);  // never back by itself
}

TEST_CASE("zset value: a member longer than zset-max-listpack-value converts") {
  EncodingLimits limits;
  limits.zset_max_listpack_value = 4;
  EntryPtr zset(zv::create("z"));
  double score = 0;
  zv::add(*zset, 1, "abcd", {}, limits, score);
  CHECK(zset->aggregate_encoding() == AggregateEncoding::Compact);
  zv::add(*zset, 2, "abcde", {}, limits, score);
  CHECK(zset->aggregate_encoding() == AggregateEncoding::Table);
  CHECK(contents(*zset) == zv::ScoredList{{"abcd", 1}, {"abcde", 2}});
}

TEST_CASE("zset value: both encodings answer ranges, ranks, counts and pops alike") {
  EncodingLimits small_limits;
  EncodingLimits no_listpack;
  no_listpack.zset_max_listpack_entries = 0;
  EntryPtr listpack = filled(small_limits, 30);
  EntryPtr skiplist = filled(no_listpack, 30);
  REQUIRE(listpack->aggregate_encoding() == AggregateEncoding::Compact);
  REQUIRE(skiplist->aggregate_encoding() == AggregateEncoding::Table);
  CHECK(contents(*listpack) == contents(*skiplist));
  CHECK(zv::range_by_rank(*listpack, 3, 9, false) == zv::range_by_rank(*skiplist, 3, 9, false));
  CHECK(zv::range_by_rank(*listpack, 3, 9, true) == zv::range_by_rank(*skiplist, 3, 9, true));
  const rc::ScoreRange range{1, 2, true, false};
  CHECK(zv::range_by_score(*listpack, range, false, 2, 5) == zv::range_by_score(*skiplist, range, false, 2, 5));
  CHECK(zv::range_by_score(*listpack, range, true, 1, -1) == zv::range_by_score(*skiplist, range, true, 1, -1));
  CHECK(zv::count_in(*listpack, range) == 10);
  CHECK(zv::count_in(*skiplist, range) == 10);
  CHECK(zv::rank(*listpack, "m7", false) == zv::rank(*skiplist, "m7", false));
  CHECK(zv::rank(*listpack, "m7", true) == zv::rank(*skiplist, "m7", true));
  CHECK(zv::pop(*listpack, true, 4) == zv::pop(*skiplist, true, 4));
  CHECK(zv::remove_by_score(*listpack, range) == zv::remove_by_score(*skiplist, range));
  CHECK(contents(*listpack) == contents(*skiplist));
}

TEST_CASE("zset value: build() gives a listpack only when the result fits both limits") {
  EncodingLimits limits;
  limits.zset_max_listpack_entries = 3;
  limits.zset_max_listpack_value = 5;
  const zv::ScoredList three{{"c", 1}, {"a", 1}, {"b", 0}};
  EntryPtr fits(zv::build("d", three, limits));
  CHECK(fits->aggregate_encoding() == AggregateEncoding::Compact);
  CHECK(contents(*fits) == zv::ScoredList{{"b", 0}, {"a", 1}, {"c", 1}});
  EntryPtr too_many(zv::build("d", {{"a", 1}, {"b", 2}, {"c", 3}, {"d", 4}}, limits));
  CHECK(too_many->aggregate_encoding() == AggregateEncoding::Table);
  EntryPtr too_long(zv::build("d", {{"abcdef", 1}}, limits));
  CHECK(too_long->aggregate_encoding() == AggregateEncoding::Table);
  // A skiplist loaded from an RDB file goes back to a listpack when it fits.
  zv::convert_to_listpack_if_fits(*too_many, EncodingLimits{});
  CHECK(too_many->aggregate_encoding() == AggregateEncoding::Compact);
  CHECK(contents(*too_many) == zv::ScoredList{{"a", 1}, {"b", 2}, {"c", 3}, {"d", 4}});
}

TEST_CASE("zset value: listpack scores are stored as Redis stores them") {
  CHECK(zv::score_text(3) == "3");
  CHECK(zv::score_text(-0.0) == "0");
  CHECK(zv::score_text(1.5) == "1.5");
  CHECK(zv::score_text(0.1) == "0.10000000000000001");
  CHECK(zv::score_text(INFINITY) == "inf");
  CHECK(zv::score_text(-INFINITY) == "-inf");
  CHECK(zv::score_text(1e300) == "1.0000000000000001e+300");
  EncodingLimits limits;
  EntryPtr zset(zv::create("z"));
  double score = 0;
  zv::add(*zset, 7, "x", {}, limits, score);
  zv::add(*zset, 2.5, "y", {}, limits, score);
  // member, integer score, member, string score: ordered by score.
  const rc::Listpack expected = [] {
    rc::Listpack pairs;
    pairs.append("y");
    pairs.append("2.5");
    pairs.append("x");
    pairs.append_integer(7);
    return pairs;
  }();
  CHECK(zv::listpack_bytes(*zset) == expected.bytes());
}

TEST_CASE("zset value: ZADD's flags and NaN") {
  EncodingLimits limits;
  EntryPtr zset(zv::create("z"));
  double score = 0;
  CHECK(zv::add(*zset, 5, "a", {}, limits, score) == zv::AddOutcome::Added);
  CHECK(zv::add(*zset, 6, "a", {.nx = true}, limits, score) == zv::AddOutcome::Skipped);
  CHECK(zv::add(*zset, 6, "b", {.xx = true}, limits, score) == zv::AddOutcome::Skipped);
  CHECK(zv::add(*zset, 4, "a", {.gt = true}, limits, score) == zv::AddOutcome::Skipped);
  CHECK(zv::add(*zset, 4, "a", {.lt = true}, limits, score) == zv::AddOutcome::Updated);
  CHECK(zv::add(*zset, 4, "a", {}, limits, score) == zv::AddOutcome::Unchanged);
  CHECK(zv::add(*zset, 2, "a", {.incr = true}, limits, score) == zv::AddOutcome::Updated);
  CHECK(score == 6);
  CHECK(zv::add(*zset, INFINITY, "a", {.incr = true}, limits, score) == zv::AddOutcome::Updated);
  CHECK(zv::add(*zset, -INFINITY, "a", {.incr = true}, limits, score) == zv::AddOutcome::NaN);
  CHECK(zv::score(*zset, "a") == INFINITY);
}
