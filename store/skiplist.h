#pragma once
// The large form of a sorted set, as Redis 7.0's zset: a skiplist ordered by (score, member) whose links
// carry spans (so a node's rank is found in O(log n)), plus an index from member to node for O(1) ZSCORE.
//
// Memory: each member is one malloc'd node holding its score, its links and its member bytes inline:
//   [score][backward][index chain][member length][level count][level 0 .. n-1: forward, span][member]
// The index is a power-of-two array of chains threaded through the nodes themselves, so a member is
// stored once and costs one bucket pointer on top of its node (Redis spends a dict entry and an sds).
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace rc {

// A score interval as ZRANGEBYSCORE reads it: "(" makes a bound exclusive.
struct ScoreRange {
  double min = 0;
  double max = 0;
  bool min_exclusive = false;
  bool max_exclusive = false;

  bool empty() const { return min > max || (min == max && (min_exclusive || max_exclusive)); }
  bool above_min(double score) const { return min_exclusive ? score > min : score >= min; }
  bool below_max(double score) const { return max_exclusive ? score < max : score <= max; }
  bool contains(double score) const { return above_min(score) && below_max(score); }
};

// A member interval as ZRANGEBYLEX reads it: "-" and "+" are the open ends, "[" inclusive, "(" exclusive.
struct LexBound {
  enum class Kind : uint8_t { NegativeInfinity, Value, PositiveInfinity };
  Kind kind = Kind::Value;
  std::string value;
  bool exclusive = false;
};

struct LexRange {
  LexBound min;
  LexBound max;

  bool empty() const;
  bool above_min(std::string_view member) const;
  bool below_max(std::string_view member) const;
  bool contains(std::string_view member) const { return above_min(member) && below_max(member); }
};

class Skiplist {
 public:
  static constexpr int kMaxLevel = 32;  // as Redis's ZSKIPLIST_MAXLEVEL: enough for 2^64 elements at p=1/4

  struct Node;
  struct Level {
    Node* forward;
    uint64_t span;  // how many level-0 steps this link jumps
  };
  struct Node {
    double score;
    Node* backward;
    Node* index_next;  // the member index's chain
    uint32_t member_length;
    uint8_t level_count;

    Level* levels() { return reinterpret_cast<Level*>(this + 1); }
    const Level* levels() const { return reinterpret_cast<const Level*>(this + 1); }
    std::string_view member() const {
      return {reinterpret_cast<const char*>(levels() + level_count), member_length};
    }
    Node* next() const { return levels()[0].forward; }
  };

  Skiplist();
  Skiplist(const Skiplist&) = delete;
  Skiplist& operator=(const Skiplist&) = delete;
  ~Skiplist();

  size_t size() const { return length_; }
  Node* first() const { return header_->levels()[0].forward; }
  Node* last() const { return tail_; }

  Node* find(std::string_view member) const;
  // Adds a member that is not present.
  Node* insert(double score, std::string_view member);
  // Removes `node` and frees it.
  void erase(Node* node);
  // Moves `node` to its place for `score`; the node stays the same object (index entries stay valid).
  void update_score(Node* node, double score);

  // 1-based rank of a member present, as Redis's zslGetRank.
  uint64_t rank_of(const Node* node) const;
  // The node at 1-based `rank`, or nullptr.
  Node* at_rank(uint64_t rank) const;

  Node* first_in(const ScoreRange& range) const;
  Node* last_in(const ScoreRange& range) const;
  Node* first_in(const LexRange& range) const;
  Node* last_in(const LexRange& range) const;

  // ZSCAN over the index: visits the members of the bucket `cursor` names (reverse-binary cursor, as
  // Redis's dictScan: every member present for the whole scan is seen) and returns the next cursor.
  template <typename Visit>
  uint64_t scan(uint64_t cursor, Visit&& visit) const;

  // A uniformly chosen node (the list must not be empty).
  template <typename Random>
  Node* random_node(Random&& random) const;

  size_t allocated_bytes() const;
  // The level a new node gets: 1, then each further level with probability 1/4, as Redis.
  static int random_level();

 private:
  // Reverse-binary increment of the masked bits, so that growing or shrinking the array between calls
  // never skips a bucket.
  static uint64_t next_cursor(uint64_t cursor, uint64_t mask);
  static Node* allocate_node(int level, double score, std::string_view member);
  static bool precedes(const Node* node, double score, std::string_view member) {
    return node->score < score || (node->score == score && node->member() < member);
  }
  // Fills update[] with the last node before (score, member) on each level, and rank[] with their ranks.
  void find_predecessors(double score, std::string_view member, Node** update, uint64_t* rank) const;
  void link(Node* node, Node** update, const uint64_t* rank);
  void unlink(Node* node, Node** update);
  void index_insert(Node* node);
  void index_remove(Node* node);
  void index_resize(size_t bucket_count);
  size_t bucket_of(std::string_view member) const;

  Node* header_;
  Node* tail_ = nullptr;
  size_t length_ = 0;
  int level_ = 1;
  std::vector<Node*> buckets_;
};

template <typename Visit>
uint64_t Skiplist::scan(uint64_t cursor, Visit&& visit) const {
  if (buckets_.empty()) return 0;
  const uint64_t mask = buckets_.size() - 1;
  for (const Node* node = buckets_[cursor & mask]; node != nullptr; node = node->index_next) visit(node);
  return next_cursor(cursor, mask);
}

template <typename Random>
Skiplist::Node* Skiplist::random_node(Random&& random) const {
  return at_rank(random() % length_ + 1);
}

}  // namespace rc
