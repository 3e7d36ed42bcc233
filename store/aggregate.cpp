#include "store/aggregate.h"

#include "store/hash_table.h"
#include "store/hash_value.h"
#include "store/list_value.h"
#include "store/set_value.h"
#include "store/zset_value.h"

namespace rc {

size_t free_effort(const Entry& entry) {
  if (entry.type() == ValueType::List) return list_value::free_effort(entry.aggregate());
  if (entry.is_string() || entry.aggregate_encoding() == AggregateEncoding::Compact) return 1;
  if (entry.type() == ValueType::ZSet) return zset_value::free_effort(entry);
  return static_cast<const HashTable*>(entry.aggregate())->size();
}

void destroy_aggregate(ValueType type, AggregateEncoding encoding, void* aggregate) noexcept {
  if (aggregate == nullptr) return;
  switch (type) {
    case ValueType::Hash:
      return hash_value::destroy(encoding, aggregate);
    case ValueType::Set:
      return set_value::destroy(encoding, aggregate);
    case ValueType::List:
      return list_value::destroy(aggregate);
    case ValueType::ZSet:
      return zset_value::destroy(encoding, aggregate);
    default:
      return;
  }
}

void* copy_aggregate(ValueType type, AggregateEncoding encoding, const void* aggregate) {
  switch (type) {
    case ValueType::Hash:
      return hash_value::copy(encoding, aggregate);
    case ValueType::Set:
      return set_value::copy(encoding, aggregate);
    case ValueType::List:
      return list_value::copy(aggregate);
    case ValueType::ZSet:
      return zset_value::copy(encoding, aggregate);
    default:
      return nullptr;
  }
}

size_t aggregate_memory(ValueType type, AggregateEncoding encoding, const void* aggregate) {
  if (aggregate == nullptr) return 0;
  switch (type) {
    case ValueType::Hash:
      return hash_value::memory(encoding, aggregate);
    case ValueType::Set:
      return set_value::memory(encoding, aggregate);
    case ValueType::List:
      return list_value::memory(aggregate);
    case ValueType::ZSet:
      return zset_value::memory(encoding, aggregate);
    default:
      return 0;
  }
}

}  // namespace rc
