#include "store/skiplist.h"

#include <malloc.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <new>

#include "store/hash_table.h"
#include "store/thread_random.h"

namespace rc {
namespace {

// Redis's sdscmplex: the open ends sort before and after every string.
int compare_bounds(const LexBound& a, const LexBound& b) {
  using Kind = LexBound::Kind;
  if (a.kind == b.kind && a.kind != Kind::Value) return 0;
  if (a.kind == Kind::NegativeInfinity || b.kind == Kind::PositiveInfinity) return -1;
  if (a.kind == Kind::PositiveInfinity || b.kind == Kind::NegativeInfinity) return 1;
  return a.value.compare(b.value);
}

uint64_t reverse_bits(uint64_t v) {
  v = ((v >> 1) & 0x5555555555555555ULL) | ((v & 0x5555555555555555ULL) << 1);
  v = ((v >> 2) & 0x3333333333333333ULL) | ((v & 0x3333333333333333ULL) << 2);
  v = ((v >> 4) & 0x0F0F0F0F0F0F0F0FULL) | ((v & 0x0F0F0F0F0F0F0F0FULL) << 4);
  v = ((v >> 8) & 0x00FF00FF00FF00FFULL) | ((v & 0x00FF00FF00FF00FFULL) << 8);
  v = ((v >> 16) & 0x0000FFFF0000FFFFULL) | ((v & 0x0000FFFF0000FFFFULL) << 16);
  return (v >> 32) | (v << 32);
}

constexpr size_t kMinBuckets = 4;

}  // namespace

bool LexRange::empty() const {
  const int order = compare_bounds(min, max);
  return order > 0 || (order == 0 && (min.exclusive || max.exclusive));
}

bool LexRange::above_min(std::string_view member) const {
  if (min.kind != LexBound::Kind::Value) return min.kind == LexBound::Kind::NegativeInfinity;
  const int order = member.compare(min.value);
  return min.exclusive ? order > 0 : order >= 0;
}

bool LexRange::below_max(std::string_view member) const {
  if (max.kind != LexBound::Kind::Value) return max.kind == LexBound::Kind::PositiveInfinity;
  const int order = member.compare(max.value);
  return max.exclusive ? order < 0 : order <= 0;
}

Skiplist::Skiplist() : header_(allocate_node(kMaxLevel, 0, {})) {}

Skiplist::~Skiplist() {
  Node* node = header_;
  while (node != nullptr) {
    Node* next = node->next();
    std::free(node);
    node = next;
  }
}

int Skiplist::random_level() {
  int level = 1;
  while (level < kMaxLevel && (thread_random() & 0xFFFF) < 0xFFFF / 4) ++level;
  return level;
}

Skiplist::Node* Skiplist::allocate_node(int level, double score, std::string_view member) {
  const size_t bytes = sizeof(Node) + static_cast<size_t>(level) * sizeof(Level) + member.size();
  void* memory = std::malloc(bytes);
  if (memory == nullptr) throw std::bad_alloc();
  Node* node = static_cast<Node*>(memory);
  node->score = score;
  node->backward = nullptr;
  node->index_next = nullptr;
  node->member_length = static_cast<uint32_t>(member.size());
  node->level_count = static_cast<uint8_t>(level);
  for (int i = 0; i < level; ++i) node->levels()[i] = Level{nullptr, 0};
  if (!member.empty()) std::memcpy(node->levels() + level, member.data(), member.size());
  return node;
}

void Skiplist::find_predecessors(double score, std::string_view member, Node** update, uint64_t* rank) const {
  Node* x = header_;
  for (int i = level_ - 1; i >= 0; --i) {
    rank[i] = i == level_ - 1 ? 0 : rank[i + 1];
    while (x->levels()[i].forward != nullptr && precedes(x->levels()[i].forward, score, member)) {
      rank[i] += x->levels()[i].span;
      x = x->levels()[i].forward;
    }
    update[i] = x;
  }
}

void Skiplist::link(Node* node, Node** update, const uint64_t* rank) {
  const int level = node->level_count;
  // Levels above the current top start from the header, which spans the whole list there (rank 0).
  for (int i = level_; i < level; ++i) {
    update[i] = header_;
    header_->levels()[i].span = length_;
  }
  for (int i = 0; i < level; ++i) {
    const uint64_t behind = i < level_ ? rank[0] - rank[i] : rank[0];
    Level& before = update[i]->levels()[i];
    node->levels()[i].forward = before.forward;
    before.forward = node;
    node->levels()[i].span = before.span - behind;
    before.span = behind + 1;
  }
  for (int i = level; i < level_; ++i) update[i]->levels()[i].span++;
  level_ = std::max(level_, level);
  node->backward = update[0] == header_ ? nullptr : update[0];
  if (node->next() != nullptr) {
    node->next()->backward = node;
  } else {
    tail_ = node;
  }
  ++length_;
}

void Skiplist::unlink(Node* node, Node** update) {
  for (int i = 0; i < level_; ++i) {
    Level& before = update[i]->levels()[i];
    if (before.forward == node) {
      before.span += node->levels()[i].span - 1;
      before.forward = node->levels()[i].forward;
    } else {
      before.span -= 1;
    }
  }
  if (node->next() != nullptr) {
    node->next()->backward = node->backward;
  } else {
    tail_ = node->backward;
  }
  while (level_ > 1 && header_->levels()[level_ - 1].forward == nullptr) --level_;
  --length_;
}

Skiplist::Node* Skiplist::insert(double score, std::string_view member) {
  Node* update[kMaxLevel];
  uint64_t rank[kMaxLevel] = {};
  find_predecessors(score, member, update, rank);
  Node* node = allocate_node(random_level(), score, member);
  link(node, update, rank);
  index_insert(node);
  return node;
}

void Skiplist::erase(Node* node) {
  Node* update[kMaxLevel];
  uint64_t rank[kMaxLevel] = {};
  find_predecessors(node->score, node->member(), update, rank);
  unlink(node, update);
  index_remove(node);
  std::free(node);
}

void Skiplist::update_score(Node* node, double score) {
  const Node* after = node->next();
  // Still between its neighbours: the score changes in place, as Redis's zslUpdateScore.
  if ((node->backward == nullptr || node->backward->score < score) && (after == nullptr || after->score > score)) {
    node->score = score;
    return;
  }
  Node* update[kMaxLevel];
  uint64_t rank[kMaxLevel] = {};
  find_predecessors(node->score, node->member(), update, rank);
  unlink(node, update);
  node->score = score;
  for (int i = 0; i < node->level_count; ++i) node->levels()[i] = Level{nullptr, 0};
  find_predecessors(score, node->member(), update, rank);
  link(node, update, rank);
}

uint64_t Skiplist::rank_of(const Node* node) const {
  uint64_t rank = 0;
  const Node* x = header_;
  for (int i = level_ - 1; i >= 0; --i) {
    while (x->levels()[i].forward != nullptr) {
      const Node* next = x->levels()[i].forward;
      if (next != node && !precedes(next, node->score, node->member())) break;
      rank += x->levels()[i].span;
      x = next;
      if (x == node) return rank;
    }
  }
  return 0;
}

Skiplist::Node* Skiplist::at_rank(uint64_t rank) const {
  uint64_t traversed = 0;
  Node* x = header_;
  for (int i = level_ - 1; i >= 0; --i) {
    while (x->levels()[i].forward != nullptr && traversed + x->levels()[i].span <= rank) {
      traversed += x->levels()[i].span;
      x = x->levels()[i].forward;
    }
    if (traversed == rank) return x == header_ ? nullptr : x;
  }
  return nullptr;
}

Skiplist::Node* Skiplist::first_in(const ScoreRange& range) const {
  if (range.empty() || tail_ == nullptr || !range.above_min(tail_->score) || !range.below_max(first()->score)) {
    return nullptr;
  }
  Node* x = header_;
  for (int i = level_ - 1; i >= 0; --i) {
    while (x->levels()[i].forward != nullptr && !range.above_min(x->levels()[i].forward->score)) {
      x = x->levels()[i].forward;
    }
  }
  x = x->next();
  return range.below_max(x->score) ? x : nullptr;
}

Skiplist::Node* Skiplist::last_in(const ScoreRange& range) const {
  if (range.empty() || tail_ == nullptr || !range.above_min(tail_->score) || !range.below_max(first()->score)) {
    return nullptr;
  }
  Node* x = header_;
  for (int i = level_ - 1; i >= 0; --i) {
    while (x->levels()[i].forward != nullptr && range.below_max(x->levels()[i].forward->score)) {
      x = x->levels()[i].forward;
    }
  }
  return range.above_min(x->score) ? x : nullptr;
}

Skiplist::Node* Skiplist::first_in(const LexRange& range) const {
  if (range.empty() || tail_ == nullptr || !range.above_min(tail_->member()) ||
      !range.below_max(first()->member())) {
    return nullptr;
  }
  Node* x = header_;
  for (int i = level_ - 1; i >= 0; --i) {
    while (x->levels()[i].forward != nullptr && !range.above_min(x->levels()[i].forward->member())) {
      x = x->levels()[i].forward;
    }
  }
  x = x->next();
  return range.below_max(x->member()) ? x : nullptr;
}

Skiplist::Node* Skiplist::last_in(const LexRange& range) const {
  if (range.empty() || tail_ == nullptr || !range.above_min(tail_->member()) ||
      !range.below_max(first()->member())) {
    return nullptr;
  }
  Node* x = header_;
  for (int i = level_ - 1; i >= 0; --i) {
    while (x->levels()[i].forward != nullptr && range.below_max(x->levels()[i].forward->member())) {
      x = x->levels()[i].forward;
    }
  }
  return range.above_min(x->member()) ? x : nullptr;
}

// ---- the member index ----

size_t Skiplist::bucket_of(std::string_view member) const { return hash_key(member) & (buckets_.size() - 1); }

Skiplist::Node* Skiplist::find(std::string_view member) const {
  if (buckets_.empty()) return nullptr;
  for (Node* node = buckets_[bucket_of(member)]; node != nullptr; node = node->index_next) {
    if (node->member() == member) return node;
  }
  return nullptr;
}

void Skiplist::index_insert(Node* node) {
  if (length_ > buckets_.size()) index_resize(std::max(kMinBuckets, buckets_.size() * 2));
  Node*& head = buckets_[bucket_of(node->member())];
  node->index_next = head;
  head = node;
}

void Skiplist::index_remove(Node* node) {
  Node** link = &buckets_[bucket_of(node->member())];
  while (*link != node) link = &(*link)->index_next;
  *link = node->index_next;
  node->index_next = nullptr;
  if (buckets_.size() > kMinBuckets && length_ * 8 < buckets_.size()) {
    size_t count = kMinBuckets;
    while (count < length_) count *= 2;
    index_resize(count);
  }
}

void Skiplist::index_resize(size_t bucket_count) {
  std::vector<Node*> fresh(bucket_count, nullptr);
  const uint64_t mask = bucket_count - 1;
  for (Node* head : buckets_) {
    while (head != nullptr) {
      Node* next = head->index_next;
      Node*& slot = fresh[hash_key(head->member()) & mask];
      head->index_next = slot;
      slot = head;
      head = next;
    }
  }
  buckets_ = std::move(fresh);
}

uint64_t Skiplist::next_cursor(uint64_t cursor, uint64_t mask) {
  cursor |= ~mask;
  cursor = reverse_bits(cursor);
  ++cursor;
  return reverse_bits(cursor);
}

size_t Skiplist::allocated_bytes() const {
  size_t bytes = buckets_.capacity() * sizeof(Node*);
  for (Node* node = header_; node != nullptr; node = node->next()) bytes += malloc_usable_size(node);
  return bytes;
}

}  // namespace rc
