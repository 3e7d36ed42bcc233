// The sorted set's skiplist (store/skiplist.h): order by (score, member), ranks from the spans, score and
// member ranges, updates that move a node, the member index, and the random levels' bounds. Each check is
// made against a std::set model after random operations, so a broken span or backlink shows up.
#include <catch2/catch.hpp>

#include <cmath>
#include <map>
#include <random>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "store/skiplist.h"

namespace {

// "m" and a number (built by appending: GCC 12 warns falsely about operator+ on a temporary).
std::string numbered(long value) {
  std::string text("m");
  text += std::to_string(value);
  return text;
}

using rc::Skiplist;
using Model = std::set<std::pair<double, std::string>>;

std::vector<std::pair<double, std::string>> walk_forward(const Skiplist& list) {
  std::vector<std::pair<double, std::string>> out;
  for (const Skiplist::Node* n = list.first(); n != nullptr; n = n->next()) out.emplace_back(n->score, n->member());
  return out;
}

std::vector<std::pair<double, std::string>> walk_backward(const Skiplist& list) {
  std::vector<std::pair<double, std::string>> out;
  for (const Skiplist::Node* n = list.last(); n != nullptr; n = n->backward) out.emplace_back(n->score, n->member());
  return {out.rbegin(), out.rend()};
}

void check_against(const Skiplist& list, const Model& model) {
  const std::vector<std::pair<double, std::string>> expected(model.begin(), model.end());
  REQUIRE(list.size() == model.size());
  REQUIRE(walk_forward(list) == expected);
  REQUIRE(walk_backward(list) == expected);
  uint64_t rank = 1;
  for (const auto& [score, member] : expected) {
    const Skiplist::Node* node = list.find(member);
    REQUIRE(node != nullptr);
    CHECK(node->score == score);
    CHECK(list.rank_of(node) == rank);
    CHECK(list.at_rank(rank) == node);
    ++rank;
  }
  CHECK(list.at_rank(0) == nullptr);
  CHECK(list.at_rank(model.size() + 1) == nullptr);
}

}  // namespace

TEST_CASE("skiplist: random inserts, deletes and score updates keep order, ranks, backlinks and the index") {
  std::mt19937 random(12345);
  Skiplist list;
  Model model;
  std::map<std::string, double> scores;
  for (int step = 0; step < 4000; ++step) {
    const std::string member = numbered(random() % 500);
    const double score = static_cast<double>(random() % 50);
    const auto found = scores.find(member);
    const int action = static_cast<int>(random() % 3);
    if (found == scores.end()) {
      list.insert(score, member);
      model.emplace(score, member);
      scores[member] = score;
    } else if (action == 0) {
      list.erase(list.find(member));
      model.erase({found->second, member});
      scores.erase(found);
    } else {
      list.update_score(list.find(member), score);
      model.erase({found->second, member});
      model.emplace(score, member);
      found->second = score;
    }
    if (step % 500 == 0) check_against(list, model);
  }
  check_against(list, model);
  CHECK(list.find("absent") == nullptr);
}

TEST_CASE("skiplist: score ranges with inclusive and exclusive bounds") {
  Skiplist list;
  for (int i = 1; i <= 10; ++i) list.insert(i, numbered(i));
  const rc::ScoreRange closed{3, 6, false, false};
  CHECK(list.first_in(closed)->member() == "m3");
  CHECK(list.last_in(closed)->member() == "m6");
  const rc::ScoreRange open{3, 6, true, true};
  CHECK(list.first_in(open)->member() == "m4");
  CHECK(list.last_in(open)->member() == "m5");
  CHECK(list.first_in(rc::ScoreRange{11, 20, false, false}) == nullptr);
  CHECK(list.first_in(rc::ScoreRange{6, 3, false, false}) == nullptr);
  CHECK(list.first_in(rc::ScoreRange{5, 5, true, false}) == nullptr);
  CHECK(list.first_in(rc::ScoreRange{5.5, 5.7, false, false}) == nullptr);
  CHECK(list.first_in(rc::ScoreRange{-INFINITY, INFINITY, false, false})->member() == "m1");
}

TEST_CASE("skiplist: member ranges over equal scores") {
  Skiplist list;
  for (const char* member : {"a", "b", "c", "d", "e"}) list.insert(0, member);
  using Kind = rc::LexBound::Kind;
  const rc::LexRange b_to_d{{Kind::Value, "b", false}, {Kind::Value, "d", true}};
  CHECK(list.first_in(b_to_d)->member() == "b");
  CHECK(list.last_in(b_to_d)->member() == "c");
  const rc::LexRange all{{Kind::NegativeInfinity, "", true}, {Kind::PositiveInfinity, "", true}};
  CHECK(list.first_in(all)->member() == "a");
  CHECK(list.last_in(all)->member() == "e");
  const rc::LexRange reversed{{Kind::PositiveInfinity, "", true}, {Kind::NegativeInfinity, "", true}};
  CHECK(reversed.empty());
  CHECK(list.first_in(reversed) == nullptr);
  const rc::LexRange beyond{{Kind::Value, "f", false}, {Kind::PositiveInfinity, "", true}};
  CHECK(list.first_in(beyond) == nullptr);
  CHECK(rc::LexRange{{Kind::Value, "c", true}, {Kind::Value, "c", false}}.empty());
}

TEST_CASE("skiplist: random levels stay within 1..32 and are geometric with p = 1/4") {
  size_t above_one = 0;
  constexpr int kDraws = 100000;
  for (int i = 0; i < kDraws; ++i) {
    const int level = Skiplist::random_level();
    REQUIRE(level >= 1);
    REQUIRE(level <= Skiplist::kMaxLevel);
    above_one += level > 1 ? 1 : 0;
  }
  const double share = static_cast<double>(above_one) / kDraws;
  CHECK(share > 0.23);
  CHECK(share < 0.27);
}

TEST_CASE("skiplist: the index scan visits every member once when nothing changes") {
  Skiplist list;
  for (int i = 0; i < 1000; ++i) list.insert(i, numbered(i));
  std::multiset<std::string> seen;
  uint64_t cursor = 0;
  do {
    cursor = list.scan(cursor, [&](const Skiplist::Node* node) { seen.emplace(node->member()); });
  } while (cursor != 0);
  CHECK(seen.size() == 1000);
  CHECK(std::set<std::string>(seen.begin(), seen.end()).size() == 1000);
}
