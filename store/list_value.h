#pragma once
// The list type's value (Redis's t_list.c listType* layer): an entry of type List owns a Quicklist
// (store/quicklist.h) through its aggregate pointer. Redis 7.0 has no other list encoding, so the entry's
// AggregateEncoding is always Compact and OBJECT ENCODING answers "quicklist". A list is created by the
// push that gives it its first element and deleted by the command that removes its last one; no empty
// list is ever kept.
#include <cstddef>
#include <string_view>

#include "store/encoding_limits.h"
#include "store/entry.h"
#include "store/quicklist.h"

namespace rc::list_value {

// An empty list for `key` with the node options of `limits` (the caller pushes at once).
Entry* create(std::string_view key, const EncodingLimits& limits, int64_t expire_at_ms = Entry::kNoExpiry);
// An entry owning `elements` (the RDB loader).
Entry* adopt(std::string_view key, Quicklist* elements, int64_t expire_at_ms);

inline Quicklist& elements(Entry& list) { return *static_cast<Quicklist*>(list.aggregate()); }
inline const Quicklist& elements(const Entry& list) { return *static_cast<const Quicklist*>(list.aggregate()); }
inline size_t length(const Entry& list) { return elements(list).size(); }

// store/aggregate.cpp's dispatch. The effort of freeing a list is its node count, as Redis's
// lazyfreeGetFreeEffort.
void destroy(void* aggregate) noexcept;
void* copy(const void* aggregate);
size_t memory(const void* aggregate);
size_t free_effort(const void* aggregate);

}  // namespace rc::list_value
