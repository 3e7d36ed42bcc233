#pragma once
// A list as Redis 7.0 holds it: a doubly linked list of nodes, each a listpack of consecutive elements
// (store/listpack.h, Redis's byte format), so that an element costs a few bytes plus a 32-byte node per
// several kilobytes instead of a pointer and an allocation of its own.
//
// How full a node may grow is `fill` (list-max-listpack-size): -1..-5 limit its listpack to 4, 8, 16, 32
// or 64 KB; a positive value limits its element count, and then its bytes to 8 KB as a safety net. With
// `compress_depth` (list-compress-depth) above 0, every node farther than that many nodes from either end
// is kept LZF-compressed (when that saves at least 8 bytes and the node has 48 bytes or more, as Redis's
// MIN_COMPRESS_BYTES/IMPROVE): lists are mostly pushed and popped at the ends, and the middle is cold.
//
// An element of packed_threshold() bytes or more (1 GB unless DEBUG QUICKLIST-PACKED-THRESHOLD changed it)
// lives alone in a "plain" node that takes no other element, as Redis 7.0 keeps it outside any shared
// listpack; RDB files carry such nodes as Redis's plain container.
//
// Reads (`visit`, `at`) are const and never decompress in place: a compressed node is inflated into a
// temporary copy, so readers sharing a shard lock never write to the list. Changes decompress the nodes
// they touch and recompress them afterwards.
//
// Elements come back as ListpackElement (bytes, or an integer the listpack stored as one), valid only
// during the visit that yields them.
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>

#include "store/listpack.h"

namespace rc {

class Quicklist {
 public:
  enum class End : uint8_t { Head, Tail };

  // Redis's bounds for the options (quicklistSetFill, the compress depth's 16 bits).
  static constexpr int kMinFill = -5;
  static constexpr int kMaxFill = (1 << 15) - 1;
  static constexpr int kMaxCompressDepth = (1 << 16) - 1;

  // The size from which an element gets a plain node of its own. Process-wide, as Redis's.
  static size_t packed_threshold();
  // DEBUG QUICKLIST-PACKED-THRESHOLD: 0 restores 1 GB; false (nothing changed) above 4 GB - 1 MB.
  static bool set_packed_threshold(uint64_t bytes);

  // Out-of-range options are clamped as Redis clamps them.
  Quicklist(int fill, int compress_depth);
  Quicklist(const Quicklist& other);  // a deep copy (COPY), with the same options
  Quicklist& operator=(const Quicklist&) = delete;
  ~Quicklist();

  size_t size() const { return count_; }
  bool empty() const { return count_ == 0; }
  size_t node_count() const { return node_count_; }
  int fill() const { return fill_; }
  int compress_depth() const { return compress_depth_; }

  void push(End end, std::string_view value);
  // Removes and returns the element at `end` as text (the list must not be empty).
  std::string pop(End end);

  // The element at `index` (negative counts from the tail: -1 is the last) as text, or nullopt.
  std::optional<std::string> at(int64_t index) const;
  // Overwrites the element at `index` (negative from the tail); false when out of range.
  bool replace(int64_t index, std::string_view value);
  // Inserts `value` before or after the first element (from the head) equal to `pivot`; false when no
  // element is.
  bool insert_at_pivot(std::string_view pivot, std::string_view value, bool after);
  // Removes `count` elements from position `start` (0-based from the head; clipped to the end).
  void erase_range(size_t start, size_t count);
  // Removes elements equal to `value`, walking from the head (or from the tail when `from_tail`), at most
  // `limit` of them (0: all); returns how many went.
  size_t remove_matching(std::string_view value, size_t limit, bool from_tail);

  // Calls visit(const ListpackElement&) for the elements from position `start` (0-based from the head),
  // towards the tail, or towards the head when `backwards`, until visit returns false or the end is met.
  template <typename Visit>
  void visit(size_t start, bool backwards, Visit&& visit) const;

  // Calls visit(const Listpack&) for every node, head first (compressed ones inflated): the RDB writer
  // saves each node's listpack as it is.
  template <typename Visit>
  void for_each_node(Visit&& visit) const;
  // Calls save(std::string_view bytes, size_t listpack_size, bool compressed, bool plain) for every node,
  // head first: its listpack's bytes, or its LZF block as kept, which the RDB writer stores as it is (as
  // Redis does); for a plain node (one element), that element's bytes instead (inflated if compressed).
  template <typename Save>
  void for_each_stored_node(Save&& save) const;
  // Appends a whole node (the RDB loader, a node that passed validation); an empty listpack is ignored.
  void append_node(Listpack elements);
  // Appends a plain node holding `element` (the RDB loader), whatever its size.
  void append_plain_node(std::string_view element);

