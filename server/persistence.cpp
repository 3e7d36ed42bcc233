#include "server/persistence.h"

#include <fcntl.h>
#include <malloc.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cctype>
#include <charconv>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <system_error>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "protocol/numbers.h"
#include "server/config.h"
#include "server/forked_child.h"
#include "server/loading.h"
#include "server/test_hooks.h"
#include "store/clock.h"
#include "store/keyspace.h"
#include "store/rdb/rdb_reader.h"
#include "store/rdb/rdb_writer.h"
#include "store/rdb/snapshot_locks.h"

namespace rc {
namespace {

// As Redis's CONFIG_BGSAVE_RETRY_DELAY: after a failed background save, save points wait this long
// before trying again.
constexpr int64_t kBgsaveRetryDelaySeconds = 5;
// How often save points and a scheduled BGSAVE are checked (Redis's serverCron at hz 10).
constexpr std::chrono::milliseconds kCronPeriod{100};

int64_t unix_seconds() { return unix_time_ms() / 1000; }

uint64_t used_memory() {
  const struct mallinfo2 heap = mallinfo2();
  return heap.uordblks + heap.hblkhd;
}

// ---- the child's side: only this thread exists, so no locks, no logging, nothing but malloc ----

[[noreturn]] void run_child(const Keyspace& keyspace, const rdb::SaveRequest& request, int report_fd) {
  prepare_forked_child(report_fd);
  std::string report;
  int code = 1;
  try {
    const rdb::SaveResult result = rdb::save_rdb_file(keyspace, request);
    if (result.ok) {
      report = "ok " + std::to_string(result.keys) + " " + std::to_string(result.bytes) + " " +
               std::to_string(private_dirty_bytes());
      code = 0;
    } else {
      report = "err " + result.error;
    }
  } catch (...) {
    report = "err out of memory while saving";
  }
  report_to_parent(report_fd, report);
  ::_exit(code);
}

struct ChildReport {
  bool ok = false;
  uint64_t keys = 0;
  uint64_t bytes = 0;
  uint64_t cow = 0;
  std::string error;
};

ChildReport parse_report(const std::string& text) {
  ChildReport report;
  if (text.starts_with("err ")) {
    report.error = text.substr(4);
    return report;
  }
  if (!text.starts_with("ok ")) return report;
  report.ok = true;
  unsigned long long keys = 0, bytes = 0, cow = 0;
  if (std::sscanf(text.c_str() + 3, "%llu %llu %llu", &keys, &bytes, &cow) == 3) {
    report.keys = keys;
    report.bytes = bytes;
    report.cow = cow;
  }
  return report;
}

// SingleSpaces keeps the empty words between adjacent spaces, as Redis's sdssplitlen; AnyWhitespace
// drops them, as its sdssplitargs.
std::vector<std::string_view> split_save_words(std::string_view text, SaveWords words) {
  std::vector<std::string_view> out;
  if (words == SaveWords::SingleSpaces) {
    for (size_t start = 0; !text.empty();) {
      const size_t space = text.find(' ', start);
      out.push_back(text.substr(start, space == std::string_view::npos ? space : space - start));
      if (space == std::string_view::npos) break;
      start = space + 1;
    }
    return out;
  }
  const auto blank = [](char c) { return std::isspace(static_cast<unsigned char>(c)) != 0; };
  for (size_t i = 0; i < text.size();) {
    while (i < text.size() && blank(text[i])) ++i;
    const size_t start = i;
    while (i < text.size() && !blank(text[i])) ++i;
    if (i > start) out.push_back(text.substr(start, i - start));
  }
  return out;
}

}  // namespace

std::optional<std::vector<SavePoint>> parse_save_points(std::string_view text, SaveWords words) {
  std::vector<int64_t> numbers;
  for (const std::string_view word : split_save_words(text, words)) {
    // Read as Redis's strtoll: leading zeros and a sign are fine, an empty word (two spaces in a row
    // under CONFIG SET) is 0.
    int64_t number = 0;
    const std::string_view digits = !word.empty() && word[0] == '+' ? word.substr(1) : word;
    const auto [end, error] = std::from_chars(digits.data(), digits.data() + digits.size(), number);
    if (!word.empty() && (error != std::errc() || end != digits.data() + digits.size())) return std::nullopt;
    numbers.push_back(number);
  }
  if (numbers.size() % 2 != 0) return std::nullopt;
  std::vector<SavePoint> points;
  for (size_t i = 0; i < numbers.size(); i += 2) {
    if (numbers[i] < 1 || numbers[i + 1] < 0) return std::nullopt;
    points.push_back({numbers[i], numbers[i + 1]});
  }
  return points;
}

std::string format_save_points(const std::vector<SavePoint>& points) {
  std::string text;
  for (const SavePoint& point : points) {
    if (!text.empty()) text.push_back(' ');
    text += fmt::format("{} {}", point.seconds, point.changes);
  }
  return text;
}

Persistence::Persistence(Config& config, Keyspace& keyspace, const std::atomic<uint64_t>& dirty,
                         int64_t start_time_s, ForkSlot& forks)
    : config_(config), keyspace_(keyspace), dirty_(dirty), forks_(forks), last_save_time_(start_time_s),
      key_delay_us_(key_save_delay_us()) {}

Persistence::~Persistence() {
  stop_cron();
  std::lock_guard guard(save_mutex_);
  kill_child();
}

std::string Persistence::file_path() const {
  return rdb::rdb_path(config_.text("dir"), config_.text("dbfilename"));
}

bool Persistence::save_points_configured() const { return config_.save_points_configured(); }

bool Persistence::refuses_writes() const {
  return !last_bgsave_ok_.load(std::memory_order_relaxed) && config_.stop_writes_on_bgsave_error() &&
         config_.save_points_configured();
}

std::optional<std::string> Persistence::load_at_startup(LoadingState& loading) {
  const std::string dir = config_.text("dir");
  struct stat info {};
  if (::stat(dir.c_str(), &info) != 0) return fmt::format("Can't chdir to '{}': {}", dir, std::strerror(errno));
  if (!S_ISDIR(info.st_mode)) return fmt::format("Can't chdir to '{}': Not a directory", dir);
  const std::string path = file_path();
  const auto started = std::chrono::steady_clock::now();
  if (::stat(path.c_str(), &info) == 0) loading.set_total_bytes(static_cast<uint64_t>(info.st_size));
  const rdb::LoadWatch watch{&loading.loaded_bytes(), 0, key_load_delay_us(), &loading.cancelled()};
  const rdb::LoadResult result =
      rdb::load_rdb_file(path, keyspace_, unix_time_ms(), config_.text("rdbchecksum") != "no", watch);
  if (!result.ok) return result.error;
  if (!result.found) return std::nullopt;
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  if (!result.redis_version.empty()) spdlog::info("Loading RDB produced by version {}", result.redis_version);
  if (result.skipped_functions > 0) {
    spdlog::warn("Skipped {} function librar{} in the RDB file: redis-clone has no scripting engine",
                 result.skipped_functions, result.skipped_functions == 1 ? "y" : "ies");
  }
  // As Redis: old versions could save an empty hash or set; such keys are dropped, not an error.
  for (const std::string& key : result.empty_key_names) spdlog::warn("rdbLoadObject skipping empty key: {}", key);
  spdlog::info("Done loading RDB, keys loaded: {}, keys expired: {}.", result.keys_loaded, result.keys_expired);
  spdlog::info("DB loaded from disk: {:.3f} seconds", seconds);
  std::lock_guard lock(mutex_);
  last_load_keys_loaded_ = result.keys_loaded;
  last_load_keys_expired_ = result.keys_expired;
  return std::nullopt;
}

void Persistence::start() {
  std::lock_guard lock(cron_mutex_);
  if (cron_.joinable() || cron_stopping_) return;
  cron_ = std::thread([this] { cron_loop(); });
}

void Persistence::stop_cron() {
  {
    std::lock_guard lock(cron_mutex_);
    cron_stopping_ = true;
  }
  cron_wake_.notify_all();
  if (cron_.joinable()) cron_.join();
}

void Persistence::cron_loop() {
  std::unique_lock lock(cron_mutex_);
  while (!cron_stopping_) {
    cron_wake_.wait_for(lock, kCronPeriod, [this] { return cron_stopping_; });
    if (cron_stopping_) break;
    lock.unlock();
    start_scheduled_bgsave();
    check_save_points();
    lock.lock();
  }
}

// As Redis's serverCron: a save point (seconds, changes) is reached when at least `changes` writes
// happened and more than `seconds` passed since the last successful save; after a failed background save
// the next try waits kBgsaveRetryDelaySeconds.
// BGSAVE SCHEDULE once no child runs; after a failed background save not before the retry delay, as
// Redis's serverCron.
void Persistence::start_scheduled_bgsave() {
  if (forks_.busy() || !forks_.scheduled(ForkKind::Rdb)) return;
  {
    std::lock_guard lock(mutex_);
    if (!last_bgsave_ok_ && unix_seconds() - last_bgsave_try_ <= kBgsaveRetryDelaySeconds) return;
  }
  if (forks_.take_scheduled(ForkKind::Rdb)) bgsave();
}

void Persistence::check_save_points() {
  // Config keeps `save` in the canonical form it validated, so this parse cannot fail.
  const auto points = parse_save_points(config_.text("save"));
  if (!points) return;
  const int64_t now = unix_seconds();
  uint64_t changes = 0;
  int64_t since = 0;
  {
    std::lock_guard lock(mutex_);
    if (forks_.busy()) return;  // no save point fires while any child runs, as in Redis
    if (!last_bgsave_ok_ && now - last_bgsave_try_ <= kBgsaveRetryDelaySeconds) return;
    changes = dirty_.load() - dirty_at_last_save_;
    since = now - last_save_time_;
  }
  for (const SavePoint& point : *points) {
    if (changes >= static_cast<uint64_t>(point.changes) && since > point.seconds) {
      spdlog::info("{} changes in {} seconds. Saving...", point.changes, point.seconds);
      bgsave();
      return;
    }
  }
}

SaveOutcome Persistence::save() {
  std::lock_guard guard(save_mutex_);
  {
    std::lock_guard lock(mutex_);
    if (child_.pid != 0) return SaveOutcome::BackgroundInProgress;
    ++saves_;
  }
  return save_now() ? SaveOutcome::Failed : SaveOutcome::Ok;
}

rdb::SaveRequest Persistence::save_request() const {
  rdb::SaveRequest request;
  request.dir = config_.text("dir");
  request.filename = config_.text("dbfilename");
  request.options.compress = config_.text("rdbcompression") != "no";
  request.options.checksum = config_.text("rdbchecksum") != "no";
  request.used_memory = used_memory();
  return request;
}

std::optional<std::string> Persistence::save_now(uint64_t uncounted_changes) {
  rdb::SaveRequest request = save_request();
  const auto started = std::chrono::steady_clock::now();
  uint64_t dirty_at_snapshot = 0;
  rdb::SaveResult result;
  {
    rdb::SnapshotLocks locks(keyspace_);
    dirty_at_snapshot = dirty_.load();
    request.now_ms = unix_time_ms();
    result = rdb::save_rdb_file(keyspace_, request);
  }
  if (!result.ok) {
    spdlog::warn("Failed saving the DB: {}", result.error);
    return result.error;
  }
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  spdlog::info("DB saved on disk: {} keys, {} bytes in {:.3f} seconds", result.keys, result.bytes, seconds);
  std::lock_guard lock(mutex_);
  dirty_at_last_save_ = dirty_at_snapshot + uncounted_changes;
  last_save_time_ = unix_seconds();
  last_bgsave_ok_ = true;  // as Redis 7.0's rdbSave: a good SAVE clears a failed BGSAVE's MISCONF
  return std::nullopt;
}

BgsaveOutcome Persistence::bgsave(bool schedule) {
  std::lock_guard guard(save_mutex_);
  {
    std::lock_guard lock(mutex_);
    if (child_.pid != 0) return BgsaveOutcome::AlreadyInProgress;
  }
  if (!forks_.claim(ForkKind::Rdb)) {
    if (!schedule) return BgsaveOutcome::OtherChildActive;
    forks_.schedule(ForkKind::Rdb);
    return BgsaveOutcome::Scheduled;
  }
  const BgsaveOutcome outcome = fork_child();
  if (outcome != BgsaveOutcome::Started) forks_.release(ForkKind::Rdb);
  return outcome;
}

// Called with save_mutex_ held and no child running.
BgsaveOutcome Persistence::fork_child() {
  if (waiter_.joinable()) waiter_.join();  // the previous child's waiter, done or about to be
  rdb::SaveRequest request = save_request();
  request.key_delay_us = key_delay_us_;
  int report[2];
  if (::pipe2(report, O_CLOEXEC) != 0) {
    spdlog::warn("Can't save in background: pipe: {}", std::strerror(errno));
    return BgsaveOutcome::Failed;
  }
  Child child;
  const ForkTiming timing = fork_snapshot(request, report[1], child);
  const int fork_error = errno;
  ::close(report[1]);
  std::unique_lock lock(mutex_);
  last_bgsave_try_ = unix_seconds();
  if (child.pid < 0) {
    ::close(report[0]);
    last_bgsave_ok_ = false;
    spdlog::warn("Can't save in background: fork: {}", std::strerror(fork_error));
    return BgsaveOutcome::Failed;
  }
  child.report_fd = report[0];
  child.started_ms = unix_time_ms();
  child.temp_path = rdb::rdb_path(request.dir, fmt::format("temp-{}.rdb", child.pid));
  ++saves_;
  child_ = child;
  try {
    waiter_ = std::thread([this, child] { wait_for_child(child); });
  } catch (const std::system_error& error) {
    // No thread for the waiter (resource limits): do not leave a child nobody reaps.
    child_.killed = true;
    lock.unlock();
    ::kill(child.pid, SIGKILL);
    wait_for_child(child);
    spdlog::warn("Can't save in background: no thread to wait for the child: {}", error.what());
    return BgsaveOutcome::Failed;
  }
  lock.unlock();
  spdlog::info("Background saving started by pid {} (writers held back {:.3f} ms: locks {:.3f} ms, fork {:.3f} ms)",
               child.pid, timing.locks_ms + timing.fork_ms, timing.locks_ms, timing.fork_ms);
  return BgsaveOutcome::Started;
}

// The point in time: every shard lock in shared mode, so no writer is inside a table, then fork(). The
// parent lets writers in again as soon as fork() returns; errno is fork()'s when child.pid < 0.
Persistence::ForkTiming Persistence::fork_snapshot(rdb::SaveRequest& request, int report_fd, Child& child) {
  using Clock = std::chrono::steady_clock;
  const auto ms = [](Clock::duration d) { return std::chrono::duration<double, std::milli>(d).count(); };
  const Clock::time_point before = Clock::now();
  Clock::time_point locked;
  int fork_error = 0;
  {
    rdb::SnapshotLocks locks(keyspace_);
    locked = Clock::now();
    child.dirty_at_fork = dirty_.load();
    request.now_ms = unix_time_ms();
    child.pid = timed_fork();
    if (child.pid == 0) run_child(keyspace_, request, report_fd);
    fork_error = errno;
  }
  const Clock::time_point after = Clock::now();
  errno = fork_error;
  return {ms(locked - before), ms(after - locked)};
}

void Persistence::wait_for_child(Child child) {
  int status = 0;
  while (::waitpid(child.pid, &status, 0) < 0 && errno == EINTR) {
  }
  const ChildReport report = parse_report(read_child_report(child.report_fd));
  ::close(child.report_fd);
  const int64_t now_ms = unix_time_ms();
  const bool ok = WIFEXITED(status) && WEXITSTATUS(status) == 0 && report.ok;
  bool killed_by_us = false;
  {
    std::lock_guard lock(mutex_);
    killed_by_us = child_.killed;
    if (ok) {
      dirty_at_last_save_ = child.dirty_at_fork;
      last_save_time_ = now_ms / 1000;
      last_cow_size_ = report.cow;
    }
    if (ok || !killed_by_us) last_bgsave_ok_ = ok;
    last_bgsave_time_sec_ = (now_ms - child.started_ms) / 1000;
    child_ = Child{};
  }
  forks_.release(ForkKind::Rdb);
  if (ok) {
    spdlog::info("Background saving terminated with success: {} keys, {} bytes, {:.1f} MB of memory copied on write",
                 report.keys, report.bytes, static_cast<double>(report.cow) / (1024 * 1024));
  } else if (WIFSIGNALED(status)) {
    // A killed child could not remove its temp file.
    ::unlink(child.temp_path.c_str());
    if (killed_by_us) {
      spdlog::info("Background saving stopped (killed on purpose: shutdown or FLUSHALL)");
    } else {
      spdlog::warn("Background saving terminated by signal {}", WTERMSIG(status));
    }
  } else {
    spdlog::warn("Background saving error: {}", report.error.empty() ? "the child reported nothing" : report.error);
  }
}

// Called with save_mutex_ held.
void Persistence::kill_child() {
  std::unique_lock lock(mutex_);
  if (child_.pid != 0) {
    spdlog::warn("There is a child saving an .rdb. Killing it!");
    child_.killed = true;
    ::kill(child_.pid, SIGKILL);
  }
  std::thread waiter = std::move(waiter_);
  lock.unlock();
  if (waiter.joinable()) waiter.join();
}

void Persistence::save_after_flushall(uint64_t keys_removed) {
  std::lock_guard guard(save_mutex_);
  kill_child();
  if (!save_points_configured()) return;
  // The removed keys are counted once FLUSHALL's handler returns: the file already holds their removal.
  save_now(keys_removed);
}

bool Persistence::save_for_shutdown() {
  std::lock_guard guard(save_mutex_);
  kill_child();
  return !save_now();
}

void Persistence::set_shutdown_mode(ShutdownSave mode) {
  std::lock_guard lock(mutex_);
  shutdown_mode_ = mode;
}

bool Persistence::changed_since_last_save() const {
  std::lock_guard lock(mutex_);
  return dirty_.load() != dirty_at_last_save_;
}

// Whether the exit path must save now: `changed` is whether writes happened since the last save.
bool Persistence::final_save_wanted(bool changed) const {
  std::lock_guard lock(mutex_);
  switch (shutdown_mode_) {
    case ShutdownSave::NoSave:
      return false;
    case ShutdownSave::Save:
      return changed;
    case ShutdownSave::Default:
      break;
  }
  return save_points_configured();
}

bool Persistence::prepare_shutdown() {
  std::lock_guard guard(save_mutex_);
  kill_child();
  if (!final_save_wanted(changed_since_last_save())) return true;
  spdlog::info("Saving the final RDB snapshot before exiting.");
  if (save_now()) return false;
  set_shutdown_mode(ShutdownSave::Save);
  return true;
}

bool Persistence::finish_at_exit() {
  stop_cron();
  std::lock_guard guard(save_mutex_);
  kill_child();  // one the save points may have started since prepare_shutdown
  if (!final_save_wanted(changed_since_last_save())) return true;
  if (save_now()) {
    spdlog::error("Error trying to save the DB on exit: the last writes are lost.");
    return false;
  }
  return true;
}

int64_t Persistence::last_save_time() const {
  std::lock_guard lock(mutex_);
  return last_save_time_;
}

PersistenceInfo Persistence::info() const {
  std::lock_guard lock(mutex_);
  PersistenceInfo info;
  info.changes_since_last_save = dirty_.load() - dirty_at_last_save_;
  info.bgsave_in_progress = child_.pid != 0;
  info.last_save_time = last_save_time_;
  info.last_bgsave_ok = last_bgsave_ok_;
  info.last_bgsave_time_sec = last_bgsave_time_sec_;
  info.current_bgsave_time_sec = child_.pid != 0 ? (unix_time_ms() - child_.started_ms) / 1000 : -1;
  info.saves = saves_;
  info.last_cow_size = last_cow_size_;
  info.last_load_keys_loaded = last_load_keys_loaded_;
  info.last_load_keys_expired = last_load_keys_expired_;
  return info;
}

}  // namespace rc
