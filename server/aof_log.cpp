#include "server/aof_log.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <sys/prctl.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <fstream>
#include <sstream>
#include <thread>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "server/command_context.h"
#include "server/command_table.h"
#include "server/forked_child.h"
#include "server/loading.h"
#include "server/test_hooks.h"
#include "server/commands/arguments.h"
#include "server/config.h"
#include "server/connection.h"
#include "server/server.h"
#include "store/aof/command_reader.h"
#include "store/clock.h"
#include "store/keyspace.h"
#include "store/mutation_counter.h"
#include "store/rdb/rdb_reader.h"
#include "store/rdb/rdb_writer.h"
#include "store/rdb/snapshot_locks.h"

namespace rc {
namespace {

std::atomic<AofLog*> g_active{nullptr};
std::atomic<AofLog*> g_instance{nullptr};

// How often the writer thread wakes by itself (to write what nobody waits for, fsync once a second, and
// try again after a failed write).
constexpr std::chrono::milliseconds kWritePeriod{100};
// A disk that stays broken is retried every kWritePeriod; its error is logged at most this often.
constexpr int64_t kWriteErrorLogSeconds = 30;

thread_local uint64_t t_propagations = 0;
thread_local uint64_t t_wait_offset = 0;
thread_local AofLog* t_wait_log = nullptr;  // the log t_wait_offset belongs to

std::string reason(int error) { return std::strerror(error); }

// One write of `data` to the end of the file, as many write() calls as it takes. `written` is how much
// went out; `error` is the errno that stopped it short (0 when everything was written).
struct WriteOutcome {
  size_t written = 0;
  int error = 0;
};

WriteOutcome write_as_far_as_possible(int fd, std::string_view data) {
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

// appendfsync always promised that every reply sent was on disk; after a failed write or fsync that can
// no longer be kept, so the process ends, as Redis does. _Exit: the other threads still use what exit()
// would destroy.
[[noreturn]] void exit_on_durability_error(const std::string& message) {
  spdlog::warn("{}", message);
  spdlog::default_logger()->flush();
  std::_Exit(1);
}

bool write_all(int fd, std::string_view data) { return write_as_far_as_possible(fd, data).error == 0; }

bool fsync_directory(const std::string& dir) {
  const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return false;
  const bool ok = ::fsync(fd) == 0;
  ::close(fd);
  return ok;
}

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

// The base in AOF form: SELECT, then SET (with PXAT) for every live key of every non-empty database.
bool write_aof_base(const Keyspace& keyspace, int fd, int64_t now_ms, int64_t key_delay_us) {
  std::string out;
  for (int index = 0; index < keyspace.database_count(); ++index) {
    const Database& db = keyspace.db(index);
    bool selected = false;
    for (size_t s = 0; s < Database::kShardCount; ++s) {
      uint64_t cursor = 0;
      do {
        cursor = db.shard(s).table.scan(cursor, [&](const Entry* entry) {
          if (entry->expired(now_ms)) return;
          if (!selected) aof::encode_command(out, {"SELECT", std::to_string(index)});
          selected = true;
          if (entry->has_expiry()) {
            aof::encode_command(out, {"SET", entry->key(), entry->value(), "PXAT", std::to_string(entry->expire_at())});
          } else {
            aof::encode_command(out, {"SET", entry->key(), entry->value()});
          }
          if (key_delay_us > 0) std::this_thread::sleep_for(std::chrono::microseconds(key_delay_us));
        });
        if (out.size() > (1 << 20)) {
          if (!write_all(fd, out)) return false;
          out.clear();
        }
      } while (cursor != 0);
    }
  }
  return write_all(fd, out);
}

// Writes a whole base file at `file` from `keyspace`, which must not change meanwhile. Used by the
// rewrite child (which is alone in its process) and at startup (before any client). `key_delay_us`:
// key_save_delay_us() in a child, else 0.
bool write_base_file(const Keyspace& keyspace, const std::string& file, bool rdb_preamble, int64_t key_delay_us) {
  const int fd = ::open(file.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return false;
  const int64_t now = unix_time_ms();
  bool ok = true;
  if (rdb_preamble) {
    rdb::RdbWriter writer(rdb::WriteOptions{}, fd);
    writer.begin(now / 1000, 0);
    rdb::write_keyspace(keyspace, writer, now, key_delay_us);
    ok = writer.finish();
  } else {
    ok = write_aof_base(keyspace, fd, now, key_delay_us);
  }
  ok = ok && ::fsync(fd) == 0;
  ::close(fd);
  return ok;
}

// Runs one logged command on `server` as a client without a connection would.
void replay(Server& server, ClientSession& client, const std::vector<std::string>& argv) {
  std::vector<std::string_view> views(argv.begin(), argv.end());
  std::string ignored_reply;
  execute_command(server, client, ignored_reply, views);
}

}  // namespace

// ---- per-thread tracking ----

uint64_t aof_tracking::propagations() { return t_propagations; }

void aof_tracking::record(AofLog* log, uint64_t offset) {
  ++t_propagations;
  if (log == nullptr) return;
  t_wait_log = log;
  t_wait_offset = std::max(t_wait_offset, offset);
}

void aof_tracking::finish_command(const CommandSpec& command, uint64_t mutations_before,
                                  uint64_t propagations_before) {
  if ((command.flags & kWrite) && t_store_mutations != mutations_before && t_propagations == propagations_before) {
    spdlog::error("BUG: command '{}' changed the dataset without propagating it to the AOF", command.name);
  }
}

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

AofLog* AofLog::active() { return g_active.load(std::memory_order_acquire); }

AofLog* AofLog::instance() { return g_instance.load(std::memory_order_acquire); }

void AofLog::set_instance(AofLog* log) { g_instance.store(log, std::memory_order_release); }

AofLog::AofLog(Config& config, Keyspace& keyspace)
    : config_(config),
      keyspace_(keyspace),
      dir_(config.text("dir") + "/" + config.text("appenddirname")),
      prefix_(config.text("appendfilename")),
      policy_(config.text("appendfsync") == "always" ? AofFsync::Always
              : config.text("appendfsync") == "no"   ? AofFsync::No
                                                     : AofFsync::EverySec) {}

AofLog::~AofLog() { stop(); }

// Read for each base written, as Redis does: CONFIG SET aof-use-rdb-preamble applies from the next rewrite.
bool AofLog::use_rdb_preamble() const { return config_.text("aof-use-rdb-preamble") != "no"; }

std::string AofLog::path(std::string_view name) const { return dir_ + "/" + std::string(name); }

uint64_t AofLog::append(int db, std::initializer_list<std::string_view> argv) { return append_command(db, argv); }

uint64_t AofLog::append(int db, const std::vector<std::string_view>& argv) { return append_command(db, argv); }

// Both forms encode straight into the buffer (no vector is built for a brace list: most write commands
// propagate one, under their shard lock).
template <typename Argv>
uint64_t AofLog::append_command(int db, const Argv& argv) {
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
  const bool ok = write_unwritten();
  const uint64_t in_kernel = end - unwritten_.size();
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
  const int64_t now_s = unix_time_ms() / 1000;
  const bool log_now = now_s - last_write_error_log_s_ > kWriteErrorLogSeconds;
  if (log_now) last_write_error_log_s_ = now_s;
  if (written == 0) {
    if (log_now) spdlog::warn("Error writing to the AOF file: {}", reason(error));
  } else {
    if (log_now) {
      spdlog::warn("Short write while writing to the AOF file: (nwritten={}, expected={})", written,
                   unwritten_.size());
    }
    if (::ftruncate(fd_, static_cast<off_t>(incr_size_)) == 0) {
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
  incr_size_ += written;
  current_size_.store(older_size_ + incr_size_);
  unwritten_.erase(0, written);
  unwritten_size_.store(unwritten_.size(), std::memory_order_relaxed);
}

void AofLog::sync_as_policy_says(FlushReason why, uint64_t in_kernel) {
  const int64_t now = unix_time_ms();
  const bool behind = synced_.load() < in_kernel;
  const bool due = why == FlushReason::Final || (policy_ == AofFsync::Always && behind) ||
                   (policy_ == AofFsync::EverySec && why == FlushReason::Periodic && behind &&
                    now - last_fsync_ms_ >= 1000);
  if (!due) return;
  last_fsync_ms_ = now;
  if (::fdatasync(fd_) != 0) {
    const int error = errno;
    if (policy_ == AofFsync::Always) {
      exit_on_durability_error(fmt::format(
          "Can't persist AOF for fsync error when the AOF fsync policy is 'always': {}. Exiting...", reason(error)));
    }
    if (fsync_errno_.exchange(error) == 0) spdlog::warn("Fail to fsync the AOF file: {}", reason(error));
    return;
  }
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
  started_ = true;
  writer_ = std::thread([this] { writer_loop(); });
  g_active.store(this, std::memory_order_release);
}

void AofLog::stop() {
  if (!started_) return;
  g_active.store(nullptr, std::memory_order_release);
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
  started_ = false;
  WriteRound io(*this);  // a reply may be writing (flush_for_reply)
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
    outcome = begin_rewrite(true);
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
  {
    // No write command is between its change and its propagation: each one from now on is not logged.
    rdb::SnapshotLocks locks(keyspace_);
    g_active.store(nullptr, std::memory_order_release);
  }
  if (const pid_t pid = child_pid_.load(); pid > 0) spdlog::info("Killing running AOF rewrite child: {}", pid);
  stop();
  spdlog::info("AOF disabled");
}

// ---- files ----

std::optional<std::string> AofLog::save_manifest(const aof::Manifest& manifest) {
  const std::string final_path = path(aof::manifest_file_name(prefix_));
  const std::string temp_path = path("temp-" + aof::manifest_file_name(prefix_));
  const int fd = ::open(temp_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return fmt::format("Can't open the AOF manifest file {}: {}", temp_path, reason(errno));
  const bool ok = write_all(fd, manifest.to_text()) && ::fsync(fd) == 0;
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

// ---- loading ----

namespace {

// Runs the commands of an AOF-format file. A command cut short at the end of the last file is dropped
// and the file truncated there (aof-load-truncated yes); anything else malformed stops the load.
std::optional<std::string> load_commands(Server& server, ClientSession& client, const std::string& file,
                                         bool last, bool allow_truncated, uint64_t& commands, uint64_t loaded_before) {
  std::string data;
  if (auto error = read_file(file, data)) return error;
  size_t position = 0;
  std::vector<std::string> argv;
  for (;;) {
    const aof::ReadResult result = aof::read_command(data, position, argv);
    if (result.status == aof::ReadStatus::End) return std::nullopt;
    if (result.status == aof::ReadStatus::Corrupt) {
      return fmt::format("{} in {} at offset {}", result.error, file, position);
    }
    if (result.status == aof::ReadStatus::Truncated) {
      if (!last || !allow_truncated) {
        return fmt::format("Unexpected end of file reading the append only file {} at offset {}", file, position);
      }
      spdlog::warn("!!! Warning: short read while loading the AOF file {}!!!", file);
      spdlog::warn("AOF {} loaded anyway because aof-load-truncated is enabled; truncated at offset {}", file,
                   position);
      if (::truncate(file.c_str(), static_cast<off_t>(position)) != 0) {
        return fmt::format("Error truncating the AOF file {}: {}", file, reason(errno));
      }
      return std::nullopt;
    }
    // Redis wraps transactions in MULTI/EXEC; the load is single-threaded, so their bodies just run.
    if (is_word(argv[0], "multi") || is_word(argv[0], "exec")) continue;
    if (server.commands().find(argv[0]) == nullptr) {
      return fmt::format("Unknown command '{}' reading the append only file {} at offset {}", argv[0], file, position);
    }
    if (server.loading().cancelled().load(std::memory_order_relaxed)) return std::string("the load was cancelled");
    replay(server, client, argv);
    ++commands;
    server.loading().loaded_bytes().store(loaded_before + position, std::memory_order_relaxed);
  }
}

bool starts_with_rdb_magic(const std::string& file) {
  std::ifstream in(file, std::ios::binary);
  char magic[5] = {};
  in.read(magic, 5);
  return in.gcount() == 5 && std::string_view(magic, 5) == "REDIS";
}

}  // namespace

// Stops the clock for this thread for the duration of a load (see store/clock.h).
struct StoppedClock {
  StoppedClock() { t_clock_stopped_for_loading = true; }
  ~StoppedClock() { t_clock_stopped_for_loading = false; }
  StoppedClock(const StoppedClock&) = delete;
  StoppedClock& operator=(const StoppedClock&) = delete;
};

std::optional<std::string> AofLog::load_files(Server& server, const aof::Manifest& manifest) {
  ClientSession client(0, -1, "aof", "", unix_time_ms());
  const StoppedClock no_expiry_while_loading;
  const bool allow_truncated = config_.text("aof-load-truncated") != "no";
  std::vector<aof::ManifestFile> files;
  if (manifest.base) files.push_back(*manifest.base);
  files.insert(files.end(), manifest.incrementals.begin(), manifest.incrementals.end());
  uint64_t total_bytes = 0;
  for (const aof::ManifestFile& listed : files) total_bytes += file_size(path(listed.name));
  server.loading().set_total_bytes(total_bytes);
  uint64_t commands = 0;
  uint64_t loaded_before = 0;  // bytes of the files already loaded
  for (size_t i = 0; i < files.size(); ++i) {
    const std::string file = path(files[i].name);
    if (::access(file.c_str(), R_OK) != 0) {
      return fmt::format("The AOF file {} listed in the manifest doesn't exist", file);
    }
    if (files[i].type == aof::FileType::Base && starts_with_rdb_magic(file)) {
      const rdb::LoadWatch watch{&server.loading().loaded_bytes(), loaded_before, key_load_delay_us(),
                                 &server.loading().cancelled()};
      const rdb::LoadResult result = rdb::load_rdb_file(file, keyspace_, unix_time_ms(), true, watch);
      if (!result.ok) return fmt::format("Bad AOF base file {}: {}", file, result.error);
      spdlog::info("DB loaded from base file {}: {} keys", files[i].name, result.keys_loaded);
    } else if (auto error = load_commands(server, client, file, i + 1 == files.size(), allow_truncated, commands,
                                          loaded_before)) {
      return error;
    }
    loaded_before += file_size(file);
    if (i + 1 < files.size()) older_size_ += file_size(file);
  }
  spdlog::info("DB loaded from append only file: {} commands", commands);
  return std::nullopt;
}

std::optional<std::string> AofLog::load_and_open(Server& server) {
  const std::string manifest_path = path(aof::manifest_file_name(prefix_));
  if (::access(manifest_path.c_str(), F_OK) != 0) return create_initial_files();
  std::string text;
  if (auto error = read_file(manifest_path, text)) return error;
  aof::ManifestParse parsed = aof::parse_manifest(text);
  if (!parsed.manifest) return fmt::format("{} in the AOF manifest {}", parsed.error, manifest_path);
  aof::Manifest manifest = std::move(*parsed.manifest);
  const auto started = std::chrono::steady_clock::now();
  if (auto error = load_files(server, manifest)) return error;
  spdlog::info("AOF loaded in {:.3f} seconds",
               std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count());
  if (manifest.incrementals.empty()) {
    const int64_t seq = 1;
    manifest.incrementals.push_back({aof::incremental_file_name(prefix_, seq), seq, aof::FileType::Incremental});
    if (manifest.base) older_size_ += file_size(path(manifest.base->name));
    if (auto error = open_incremental(manifest.incrementals.back().name)) return error;
    if (auto error = save_manifest(manifest)) return error;
  } else {
    if (auto error = open_incremental(manifest.incrementals.back().name)) return error;
    manifest_ = manifest;
  }
  current_size_.store(older_size_ + incr_size_);
  base_size_.store(current_size_.load());
  return std::nullopt;
}

// ---- rewrite ----

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

// With every shard lock held (shared) and io_mutex_: everything logged so far goes to the current
// incremental file, fsynced; a new one is created and listed in the manifest, and appends go there.
std::optional<std::string> AofLog::switch_incremental() {
  // What a failed write kept may depend on a SELECT in the current file: it must go there first.
  if (!write_pending(FlushReason::Final)) {
    return fmt::format("Can't write the append-only file: {}", reason(write_errno_.load()));
  }
  const int64_t seq = manifest_.last_incremental_seq() + 1;
  const std::string name = aof::incremental_file_name(prefix_, seq);
  const int fd = ::open(path(name).c_str(), O_WRONLY | O_APPEND | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return fmt::format("Can't open the append-only file {}: {}", path(name), reason(errno));
  aof::Manifest next = manifest_;
  next.incrementals.push_back({name, seq, aof::FileType::Incremental});
  if (auto error = save_manifest(next)) {
    ::close(fd);
    ::unlink(path(name).c_str());
    return error;
  }
  ::close(fd_);
  fd_ = fd;
  older_size_ += incr_size_;
  incr_size_ = 0;
  std::lock_guard lock(buffer_mutex_);
  selected_db_ = -1;  // the new file starts with a SELECT
  return std::nullopt;
}

std::string AofLog::temp_incremental_name() const { return "temp-" + prefix_ + ".incr"; }

std::optional<std::string> AofLog::restart_temp_incremental() {
  const std::string file = path(temp_incremental_name());
  const int fd = ::open(file.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return fmt::format("Can't open the append-only file {}: {}", file, reason(errno));
  if (fd_ >= 0) ::close(fd_);
  fd_ = fd;
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
  return std::nullopt;
}

RewriteOutcome AofLog::rewrite() {
  std::lock_guard guard(rewrite_mutex_);
  if (active() != this) return RewriteOutcome::Failed;  // switched off (CONFIG SET appendonly no) meanwhile
  if (rewrite_running()) return RewriteOutcome::InProgress;
  if (rewrite_waiter_.joinable()) rewrite_waiter_.join();
  return begin_rewrite(false);
}

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
  pid_t pid = -1;
  {
    rdb::SnapshotLocks locks(keyspace_);
    WriteRound io(*this);
    if (auto error = waiting ? restart_temp_incremental() : switch_incremental()) {
      spdlog::warn("Can't rewrite the append only file: {}", *error);
      ::close(report[0]);
      ::close(report[1]);
      note_rewrite_failed();
      return RewriteOutcome::Failed;
    }
    pid = timed_fork();
    if (pid == 0) {
      run_rewrite_child(keyspace_, path(temp_base_name(::getpid())), rdb_preamble, key_delay_us, report[1]);
    }
    if (pid > 0 && activating) {
      // Every write from now on is logged; every one before is in the child's snapshot.
      started_ = true;
      writer_ = std::thread([this] { writer_loop(); });
      g_active.store(this, std::memory_order_release);
    }
  }  // writers go on, into the new incremental file
  const int fork_error = errno;
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
}

void AofLog::note_rewrite_failed() {
  last_rewrite_ok_.store(false);
  consecutive_failures_.fetch_add(1);
}

// auto-aof-rewrite-percentage / auto-aof-rewrite-min-size, checked by the writer after its writes.
void AofLog::maybe_auto_rewrite() {
  if (active() != this) return;  // being disabled
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

std::string AofLog::info_fields() const {
  const bool enabled = active() == this;
  const int64_t started = rewrite_started_ms_.load();
  const bool running = rewrite_running();
  // Redis's order. The rewrite figures outlive CONFIG SET appendonly no, as Redis's server-wide ones do;
  // there are no modules, so no module fork.
  std::string fields = fmt::format(
      "aof_enabled:{}\r\naof_rewrite_in_progress:{}\r\naof_rewrite_scheduled:{}\r\n"
      "aof_last_rewrite_time_sec:{}\r\naof_current_rewrite_time_sec:{}\r\naof_last_bgrewrite_status:{}\r\n"
      "aof_rewrites:{}\r\naof_rewrites_consecutive_failures:{}\r\naof_last_write_status:{}\r\n"
      "aof_last_cow_size:{}\r\nmodule_fork_in_progress:0\r\nmodule_fork_last_cow_size:0\r\n",
      enabled ? 1 : 0, running ? 1 : 0, enabled && waiting_rewrite_.load() && !running ? 1 : 0,
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

std::string aof_info_fields() {
  // The log main creates whether or not the AOF is on (its rewrite figures outlive a switch-off).
  const AofLog* log = AofLog::instance();
  if (log == nullptr) log = AofLog::active();
  if (log != nullptr) return log->info_fields();
  return "aof_enabled:0\r\naof_rewrite_in_progress:0\r\naof_rewrite_scheduled:0\r\naof_last_rewrite_time_sec:-1\r\n"
         "aof_current_rewrite_time_sec:-1\r\naof_last_bgrewrite_status:ok\r\naof_rewrites:0\r\n"
         "aof_rewrites_consecutive_failures:0\r\naof_last_write_status:ok\r\naof_last_cow_size:0\r\n"
         "module_fork_in_progress:0\r\nmodule_fork_last_cow_size:0\r\n";
}

}  // namespace rc
