#include "store/list_value.h"

#include <malloc.h>

namespace rc::list_value {

Entry* create(std::string_view key, const EncodingLimits& limits, int64_t expire_at_ms) {
  return adopt(key, new Quicklist(limits.list_fill(), limits.list_compress()), expire_at_ms);
}

Entry* adopt(std::string_view key, Quicklist* elements, int64_t expire_at_ms) {
  return Entry::create_aggregate(key, ValueType::List, AggregateEncoding::Compact, elements, expire_at_ms);
}

void destroy(void* aggregate) noexcept { delete static_cast<Quicklist*>(aggregate); }

void* copy(const void* aggregate) { return new Quicklist(*static_cast<const Quicklist*>(aggregate)); }

size_t memory(const void* aggregate) {
  const auto* list = static_cast<const Quicklist*>(aggregate);
  return malloc_usable_size(const_cast<Quicklist*>(list)) + list->allocated_bytes();
}

size_t free_effort(const void* aggregate) { return static_cast<const Quicklist*>(aggregate)->node_count(); }

}  // namespace rc::list_value
