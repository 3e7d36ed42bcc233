#pragma once
// Test hooks, the counterparts of Redis's hidden rdb-key-save-delay and key-load-delay configs: they slow
// a save or a load down key by key, so that tests can watch what happens meanwhile. Read from the
// environment (0 when unset); never set in production.
#include <cstdint>

namespace rc {

// REDIS_CLONE_RDB_KEY_SAVE_DELAY_US: each key a forked child writes (BGSAVE, an AOF rewrite's base)
// takes this long. Read in the parent, before the fork.
int64_t key_save_delay_us();
// REDIS_CLONE_KEY_LOAD_DELAY_US: each key of an RDB file loaded at start (or of an AOF's RDB base).
int64_t key_load_delay_us();

}  // namespace rc
