#pragma once
// What an entry needs to own a value of another type than string: how to free it, copy it (COPY) and
// measure it (MEMORY USAGE). An entry keeps one pointer per aggregate; what it points to depends on the
// type and encoding:
//   Hash  Compact: a listpack blob of field,value,...        Table: a HashTable of field -> value entries
//   Set   Compact: an intset blob                             Table: a HashTable of member entries (no value)
//   List  Compact: a Quicklist (store/quicklist.h), always
//   ZSet  Compact: a listpack blob of member,score,...        Table: a Skiplist (store/skiplist.h)
// Each type's own file (store/hash_value.h, store/set_value.h) knows the details; this is the dispatch.
#include <cstddef>

#include "store/entry.h"

namespace rc {

// What freeing the entry's value costs, as Redis's lazyfreeGetFreeEffort: the elements of a value held as a
// table, the nodes of a list, else 1. UNLINK (and DEL with lazyfree-lazy-user-del yes) hands a value whose effort is above
// kLazyFreeThreshold to the lazy-free thread, as Redis's LAZYFREE_THRESHOLD.
size_t free_effort(const Entry& entry);
inline constexpr size_t kLazyFreeThreshold = 64;

// A null `aggregate` (one handed over to another entry) is ignored.
void destroy_aggregate(ValueType type, AggregateEncoding encoding, void* aggregate) noexcept;
void* copy_aggregate(ValueType type, AggregateEncoding encoding, const void* aggregate);
size_t aggregate_memory(ValueType type, AggregateEncoding encoding, const void* aggregate);

}  // namespace rc
