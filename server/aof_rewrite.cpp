// BGREWRITEAOF: the switch to a new incremental file, the forked child that writes the new base, the
// thread that waits for it and installs the base, the automatic rewrites and their retries.
#include "server/aof_log.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <thread>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "protocol/numbers.h"
#include "server/aof_base_writer.h"
#include "server/aof_io.h"
#include "server/config.h"
#include "server/forked_child.h"
#include "server/test_hooks.h"
#include "store/clock.h"
#include "store/rdb/snapshot_locks.h"

namespace rc {

using aof_io::file_size;
using aof_io::reason;

namespace {

std::string temp_base_name(pid_t child) { return fmt::format("temp-rewriteaof-bg-{}.aof", child); }

// The rewrite child: alone in its process (no lock, no log), it writes the base, reports how much memory
// it copied on write (aof_last_cow_size) and exits.
[[noreturn]] void run_rewrite_child(const Keyspace& keyspace, const std::string& file, bool rdb_preamble,
                                    int64_t key_delay_us, int report_fd) {
  // Dies with the server (kill -9 of the parent must not leave a writer behind), and lets go of its
  // sockets so that a restarted server can listen on the same port at once.
  ::prctl(PR_SET_PDEATHSIG, SIGKILL);
  prepare_forked_child(report_fd);
  int code = 1;
  try {
    code = write_base_file(keyspace, file, rdb_preamble, key_delay_us) ? 0 : 1;
    if (code == 0) report_to_parent(report_fd, std::to_string(private_dirty_bytes()));
  } catch (...) {
  }
  ::_exit(code);
}

}  // namespace

bool AofLog::refuses_shutdown(bool force) const {
  if (!waiting_rewrite_.load() || child_pid_.load() == 0) return false;
  if (force) {
    spdlog::warn("Writing initial AOF. Exit anyway.");
    return false;
  }
  spdlog::warn("Writing initial AOF, can't exit.");
  spdlog::warn("Errors trying to shut down the server. Check the logs for more information.");
  return true;
}

RewriteOutcome AofLog::rewrite() {
  std::lock_guard guard(rewrite_mutex_);
  // Off, or being switched off (CONFIG SET appendonly no) meanwhile.
  if (!started_.load() || closing_.load()) return RewriteOutcome::Disabled;
  if (rewrite_running()) return RewriteOutcome::InProgress;
  if (!forks_.claim(ForkKind::Aof)) {
    forks_.schedule(ForkKind::Aof);  // as Redis: starts when the BGSAVE child has ended
    return RewriteOutcome::Scheduled;
  }
  if (rewrite_waiter_.joinable()) rewrite_waiter_.join();
  // A first base scheduled by CONFIG SET appendonly yes while a BGSAVE ran starts the logging at its fork.
  const RewriteOutcome outcome = begin_rewrite(!logging());
  // Only now, so that INFO never shows the rewrite neither scheduled nor in progress in between.
  forks_.unschedule(ForkKind::Aof);
  if (outcome != RewriteOutcome::Started) forks_.release(ForkKind::Aof);
  return outcome;
}

// Called with rewrite_mutex_ held and the fork slot claimed.
RewriteOutcome AofLog::begin_rewrite(bool activating) {
  const int64_t base_seq = (manifest_.base ? manifest_.base->seq : 0) + 1;
  const int64_t started_ms = unix_time_ms();
  const bool waiting = waiting_rewrite_.load();
  const int64_t key_delay_us = key_save_delay_us();
  const bool rdb_preamble = use_rdb_preamble();
  int report[2] = {-1, -1};
  if (::pipe2(report, O_CLOEXEC) != 0) {
    spdlog::warn("Can't rewrite append only file in background: pipe: {}", reason(errno));
    note_rewrite_failed();
    return RewriteOutcome::Failed;
  }
  // The file I/O first, with no shard lock held: the next file exists and is listed before the switch.
  int fresh_fd = -1;
  {
    WriteRound io(*this);
    fresh_fd = waiting ? open_temp_incremental() : create_next_incremental();
  }
  if (fresh_fd < 0) {
    ::close(report[0]);
    ::close(report[1]);
    note_rewrite_failed();
    return RewriteOutcome::Failed;
  }
  pid_t pid = -1;
  int fork_error = 0;
  int stale_fd = -1;  // closed after the locks
  {
    // The instant of the snapshot: no writer is between a change and its log entry.
    rdb::SnapshotLocks locks(keyspace_);
    {
      WriteRound io(*this);
      if (waiting) {
        stale_fd = restart_temp_incremental(fresh_fd);
      } else {
        switch_incremental(fresh_fd);
      }
    }
    pid = timed_fork();
    if (pid == 0) {
      run_rewrite_child(keyspace_, path(temp_base_name(::getpid())), rdb_preamble, key_delay_us, report[1]);
    }
    fork_error = errno;
    if (pid > 0 && activating) {
      // Every write from now on is logged; every one before is in the child's snapshot.
      if (!started_.load()) {
        started_ = true;
        writer_ = std::thread([this] { writer_loop(); });
      }
      keyspace_.changes().attach(this);
    }
  }  // writers go on, into the new incremental file
  if (stale_fd >= 0) ::close(stale_fd);
  {
    // What was appended before the switch goes to the old file, fsynced, before the next reply's write.
    WriteRound io(*this);
    finish_retiring();
  }
  ::close(report[1]);
  if (pid < 0) {
    ::close(report[0]);
    spdlog::warn("Can't rewrite append only file in background: fork: {}", reason(fork_error));
    note_rewrite_failed();
    return RewriteOutcome::Failed;
  }
  spdlog::info("Background append only file rewriting started by pid {}", pid);
  rewrites_.fetch_add(1);
  child_pid_.store(pid);
  rewrite_started_ms_.store(started_ms);
  const int report_fd = report[0];
  rewrite_waiter_ = std::thread([this, pid, report_fd, base_seq, rdb_preamble, started_ms] {
    finish_rewrite(pid, report_fd, path(temp_base_name(pid)), base_seq, rdb_preamble, started_ms);
  });
  return RewriteOutcome::Started;
}

// Waits for the child; on success installs its base: a new manifest with it and the incremental files
// opened since the switch, then deletes the files no manifest lists any more.
void AofLog::finish_rewrite(pid_t pid, int report_fd, std::string temp_path, int64_t base_seq, bool rdb_preamble,
                            int64_t started_ms) {
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  const std::string report = read_child_report(report_fd);
  ::close(report_fd);
  const bool child_ok = WIFEXITED(status) && WEXITSTATUS(status) == 0;
  bool ok = false;
  std::vector<std::string> obsolete;  // deleted after io_mutex_ is let go: unlinking GBs can take a while
  if (child_ok) {
    WriteRound io(*this);
    const bool waiting = waiting_rewrite_.load();
    const aof::Manifest old = manifest_;
    aof::Manifest next;
    next.base = aof::ManifestFile{aof::base_file_name(prefix_, base_seq, rdb_preamble), base_seq, aof::FileType::Base};
    if (waiting) {
      // The first base after enable(): the temporary incremental file gets its name now, in the same
      // manifest as the base, so no manifest ever lists one without the other.
      const int64_t seq = old.last_incremental_seq() + 1;
      next.incrementals.push_back({aof::incremental_file_name(prefix_, seq), seq, aof::FileType::Incremental});
    } else {
      next.incrementals.push_back(old.incrementals.back());  // the file appends go to since the switch
    }
    const std::string base_file = path(next.base->name);
    const std::string incr_file = path(next.incrementals.back().name);
    if (::rename(temp_path.c_str(), base_file.c_str()) == 0) {
      if (waiting && ::rename(path(temp_incremental_name()).c_str(), incr_file.c_str()) != 0) {
        spdlog::warn("Error trying to rename the temporary AOF incr file {} into {}: {}", temp_incremental_name(),
                     incr_file, reason(errno));
      } else if (auto error = save_manifest(next)) {
        spdlog::warn("{}", *error);
        // The temporary incremental file keeps its name: fd_ still appends to it, and a retry starts it again.
        if (waiting) ::rename(incr_file.c_str(), path(temp_incremental_name()).c_str());
      } else {
        if (old.base) obsolete.push_back(path(old.base->name));
        for (const auto& file : old.history) obsolete.push_back(path(file.name));
        const size_t kept = waiting ? 0 : 1;  // an earlier run's files are all replaced
        for (size_t i = 0; i + kept < old.incrementals.size(); ++i) {
          obsolete.push_back(path(old.incrementals[i].name));
        }
        older_size_ = file_size(base_file);
        current_size_.store(older_size_ + incr_size_);
        base_size_.store(current_size_.load());
        waiting_rewrite_.store(false);
        ok = true;
      }
      if (!ok) ::unlink(base_file.c_str());
    }
  }
  for (const std::string& file : obsolete) ::unlink(file.c_str());
  if (!ok) ::unlink(temp_path.c_str());
  if (ok) {
    last_cow_size_.store(static_cast<uint64_t>(std::max<int64_t>(0, parse_int64(report).value_or(0))));
    consecutive_failures_.store(0);
    last_rewrite_ok_.store(true);
    spdlog::info("Background AOF rewrite finished successfully");
  } else {
    note_rewrite_failed();
    spdlog::warn("Background AOF rewrite failed (child status {})", status);
    if (waiting_rewrite_.load()) {
      // As Redis, which stays in AOF_WAIT_REWRITE and schedules another rewrite: the writer thread tries
      // again, after a second, then (aofRewriteLimited) backing off up to an hour after 3 failures in a row.
      const int64_t failures = consecutive_failures_.load();
      const int64_t delay_ms = failures < 3 ? 1000 : std::min<int64_t>(3600000, 60000LL << std::min<int64_t>(failures - 3, 6));
      next_retry_ms_.store(unix_time_ms() + delay_ms);
    }
  }
  last_rewrite_time_sec_.store((unix_time_ms() - started_ms) / 1000);
  child_pid_.store(0);
  forks_.release(ForkKind::Aof);
}

void AofLog::note_rewrite_failed() {
  last_rewrite_ok_.store(false);
  consecutive_failures_.fetch_add(1);
}

// auto-aof-rewrite-percentage / auto-aof-rewrite-min-size, checked by the writer after its writes.
void AofLog::maybe_auto_rewrite() {
  if (closing_.load() || forks_.busy()) return;  // being disabled, or a child runs (as Redis's serverCron)
  if (forks_.scheduled(ForkKind::Aof)) {
    rewrite();  // BGREWRITEAOF (or CONFIG SET appendonly yes) during a BGSAVE, which has now ended
    return;
  }
  if (waiting_rewrite_.load()) {
    // The first base failed: another try when due (Redis's aof_rewrite_scheduled).
    if (!rewrite_running() && unix_time_ms() >= next_retry_ms_.load()) rewrite();
    return;
  }
  const int64_t percentage = config_.integer("auto-aof-rewrite-percentage");
  // While writes fail a rewrite could not switch files; it would only fill the log every kWritePeriod.
  if (percentage <= 0 || rewrite_running() || write_errno_.load() != 0) return;
  const uint64_t current = current_size_.load();
  const uint64_t base = std::max<uint64_t>(base_size_.load(), 1);
  if (current < static_cast<uint64_t>(config_.integer("auto-aof-rewrite-min-size"))) return;
  if (current <= base || (current - base) * 100 / base < static_cast<uint64_t>(percentage)) return;
  spdlog::info("Starting automatic rewriting of AOF on {}% growth", (current - base) * 100 / base);
  rewrite();
}

}  // namespace rc
