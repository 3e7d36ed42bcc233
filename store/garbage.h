#pragma once
// Entries and whole tables unlinked under a shard's lock are freed only after the lock is released:
// freeing a large value or a million entries takes long, and no other client should wait for it.
#include <vector>

#include "store/entry.h"
#include "store/hash_table.h"

namespace rc {

class Garbage {
 public:
  Garbage() = default;
  Garbage(Garbage&&) = default;
  Garbage& operator=(Garbage&&) = default;
  ~Garbage() { clear(); }

  void add(Entry* entry) { entries_.push_back(entry); }
  void add(HashTable&& table) { tables_.push_back(std::move(table)); }
  bool empty() const { return entries_.empty() && tables_.empty(); }
  void clear() {
    for (Entry* entry : entries_) Entry::destroy(entry);
    entries_.clear();
    tables_.clear();
  }

 private:
  std::vector<Entry*> entries_;
  std::vector<HashTable> tables_;
};

}  // namespace rc
