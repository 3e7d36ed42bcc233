#include "server/aof_io.h"

#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include <fmt/format.h>

#include "store/rdb/snapshot_locks.h"

namespace rc::aof_io {
namespace {

std::atomic<uint64_t> g_io_under_snapshot_locks{0};

void note_disk_io() {
  if (rdb::t_holding_snapshot_locks) g_io_under_snapshot_locks.fetch_add(1, std::memory_order_relaxed);
}

}  // namespace

uint64_t io_under_snapshot_locks() { return g_io_under_snapshot_locks.load(std::memory_order_relaxed); }

bool sync_data(int fd) {
  note_disk_io();
  return ::fdatasync(fd) == 0;
}

bool sync_file(int fd) {
  note_disk_io();
  return ::fsync(fd) == 0;
}

std::string reason(int error) { return std::strerror(error); }

WriteOutcome write_as_far_as_possible(int fd, std::string_view data) {
  note_disk_io();
  WriteOutcome outcome;
  while (outcome.written < data.size()) {
    const ssize_t n = ::write(fd, data.data() + outcome.written, data.size() - outcome.written);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      outcome.error = n < 0 ? errno : ENOSPC;
      break;
    }
    outcome.written += static_cast<size_t>(n);
  }
  return outcome;
}

bool write_all(int fd, std::string_view data) { return write_as_far_as_possible(fd, data).error == 0; }

std::optional<std::string> read_file(const std::string& file, std::string& out) {
  std::ifstream in(file, std::ios::binary);
  if (!in) return fmt::format("Can't open the append-only file {}: {}", file, reason(errno));
  std::ostringstream contents;
  contents << in.rdbuf();
  out = std::move(contents).str();
  return std::nullopt;
}

uint64_t file_size(const std::string& file) {
  struct stat st {};
  return ::stat(file.c_str(), &st) == 0 ? static_cast<uint64_t>(st.st_size) : 0;
}

}  // namespace rc::aof_io
