// The quicklist against a plain deque of strings: every operation, across node boundaries, under both
// kinds of list-max-listpack-size (a size per node, a count per node) and with compression, must leave the
// same elements in the same order, and every node within its limit.
#include <catch2/catch.hpp>

#include <algorithm>
#include <deque>
#include <random>
#include <string>
#include <vector>

#include "store/quicklist.h"

namespace {

using rc::Quicklist;
using End = Quicklist::End;
using namespace std::literals;

std::vector<std::string> contents(const Quicklist& list) {
  std::vector<std::string> elements;
  list.visit(0, false, [&](const rc::ListpackElement& element) {
    elements.push_back(element.to_string());
    return true;
  });
  return elements;
}

std::vector<std::string> as_vector(const std::deque<std::string>& model) { return {model.begin(), model.end()}; }

// Every node within the fill limit (a node of one element may exceed a size limit: it cannot be split).
void check_node_limits(const Quicklist& list) {
  static constexpr size_t kSizeLimits[] = {4096, 8192, 16384, 32768, 65536};
  size_t total = 0;
  list.for_each_node([&](const rc::Listpack& node) {
    const size_t count = node.size();
    REQUIRE(count > 0);
    total += count;
    if (count == 1) return;
    if (list.fill() < 0) {
      CHECK(node.total_bytes() <= kSizeLimits[-list.fill() - 1]);
    } else {
      CHECK(count <= static_cast<size_t>(list.fill()));
      CHECK(node.total_bytes() <= 8192);
    }
  });
  CHECK(total == list.size());
}

std::string element_for(std::mt19937& random, int i) {
  switch (random() % 4) {
    case 0:
      return std::to_string(static_cast<int64_t>(random()) - (1 << 30));  // stored as an integer
    case 1:
      return std::string(random() % 300, static_cast<char>('a' + i % 26));  // compressible
    default:
      return "e" + std::to_string(i);
  }
}

}  // namespace

TEST_CASE("quicklist: pushes and pops at both ends fill nodes up to the size limit") {
  Quicklist list(-1, 0);  // 4 KB nodes
  for (int i = 0; i < 2000; ++i) list.push(End::Tail, std::string(100, 'x') + std::to_string(i));
  CHECK(list.size() == 2000);
  // About 38 elements of ~105 bytes fit a 4 KB listpack.
  CHECK(list.node_count() >= 2000 / 40);
  CHECK(list.node_count() <= 2000 / 30);
  check_node_limits(list);
  CHECK(list.pop(End::Head) == std::string(100, 'x') + "0");
  CHECK(list.pop(End::Tail) == std::string(100, 'x') + "1999");
  while (list.size() > 1) list.pop(End::Head);
  CHECK(list.node_count() == 1);
  CHECK(*list.at(0) == std::string(100, 'x') + "1998");
}

TEST_CASE("quicklist: a positive fill limits the elements per node") {
  Quicklist list(5, 0);
  for (int i = 0; i < 23; ++i) list.push(End::Head, std::to_string(i));
  CHECK(list.node_count() == 5);  // 5+5+5+5+3
  check_node_limits(list);
  CHECK(*list.at(0) == "22");
  CHECK(*list.at(-1) == "0");
  CHECK_FALSE(list.at(23).has_value());
  CHECK_FALSE(list.at(-24).has_value());
}

TEST_CASE("quicklist: a count limit still keeps nodes within 8 KB") {
  Quicklist list(1000, 0);
  for (int i = 0; i < 100; ++i) list.push(End::Tail, std::string(500, 'a'));
  check_node_limits(list);
  CHECK(list.node_count() >= 100 * 500 / 8192);
}

