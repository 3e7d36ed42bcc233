#pragma once
// How lists fill and compress their nodes (list-max-listpack-size, list-compress-depth; store/quicklist.h):
// a new list takes the values current when it is created, as Redis's quicklistSetOptions.
//
// When a hash, set or sorted set outgrows its compact encoding (listpack, intset) and becomes a hash table
// or skiplist, as Redis decides from hash-max-listpack-entries/value, set-max-intset-entries and
// zset-max-listpack-entries/value. Held by the keyspace, set from
// the configuration (Server::apply_config), read by every write that may grow a value.
#include <atomic>
#include <cstddef>

namespace rc {

struct EncodingLimits {
  std::atomic<size_t> hash_max_listpack_entries{512};
  std::atomic<size_t> hash_max_listpack_value{64};
  std::atomic<size_t> set_max_intset_entries{512};
  std::atomic<int> list_max_listpack_size{-2};
  std::atomic<int> list_compress_depth{0};
  std::atomic<size_t> zset_max_listpack_entries{128};
  std::atomic<size_t> zset_max_listpack_value{64};

  size_t hash_entries() const { return hash_max_listpack_entries.load(std::memory_order_relaxed); }
  size_t hash_value() const { return hash_max_listpack_value.load(std::memory_order_relaxed); }
  size_t set_entries() const { return set_max_intset_entries.load(std::memory_order_relaxed); }
  int list_fill() const { return list_max_listpack_size.load(std::memory_order_relaxed); }
  int list_compress() const { return list_compress_depth.load(std::memory_order_relaxed); }
  size_t zset_entries() const { return zset_max_listpack_entries.load(std::memory_order_relaxed); }
  size_t zset_value() const { return zset_max_listpack_value.load(std::memory_order_relaxed); }
};

}  // namespace rc
