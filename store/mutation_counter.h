#pragma once
// Changes made to the store by the current thread (KeySlot mutations, flushes, swaps). Dispatch compares
// it before and after a write command to catch one that changed data without propagating it to the AOF.
#include <cstdint>

namespace rc {

inline thread_local uint64_t t_store_mutations = 0;

}  // namespace rc
