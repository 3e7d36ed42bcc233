#include "store/set_value.h"

#include <malloc.h>

#include <memory>

#include "store/listpack.h"
#include "store/thread_random.h"

namespace rc::set_value {
namespace {

HashTable& table(Entry& set) { return *static_cast<HashTable*>(set.aggregate()); }

bool insert_member(HashTable& members, std::string_view member) {
  const uint64_t code = hash_key(member);
  if (members.find(member, code) != nullptr) return false;
  members.insert(Entry::create(member, {}), code);
  return true;
}

// Intset -> table, as Redis's setTypeConvert.
void convert_to_table(Entry& set) {
  auto members = std::make_unique<HashTable>();
  for_each(set, [&](std::string_view member) { insert_member(*members, member); });
  Intset::from_raw(set.aggregate());  // frees it
  set.set_aggregate(members.release(), AggregateEncoding::Table);
}

}  // namespace

Entry* create_intset(std::string_view key, int64_t expire_at_ms) {
  return Entry::create_aggregate(key, ValueType::Set, AggregateEncoding::Compact, Intset().release(), expire_at_ms);
}

Entry* create_for(std::string_view key, std::string_view first_member, const EncodingLimits& limits,
                  int64_t expire_at_ms) {
  if (listpack_integer_value(first_member) && limits.set_entries() > 0) return create_intset(key, expire_at_ms);
  return create_table(key, expire_at_ms);
}

Entry* create_table(std::string_view key, int64_t expire_at_ms) {
  return Entry::create_aggregate(key, ValueType::Set, AggregateEncoding::Table, new HashTable(), expire_at_ms);
}

Entry* from_intset(std::string_view key, Intset members, int64_t expire_at_ms, const EncodingLimits& limits) {
  const bool too_many = members.size() > limits.set_entries();
  Entry* set = Entry::create_aggregate(key, ValueType::Set, AggregateEncoding::Compact, members.release(),
                                       expire_at_ms);
  if (too_many) convert_to_table(*set);
  return set;
}

size_t length(const Entry& set) {
  if (set.aggregate_encoding() == AggregateEncoding::Table) return detail::table(set).size();
  return detail::IntsetView(set.aggregate())->size();
}

bool contains(const Entry& set, std::string_view member) {
  if (set.aggregate_encoding() == AggregateEncoding::Table) {
    return detail::table(set).find(member, hash_key(member)) != nullptr;
  }
  const auto integer = listpack_integer_value(member);
  return integer && detail::IntsetView(set.aggregate())->contains(*integer);
}

bool add(Entry& set, std::string_view member, const EncodingLimits& limits) {
  if (set.aggregate_encoding() == AggregateEncoding::Compact) {
    const auto integer = listpack_integer_value(member);
    if (integer) {
      size_t size = 0;
      bool added = false;
      {
        BorrowedBlob<Intset> members(set);
        added = members->add(*integer);
        size = members->size();
      }
      if (added && size > limits.set_entries()) convert_to_table(set);
      return added;
    }
    convert_to_table(set);
  }
  return insert_member(table(set), member);
}

bool remove(Entry& set, std::string_view member) {
  if (set.aggregate_encoding() == AggregateEncoding::Compact) {
    const auto integer = listpack_integer_value(member);
    if (!integer) return false;
    BorrowedBlob<Intset> members(set);
    return members->remove(*integer);
  }
  HashTable& members = table(set);
  Entry** link = members.find_link(member, hash_key(member));
  if (link == nullptr) return false;
  Entry::destroy(members.remove(link));
  return true;
}

std::string random_member(const Entry& set) {
  if (set.aggregate_encoding() == AggregateEncoding::Table) {
    return std::string(detail::table(set).random_entry(thread_random)->key());
  }
  return std::to_string(detail::IntsetView(set.aggregate())->random_member(thread_random));
}

std::string_view intset_bytes(const Entry& set) { return detail::IntsetView(set.aggregate())->bytes(); }

void destroy(AggregateEncoding encoding, void* aggregate) noexcept {
  if (encoding == AggregateEncoding::Table) {
    delete static_cast<HashTable*>(aggregate);
  } else {
    Intset::from_raw(aggregate);
  }
}

void* copy(AggregateEncoding encoding, const void* aggregate) {
  if (encoding == AggregateEncoding::Compact) return Intset(*detail::IntsetView(aggregate)).release();
  return new HashTable(static_cast<const HashTable*>(aggregate)->copy());
}

size_t memory(AggregateEncoding encoding, const void* aggregate) {
  if (encoding == AggregateEncoding::Compact) return detail::IntsetView(aggregate)->allocated_bytes();
  const auto* members = static_cast<const HashTable*>(aggregate);
  return malloc_usable_size(const_cast<HashTable*>(members)) + members->allocated_bytes();
}

}  // namespace rc::set_value
