#pragma once
// The hash type's value rules (Redis's t_hash.c), on the entry that holds it, under its shard lock held by
// the caller. A hash starts as a listpack of field,value,field,value... and becomes a hash table of
// field -> value entries (a HashTable of Entry, the same table the keyspace uses) once it has more than
// hash-max-listpack-entries fields or a field or value longer than hash-max-listpack-value bytes, as Redis
// converts it; it never converts back (Redis does not either).
//
// Fields and values come back as ListpackElement: bytes, or an integer when the listpack stored one (a
// listpack keeps "123" as the integer 123). Both are valid until the hash changes.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "store/compact_blob.h"
#include "store/encoding_limits.h"
#include "store/entry.h"
#include "store/hash_table.h"
#include "store/listpack.h"

namespace rc::hash_value {

using Element = ListpackElement;

// An empty hash (a listpack) for `key`; the caller adds its first field at once (no empty hash is kept).
Entry* create(std::string_view key, int64_t expire_at_ms = Entry::kNoExpiry);
// A hash from a listpack of field,value pairs that passed Listpack::validate_pairs (an RDB value), held as
// `encoding`: the RDB loader decides it by the rule of each RDB type, as Redis's does.
Entry* from_listpack(std::string_view key, Listpack pairs, int64_t expire_at_ms, AggregateEncoding encoding);
// An empty hash held as a table (the loader fills it field by field when it is too big for a listpack).
Entry* create_table(std::string_view key, int64_t expire_at_ms = Entry::kNoExpiry);

size_t length(const Entry& hash);
std::optional<Element> get(const Entry& hash, std::string_view field);
bool contains(const Entry& hash, std::string_view field);

// Sets `field` to `value`; true when the field is new. Converts to a table first when the listpack would
// break `limits`.
bool set(Entry& hash, std::string_view field, std::string_view value, const EncodingLimits& limits);
// Removes `field`; true when it was there. The caller deletes the key once the hash is empty.
bool remove(Entry& hash, std::string_view field);

// A field and its value chosen uniformly (the hash must not be empty).
std::pair<Element, Element> random_field(const Entry& hash);

// Calls visit(Element field, Element value) for every field, in storage order.
template <typename Visit>
void for_each(const Entry& hash, Visit&& visit);

// HSCAN: visits the fields of the buckets the cursor names, up to about `count` of them, and returns the
// next cursor (0 when done). A listpack is visited whole in one call, as Redis does.
template <typename Visit>
uint64_t scan(const Entry& hash, uint64_t cursor, size_t count, Visit&& visit);

// For the RDB writer: the listpack's bytes (Compact encoding only).
std::string_view listpack_bytes(const Entry& hash);

// store/aggregate.cpp's dispatch.
void destroy(AggregateEncoding encoding, void* aggregate) noexcept;
void* copy(AggregateEncoding encoding, const void* aggregate);
size_t memory(AggregateEncoding encoding, const void* aggregate);

// ---- implementation details of the templates ----

namespace detail {
using ListpackView = BlobView<Listpack>;
inline const HashTable& table(const Entry& hash) { return *static_cast<const HashTable*>(hash.aggregate()); }
}  // namespace detail

template <typename Visit>
void for_each(const Entry& hash, Visit&& visit) {
  if (hash.aggregate_encoding() == AggregateEncoding::Table) {
    uint64_t cursor = 0;
    do {
      cursor = detail::table(hash).scan(cursor, [&](const Entry* field) {
        visit(Element::of_string(field->key()), Element::of_string(field->value()));
      });
    } while (cursor != 0);
    return;
  }
  const detail::ListpackView listpack(hash);
  for (auto it = listpack->begin(); it != listpack->end();) {
    const Element field = *it++;
    const Element value = *it++;
    visit(field, value);
  }
}

template <typename Visit>
uint64_t scan(const Entry& hash, uint64_t cursor, size_t count, Visit&& visit) {
  if (hash.aggregate_encoding() == AggregateEncoding::Compact) {
    for_each(hash, visit);
    return 0;
  }
  return detail::table(hash).scan_some(cursor, count, [&](const Entry* field) {
    visit(Element::of_string(field->key()), Element::of_string(field->value()));
  });
}

}  // namespace rc::hash_value
