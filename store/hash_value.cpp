#include "store/hash_value.h"

#include <malloc.h>

#include <memory>

#include "store/thread_random.h"

namespace rc::hash_value {
namespace {

HashTable& table(Entry& hash) { return *static_cast<HashTable*>(hash.aggregate()); }

void insert_field(HashTable& table, std::string_view field, std::string_view value) {
  table.insert(Entry::create(field, value), hash_key(field));
}

// Listpack -> table, as Redis's hashTypeConvert.
void convert_to_table(Entry& hash) {
  auto fields = std::make_unique<HashTable>();
  {
    const detail::ListpackView listpack(hash);
    for (auto it = listpack->begin(); it != listpack->end();) {
      const std::string field = (*it++).to_string();
      const std::string value = (*it++).to_string();
      insert_field(*fields, field, value);
    }
  }
  Listpack::from_raw(hash.aggregate());  // frees it
  hash.set_aggregate(fields.release(), AggregateEncoding::Table);
}

bool too_long_for_listpack(std::string_view field, std::string_view value, const EncodingLimits& limits) {
  return field.size() > limits.hash_value() || value.size() > limits.hash_value();
}

}  // namespace

Entry* create(std::string_view key, int64_t expire_at_ms) {
  return Entry::create_aggregate(key, ValueType::Hash, AggregateEncoding::Compact, Listpack().release(),
                                 expire_at_ms);
}

Entry* from_listpack(std::string_view key, Listpack pairs, int64_t expire_at_ms, AggregateEncoding encoding) {
  Entry* hash = Entry::create_aggregate(key, ValueType::Hash, AggregateEncoding::Compact, pairs.release(),
                                        expire_at_ms);
  if (encoding == AggregateEncoding::Table) convert_to_table(*hash);
  return hash;
}

Entry* create_table(std::string_view key, int64_t expire_at_ms) {
  return Entry::create_aggregate(key, ValueType::Hash, AggregateEncoding::Table, new HashTable(), expire_at_ms);
}

size_t length(const Entry& hash) {
  if (hash.aggregate_encoding() == AggregateEncoding::Table) return detail::table(hash).size();
  return detail::ListpackView(hash)->size() / 2;
}

std::optional<Element> get(const Entry& hash, std::string_view field) {
  if (hash.aggregate_encoding() == AggregateEncoding::Table) {
    const Entry* found = detail::table(hash).find(field, hash_key(field));
    if (found == nullptr) return std::nullopt;
    return Element::of_string(found->value());
  }
  const detail::ListpackView listpack(hash);
  auto it = listpack->find(field, 1);
  if (it == listpack->end()) return std::nullopt;
  return *++it;
}

bool contains(const Entry& hash, std::string_view field) { return get(hash, field).has_value(); }

bool set(Entry& hash, std::string_view field, std::string_view value, const EncodingLimits& limits) {
  if (hash.aggregate_encoding() == AggregateEncoding::Compact && too_long_for_listpack(field, value, limits)) {
    convert_to_table(hash);
  }
  if (hash.aggregate_encoding() == AggregateEncoding::Table) {
    HashTable& fields = table(hash);
    const uint64_t code = hash_key(field);
    Entry** link = fields.find_link(field, code);
    if (link == nullptr) {
      insert_field(fields, field, value);
      return true;
    }
    Entry::destroy(fields.replace(link, Entry::create(field, value)));
    return false;
  }
  bool added = false;
  size_t pairs = 0;
  {
    BorrowedBlob<Listpack> listpack(hash);
    auto it = listpack->find(field, 1);
    if (it != listpack->end()) {
      listpack->replace(++it, value);
    } else {
      listpack->append(field);
      listpack->append(value);
      added = true;
    }
    pairs = listpack->size() / 2;
  }
  if (pairs > limits.hash_entries()) convert_to_table(hash);
  return added;
}

bool remove(Entry& hash, std::string_view field) {
  if (hash.aggregate_encoding() == AggregateEncoding::Table) {
    HashTable& fields = table(hash);
    Entry** link = fields.find_link(field, hash_key(field));
    if (link == nullptr) return false;
    Entry::destroy(fields.remove(link));
    return true;
  }
  BorrowedBlob<Listpack> listpack(hash);
  auto it = listpack->find(field, 1);
  if (it == listpack->end()) return false;
  it = listpack->erase(it);
  listpack->erase(it);
  return true;
}

std::pair<Element, Element> random_field(const Entry& hash) {
  if (hash.aggregate_encoding() == AggregateEncoding::Table) {
    const Entry* field = detail::table(hash).random_entry(thread_random);
    return {Element::of_string(field->key()), Element::of_string(field->value())};
  }
  const detail::ListpackView listpack(hash);
  const size_t pairs = listpack->size() / 2;
  auto it = listpack->seek(static_cast<int64_t>(2 * (thread_random() % pairs)));
  const Element field = *it++;
  return {field, *it};
}

std::string_view listpack_bytes(const Entry& hash) { return detail::ListpackView(hash)->bytes(); }

void destroy(AggregateEncoding encoding, void* aggregate) noexcept {
  if (encoding == AggregateEncoding::Table) {
    delete static_cast<HashTable*>(aggregate);
  } else {
    Listpack::from_raw(aggregate);
  }
}

void* copy(AggregateEncoding encoding, const void* aggregate) {
  if (encoding == AggregateEncoding::Compact) {
    const detail::ListpackView original(aggregate);
    return Listpack(*original).release();
  }
  return new HashTable(static_cast<const HashTable*>(aggregate)->copy());
}

size_t memory(AggregateEncoding encoding, const void* aggregate) {
  if (encoding == AggregateEncoding::Compact) return detail::ListpackView(aggregate)->allocated_bytes();
  const auto* fields = static_cast<const HashTable*>(aggregate);
  return malloc_usable_size(const_cast<HashTable*>(fields)) + fields->allocated_bytes();
}

}  // namespace rc::hash_value
