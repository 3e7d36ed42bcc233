#pragma once
// One key and its value in a single allocation, so that a key costs one malloc and one pointer in its
// bucket chain. Layout after the chain pointer and a flags byte:
//   [expiry, 8 bytes, only when the key has one][key length, varint][value length, varint][key][value]
// Keys without a time to live pay nothing for expiry; giving one a TTL reallocates the entry.
//
// A string's value bytes are the string. Any other type's value bytes are one pointer to the aggregate's
// own allocation (store/aggregate.h), which the entry owns: destroy() frees it, resized() and renamed()
// hand it over to the new entry (it is never owned twice), and clone() copies it (COPY).
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string_view>

#include "store/clock.h"

namespace rc {

// Redis's OBJ_* numbering (TYPE and OBJECT answer from it; the RDB has its own type bytes).
enum class ValueType : uint8_t { String = 0, List = 1, Set = 2, ZSet = 3, Hash = 4, Stream = 6 };

// As TYPE names it: "string", "list", "set", "zset", "hash", "stream".
std::string_view value_type_name(ValueType type);

// How an aggregate is held: Compact (a listpack or intset blob) until it outgrows the limits of the
// hash-max-listpack-* / set-max-intset-entries / zset-max-listpack-* kind, then Table (a hash table of fields
// or members; a sorted set's skiplist).
enum class AggregateEncoding : uint8_t { Compact = 0, Table = 1 };

// How OBJECT ENCODING describes a string. Redis decides it from the value at SET time ("int", "embstr"
// up to 44 bytes, "raw"), but a value modified in place (APPEND, SETRANGE) stays "raw", and one written
// as text by INCRBYFLOAT is never "int" even when it looks like an integer.
enum class StringEncoding : uint8_t { Auto = 0, Raw = 1, NotInteger = 2 };

class Entry {
 public:
  static constexpr int64_t kNoExpiry = -1;

  // Allocates an entry; `value_capacity` >= value.size() leaves room to grow the value in place.
  static Entry* create(std::string_view key, std::string_view value, int64_t expire_at_ms = kNoExpiry,
                       size_t value_capacity = 0);
  static void destroy(Entry* entry) noexcept;

  // An entry of another type (not String) that owns `aggregate` (see store/aggregate.h).
  static Entry* create_aggregate(std::string_view key, ValueType type, AggregateEncoding encoding, void* aggregate,
                                 int64_t expire_at_ms = kNoExpiry);

  // A copy of `source` with another value length (the first min(old, new) value bytes kept) and expiry.
  // An aggregate moves to the copy: `source` no longer owns it (its destroy() frees only itself).
  static Entry* resized(Entry& source, size_t value_length, int64_t expire_at_ms, size_t value_capacity = 0);
  // The same value and expiry under another key (RENAME): an aggregate moves, as in resized().
  static Entry* renamed(Entry& source, std::string_view key);
  // A deep copy under another key (COPY): an aggregate is copied too.
  static Entry* clone(const Entry& source, std::string_view key);

  // Changes the value's length without moving the entry when the allocation has room (bytes past the old
  // length are left for the caller to fill). False when it does not fit: then use resized().
  bool resize_in_place(size_t value_length);

  Entry* next = nullptr;  // bucket chain

  std::string_view key() const;
  std::string_view value() const;
  char* value_data();  // for in-place edits of the value's bytes (the length stays)

  bool has_expiry() const { return (flags_ & kHasExpiry) != 0; }
  int64_t expire_at() const;  // kNoExpiry when none
  void set_expire_at(int64_t at_ms);  // only when has_expiry(): changing presence needs resized()
  // As Redis's keyIsExpired: a key is gone once the clock is past its expiry time.
  bool expired(int64_t now_ms) const { return has_expiry() && expire_at() < now_ms; }
  // The same against the clock, read only for keys that have a TTL (most have none; a read costs a call).
  bool expired_now() const { return has_expiry() && expire_at() < unix_time_ms(); }

  ValueType type() const { return static_cast<ValueType>(flags_ >> 4); }
  bool is_string() const { return type() == ValueType::String; }

  // Only for aggregates (type() != String).
  void* aggregate() const;
  AggregateEncoding aggregate_encoding() const {
    return (flags_ & kTableEncoding) ? AggregateEncoding::Table : AggregateEncoding::Compact;
  }
  // After a change that moved or converted it: the entry owns `aggregate` instead (the old one is the
  // caller's to free).
  void set_aggregate(void* aggregate, AggregateEncoding encoding);
  StringEncoding encoding() const {
    if (flags_ & kRawEncoding) return StringEncoding::Raw;
    return (flags_ & kNotIntegerEncoding) ? StringEncoding::NotInteger : StringEncoding::Auto;
  }
  void set_encoding(StringEncoding encoding);

  // Bytes this entry takes from the allocator (for MEMORY USAGE), its aggregate's included.
  size_t allocated_size() const;

 private:
  static constexpr uint8_t kHasExpiry = 1;
  static constexpr uint8_t kRawEncoding = 2;
  static constexpr uint8_t kNotIntegerEncoding = 4;
  static constexpr uint8_t kTableEncoding = 2;  // aggregates: the bit strings use for kRawEncoding
  Entry() = default;
  static Entry* allocate(std::string_view key, size_t value_length, int64_t expire_at_ms, size_t capacity);
  // An aggregate's pointer is taken out of `source` (left null) for a new entry.
  static void hand_over_aggregate(Entry& source, Entry& target);
  const char* payload() const;
  char* payload();
  uint8_t flags_ = 0;
};

struct EntryDeleter {
  void operator()(Entry* entry) const noexcept { Entry::destroy(entry); }
};
using EntryPtr = std::unique_ptr<Entry, EntryDeleter>;

}  // namespace rc
