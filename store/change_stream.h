#pragma once
// The one path every change to the dataset takes on its way out of the process: the commands that made a
// change, the deletions of keys whose time ran out (lazily on access, or by the active expiry pass), and
// later evictions. Its consumers are the AOF today and a replication backlog later; they all see the same
// changes in the same order, with the same offsets.
//
// Order: a change is published by the thread that made it, while it still holds the shard lock(s) of what
// it changed. Two changes to one key are therefore published in the order they were applied, and a
// consumer that replays the stream rebuilds the same dataset. Changes to unrelated shards may be published
// in either order, which is fine: neither depends on the other. The stream's own mutex then gives every
// change one place in one sequence, numbered by the offset.
//
// Attaching or detaching a consumer happens under every shard lock (no change can be between its
// application and its publication), so a consumer sees exactly the changes made after it attached.
#include <atomic>
#include <string>
#include <utility>
#include <vector>
#include <cstdint>
#include <mutex>
#include <span>
#include <string_view>

#include "store/keyspace_events.h"

namespace rc {

class ChangeConsumer {
 public:
  // One change, in database `db`, as a command to replay (argv). Called with the stream's mutex held, in
  // offset order; `offset` is the change's place in the stream (the first change is 1).
  virtual void consume(uint64_t offset, int db, std::span<const std::string_view> argv) = 0;

 protected:
  ~ChangeConsumer() = default;
};

class ChangeStream {
 public:
  // Publishes one change. The caller holds the shard lock(s) of what it changed. Returns its offset (with
  // no consumer attached the change takes no place in the stream, and the offset does not move).
  uint64_t publish(int db, std::span<const std::string_view> argv);
  uint64_t publish(int db, std::initializer_list<std::string_view> argv) {
    return publish(db, std::span<const std::string_view>(argv.begin(), argv.size()));
  }

  // The deletion of a key whose time ran out: DEL, or UNLINK with lazyfree-lazy-expire yes, as Redis
  // propagates it (propagateDeletion), so that a replay without a clock removes the key at the same place.
  // It is also where the "expired" keyspace notification starts, lazy or active.
  void publish_expired(int db, std::string_view key) {
    publish(db, {unlink_expired() ? "UNLINK" : "DEL", key});
    keyspace_events::notify(keyspace_events::kExpired, "expired", key, db);
  }
  void set_unlink_expired(bool unlink) { unlink_expired_.store(unlink, std::memory_order_relaxed); }
  bool unlink_expired() const { return unlink_expired_.load(std::memory_order_relaxed); }

  // The caller holds every shard lock of every database (see the top of this file). One consumer for now.
  void attach(ChangeConsumer* consumer);
  void detach(ChangeConsumer* consumer);
  bool attached(const ChangeConsumer* consumer) const { return consumer_.load(std::memory_order_acquire) == consumer; }

  // The offset of the last change published (0 before the first).
  uint64_t offset() const { return offset_.load(std::memory_order_acquire); }

  // EXEC: while a capture is active on this thread, its changes are kept instead of published; end_capture()
  // then publishes them at once, wrapped in MULTI/EXEC when there are several (as Redis propagates a
  // transaction), so that no other thread's change lands in between. The caller still holds the shard locks of
  // everything they changed.
  struct Capture {
    std::vector<std::pair<int, std::vector<std::string>>> changes;  // database, command
  };
  static void begin_capture(Capture& capture);
  uint64_t end_capture(Capture& capture);

  // Changes the calling thread has published so far (dispatch checks that a write command that changed the
  // dataset published something).
  static uint64_t published_by_this_thread();

 private:
  std::mutex mutex_;  // one place in the sequence per change; held while the consumer takes it
  std::atomic<uint64_t> offset_{0};
  std::atomic<ChangeConsumer*> consumer_{nullptr};
  std::atomic<bool> unlink_expired_{false};
};

}  // namespace rc
