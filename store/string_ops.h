#pragma once
// Value-level rules of the string commands (Redis's t_string.c), kept apart from locking and replies:
// the size limit, counter arithmetic, GETRANGE's index clamping and in-place edits of an entry's bytes.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

#include "store/entry.h"

namespace rc {

// The largest string a command may build (APPEND, SETRANGE): proto-max-bulk-len's default, 512 MB.
inline constexpr uint64_t kMaxStringLength = 512ULL * 1024 * 1024;

// Whether a string of `offset + length` bytes would pass the limit (Redis's checkStringLength).
inline bool fits_string_limit(uint64_t offset, uint64_t length) {
  return offset <= kMaxStringLength && length <= kMaxStringLength - offset;
}

// value + delta, or nullopt when the sum leaves int64 (INCRBY/DECRBY reply "would overflow").
std::optional<int64_t> add_checked(int64_t value, int64_t delta);

// The bytes GETRANGE returns for inclusive indexes start..end: negative ones count from the end, both are
// clamped to the string, and an empty view when nothing is left.
std::string_view string_range(std::string_view value, int64_t start, int64_t end);

// Copies `patch` into `entry`'s value at `offset`, zero-filling from `old_length` up to `offset` (SETRANGE
// on a value that was just grown from old_length bytes). The value must hold offset + patch.size() bytes.
void write_at(Entry& entry, size_t old_length, size_t offset, std::string_view patch);

}  // namespace rc
