#pragma once
// A listpack in Redis 7.0's exact byte format, so that an RDB file can carry it as one blob both ways
// (RDB_TYPE_HASH_LISTPACK and friends) and a blob from Redis is adopted after validation, not rebuilt.
//
//   [total bytes, uint32 LE][element count, uint16 LE; 65535 = count it][entry]...[0xFF]
//   entry: [encoding byte(s) + data][backlen: the size of the encoding + data, 1-5 bytes, read backwards]
//
// Strings that read as int64 under Redis's strict rules (no '+', no leading zeros, no spaces: "01" and
// "-0" stay strings) are stored as integers in the smallest of the 7, 13, 16, 24, 32 or 64-bit
// encodings; other strings take a 6, 12 or 32-bit length. Small hashes keep field,value,field,value...
//
// The object is nothing but a pointer to its malloc'd bytes (their size is the header's total), so that a
// key's entry can own a small hash or list through one pointer and spend no more memory on it than Redis.
// Edits resize it with realloc, which often stays in place, and move the tail with memmove.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <iterator>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace rc {

// One element as stored: an integer, or a string borrowed from the listpack (valid until it changes).
class ListpackElement {
 public:
  static ListpackElement of_integer(int64_t value) { return ListpackElement(value, {}, true); }
  static ListpackElement of_string(std::string_view text) { return ListpackElement(0, text, false); }

  bool is_integer() const { return is_integer_; }
  int64_t integer() const { return integer_; }        // only when is_integer()
  std::string_view string() const { return text_; }   // only when !is_integer()
  // Either kind as text (integers in decimal), as a client sees it.
  std::string to_string() const;
  // Whether the element reads as `text`: an integer matches only its canonical decimal form.
  bool matches(std::string_view text) const;

  bool operator==(const ListpackElement& other) const = default;

 private:
  ListpackElement(int64_t integer, std::string_view text, bool is_integer)
      : integer_(integer), text_(text), is_integer_(is_integer) {}
  int64_t integer_;
  std::string_view text_;
  bool is_integer_;
};

class Listpack {
 public:
  static constexpr size_t kHeaderSize = 6;
  // The header's count once there are 65535 or more elements. Redis recounts (lpLength) after loading a
  // listpack and after each deletion, so its header holds the true count whenever that fits; this class
  // keeps the same rule, which keeps the bytes equal to Redis's after the same operations.
  static constexpr uint16_t kUnknownCount = 65535;
  // Redis refuses to grow a listpack past 1 GB (lpSafeToAdd); callers convert to another encoding first.
  static constexpr size_t kSafetyLimit = size_t{1} << 30;

  // A position: an element, or end() (the terminator). Any change to the listpack invalidates
  // positions; the mutators return the position to continue from.
  class Iterator {
   public:
    using value_type = ListpackElement;
    using difference_type = std::ptrdiff_t;
    using iterator_category = std::bidirectional_iterator_tag;
    using reference = ListpackElement;
    using pointer = void;

    Iterator() = default;
    ListpackElement operator*() const;
    Iterator& operator++();
    Iterator operator++(int);
    Iterator& operator--();
    Iterator operator--(int);
    bool operator==(const Iterator& other) const { return offset_ == other.offset_; }

   private:
    friend class Listpack;
    Iterator(const Listpack* owner, size_t offset) : owner_(owner), offset_(offset) {}
    const Listpack* owner_ = nullptr;
    size_t offset_ = 0;
  };
  using ReverseIterator = std::reverse_iterator<Iterator>;

  Listpack();
  // Copies bytes that passed validate(bytes, true); anything less is undefined behaviour later. A header
  // count of 65535 over fewer elements is replaced by the true count.
  explicit Listpack(std::string validated_bytes);
  // A copy owns a copy of the bytes (COPY of a key). A move hands the buffer over and leaves the source as
  // release() does.
  Listpack(const Listpack& other);
  Listpack& operator=(const Listpack& other);
  Listpack(Listpack&& other) noexcept = default;
  Listpack& operator=(Listpack&& other) noexcept = default;
  ~Listpack() = default;

  // Gives up the buffer, for an owner that keeps it as a bare pointer. The object is left without one: it may
  // be destroyed or assigned to, nothing else.
  void* release() { return buffer_.release(); }
  // Takes ownership of a buffer that release() returned.
  static Listpack from_raw(void* buffer) { return Listpack(Buffer(static_cast<uint8_t*>(buffer))); }
  // What malloc set aside for the buffer, at least total_bytes(); for MEMORY USAGE.
  size_t allocated_bytes() const;

