#include "store/quicklist.h"

#include <malloc.h>

#include <algorithm>
#include <atomic>
#include <cassert>
#include <cstdlib>
#include <cstring>
#include <new>
#include <utility>

#include "store/rdb/lzf.h"

namespace rc {
namespace {

// Redis's optimization_level: the listpack size limits of fill -1..-5.
constexpr size_t kSizeLimits[] = {4096, 8192, 16384, 32768, 65536};
// With a count limit (positive fill), a node's listpack still stays within this many bytes.
constexpr size_t kSafetyLimit = 8192;
// What one more element is assumed to add besides its bytes (its encoding and backlen), as Redis.
constexpr size_t kInsertOverhead = 8;
// Compression is not tried below this size, and kept only when it saves at least kMinCompressGain bytes.
constexpr size_t kMinCompressBytes = 48;
constexpr size_t kMinCompressGain = 8;
// Two listpacks merged share one header and terminator.
constexpr size_t kListpackOverhead = 11;

// Redis's packed_threshold: 1 GB by default.
constexpr size_t kDefaultPackedThreshold = size_t{1} << 30;
std::atomic<size_t> g_packed_threshold{kDefaultPackedThreshold};

rdb::LzfCompressor& compressor() {
  thread_local rdb::LzfCompressor lzf;
  return lzf;
}

// A new listpack holding the elements of `elements` from `offset` on.
Listpack tail_of(const Listpack& elements, size_t offset) {
  Listpack copy;
  for (auto it = elements.seek(static_cast<int64_t>(offset)); it != elements.end(); ++it) {
    const ListpackElement element = *it;
    if (element.is_integer()) {
      copy.append_integer(element.integer());
    } else {
      copy.append(element.string());
    }
  }
  return copy;
}

uint32_t read_u32(const void* data) {
  uint32_t value;
  std::memcpy(&value, data, sizeof(value));
  return value;
}

}  // namespace

Quicklist::Quicklist(int fill, int compress_depth)
    : fill_(std::clamp(fill, kMinFill, kMaxFill)),
      compress_depth_(static_cast<uint16_t>(std::clamp(compress_depth, 0, kMaxCompressDepth))) {}

Quicklist::Quicklist(const Quicklist& other) : fill_(other.fill_), compress_depth_(other.compress_depth_) {
  for (const Node* node = other.head_; node != nullptr; node = node->next) {
    auto* copy = new Node(*node);
    const size_t size = node->compressed ? sizeof(uint32_t) + read_u32(node->data) : node->bytes;
    copy->data = std::malloc(size);
    if (copy->data == nullptr) throw std::bad_alloc();
    std::memcpy(copy->data, node->data, size);
    copy->prev = tail_;
    copy->next = nullptr;
    (tail_ != nullptr ? tail_->next : head_) = copy;
    tail_ = copy;
    ++node_count_;
  }
  count_ = other.count_;
}

Quicklist::~Quicklist() {
  for (Node* node = head_; node != nullptr;) {
    Node* next = node->next;
    std::free(node->data);
    delete node;
    node = next;
  }
}

// ---- limits ----

size_t Quicklist::packed_threshold() { return g_packed_threshold.load(std::memory_order_relaxed); }

bool Quicklist::set_packed_threshold(uint64_t bytes) {
  if (bytes > (uint64_t{1} << 32) - (uint64_t{1} << 20)) return false;
  g_packed_threshold.store(bytes == 0 ? kDefaultPackedThreshold : static_cast<size_t>(bytes),
                           std::memory_order_relaxed);
  return true;
}

bool Quicklist::fits(size_t bytes, size_t count) const {
  if (fill_ < 0) {
    const size_t level = static_cast<size_t>(-fill_) - 1;
    return level < std::size(kSizeLimits) && bytes <= kSizeLimits[level];
  }
  return bytes <= kSafetyLimit && count <= static_cast<size_t>(fill_);
}

bool Quicklist::allows_insert(const Node* node, size_t value_size) const {
  if (node == nullptr || node->plain || node->count == UINT16_MAX || value_size >= packed_threshold()) return false;
  return fits(node->bytes + value_size + kInsertOverhead, node->count + 1u);
}

// ---- nodes ----

Quicklist::Node* Quicklist::new_node(Listpack elements) {
  auto* node = new Node;
  node->bytes = static_cast<uint32_t>(elements.total_bytes());
  node->count = static_cast<uint16_t>(elements.size());
  node->data = elements.release();
  return node;
}

Quicklist::Node* Quicklist::single_node(std::string_view value) {
  Listpack elements;
  elements.append(value);
  Node* node = new_node(std::move(elements));
  node->plain = value.size() >= packed_threshold();
  return node;
}

void Quicklist::link_before(Node* next, Node* node) {
  Node* prev = next != nullptr ? next->prev : tail_;
  node->prev = prev;
  node->next = next;
  (prev != nullptr ? prev->next : head_) = node;
  (next != nullptr ? next->prev : tail_) = node;
  ++node_count_;
  count_ += node->count;
}

void Quicklist::unlink_node(Node* node) {
  (node->prev != nullptr ? node->prev->next : head_) = node->next;
  (node->next != nullptr ? node->next->prev : tail_) = node->prev;
  --node_count_;
  count_ -= node->count;
  std::free(node->data);
  delete node;
}

std::optional<Quicklist::Position> Quicklist::locate(size_t index) const {
  if (index >= count_) return std::nullopt;
  if (index < count_ / 2) {
    for (Node* node = head_; node != nullptr; node = node->next) {
      if (index < node->count) return Position{node, index};
      index -= node->count;
    }
  } else {
    size_t from_tail = count_ - 1 - index;
    for (Node* node = tail_; node != nullptr; node = node->prev) {
      if (from_tail < node->count) return Position{node, node->count - 1 - from_tail};
      from_tail -= node->count;
    }
  }
  return std::nullopt;
}

Listpack Quicklist::view(const Node* node) { return Listpack::from_raw(node->data); }

Listpack Quicklist::inflate(const Node* node) {
  void* buffer = std::malloc(node->bytes);
  if (buffer == nullptr) throw std::bad_alloc();
  const auto* block = static_cast<const char*>(node->data);
  const size_t produced = rdb::lzf_decompress(std::string_view(block + sizeof(uint32_t), read_u32(block)),
                                              static_cast<char*>(buffer), node->bytes);
  assert(produced == node->bytes);
  (void)produced;
  return Listpack::from_raw(buffer);
}

Listpack Quicklist::take(Node* node) {
  decompress(node);
  return Listpack::from_raw(node->data);
}

void Quicklist::give_back(Node* node, Listpack elements) {
  const size_t count = elements.size();
  count_ = count_ - node->count + count;
  node->bytes = static_cast<uint32_t>(elements.total_bytes());
  node->count = static_cast<uint16_t>(count);
  node->data = elements.release();
}

// ---- compression ----

void Quicklist::compress(Node* node) {
  if (node->compressed || node->bytes < kMinCompressBytes) return;
  const size_t capacity = node->bytes;
  auto* block = static_cast<char*>(std::malloc(sizeof(uint32_t) + capacity));
  if (block == nullptr) throw std::bad_alloc();
  const std::string_view raw(static_cast<const char*>(node->data), node->bytes);
  const size_t size = compressor().compress(raw, block + sizeof(uint32_t), capacity);
  if (size == 0 || size + kMinCompressGain >= node->bytes) {
    std::free(block);
    return;
  }
  const auto stored = static_cast<uint32_t>(size);
  std::memcpy(block, &stored, sizeof(stored));
  void* shrunk = std::realloc(block, sizeof(uint32_t) + size);
  std::free(node->data);
  node->data = shrunk != nullptr ? shrunk : block;
  node->compressed = true;
}

void Quicklist::decompress(Node* node) {
  if (!node->compressed) return;
  Listpack elements = inflate(node);
  std::free(node->data);
  node->data = elements.release();
  node->compressed = false;
}

void Quicklist::settle(Node* node, size_t from_head) {
  const size_t from_tail = node_count_ - 1 - from_head;
  if (from_head < compress_depth_ || from_tail < compress_depth_) {
    decompress(node);
  } else {
    compress(node);
  }
}

void Quicklist::settle(Node* node) {
  if (node == nullptr || compress_depth_ == 0) return;
  size_t from_head = 0;
  for (const Node* n = node->prev; n != nullptr && from_head <= compress_depth_; n = n->prev) ++from_head;
  size_t from_tail = 0;
  for (const Node* n = node->next; n != nullptr && from_tail <= compress_depth_; n = n->next) ++from_tail;
  if (from_head < compress_depth_ || from_tail < compress_depth_) {
    decompress(node);
  } else {
    compress(node);
  }
}

void Quicklist::settle_ends() {
  if (compress_depth_ == 0) return;
  // The nodes at distance 0..depth from each end are those whose state a change at an end can flip.
  Node* node = head_;
  for (size_t i = 0; node != nullptr && i <= compress_depth_; ++i, node = node->next) settle(node, i);
  node = tail_;
  for (size_t i = 0; node != nullptr && i <= compress_depth_; ++i, node = node->prev) {
    settle(node, node_count_ - 1 - i);
  }
}

// ---- changes ----

void Quicklist::push(End end, std::string_view value) {
  Node* node = end == End::Head ? head_ : tail_;
  if (allows_insert(node, value.size())) {
    Listpack elements = take(node);
    if (end == End::Head) {
      elements.prepend(value);
    } else {
      elements.append(value);
    }
    give_back(node, std::move(elements));
  } else {
    link_before(end == End::Head ? head_ : nullptr, single_node(value));
  }
  settle_ends();
}

std::string Quicklist::pop(End end) {
  Node* node = end == End::Head ? head_ : tail_;
  Listpack elements = take(node);
  auto it = end == End::Head ? elements.begin() : --elements.end();
  std::string value = (*it).to_string();
  elements.erase(it);
  give_back(node, std::move(elements));
  if (node->count == 0) unlink_node(node);
  settle_ends();
  return value;
}

std::optional<std::string> Quicklist::at(int64_t index) const {
  const int64_t length = static_cast<int64_t>(count_);
  if (index < 0) index += length;
  if (index < 0 || index >= length) return std::nullopt;
  std::optional<std::string> found;
  visit(static_cast<size_t>(index), false, [&](const ListpackElement& element) {
    found = element.to_string();
    return false;
  });
  return found;
}

bool Quicklist::replace(int64_t index, std::string_view value) {
  const int64_t length = static_cast<int64_t>(count_);
  if (index < 0) index += length;
  if (index < 0 || index >= length) return false;
  const Position at = *locate(static_cast<size_t>(index));
  if (at.node->plain || value.size() >= packed_threshold()) {
    // A plain node is never edited in place, and a large element goes to a node of its own, as in Redis.
    const auto position = static_cast<size_t>(index);
    erase_range(position, 1);
    if (position == count_) {
      push(End::Tail, value);
    } else {
      const Position next = *locate(position);
      insert_in_node(next.node, next.offset, value);
      settle_ends();
    }
    return true;
  }
  Listpack elements = take(at.node);
  elements.replace(elements.seek(static_cast<int64_t>(at.offset)), value);
  give_back(at.node, std::move(elements));
  split_if_oversized(at.node);
  settle_ends();
  settle(at.node);
  return true;
}

void Quicklist::split_if_oversized(Node* node) {
  if (node->count < 2 || fits(node->bytes, node->count)) return;
  Listpack first = take(node);
  const size_t keep = node->count / 2;
  Listpack second = tail_of(first, keep);
  first.erase_range(static_cast<int64_t>(keep), node->count - keep);
  give_back(node, std::move(first));
  link_before(node->next, new_node(std::move(second)));
  Node* second_half = node->next;
  // A half may still be too big (one large element among small ones): split until each fits.
  split_if_oversized(node);
  split_if_oversized(second_half);
  settle(node);
  settle(second_half);
}

void Quicklist::insert_in_node(Node* node, size_t offset, std::string_view value) {
  if (allows_insert(node, value.size())) {
    Listpack elements = take(node);
    elements.insert_at(offset, value);
    give_back(node, std::move(elements));
    settle(node);
    return;
  }
  // The node is full: the element goes to the neighbour it borders when that has room, else into a node
  // of its own, the full node being split around it when it falls inside.
  if (offset == node->count && allows_insert(node->next, value.size())) {
    return insert_in_node(node->next, 0, value);
  }
  if (offset == 0 && allows_insert(node->prev, value.size())) {
    return insert_in_node(node->prev, node->prev->count, value);
  }
  if (offset == 0) {
    link_before(node, single_node(value));
    settle(node->prev);
    return;
  }
  if (offset < node->count) {
    Listpack first = take(node);
    Listpack second = tail_of(first, offset);
    first.erase_range(static_cast<int64_t>(offset), node->count - offset);
    give_back(node, std::move(first));
    link_before(node->next, new_node(std::move(second)));
    settle(node);
    settle(node->next);
  }
  link_before(node->next, single_node(value));
  settle(node->next);
}

bool Quicklist::insert_at_pivot(std::string_view pivot, std::string_view value, bool after) {
  size_t index = 0;
  bool found = false;
  visit(0, false, [&](const ListpackElement& element) {
    if (element.matches(pivot)) {
      found = true;
      return false;
    }
    ++index;
    return true;
  });
  if (!found) return false;
  const Position at = *locate(index);
  insert_in_node(at.node, at.offset + (after ? 1 : 0), value);
  settle_ends();
  return true;
}

void Quicklist::erase_range(size_t start, size_t count) {
  if (start >= count_ || count == 0) return;
  count = std::min(count, count_ - start);
  Position at = *locate(start);
  Node* node = at.node;
  size_t offset = at.offset;
  while (count > 0 && node != nullptr) {
    Node* next = node->next;
    const size_t here = std::min<size_t>(count, node->count - offset);
    if (offset == 0 && here == node->count) {
      unlink_node(node);
    } else {
      Listpack elements = take(node);
      elements.erase_range(static_cast<int64_t>(offset), here);
      give_back(node, std::move(elements));
      settle(node);
    }
    count -= here;
    offset = 0;
    node = next;
  }
  settle_ends();
}

size_t Quicklist::remove_matching(std::string_view value, size_t limit, bool from_tail) {
  size_t removed = 0;
  Node* node = from_tail ? tail_ : head_;
  while (node != nullptr && (limit == 0 || removed < limit)) {
    Node* following = from_tail ? node->prev : node->next;
    // Looks before decompressing: most nodes hold no match.
    bool has_match = false;
    with_elements(node, [&](const Listpack& elements) {
      for (auto it = elements.begin(); it != elements.end() && !has_match; ++it) has_match = (*it).matches(value);
    });
    if (has_match) {
      Listpack elements = take(node);
      if (from_tail) {
        for (auto it = elements.end(); it != elements.begin() && (limit == 0 || removed < limit);) {
          --it;
          if (!(*it).matches(value)) continue;
          it = elements.erase(it);
          ++removed;
        }
      } else {
        for (auto it = elements.begin(); it != elements.end() && (limit == 0 || removed < limit);) {
          if ((*it).matches(value)) {
            it = elements.erase(it);
            ++removed;
          } else {
            ++it;
          }
        }
      }
      give_back(node, std::move(elements));
      if (node->count == 0) {
        unlink_node(node);
      } else {
        settle(node);
      }
    }
    node = following;
  }
  settle_ends();
  return removed;
}

void Quicklist::append_node(Listpack elements) {
  if (elements.empty()) return;
  if (elements.size() > UINT16_MAX) {  // more than a node counts: element by element
    for (const ListpackElement element : elements) push(End::Tail, element.to_string());
    return;
  }
  link_before(nullptr, new_node(std::move(elements)));
  settle_ends();
  settle(tail_ != nullptr ? tail_->prev : nullptr);
}

void Quicklist::append_plain_node(std::string_view element) {
  Listpack elements;
  elements.append(element);
  Node* node = new_node(std::move(elements));
  node->plain = true;
  link_before(nullptr, node);
  settle_ends();
}

// ---- measures ----

size_t Quicklist::allocated_bytes() const {
  size_t total = 0;
  for (const Node* node = head_; node != nullptr; node = node->next) {
    total += malloc_usable_size(const_cast<Node*>(node)) + malloc_usable_size(node->data);
  }
  return total;
}

size_t Quicklist::compressed_node_count() const {
  size_t compressed = 0;
  for (const Node* node = head_; node != nullptr; node = node->next) compressed += node->compressed ? 1 : 0;
  return compressed;
}

}  // namespace rc
