// The log's files: the manifest, the incremental files (the current one, the next one a rewrite
// switches to, the temporary one before the first base) and the first files created at startup.
#include "server/aof_log.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <mutex>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "server/aof_base_writer.h"
#include "server/aof_io.h"
#include "server/config.h"

namespace rc {

using aof_io::file_size;
using aof_io::reason;
using aof_io::sync_file;
using aof_io::write_all;

namespace {

bool fsync_directory(const std::string& dir) {
  const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return false;
  const bool ok = sync_file(fd);
  ::close(fd);
  return ok;
}

}  // namespace

// Read for each base written, as Redis does: CONFIG SET aof-use-rdb-preamble applies from the next rewrite.
bool AofLog::use_rdb_preamble() const { return config_.text("aof-use-rdb-preamble") != "no"; }

std::string AofLog::path(std::string_view name) const { return dir_ + "/" + std::string(name); }

std::optional<std::string> AofLog::save_manifest(const aof::Manifest& manifest) {
  const std::string final_path = path(aof::manifest_file_name(prefix_));
  const std::string temp_path = path("temp-" + aof::manifest_file_name(prefix_));
  const int fd = ::open(temp_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return fmt::format("Can't open the AOF manifest file {}: {}", temp_path, reason(errno));
  const bool ok = write_all(fd, manifest.to_text()) && sync_file(fd);
  ::close(fd);
  if (!ok || ::rename(temp_path.c_str(), final_path.c_str()) != 0) {
    ::unlink(temp_path.c_str());
    return fmt::format("Can't write the AOF manifest file {}: {}", final_path, reason(errno));
  }
  fsync_directory(dir_);
  manifest_ = manifest;
  return std::nullopt;
}

std::optional<std::string> AofLog::open_incremental(const std::string& name) {
  const std::string file = path(name);
  const int fd = ::open(file.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) return fmt::format("Can't open the append-only file {}: {}", file, reason(errno));
  if (fd_ >= 0) ::close(fd_);
  fd_ = fd;
  incr_size_ = file_size(file);
  return std::nullopt;
}

std::optional<std::string> AofLog::create_initial_files() {
  if (::mkdir(dir_.c_str(), 0755) != 0 && errno != EEXIST) {
    return fmt::format("Can't create the append-only directory {}: {}", dir_, reason(errno));
  }
  aof::Manifest manifest;
  const bool rdb_preamble = use_rdb_preamble();
  manifest.base = aof::ManifestFile{aof::base_file_name(prefix_, 1, rdb_preamble), 1, aof::FileType::Base};
  manifest.incrementals.push_back({aof::incremental_file_name(prefix_, 1), 1, aof::FileType::Incremental});
  if (!write_base_file(keyspace_, path(manifest.base->name), rdb_preamble, 0)) {
    return fmt::format("Can't write the AOF base file {}: {}", path(manifest.base->name), reason(errno));
  }
  if (auto error = open_incremental(manifest.incrementals.back().name)) return error;
  if (auto error = save_manifest(manifest)) return error;
  older_size_ = file_size(path(manifest.base->name));
  base_size_.store(older_size_);
  current_size_.store(older_size_);
  return std::nullopt;
}
int AofLog::create_next_incremental() {
  const int64_t seq = manifest_.last_incremental_seq() + 1;
  const std::string name = aof::incremental_file_name(prefix_, seq);
  const int fd = ::open(path(name).c_str(), O_WRONLY | O_APPEND | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) {
    spdlog::warn("Can't rewrite the append only file: can't open {}: {}", path(name), reason(errno));
    return -1;
  }
  // Listed after the current file before anything goes there: a crash from now on replays both, in order.
  aof::Manifest next = manifest_;
  next.incrementals.push_back({name, seq, aof::FileType::Incremental});
  if (auto error = save_manifest(next)) {
    spdlog::warn("Can't rewrite the append only file: {}", *error);
    ::close(fd);
    ::unlink(path(name).c_str());
    return -1;
  }
  return fd;
}

void AofLog::switch_incremental(int fresh_fd) {
  // Whatever an earlier switch left for its file goes first (finish_retiring writes it on the next round).
  take_buffer();
  if (retiring_fd_ >= 0) {
    // Still retiring the file before (its disk fails): the two tails go there, in order; the file that was
    // current gets nothing and stays empty, listed in the manifest.
    retiring_tail_ += unwritten_;
    ::close(fd_);
  } else {
    retiring_fd_ = fd_;
    retiring_tail_ = std::move(unwritten_);
    retiring_size_ = incr_size_;
  }
  unwritten_.clear();
  unwritten_size_.store(retiring_tail_.size(), std::memory_order_relaxed);
  fd_ = fresh_fd;
  older_size_ += incr_size_;
  incr_size_ = 0;
  std::lock_guard lock(buffer_mutex_);
  selected_db_ = -1;  // the new file starts with a SELECT
}

std::string AofLog::temp_incremental_name() const { return "temp-" + prefix_ + ".incr"; }

int AofLog::open_temp_incremental() {
  const std::string file = path(temp_incremental_name());
  const int fd = ::open(file.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) spdlog::warn("Can't rewrite the append only file: can't open {}: {}", file, reason(errno));
  return fd;
}

int AofLog::restart_temp_incremental(int fresh_fd) {
  const int stale_fd = fd_;
  fd_ = fresh_fd;
  uint64_t appended = 0;
  {
    std::lock_guard lock(buffer_mutex_);
    buffer_.clear();
    selected_db_ = -1;
    appended = appended_;
  }
  unwritten_.clear();
  unwritten_size_.store(0, std::memory_order_relaxed);
  synced_.store(appended, std::memory_order_release);
  release_replies(appended);
  incr_size_ = 0;
  older_size_ = 0;
  current_size_.store(0);
  return stale_fd;
}

}  // namespace rc
