#include "store/string_ops.h"

#include <cstring>

namespace rc {

std::optional<int64_t> add_checked(int64_t value, int64_t delta) {
  int64_t sum = 0;
  if (__builtin_add_overflow(value, delta, &sum)) return std::nullopt;
  return sum;
}

std::string_view string_range(std::string_view value, int64_t start, int64_t end) {
  const auto length = static_cast<int64_t>(value.size());
  // Both negative and crossed: empty even when clamping would make them meet (getrangeCommand).
  if (start < 0 && end < 0 && start > end) return {};
  if (start < 0) start += length;
  if (end < 0) end += length;
  if (start < 0) start = 0;
  if (end < 0) end = 0;
  if (end >= length) end = length - 1;
  if (length == 0 || start > end) return {};
  return value.substr(static_cast<size_t>(start), static_cast<size_t>(end - start + 1));
}

void write_at(Entry& entry, size_t old_length, size_t offset, std::string_view patch) {
  char* data = entry.value_data();
  if (offset > old_length) std::memset(data + old_length, 0, offset - old_length);
  if (!patch.empty()) std::memcpy(data + offset, patch.data(), patch.size());
}

}  // namespace rc
