#pragma once
// One forked child at a time, as Redis's child_type: a BGSAVE child and an AOF rewrite child never run
// together (each would copy the whole dataset's memory on write, and both write the disk flat out). A
// start that finds the other kind running is refused or scheduled, with Redis's replies:
//   BGSAVE while a rewrite runs: an error, or with SCHEDULE "Background saving scheduled";
//   BGREWRITEAOF while a BGSAVE runs: "Background append only file rewriting scheduled".
// When a child ends, whatever was scheduled starts at the next tick of the loop that owns it (the AOF's
// writer thread, the persistence cron; both tick ten times a second, as Redis's serverCron at hz 10).
#include <mutex>

namespace rc {

enum class ForkKind { None, Rdb, Aof };

class ForkSlot {
 public:
  // Takes the slot for a child of `kind` about to be forked: false while any child runs.
  bool claim(ForkKind kind);
  // The child of `kind` has ended (or its fork failed): the slot is free, and a scheduled start may run.
  void release(ForkKind kind);
  ForkKind running() const;
  bool busy() const { return running() != ForkKind::None; }

  // Redis's rdb_bgsave_scheduled / aof_rewrite_scheduled.
  void schedule(ForkKind kind);
  bool scheduled(ForkKind kind) const;
  // Clears and returns whether `kind` was scheduled (its start is about to be tried).
  bool take_scheduled(ForkKind kind);
  void unschedule(ForkKind kind) { take_scheduled(kind); }

 private:
  mutable std::mutex mutex_;
  ForkKind running_ = ForkKind::None;
  bool rdb_scheduled_ = false;
  bool aof_scheduled_ = false;
};

}  // namespace rc
