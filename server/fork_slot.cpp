#include "server/fork_slot.h"

namespace rc {

bool ForkSlot::claim(ForkKind kind) {
  std::lock_guard lock(mutex_);
  if (running_ != ForkKind::None) return false;
  running_ = kind;
  return true;
}

void ForkSlot::release(ForkKind kind) {
  std::lock_guard lock(mutex_);
  if (running_ == kind) running_ = ForkKind::None;
}

ForkKind ForkSlot::running() const {
  std::lock_guard lock(mutex_);
  return running_;
}

void ForkSlot::schedule(ForkKind kind) {
  std::lock_guard lock(mutex_);
  (kind == ForkKind::Rdb ? rdb_scheduled_ : aof_scheduled_) = true;
}

bool ForkSlot::scheduled(ForkKind kind) const {
  std::lock_guard lock(mutex_);
  return kind == ForkKind::Rdb ? rdb_scheduled_ : aof_scheduled_;
}

bool ForkSlot::take_scheduled(ForkKind kind) {
  std::lock_guard lock(mutex_);
  bool& flag = kind == ForkKind::Rdb ? rdb_scheduled_ : aof_scheduled_;
  const bool was = flag;
  flag = false;
  return was;
}

}  // namespace rc
