#pragma once
// The set type's value rules (Redis 7.0's t_set.c), on the entry that holds it, under its shard lock held by
// the caller. A set whose members are all integers starts as an intset (sorted, 2/4/8 bytes a member) and
// becomes a hash table of members (a HashTable of Entry with empty values) once a member is not an integer
// or it has more than set-max-intset-entries members; it never converts back, as in Redis.
#include <charconv>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "store/compact_blob.h"
#include "store/encoding_limits.h"
#include "store/entry.h"
#include "store/hash_table.h"
#include "store/intset.h"

namespace rc::set_value {

// An empty set for `key`, shaped for its first member as Redis's setTypeCreate: an intset when that member
// is an integer (and intsets may hold any), else a table. The caller adds the member at once.
Entry* create_for(std::string_view key, std::string_view first_member, const EncodingLimits& limits,
                  int64_t expire_at_ms = Entry::kNoExpiry);
// An empty set that starts as an intset (SINTERSTORE and friends build their result from one, as Redis).
Entry* create_intset(std::string_view key, int64_t expire_at_ms = Entry::kNoExpiry);
// An empty set held as a table (the loader fills it member by member when it is too big for an intset).
Entry* create_table(std::string_view key, int64_t expire_at_ms = Entry::kNoExpiry);
// A set from an intset that passed Intset::validate (an RDB value), converted when over `limits`.
Entry* from_intset(std::string_view key, Intset members, int64_t expire_at_ms, const EncodingLimits& limits);

size_t length(const Entry& set);
bool contains(const Entry& set, std::string_view member);
// True when the member is new.
bool add(Entry& set, std::string_view member, const EncodingLimits& limits);
// True when it was there. The caller deletes the key once the set is empty.
bool remove(Entry& set, std::string_view member);
// A member chosen uniformly (the set must not be empty).
std::string random_member(const Entry& set);

// Calls visit(std::string_view member) for every member, in storage order (an intset's is ascending). The
// view is valid during the call only.
template <typename Visit>
void for_each(const Entry& set, Visit&& visit);

// SSCAN, as hash_value::scan: an intset is visited whole in one call.
template <typename Visit>
uint64_t scan(const Entry& set, uint64_t cursor, size_t count, Visit&& visit);

// For the RDB writer: the intset's bytes (Compact encoding only).
std::string_view intset_bytes(const Entry& set);

// store/aggregate.cpp's dispatch.
void destroy(AggregateEncoding encoding, void* aggregate) noexcept;
void* copy(AggregateEncoding encoding, const void* aggregate);
size_t memory(AggregateEncoding encoding, const void* aggregate);

// ---- implementation details of the templates ----

namespace detail {
using IntsetView = BlobView<Intset>;
inline const HashTable& table(const Entry& set) { return *static_cast<const HashTable*>(set.aggregate()); }

template <typename Visit>
void visit_integer(int64_t member, Visit& visit) {
  char text[24];
  const auto result = std::to_chars(text, text + sizeof text, member);
  visit(std::string_view(text, static_cast<size_t>(result.ptr - text)));
}
}  // namespace detail

template <typename Visit>
void for_each(const Entry& set, Visit&& visit) {
  if (set.aggregate_encoding() == AggregateEncoding::Compact) {
    const detail::IntsetView members(set.aggregate());
    for (const int64_t member : *members) detail::visit_integer(member, visit);
    return;
  }
  // Bucket by bucket in index order (a one-bucket scan each), not in a scan cursor's bit-reversed order: a
  // table built from this walk (SUNIONSTORE, SINTERSTORE, SDIFFSTORE of a big set) then has its entries
  // allocated in its own bucket order, which is the order its destructor frees them in.
  const HashTable& members = detail::table(set);
  for (size_t bucket = 0; bucket < members.bucket_count(); ++bucket) {
    members.scan(bucket, [&](const Entry* member) { visit(member->key()); });
  }
}

template <typename Visit>
uint64_t scan(const Entry& set, uint64_t cursor, size_t count, Visit&& visit) {
  if (set.aggregate_encoding() == AggregateEncoding::Compact) {
    for_each(set, visit);
    return 0;
  }
  return detail::table(set).scan_some(cursor, count, [&](const Entry* member) { visit(member->key()); });
}

}  // namespace rc::set_value
