#pragma once
// Changes made to the store by the current thread, counted as Redis counts server.dirty: one per key
// written, deleted or given a new expiry, one per key moved to another name or database (RENAME, MOVE),
// one per SWAPDB, and the number of keys a flush removed. Dispatch adds a command's changes to the
// save-point counter, and checks that a write command which changed data propagated it to the AOF.
#include <cstdint>

namespace rc {

inline thread_local uint64_t t_store_mutations = 0;

}  // namespace rc
