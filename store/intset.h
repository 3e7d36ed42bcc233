#pragma once
// A set of integers in Redis 7.0's intset byte format, so that RDB_TYPE_SET_INTSET carries it as one blob
// both ways:
//
//   [width of each member in bytes: 2, 4 or 8, uint32 LE][member count, uint32 LE][members, sorted, LE]
//
// Every member takes the width of the widest one ever added: adding a member that needs more rewrites
// the set at the new width (16 -> 32 -> 64 bits), and removing it never narrows it again, as in Redis.
//
// The object is nothing but a pointer to its malloc'd bytes (their size is 8 + count * width), so that a
// key's entry can own a small set through one pointer. Edits resize it with realloc, which often stays in
// place, and move members with memmove.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <iterator>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace rc {

class Intset {
 public:
  static constexpr size_t kHeaderSize = 8;

  // Walks the members in ascending order.
  class Iterator {
   public:
    using value_type = int64_t;
    using difference_type = std::ptrdiff_t;
    using iterator_category = std::forward_iterator_tag;
    using reference = int64_t;
    using pointer = void;

    Iterator() = default;
    int64_t operator*() const { return owner_->get(index_); }
    Iterator& operator++() {
      ++index_;
      return *this;
    }
    Iterator operator++(int) {
      const Iterator before = *this;
      ++index_;
      return before;
    }
    bool operator==(const Iterator& other) const { return index_ == other.index_; }

   private:
    friend class Intset;
    Iterator(const Intset* owner, size_t index) : owner_(owner), index_(index) {}
    const Intset* owner_ = nullptr;
    size_t index_ = 0;
  };

  Intset();  // empty, 16-bit members
  // Copies bytes that passed validate(bytes, true).
  explicit Intset(std::string validated_bytes);
  // A copy owns a copy of the bytes (COPY of a key). A move hands the buffer over and leaves the source as
  // release() does.
  Intset(const Intset& other);
  Intset& operator=(const Intset& other);
  Intset(Intset&& other) noexcept = default;
  Intset& operator=(Intset&& other) noexcept = default;
  ~Intset() = default;

  // Gives up the buffer, for an owner that keeps it as a bare pointer. The object is left without one: it may
  // be destroyed or assigned to, nothing else.
  void* release() { return buffer_.release(); }
  // Takes ownership of a buffer that release() returned.
  static Intset from_raw(void* buffer) { return Intset(Buffer(static_cast<char*>(buffer))); }
  // What malloc set aside for the buffer, at least bytes().size(); for MEMORY USAGE.
  size_t allocated_bytes() const;
  // Deep-validates a foreign blob (an RDB value) and copies it in; nullopt when it is corrupt.
  static std::optional<Intset> adopt(std::string blob);
  // Whether `blob` is an intset Redis would load: a known width, a count that matches the size, at least
  // one member (Redis never stores an empty set); deep also checks that members strictly ascend (sorted,
  // no duplicates). Never reads outside `blob`.
  static bool validate(std::string_view blob, bool deep);

  // Adds `value` in order, widening every member first when it needs more bytes; false when present.
  bool add(int64_t value);
  // False when `value` was not a member.
  bool remove(int64_t value);
  bool contains(int64_t value) const;

  size_t size() const;
  bool empty() const { return size() == 0; }
  size_t member_width() const;  // 2, 4 or 8 bytes
  int64_t get(size_t index) const;  // index < size()
  // A uniformly chosen member (as Redis's intsetRandom); the set must not be empty. `random()` returns a
  // uint64_t.
  template <typename Random>
  int64_t random_member(Random&& random) const {
    return get(static_cast<size_t>(random() % size()));
  }

  std::string_view bytes() const { return {buffer_.get(), total_bytes()}; }
  Iterator begin() const { return {this, 0}; }
  Iterator end() const { return {this, size()}; }

 private:
  // free() as the buffer's deleter: a stateless one, so that the unique_ptr is a bare pointer.
  struct FreeBuffer {
    void operator()(char* buffer) const { std::free(buffer); }
  };
  using Buffer = std::unique_ptr<char, FreeBuffer>;
  explicit Intset(Buffer buffer) : buffer_(std::move(buffer)) {}

  // The index of `value`, or where it would go, and whether it is there.
  struct Position {
    size_t index;
    bool found;
  };
  Position search(int64_t value) const;
  void widen_and_add(int64_t value);
  void set(size_t index, int64_t value);
  void set_size(size_t count);
  size_t total_bytes() const { return kHeaderSize + size() * member_width(); }
  void resize_buffer(size_t old_size, size_t new_size);

  Buffer buffer_;
};
static_assert(sizeof(Intset) == sizeof(void*));

}  // namespace rc