TEST_CASE("quicklist: insert, replace and erase across node boundaries keep the order") {
  Quicklist list(4, 0);
  std::deque<std::string> model;
  for (int i = 0; i < 12; ++i) {
    list.push(End::Tail, std::to_string(i));
    model.push_back(std::to_string(i));
  }
  // Pivots at the edges of full nodes (4 per node): the first and last of a node, and inside one.
  CHECK(list.insert_at_pivot("3", "after3", true));
  model.insert(model.begin() + 4, "after3");
  CHECK(list.insert_at_pivot("4", "before4", false));
  model.insert(std::find(model.begin(), model.end(), "4"), "before4");
  CHECK(list.insert_at_pivot("9", "in9", false));
  model.insert(std::find(model.begin(), model.end(), "9"), "in9");
  CHECK_FALSE(list.insert_at_pivot("nothere", "x", true));
  CHECK(contents(list) == as_vector(model));
  check_node_limits(list);

  CHECK(list.replace(-1, std::string(3000, 'z')));
  model.back() = std::string(3000, 'z');
  CHECK_FALSE(list.replace(100, "x"));
  list.erase_range(3, 7);
  model.erase(model.begin() + 3, model.begin() + 10);
  CHECK(contents(list) == as_vector(model));
  list.erase_range(0, 100);
  CHECK(list.empty());
  CHECK(list.node_count() == 0);
}

TEST_CASE("quicklist: remove_matching from either end, with and without a limit") {
  Quicklist list(3, 0);
  for (const char* element : {"a", "b", "a", "1", "a", "c", "01", "a", "1"}) list.push(End::Tail, element);
  CHECK(list.remove_matching("a", 1, false) == 1);
  CHECK(list.remove_matching("a", 1, true) == 1);
  CHECK(contents(list) == std::vector<std::string>{"b", "a", "1", "a", "c", "01", "1"});
  CHECK(list.remove_matching("1", 0, false) == 2);  // the integer 1, not "01"
  CHECK(list.remove_matching("a", 0, true) == 2);
  CHECK(contents(list) == std::vector<std::string>{"b", "c", "01"});
  check_node_limits(list);
}

TEST_CASE("quicklist: compression keeps the ends plain, the middle compressed, and the contents") {
  Quicklist list(-1, 1);
  std::deque<std::string> model;
  for (int i = 0; i < 400; ++i) {
    const std::string element = std::string(200, static_cast<char>('a' + i % 3)) + std::to_string(i);
    list.push(End::Tail, element);
    model.push_back(element);
  }
  REQUIRE(list.node_count() > 3);
  CHECK(list.compressed_node_count() == list.node_count() - 2);
  CHECK(contents(list) == as_vector(model));
  CHECK(*list.at(200) == model[200]);
  // Changing a compressed node leaves it compressed and right.
  CHECK(list.replace(200, "changed"));
  model[200] = "changed";
  CHECK(list.remove_matching(model[150], 1, false) == 1);
  model.erase(model.begin() + 150);
  CHECK(list.insert_at_pivot(model[250], "inserted", true));
  model.insert(model.begin() + 251, "inserted");
  CHECK(contents(list) == as_vector(model));
  CHECK(list.compressed_node_count() == list.node_count() - 2);
  // A copy (COPY of a key) holds the same compressed nodes.
  const Quicklist copy(list);
  CHECK(contents(copy) == as_vector(model));
  CHECK(copy.compressed_node_count() == list.node_count() - 2);
  // Compression saves memory over the plain list.
  Quicklist plain(-1, 0);
  for (const std::string& element : model) plain.push(End::Tail, element);
  CHECK(list.allocated_bytes() < plain.allocated_bytes() / 2);
  while (list.size() > 0) {
    CHECK(list.pop(End::Head) == model.front());
    model.pop_front();
  }
  CHECK(list.node_count() == 0);
}

