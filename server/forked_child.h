#pragma once
// The start of a child forked to write a snapshot (BGSAVE, BGREWRITEAOF): only the forking thread exists
// there, so nothing here takes a lock or logs.

#include <cstdint>

namespace rc {

// Unblocks the signals the forking thread had blocked (main takes SIGTERM and SIGINT with sigwait; the
// child should die of them like any process) and closes every descriptor from 3 up but `keep` (-1: none),
// so the child holds no listening or client socket after the parent closes it.
void prepare_forked_child(int keep);

// A test hook, as Redis's rdb-key-save-delay: REDIS_CLONE_RDB_KEY_SAVE_DELAY_US makes each key a forked
// child writes (BGSAVE, an AOF rewrite's base) take that long, so that tests can watch a child at work.
// 0 when unset. Read in the parent, before the fork.
int64_t key_save_delay_us();

}  // namespace rc