  // Deep-validates a foreign blob (an RDB value) and copies it in; nullopt when it is corrupt.
  static std::optional<Listpack> adopt(std::string blob);
  // Whether `blob` is a well-formed listpack. Shallow: the header's size, the terminator. Deep: also every
  // entry's encoding, length and backlen, and the header's count. Never reads outside `blob`.
  static bool validate(std::string_view blob, bool deep);
  // validate() for a listpack of field,value pairs (a hash, or a sorted set's member,score), as Redis loads
  // them: deep also requires an even count and no field twice (compared as text).
  static bool validate_pairs(std::string_view blob, bool deep);

  std::string_view bytes() const { return {reinterpret_cast<const char*>(buffer_.get()), total_bytes()}; }
  size_t total_bytes() const;  // the header's total
  // The number of elements: the header's count, or a walk when there are 65535 or more.
  size_t size() const;
  bool empty() const { return total_bytes() == kHeaderSize + 1; }
  // Whether `extra` more bytes keep the listpack within kSafetyLimit.
  bool safe_to_add(size_t extra) const { return total_bytes() + extra <= kSafetyLimit; }

  Iterator begin() const { return {this, kHeaderSize}; }
  Iterator end() const { return {this, total_bytes() - 1}; }
  ReverseIterator rbegin() const { return ReverseIterator(end()); }
  ReverseIterator rend() const { return ReverseIterator(begin()); }

  // The element at `index` (negative counts from the end: -1 is the last), or end() when out of range.
  Iterator seek(int64_t index) const;
  std::optional<ListpackElement> at(int64_t index) const;
  // The first element from `from` on that matches `value`, comparing one element then passing over `skip`
  // (skip 1 looks at the fields of field,value pairs only); end() when none does.
  Iterator find(std::string_view value, size_t skip = 0) const { return find(begin(), value, skip); }
  Iterator find(Iterator from, std::string_view value, size_t skip = 0) const;

  // The mutators store a string that reads as an integer as that integer. Growing past 4 GB (the header's
  // limit) throws std::length_error; callers keep well below with safe_to_add.
  void append(std::string_view value) { insert(end(), value); }
  void append_integer(int64_t value) { insert_integer(end(), value); }
  void prepend(std::string_view value) { insert(begin(), value); }
  // Inserts before `position` and returns the new element's position.
  Iterator insert(Iterator position, std::string_view value);
  Iterator insert_integer(Iterator position, int64_t value);
  // Inserts so that the new element ends up at `index` (0..size(); size() appends); false when out of range.
  bool insert_at(size_t index, std::string_view value);
  // Overwrites the element at `position` and returns its (new) position.
  Iterator replace(Iterator position, std::string_view value);
  Iterator replace_integer(Iterator position, int64_t value);
  // Removes the element at `position` (not end()) and returns the position of the one after it.
  Iterator erase(Iterator position);
  // Removes [first, last) and returns the position after the removed ones.
  Iterator erase(Iterator first, Iterator last);
  // Removes up to `count` elements from `index` on (negative counts from the end); false when the index
  // is out of range (then nothing changes).
  bool erase_range(int64_t index, size_t count);

 private:
  // free() as the buffer's deleter: a stateless one, so that the unique_ptr is a bare pointer.
  struct FreeBuffer {
    void operator()(uint8_t* buffer) const { std::free(buffer); }
  };
  using Buffer = std::unique_ptr<uint8_t, FreeBuffer>;
  explicit Listpack(Buffer buffer) : buffer_(std::move(buffer)) {}

  // Replaces `removed_bytes` at `offset` with one entry made of `encoding` (type and length bytes, or a
  // whole integer) followed by `payload` (a string's bytes) and its backlen.
  Iterator splice(size_t offset, size_t removed_bytes, std::string_view encoding, std::string_view payload,
                  bool adds_element);
  Iterator remove_bytes(size_t offset, size_t removed_bytes, size_t removed_elements);
  // Replaces `removed_bytes` at `offset` with `inserted_bytes` for the caller to fill, and sets the total.
  void resize_range(size_t offset, size_t removed_bytes, size_t inserted_bytes);
  void resize_buffer(size_t old_size, size_t new_size);
  size_t walk_count() const;
  void store_count_if_it_fits();
  size_t next_offset(size_t offset) const;
  size_t previous_offset(size_t offset) const;
  ListpackElement element_at(size_t offset) const;
  uint16_t header_count() const;
  void set_header_count(uint16_t count);
  void set_total_bytes(size_t total);

  Buffer buffer_;
};
static_assert(sizeof(Listpack) == sizeof(void*));

// Redis's integer check for listpack and intset members (lpStringToInt64): the int64 `text` spells
// exactly, or nullopt.
std::optional<int64_t> listpack_integer_value(std::string_view text);

}  // namespace rc
