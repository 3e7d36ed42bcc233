#pragma once
// The AOF's base file, written from a keyspace as RDB or as commands (for aof_files.cpp and
// aof_rewrite.cpp).
#include <cstdint>
#include <string>

namespace rc {

class Keyspace;

// Writes a whole base file at `file` from `keyspace`, which must not change meanwhile. Used by the
// rewrite child (which is alone in its process) and at startup (before any client). `key_delay_us`:
// key_save_delay_us() in a child, else 0.
bool write_base_file(const Keyspace& keyspace, const std::string& file, bool rdb_preamble, int64_t key_delay_us);

}  // namespace rc
