#include "store/database.h"

namespace rc {

KeySlot::KeySlot(Shard& shard, std::string_view key, uint64_t hash, int64_t now_ms, Garbage& garbage)
    : shard_(shard), key_(key), hash_(hash), now_ms_(now_ms), garbage_(garbage),
      link_(shard.table.find_link(key, hash)) {
  if (link_ != nullptr && (*link_)->expired(now_ms)) erase();
}

void KeySlot::install(Entry* fresh) {
  // The table may resize on insert, so the link is looked up again afterwards.
  if (link_ != nullptr) {
    Entry* old = shard_.table.replace(link_, fresh);
    if (old->has_expiry()) --shard_.expiring;
    garbage_.add(old);
  } else {
    shard_.table.insert(fresh, hash_);
    link_ = shard_.table.find_link(key_, hash_);
  }
  if (fresh->has_expiry()) ++shard_.expiring;
}

Entry* KeySlot::set(std::string_view value, int64_t expire_at_ms) {
  Entry* fresh = Entry::create(key_, value, expire_at_ms);
  install(fresh);
  return fresh;
}

Entry* KeySlot::resize_value(size_t length) {
  Entry* current = get();
  Entry* fresh = Entry::resized(*current, length, current->expire_at());
  install(fresh);
  return fresh;
}

void KeySlot::set_expiry(int64_t expire_at_ms) {
  Entry* current = get();
  if (current == nullptr) return;
  const bool wants_expiry = expire_at_ms != Entry::kNoExpiry;
  if (current->has_expiry() == wants_expiry) {
    current->set_expire_at(expire_at_ms);
    return;
  }
  install(Entry::resized(*current, current->value().size(), expire_at_ms));
}

bool KeySlot::erase() {
  if (link_ == nullptr) return false;
  Entry* old = shard_.table.remove(link_);
  link_ = nullptr;
  if (old->has_expiry()) --shard_.expiring;
  garbage_.add(old);
  return true;
}

EntryPtr KeySlot::take() {
  if (link_ == nullptr) return nullptr;
  Entry* old = shard_.table.remove(link_);
  link_ = nullptr;
  if (old->has_expiry()) --shard_.expiring;
  return EntryPtr(old);
}

void KeySlot::adopt(EntryPtr entry) {
  Entry* fresh = entry.release();
  install(fresh);
}

size_t Database::size() const {
  size_t total = 0;
  for (const Shard& s : shards_) {
    std::shared_lock lock(s.mutex);
    total += s.table.size();
  }
  return total;
}

size_t Database::expiring() const {
  size_t total = 0;
  for (const Shard& s : shards_) {
    std::shared_lock lock(s.mutex);
    total += s.expiring;
  }
  return total;
}

void Database::clear_locked(Garbage& garbage) {
  for (Shard& s : shards_) {
    if (s.table.size() > 0) garbage.add(s.table.take_all());
    s.expiring = 0;
    s.expiry_cursor = 0;
  }
}

void Database::swap_contents_locked(Database& other) {
  for (size_t i = 0; i < kShardCount; ++i) {
    std::swap(shards_[i].table, other.shards_[i].table);
    const size_t mine = shards_[i].expiring.load();
    shards_[i].expiring.store(other.shards_[i].expiring.load());
    other.shards_[i].expiring.store(mine);
    shards_[i].expiry_cursor = 0;
    other.shards_[i].expiry_cursor = 0;
  }
}

size_t Database::expire_slice(size_t shard_index, size_t buckets, int64_t now_ms, Garbage& garbage,
                              size_t& expired) {
  Shard& s = shards_[shard_index];
  std::vector<Entry*> removed;
  size_t examined = 0;
  if (s.expiring.load(std::memory_order_relaxed) == 0) return 0;
  {
    std::unique_lock lock(s.mutex);
    if (s.expiring == 0) return 0;
    uint64_t cursor = s.expiry_cursor;
    for (size_t i = 0; i < buckets; ++i) {
      cursor = s.table.scan_remove(
          cursor,
          [&](const Entry* entry) {
            ++examined;
            return entry->expired(now_ms);
          },
          removed);
      if (cursor == 0) break;
    }
    s.expiry_cursor = cursor;
    s.expiring -= removed.size();
    if (!removed.empty()) s.table.shrink_if_sparse();
  }
  expired += removed.size();
  for (Entry* entry : removed) garbage.add(entry);
  return examined;
}

void Database::delete_if_expired(std::string_view key) const {
  // KeySlot's constructor removes the key if it is (still) expired; const_cast because a read that finds
  // an expired key is allowed to reclaim it, as in Redis.
  const_cast<Database*>(this)->write(key, [](KeySlot&) {});
}

}  // namespace rc