TEST_CASE("quicklist: random operations agree with a deque under every kind of limit") {
  for (const auto& [fill, depth] : std::vector<std::pair<int, int>>{{-2, 0}, {-1, 1}, {-5, 2}, {1, 0}, {3, 1}, {7, 3}}) {
    INFO("fill " << fill << " compress depth " << depth);
    std::mt19937 random(static_cast<unsigned>(fill * 31 + depth));
    Quicklist list(fill, depth);
    std::deque<std::string> model;
    for (int i = 0; i < 3000; ++i) {
      const std::string value = element_for(random, i);
      switch (random() % 9) {
        case 0:
        case 1:
          list.push(End::Head, value);
          model.push_front(value);
          break;
        case 2:
        case 3:
          list.push(End::Tail, value);
          model.push_back(value);
          break;
        case 4:
          if (!model.empty()) {
            const bool head = random() % 2 == 0;
            REQUIRE(list.pop(head ? End::Head : End::Tail) == (head ? model.front() : model.back()));
            head ? model.pop_front() : model.pop_back();
          }
          break;
        case 5:
          if (!model.empty()) {
            const size_t at = random() % model.size();
            const bool after = random() % 2 == 0;
            const std::string pivot = model[at];
            const auto first = std::find(model.begin(), model.end(), pivot);
            REQUIRE(list.insert_at_pivot(pivot, value, after));
            model.insert(after ? first + 1 : first, value);
          }
          break;
        case 6:
          if (!model.empty()) {
            const size_t at = random() % model.size();
            REQUIRE(list.replace(static_cast<int64_t>(at), value));
            model[at] = value;
          }
          break;
        case 7:
          if (!model.empty() && random() % 4 == 0) {
            const size_t start = random() % model.size();
            const size_t count = random() % 20;
            list.erase_range(start, count);
            model.erase(model.begin() + static_cast<long>(start),
                        model.begin() + static_cast<long>(std::min(model.size(), start + count)));
          }
          break;
        default:
          if (!model.empty()) {
            const std::string target = model[random() % model.size()];
            const bool from_tail = random() % 2 == 0;
            const size_t removed = list.remove_matching(target, 1, from_tail);
            REQUIRE(removed == 1);
            if (from_tail) {
              model.erase(std::find(model.rbegin(), model.rend(), target).base() - 1);
            } else {
              model.erase(std::find(model.begin(), model.end(), target));
            }
          }
      }
      REQUIRE(list.size() == model.size());
    }
    CHECK(contents(list) == as_vector(model));
    check_node_limits(list);
    std::vector<std::string> backwards;
    if (!model.empty()) {
      list.visit(list.size() - 1, true, [&](const rc::ListpackElement& element) {
        backwards.push_back(element.to_string());
        return true;
      });
    }
    CHECK(backwards == std::vector<std::string>(model.rbegin(), model.rend()));
  }
}

TEST_CASE("quicklist: elements from the packed threshold on live alone in plain nodes") {
  REQUIRE(Quicklist::set_packed_threshold(10));
  Quicklist list(-2, 0);
  std::deque<std::string> model;
  for (const std::string& element : {"a"s, "0123456789"s, "b"s, "c"s, std::string(50, 'x'), "d"s}) {
    list.push(End::Tail, element);
    model.push_back(element);
  }
  CHECK(list.node_count() == 5);  // a | 0123456789 | b c | x... | d
  CHECK(list.insert_at_pivot("0123456789", "e", true));  // the plain node takes nothing: "e" joins b c
  model.insert(model.begin() + 2, "e");
  CHECK(list.node_count() == 5);
  CHECK(list.replace(1, "small"));  // a plain node's element replaced by a small one: packed again
  model[1] = "small";
  CHECK(list.replace(0, "large element"));
  model[0] = "large element";
  CHECK(contents(list) == as_vector(model));
  size_t plain_nodes = 0;
  list.for_each_stored_node([&](std::string_view bytes, size_t, bool, bool plain) {
    if (!plain) return;
    ++plain_nodes;
    CHECK(bytes.size() >= 10);  // a plain node is saved as its element
  });
  CHECK(plain_nodes == 2);
  CHECK_FALSE(Quicklist::set_packed_threshold(uint64_t{1} << 32));
  REQUIRE(Quicklist::set_packed_threshold(0));
  CHECK(Quicklist::packed_threshold() == size_t{1} << 30);
}
