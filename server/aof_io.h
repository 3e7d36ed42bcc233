#pragma once
// File helpers shared by the AOF's source files (aof_log.cpp, aof_files.cpp, aof_loader.cpp,
// aof_rewrite.cpp, aof_base_writer.cpp). In their own namespace: the names are common ones.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace rc::aof_io {

// strerror(error), for the messages logged and returned.
std::string reason(int error);

// One write of `data` to the end of the file, as many write() calls as it takes. `written` is how much
// went out; `error` is the errno that stopped it short (0 when everything was written).
struct WriteOutcome {
  size_t written = 0;
  int error = 0;
};

WriteOutcome write_as_far_as_possible(int fd, std::string_view data);
// write_as_far_as_possible without the outcome: true when everything was written.
bool write_all(int fd, std::string_view data);
// fdatasync / fsync, counted in io_under_snapshot_locks() when made under every shard lock.
bool sync_data(int fd);
bool sync_file(int fd);
// Writes and syncs of the AOF's files made while the thread held every shard lock (rdb::SnapshotLocks):
// writers wait for those locks, so the AOF does its disk work before or after them. Tests check it stays 0.
uint64_t io_under_snapshot_locks();

// The whole of `file` into `out`; the message to return when it cannot be opened.
std::optional<std::string> read_file(const std::string& file, std::string& out);
// 0 when `file` cannot be stat'ed.
uint64_t file_size(const std::string& file);

}  // namespace rc::aof_io
