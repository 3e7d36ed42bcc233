// The log itself: appends, the writes and fsyncs before replies and in the writer thread, start and
// stop, CONFIG SET appendonly, INFO, and the per-thread tracking of what commands propagated. The files
// and the manifest are in aof_files.cpp, the load in aof_loader.cpp, BGREWRITEAOF in aof_rewrite.cpp.
#include "server/aof_log.h"

#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <thread>
#include <utility>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "server/aof_io.h"
#include "server/config.h"
#include "store/aof/command_reader.h"
#include "store/clock.h"
#include "store/rdb/snapshot_locks.h"

namespace rc {

using aof_io::read_file;
using aof_io::reason;
using aof_io::sync_data;
using aof_io::write_as_far_as_possible;
using aof_io::WriteOutcome;

namespace {

// How often the writer thread wakes by itself (to write what nobody waits for, fsync once a second, and
// try again after a failed write).
constexpr std::chrono::milliseconds kWritePeriod{100};
// A disk that stays broken is retried every kWritePeriod; its error is logged at most this often.
constexpr int64_t kWriteErrorLogSeconds = 30;

thread_local uint64_t t_wait_offset = 0;
thread_local AofLog* t_wait_log = nullptr;  // the log t_wait_offset belongs to

// appendfsync always promised that every reply sent was on disk; after a failed write or fsync that can
// no longer be kept, so the process ends, as Redis does. _Exit: the other threads still use what exit()
// would destroy.
[[noreturn]] void exit_on_durability_error(const std::string& message) {
  spdlog::warn("{}", message);
  spdlog::default_logger()->flush();
  std::_Exit(1);
}

}  // namespace

// ---- per-thread tracking ----

void aof_tracking::record(AofLog* log, uint64_t offset) {
  t_wait_log = log;
  t_wait_offset = std::max(t_wait_offset, offset);
}

aof_tracking::PendingWait aof_tracking::pending() { return {t_wait_log, t_wait_offset}; }

// Waiting here rather than after each command lets a pipeline of writes share one write and one fsync,
// as Redis's event loop writes and fsyncs once before it sends the replies of all its clients.
void aof_tracking::wait_before_replies() {
  // The log the commands appended to, even if CONFIG SET appendonly no switched it off since: its stop()
  // writes what is buffered and then lets every wait go.
  const uint64_t offset = std::exchange(t_wait_offset, 0);
  if (offset == 0) return;
  std::exchange(t_wait_log, nullptr)->flush_for_reply(offset);
}

// ---- the log ----

bool AofLog::logging() const { return keyspace_.changes().attached(this); }

AofLog::AofLog(Config& config, Keyspace& keyspace, ForkSlot& forks)
    : config_(config),
      keyspace_(keyspace),
      forks_(forks),
      dir_(config.text("dir") + "/" + config.text("appenddirname")),
      prefix_(config.text("appendfilename")),
      policy_(config.text("appendfsync") == "always" ? AofFsync::Always
              : config.text("appendfsync") == "no"   ? AofFsync::No
                                                     : AofFsync::EverySec) {}

AofLog::~AofLog() { stop(); }

void AofLog::consume(uint64_t, int db, std::span<const std::string_view> argv) {
  aof_tracking::record(this, append_command(db, argv));
}

// Encodes straight into the buffer, under the maker's shard lock.
uint64_t AofLog::append_command(int db, std::span<const std::string_view> argv) {
  std::lock_guard lock(buffer_mutex_);
  const size_t before = buffer_.size();
  if (db != selected_db_) {
    aof::encode_command(buffer_, {"SELECT", std::to_string(db)});
    selected_db_ = db;
  }
  aof::encode_command(buffer_, argv);
  appended_ += buffer_.size() - before;
  // No wake-up here: the reply's flush_for_reply asks for it, so a stream of appends costs no system call.
  return appended_;
}

// Before a reply: the command's log entry must be in the kernel (everysec, no: a crash of the process
// loses nothing acknowledged, as Redis, which writes the AOF before sending replies) or on disk (always).
//
// everysec and no: the client's own thread writes (handing a write to the writer thread would cost two
// context switches per reply, doubling the CPU per request). One thread writes at a time and takes
// everything appended so far; the others wait for its round to end, all woken at once, and most find
// their entries covered; one that is not covered becomes the next writer. (Queueing on the mutex instead
// would wake the waiters one by one, each after the one before it.)
//
// always: the writer thread writes and fsyncs for every waiting reply at once (group commit). Measured
// here at 50 clients, this beat fsyncs made by the clients' own threads (0.66-0.87x of redis-server's
// SET rate against 0.50-0.55x): the fsync dominates, and one thread that loops on it gathers larger
// batches than clients taking turns.
void AofLog::flush_for_reply(uint64_t offset) {
  if (policy_ == AofFsync::Always) {
    if (released_.load(std::memory_order_acquire) >= offset) return;
    {
      std::lock_guard lock(buffer_mutex_);
      if (!wake_requested_) {
        wake_requested_ = true;
        buffer_ready_.notify_one();
      }
    }
    std::unique_lock lock(rounds_mutex_);
    rounds_cv_.wait(lock, [&] { return released_.load(std::memory_order_acquire) >= offset; });
    return;
  }
  for (;;) {
    uint64_t round = 0;
    {
      std::lock_guard lock(rounds_mutex_);
      round = write_rounds_;
    }
    if (released_.load(std::memory_order_acquire) >= offset) return;
    {
      std::unique_lock io(io_mutex_, std::try_to_lock);
      if (io.owns_lock()) {
        if (released_.load(std::memory_order_acquire) < offset && fd_ >= 0) write_pending(FlushReason::Reply);
        io.unlock();
        end_write_round();
        return;
      }
    }
    // Another thread is writing: wait until its round ends (write_rounds_ changes after it let go of
    // io_mutex_, so the next try can get it), then look again.
    std::unique_lock lock(rounds_mutex_);
    rounds_cv_.wait(lock, [&] {
      return write_rounds_ != round || released_.load(std::memory_order_acquire) >= offset;
    });
  }
}

void AofLog::end_write_round() {
  {
    std::lock_guard lock(rounds_mutex_);
    ++write_rounds_;
  }
  rounds_cv_.notify_all();
}

int AofLog::disk_error() const {
  const int write_error = write_errno_.load(std::memory_order_relaxed);
  return write_error != 0 ? write_error : fsync_errno_.load(std::memory_order_relaxed);
}

// Writes what is buffered to the current incremental file and fsyncs as the policy says, as Redis's
// flushAppendOnlyFile. The caller holds io_mutex_, so the buffer cannot go to a file that a rewrite is
// switching away from. False when the write failed (what was not written is kept for the next call).
bool AofLog::write_pending(FlushReason why) {
  const uint64_t end = take_buffer();
  const bool ok = finish_retiring() && write_unwritten();
  const uint64_t in_kernel = end - unwritten_.size() - retiring_tail_.size();
  if (ok) sync_as_policy_says(why, in_kernel);
  // everysec and no release the replies even when the write failed: Redis sends them too, refusing new
  // writes (MISCONF) until the kept entries are written. With always a failure never gets here.
  release_replies(policy_ == AofFsync::Always ? synced_.load(std::memory_order_acquire) : end);
  return ok;
}

// Moves what was appended behind what a failed write left; returns the log offset just past it.
uint64_t AofLog::take_buffer() {
  std::lock_guard lock(buffer_mutex_);
  if (unwritten_.empty()) {
    unwritten_.swap(buffer_);  // buffer_ gets the writer's capacity back
  } else {
    unwritten_ += buffer_;
    buffer_.clear();
  }
  unwritten_size_.store(unwritten_.size(), std::memory_order_relaxed);
  wake_requested_ = false;
  return appended_;
}

bool AofLog::write_unwritten() {
  if (unwritten_.empty()) return true;
  const WriteOutcome outcome = write_as_far_as_possible(fd_, unwritten_);
  if (outcome.error != 0) {
    keep_after_failed_write(outcome.written, outcome.error);
    return false;
  }
  incr_size_ += unwritten_.size();
  current_size_.store(older_size_ + incr_size_);
  unwritten_.clear();
  unwritten_size_.store(0, std::memory_order_relaxed);
  if (write_errno_.load(std::memory_order_relaxed) != 0 && write_errno_.exchange(0) != 0) {
    spdlog::warn("AOF write error looks solved, redis-clone can write again.");
  }
  return true;
}

// As Redis: a short write is cut off again (a partial command would stop the next load) and reported as a
// full disk; when the cut fails, the written part stays and only the rest is kept for the next try.
void AofLog::keep_after_failed_write(size_t written, int error) {
  written = cut_failed_write(fd_, incr_size_, unwritten_.size(), written, error);
  incr_size_ += written;
  current_size_.store(older_size_ + incr_size_);
  unwritten_.erase(0, written);
  unwritten_size_.store(unwritten_.size(), std::memory_order_relaxed);
}

// The file `fd` had `size` bytes before a write of `expected` bytes wrote `written` and failed with `error`.
// Logs it (at most every kWriteErrorLogSeconds), cuts a partial command off again, ends the process with
// always, refuses writes (MISCONF) otherwise. Returns how many bytes stay in the file.
size_t AofLog::cut_failed_write(int fd, uint64_t size, size_t expected, size_t written, int error) {
  const int64_t now_s = unix_time_ms() / 1000;
  const bool log_now = now_s - last_write_error_log_s_ > kWriteErrorLogSeconds;
  if (log_now) last_write_error_log_s_ = now_s;
  if (written == 0) {
    if (log_now) spdlog::warn("Error writing to the AOF file: {}", reason(error));
  } else {
    if (log_now) {
      spdlog::warn("Short write while writing to the AOF file: (nwritten={}, expected={})", written, expected);
    }
    if (::ftruncate(fd, static_cast<off_t>(size)) == 0) {
      written = 0;
    } else if (log_now) {
      spdlog::warn("Could not remove short write from the append-only file. The server may refuse to load the "
                   "AOF the next time it starts. ftruncate: {}", reason(errno));
    }
    error = ENOSPC;
  }
  if (policy_ == AofFsync::Always) {
    exit_on_durability_error("Can't recover from AOF write error when the AOF fsync policy is 'always'. Exiting...");
  }
  write_errno_.store(error);
  return written;
}

// See switch_incremental: the old file gets what was appended before the switch, then it is fsynced (its
// entries come before any of the new file's, also on disk) and closed.
bool AofLog::finish_retiring() {
  if (retiring_fd_ < 0) return true;
  const WriteOutcome outcome = write_as_far_as_possible(retiring_fd_, retiring_tail_);
  if (outcome.error != 0) {
    const size_t kept = cut_failed_write(retiring_fd_, retiring_size_, retiring_tail_.size(), outcome.written,
                                         outcome.error);
    retiring_size_ += kept;
    older_size_ += kept;
    retiring_tail_.erase(0, kept);
    return false;
  }
  retiring_size_ += retiring_tail_.size();
  older_size_ += retiring_tail_.size();
  current_size_.store(older_size_ + incr_size_);
  retiring_tail_.clear();
  if (!sync_data(retiring_fd_)) note_fsync_failed(errno);
  ::close(retiring_fd_);
  retiring_fd_ = -1;
  if (write_errno_.load(std::memory_order_relaxed) != 0 && write_errno_.exchange(0) != 0) {
    spdlog::warn("AOF write error looks solved, redis-clone can write again.");
  }
  return true;
}

// As Redis: with always the promise made to replies cannot be kept, so the process ends; otherwise the
// error is kept for INFO and MISCONF until an fsync succeeds.
void AofLog::note_fsync_failed(int error) {
  if (policy_ == AofFsync::Always) {
    exit_on_durability_error(fmt::format(
        "Can't persist AOF for fsync error when the AOF fsync policy is 'always': {}. Exiting...", reason(error)));
  }
  if (fsync_errno_.exchange(error) == 0) spdlog::warn("Fail to fsync the AOF file: {}", reason(error));
}

void AofLog::sync_as_policy_says(FlushReason why, uint64_t in_kernel) {
  const int64_t now = unix_time_ms();
  const bool behind = synced_.load() < in_kernel;
  const bool due = why == FlushReason::Final || (policy_ == AofFsync::Always && behind) ||
                   (policy_ == AofFsync::EverySec && why == FlushReason::Periodic && behind &&
                    now - last_fsync_ms_ >= 1000);
  if (!due) return;
  last_fsync_ms_ = now;
  if (!sync_data(fd_)) return note_fsync_failed(errno);
  fsync_errno_.store(0);
  fsyncs_.fetch_add(1, std::memory_order_relaxed);
  synced_.store(in_kernel, std::memory_order_release);
}

void AofLog::release_replies(uint64_t offset) {
  // Only writers (holding io_mutex_) get here, so the check and the store cannot interleave.
  if (offset > released_.load(std::memory_order_relaxed)) released_.store(offset, std::memory_order_release);
}

void AofLog::writer_loop() {
  for (;;) {
    bool stopping = false;
    {
      std::unique_lock lock(buffer_mutex_);
      // Replies write their own entries (flush_for_reply); this pass writes every kWritePeriod what no
      // reply waited for, makes everysec's fsync and retries after a write error.
      buffer_ready_.wait_for(lock, kWritePeriod, [&] { return wake_requested_ || stopping_; });
      stopping = stopping_;
    }
    // Group commit: let the clients that are running append too, so that one write and fsync cover them.
    if (!stopping) std::this_thread::yield();
    {
      WriteRound io(*this);
      write_pending(stopping ? FlushReason::Final : FlushReason::Periodic);
      if (stopping && !unwritten_.empty()) {
        spdlog::warn("{} bytes of the AOF could not be written before exiting: {}", unwritten_.size(),
                     reason(write_errno_.load()));
      }
    }
    if (stopping) return;
    maybe_auto_rewrite();
  }
}

void AofLog::start() {
  closing_ = false;
  started_ = true;
  writer_ = std::thread([this] { writer_loop(); });
  rdb::SnapshotLocks locks(keyspace_);  // see store/change_stream.h: attached between two changes
  keyspace_.changes().attach(this);
}

void AofLog::stop() {
  if (!started_) return;
  closing_ = true;
  {
    rdb::SnapshotLocks locks(keyspace_);
    keyspace_.changes().detach(this);
  }
  {
    std::lock_guard lock(buffer_mutex_);
    stopping_ = true;
  }
  buffer_ready_.notify_one();
  if (writer_.joinable()) writer_.join();
  {
    // After the writer (whose auto-rewrite takes this mutex too); a BGREWRITEAOF that is starting
    // finishes starting first, and any later one finds the log inactive.
    std::lock_guard guard(rewrite_mutex_);
    if (const pid_t pid = child_pid_.load(); pid > 0) ::kill(pid, SIGKILL);
    if (rewrite_waiter_.joinable()) rewrite_waiter_.join();
  }
  forks_.unschedule(ForkKind::Aof);
  started_ = false;
  WriteRound io(*this);  // a reply may be writing (flush_for_reply)
  if (retiring_fd_ >= 0) ::close(retiring_fd_);  // (the final write_pending wrote its tail)
  retiring_fd_ = -1;
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
  // Stopped before the first base was written: no manifest lists the temporary incremental file.
  if (waiting_rewrite_.exchange(false)) ::unlink(path(temp_incremental_name()).c_str());
  // Nothing is written any more: a reply still waiting is let go (the writer's final pass wrote what it could).
  released_.store(UINT64_MAX, std::memory_order_release);
}

// ---- CONFIG SET appendonly ----

std::optional<std::string> AofLog::enable() {
  std::lock_guard state(state_mutex_);
  if (started_) return std::nullopt;
  closing_ = false;
  dir_ = config_.text("dir") + "/" + config_.text("appenddirname");
  prefix_ = config_.text("appendfilename");
  if (::mkdir(dir_.c_str(), 0755) != 0 && errno != EEXIST) {
    return fmt::format("Can't create the append-only directory {}: {}", dir_, reason(errno));
  }
  // An earlier run's manifest gives the numbers of the new files, and its files are deleted once the new
  // base is listed (as Redis, which loads the manifest at startup even with appendonly no).
  aof::Manifest manifest;
  const std::string manifest_path = path(aof::manifest_file_name(prefix_));
  if (::access(manifest_path.c_str(), F_OK) == 0) {
    std::string text;
    if (auto error = read_file(manifest_path, text)) return error;
    aof::ManifestParse parsed = aof::parse_manifest(text);
    if (!parsed.manifest) return fmt::format("{} in the AOF manifest {}", parsed.error, manifest_path);
    manifest = std::move(*parsed.manifest);
  }
  {
    WriteRound io(*this);
    manifest_ = std::move(manifest);
    uint64_t appended = 0;
    {
      std::lock_guard lock(buffer_mutex_);
      stopping_ = false;
      wake_requested_ = false;
      appended = appended_;
    }
    // Offsets go on from the previous log (a reply may still hold one of them); stop() released them all.
    synced_.store(appended, std::memory_order_release);
    released_.store(appended, std::memory_order_release);
    // As Redis's startAppendOnly: the errors of the previous log are forgotten.
    if (write_errno_.exchange(0) != 0) spdlog::warn("AOF reopen, just ignore the last error.");
    fsync_errno_.store(0);
    base_size_.store(0);
    last_fsync_ms_ = unix_time_ms();
  }
  waiting_rewrite_.store(true);
  RewriteOutcome outcome = RewriteOutcome::Failed;
  {
    std::lock_guard guard(rewrite_mutex_);
    if (rewrite_waiter_.joinable()) rewrite_waiter_.join();
    if (forks_.claim(ForkKind::Aof)) {
      outcome = begin_rewrite(true);
      if (outcome != RewriteOutcome::Started) forks_.release(ForkKind::Aof);
    } else {
      // As Redis's startAppendOnly: the writer thread starts the first rewrite once the BGSAVE has ended.
      spdlog::warn("AOF was enabled but there is already another background operation. An AOF background was "
                   "scheduled to start when possible.");
      forks_.schedule(ForkKind::Aof);
      outcome = RewriteOutcome::Scheduled;
    }
  }
  if (outcome == RewriteOutcome::Scheduled) {
    started_ = true;
    writer_ = std::thread([this] { writer_loop(); });
    return std::nullopt;
  }
  if (outcome != RewriteOutcome::Started) {
    WriteRound io(*this);
    waiting_rewrite_.store(false);
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
    ::unlink(path(temp_incremental_name()).c_str());
    return std::string("Redis needs to enable the AOF but can't trigger a background AOF rewrite operation. "
                       "Check the above logs for more info about the error.");
  }
  spdlog::info("AOF enabled: writing the first base in the background");
  return std::nullopt;
}

void AofLog::disable() {
  std::lock_guard state(state_mutex_);
  if (!started_) return;
  closing_ = true;
  {
    // No write command is between its change and its propagation: each one from now on is not logged.
    rdb::SnapshotLocks locks(keyspace_);
    keyspace_.changes().detach(this);
  }
  if (const pid_t pid = child_pid_.load(); pid > 0) spdlog::info("Killing running AOF rewrite child: {}", pid);
  stop();
  spdlog::info("AOF disabled");
}

// ---- INFO ----

std::string AofLog::info_fields() const {
  // As Redis's aof_state != AOF_OFF: also while the first base is awaited (CONFIG SET appendonly yes).
  const bool enabled = started_.load();
  const int64_t started = rewrite_started_ms_.load();
  const bool running = rewrite_running();
  const bool scheduled = forks_.scheduled(ForkKind::Aof) || (enabled && waiting_rewrite_.load() && !running);
  // Redis's order. The rewrite figures outlive CONFIG SET appendonly no, as Redis's server-wide ones do;
  // there are no modules, so no module fork.
  std::string fields = fmt::format(
      "aof_enabled:{}\r\naof_rewrite_in_progress:{}\r\naof_rewrite_scheduled:{}\r\n"
      "aof_last_rewrite_time_sec:{}\r\naof_current_rewrite_time_sec:{}\r\naof_last_bgrewrite_status:{}\r\n"
      "aof_rewrites:{}\r\naof_rewrites_consecutive_failures:{}\r\naof_last_write_status:{}\r\n"
      "aof_last_cow_size:{}\r\nmodule_fork_in_progress:0\r\nmodule_fork_last_cow_size:0\r\n",
      enabled ? 1 : 0, running ? 1 : 0, scheduled ? 1 : 0,
      last_rewrite_time_sec_.load(), running ? (unix_time_ms() - started) / 1000 : -1,
      last_rewrite_ok_.load() ? "ok" : "err", rewrites_.load(), consecutive_failures_.load(),
      enabled && disk_error() != 0 ? "err" : "ok", last_cow_size_.load());
  if (!enabled) return fields;
  size_t buffered = unwritten_size_.load(std::memory_order_relaxed);
  {
    std::lock_guard lock(buffer_mutex_);
    buffered += buffer_.size();
  }
  // No background fsync queue and no postponed writes here: a reply's write is never put off.
  return fields + fmt::format(
                      "aof_current_size:{}\r\naof_base_size:{}\r\naof_pending_rewrite:0\r\naof_buffer_length:{}\r\n"
                      "aof_pending_bio_fsync:0\r\naof_delayed_fsync:0\r\n",
                      current_size_.load(), base_size_.load(), buffered);
}

}  // namespace rc