  // Bytes taken from the allocator (MEMORY USAGE) by every node and every listpack or LZF block (not by
  // this object, which its owner allocated).
  size_t allocated_bytes() const;
  // How many nodes are held compressed (for tests and DEBUG OBJECT).
  size_t compressed_node_count() const;

 private:
  struct Node {
    Node* prev = nullptr;
    Node* next = nullptr;
    // A listpack buffer (Listpack::release), or when `compressed` an LZF block: [u32 size][data].
    void* data = nullptr;
    uint32_t bytes = 0;  // the listpack's size (uncompressed)
    uint16_t count = 0;
    bool compressed = false;
    bool plain = false;  // one element that no other may join (see packed_threshold())
  };
  static_assert(sizeof(Node) == 32);

  // Where an element is: its node and its index inside the node's listpack.
  struct Position {
    Node* node;
    size_t offset;
  };

  // Whether a node of `bytes` bytes and `count` elements stays within the fill limit.
  bool fits(size_t bytes, size_t count) const;
  // Whether one more element of about `value_size` bytes may go into `node` (Redis's estimate).
  bool allows_insert(const Node* node, size_t value_size) const;

  Node* new_node(Listpack elements);
  // A node holding `value` alone: plain when it is a large element.
  Node* single_node(std::string_view value);
  void link_before(Node* next, Node* node);  // next == nullptr appends
  void unlink_node(Node* node);               // and frees it
  std::optional<Position> locate(size_t index) const;

  // The node's listpack, decompressed in place when needed (for a change), borrowed until give_back().
  Listpack take(Node* node);
  void give_back(Node* node, Listpack elements);
  // A readable copy of a compressed node's listpack (the node is left compressed).
  static Listpack inflate(const Node* node);
  static Listpack view(const Node* node);  // an uncompressed node's listpack, not owned: release() it
  // Calls read(const Listpack&) with the node's elements, inflated into a temporary when compressed.
  template <typename Read>
  static void with_elements(const Node* node, Read&& read);

  // Compresses or decompresses `node` by its distance from the ends (`from_head` when known).
  void settle(Node* node);
  void settle(Node* node, size_t from_head);
  // Settles the nodes whose distance from an end may have changed (the depth nearest each end).
  void settle_ends();
  void compress(Node* node);
  void decompress(Node* node);

  // Inserts `value` so that it becomes element `offset` of `node` (offset == node->count appends).
  void insert_in_node(Node* node, size_t offset, std::string_view value);
  // Splits a node that outgrew its limit (after a replace) in two.
  void split_if_oversized(Node* node);

  Node* head_ = nullptr;
  Node* tail_ = nullptr;
  size_t count_ = 0;
  uint32_t node_count_ = 0;
  int32_t fill_;
  uint16_t compress_depth_;
};

// ---- templates ----

template <typename Read>
void Quicklist::with_elements(const Node* node, Read&& read) {
  if (node->compressed) {
    const Listpack inflated = inflate(node);
    read(inflated);
    return;
  }
  Listpack borrowed = view(node);
  read(static_cast<const Listpack&>(borrowed));
  borrowed.release();
}

template <typename Visit>
void Quicklist::visit(size_t start, bool backwards, Visit&& visit) const {
  const std::optional<Position> first = locate(start);
  if (!first) return;
  const Node* node = first->node;
  size_t offset = first->offset;
  bool stop = false;
  while (node != nullptr && !stop) {
    with_elements(node, [&](const Listpack& elements) {
      auto it = elements.seek(static_cast<int64_t>(offset));
      if (backwards) {
        while (!stop) {
          stop = !visit(*it);
          if (it == elements.begin()) break;
          --it;
        }
      } else {
        for (; it != elements.end() && !stop; ++it) stop = !visit(*it);
      }
    });
    node = backwards ? node->prev : node->next;
    if (node != nullptr) offset = backwards ? node->count - 1u : 0;
  }
}

template <typename Visit>
void Quicklist::for_each_node(Visit&& visit) const {
  for (const Node* node = head_; node != nullptr; node = node->next) with_elements(node, visit);
}

template <typename Save>
void Quicklist::for_each_stored_node(Save&& save) const {
  for (const Node* node = head_; node != nullptr; node = node->next) {
    const auto* data = static_cast<const char*>(node->data);
    if (node->plain) {
      with_elements(node, [&](const Listpack& element) {
        const std::string text = (*element.begin()).to_string();
        save(std::string_view(text), text.size(), false, true);
      });
    } else if (node->compressed) {
      uint32_t size;
      std::memcpy(&size, data, sizeof(size));
      save(std::string_view(data + sizeof(size), size), size_t{node->bytes}, true, false);
    } else {
      save(std::string_view(data, node->bytes), size_t{node->bytes}, false, false);
    }
  }
}

}  // namespace rc
