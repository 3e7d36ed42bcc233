#pragma once
// The append-only file, in Redis 7's multi-part layout: dir/appenddirname/ holds a manifest
// (appendfilename.manifest), one base file (an RDB or AOF snapshot) and incremental files of commands.
//
// The log is a consumer of the keyspace's change stream (store/change_stream.h): every change, made by a
// command or by expiry, reaches it while its maker still holds the shard lock(s), so the log's order is the
// order in which changes were applied. Lock order: shard locks, then this log's io mutex, then its buffer
// mutex; never the reverse. Before a connection sends a batch of
// replies, its entries must be written: with everysec and no its own thread writes everything buffered so
// far (unless another writer already covered them); with always the writer thread writes and fsyncs for
// all waiting replies at once (group commit). That thread also writes every 100 ms what no reply waited
// for and makes everysec's once-a-second fsync (no: never, left to the OS).
//
// Write errors, as Redis: a failed or short write leaves no partial command in the file (it is truncated
// back) and keeps what was not written for the next try; until a write succeeds, write commands and PING
// are refused with MISCONF (disk_error()). With appendfsync always a write or fsync error ends the process
// (status 1): replies already promised durability and the changes cannot be undone.
//
// BGREWRITEAOF, as Redis 7: a new incremental file is created and listed in the manifest (after the current
// one), then, under every shard lock (shared), the appends switch to it and a forked child writes a new base
// from that instant; when it is done a new manifest (temp file, rename, fsync of the directory) lists the
// new base and the new incremental file, and the old files are deleted. A crash at any point leaves a
// manifest that describes all the data. The shard locks are held for the fork alone: the file creation and
// the manifest's fsyncs come before them, and what was appended before the switch is written to the old
// file, and fsynced, after them, by the next writer, before anything reaches the new file.
//
// Only one forked child runs at a time (server/fork_slot.h): a rewrite asked for while a BGSAVE runs is
// scheduled, and starts when the slot is free.
//
// CONFIG SET appendonly, as Redis 7's startAppendOnly / stopAppendOnly. yes: under every shard lock the
// log becomes active, appending to a temporary incremental file (temp-appendonly.aof.incr) that no
// manifest lists, and a rewrite child writes the base from that instant (Redis's AOF_WAIT_REWRITE). Only
// when the base is complete are both files renamed and listed in a new manifest, so a crash before then
// leaves the directory as it was (no manifest, or the one of an earlier run); a failed child is retried
// (the temporary file starting again from the new snapshot). no: the log stops being active under every
// shard lock, then what is buffered is written and fsynced and the file closed; a rewrite child is
// killed. The files stay. CONFIG SET appendonly yes while a BGSAVE runs schedules the first rewrite.
#include <sys/types.h>

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <initializer_list>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "server/fork_slot.h"
#include "store/aof/manifest.h"
#include "store/change_stream.h"

namespace rc {

class Config;
class Keyspace;
class Server;
struct CommandSpec;

enum class AofFsync { Always, EverySec, No };
enum class RewriteOutcome { Started, Scheduled, InProgress, Failed, Disabled };

class AofLog final : public ChangeConsumer {
 public:
  // The server's log (Server::aof()), whether or not appendonly is on. `forks` is the server's one-child slot.
  AofLog(Config& config, Keyspace& keyspace, ForkSlot& forks);
  ~AofLog();
  AofLog(const AofLog&) = delete;
  AofLog& operator=(const AofLog&) = delete;

  // Whether changes are logged now (attached to the change stream): appendonly yes and loaded, or
  // CONFIG SET appendonly yes and its first rewrite forked.
  bool logging() const;

  // Before listening: loads the manifest's files by running their commands on `server` (the base may be
  // an RDB file), truncating a last file cut short; creates the directory, a base and a first incremental
  // file when there is none. Returns the message to print before exiting with 1.
  std::optional<std::string> load_and_open(Server& server);
  // Starts the writer thread; from then on write commands are logged.
  void start();
  // Writes and fsyncs what is buffered, stops the thread, waits for a rewrite child. Idempotent.
  void stop();

  // CONFIG SET appendonly yes: nothing when already on; else creates the directory, starts logging and a
  // rewrite that writes the first base. The message to log when the rewrite could not be started.
  std::optional<std::string> enable();
  // CONFIG SET appendonly no: nothing when already off; else stops logging (flushed and fsynced).
  void disable();

  // The change stream hands every change here (with SELECT first when the database changes), in the
  // thread that made it, under its shard lock(s); that thread's next replies wait for it.
  void consume(uint64_t offset, int db, std::span<const std::string_view> argv) override;
  // Before a reply: makes sure everything up to `offset` is written (everysec, no) or fsynced (always),
  // asking the writer thread for it. Must hold no shard lock. After a failed write (everysec, no) it
  // returns too, as Redis sends those replies: the entries stay buffered for the next try.
  void flush_for_reply(uint64_t offset);

  // The errno of the last failed write, else of the last failed fsync (everysec), else 0: while it is not
  // 0, write commands are refused with MISCONF.
  int disk_error() const;
  // fsyncs of the incremental file so far: with group commit, one covers many appends.
  uint64_t fsyncs() const { return fsyncs_.load(std::memory_order_relaxed); }

  // BGREWRITEAOF: Scheduled while a BGSAVE child runs; Disabled while the log is off.
  RewriteOutcome rewrite();

  // Asked before SHUTDOWN and SIGTERM stop the server, as Redis's finishShutdown: while a child writes
  // the first base after CONFIG SET appendonly yes, the writes since then are only in a temporary file
  // that no manifest names, so exiting would lose them. Logs Redis's messages; true when the shutdown
  // must not go on (with `force` it goes on).
  bool refuses_shutdown(bool force) const;

  // The INFO persistence lines about the AOF ("aof_enabled:1\r\n..."), for the persistence section.
  std::string info_fields() const;

 private:
  void writer_loop();
  // Why the buffer is written: a reply waits for it (never fsyncs for everysec), the writer's periodic
  // pass (everysec's fsync is due there), or a final write that must reach the disk (stop, rewrite).
  enum class FlushReason { Reply, Periodic, Final };
  uint64_t append_command(int db, std::span<const std::string_view> argv);
  bool write_pending(FlushReason why);
  // After a switch, writes what was appended before it to the file it belongs to and fsyncs and closes that
  // file; false (what is left kept) when it failed. Nothing may reach the new file before this succeeded.
  bool finish_retiring();
  // Holds io_mutex_; when let go, wakes the replies waiting in flush_for_reply to look again.
  class WriteRound {
   public:
    explicit WriteRound(AofLog& log) : log_(log), lock_(log.io_mutex_) {}
    ~WriteRound() {
      lock_.unlock();
      log_.end_write_round();
    }
    WriteRound(const WriteRound&) = delete;
    WriteRound& operator=(const WriteRound&) = delete;

   private:
    AofLog& log_;
    std::unique_lock<std::mutex> lock_;
  };
  void end_write_round();
  uint64_t take_buffer();
  bool write_unwritten();
  void keep_after_failed_write(size_t written, int error);
  size_t cut_failed_write(int fd, uint64_t size, size_t expected, size_t written, int error);
  void note_fsync_failed(int error);
  void sync_as_policy_says(FlushReason why, uint64_t in_kernel);
  void release_replies(uint64_t offset);
  std::optional<std::string> load_files(Server& server, const aof::Manifest& manifest);
  std::optional<std::string> create_initial_files();
  std::optional<std::string> open_incremental(const std::string& name);
  std::optional<std::string> save_manifest(const aof::Manifest& manifest);
  // Before the switch (no shard lock, io_mutex_ held): creates the next incremental file and lists it in the
  // manifest. Returns its descriptor, or -1 after logging why not.
  int create_next_incremental();
  // The switch itself, under every shard lock and io_mutex_, in memory only: appends go to `fresh_fd` from
  // now on; what was appended before waits in retiring_tail_ for the old file.
  void switch_incremental(int fresh_fd);
  // `rdb_preamble`: whether the child wrote the base as RDB (the file's suffix says so).
  void finish_rewrite(pid_t pid, int report_fd, std::string temp_path, int64_t base_seq, bool rdb_preamble,
                      int64_t started_ms);
  // A rewrite that could not start (no pipe, no new incremental file, no fork).
  void note_rewrite_failed();
  bool use_rdb_preamble() const;
  // rewrite() without its checks; `activating` (enable): the log becomes active at the fork's instant and
  // the writer thread starts. Called with rewrite_mutex_ held.
  RewriteOutcome begin_rewrite(bool activating);
  // While waiting for the first base: what was logged so far is in the coming snapshot, so it is dropped
  // and the temporary incremental file starts again. Called under every shard lock and io_mutex_.
  // Returns the descriptor to close (after the locks).
  int restart_temp_incremental(int fresh_fd);
  int open_temp_incremental();
  std::string temp_incremental_name() const;
  void maybe_auto_rewrite();
  std::string path(std::string_view name) const;

  Config& config_;
  Keyspace& keyspace_;
  ForkSlot& forks_;
  std::string dir_;     // dir/appenddirname
  std::string prefix_;  // appendfilename
  AofFsync policy_;

  // Held by the writer while it writes and fsyncs, and by a rewrite while it changes files: the file
  // descriptor, the manifest and the sizes belong to it.
  std::mutex io_mutex_;
  // Counts the times a writer let go of io_mutex_: replies that found it taken wait for the next count.
  std::mutex rounds_mutex_;
  std::condition_variable rounds_cv_;
  uint64_t write_rounds_ = 0;
  bool wake_requested_ = false;  // with always, a reply asks the writer thread for a write and fsync
  int fd_ = -1;
  aof::Manifest manifest_;
  uint64_t incr_size_ = 0;              // bytes in the current incremental file
  uint64_t older_size_ = 0;             // bytes of the base and the other incremental files
  std::atomic<uint64_t> current_size_{0};
  std::atomic<uint64_t> base_size_{0};  // aof_current_size right after the last load or rewrite
  int64_t last_fsync_ms_ = 0;
  int64_t last_write_error_log_s_ = 0;
  // Taken from buffer_ and not yet in the file: after a failed write it waits here for the next try,
  // ahead of whatever is appended meanwhile.
  std::string unwritten_;
  std::atomic<size_t> unwritten_size_{0};  // for INFO, which does not take io_mutex_
  // The file appends went to before the last switch, until what was appended before it is written there
  // (retiring_tail_) and fsynced (see finish_retiring). -1: none. Owned by the io_mutex_ holder.
  int retiring_fd_ = -1;
  std::string retiring_tail_;
  uint64_t retiring_size_ = 0;  // bytes in that file

  mutable std::mutex buffer_mutex_;  // the commands appended and not yet written
  std::condition_variable buffer_ready_;
  std::string buffer_;
  uint64_t appended_ = 0;            // bytes appended since the start (offsets)
  int selected_db_ = -1;
  bool stopping_ = false;


  std::atomic<uint64_t> synced_{0};    // and up to here on disk
  std::atomic<uint64_t> released_{0};  // replies of entries up to here may be sent
  std::atomic<int> write_errno_{0};    // Redis's aof_last_write_status (0: ok) and aof_last_write_errno
  std::atomic<int> fsync_errno_{0};    // Redis's aof_bio_fsync_status and errno (everysec, no)
  std::atomic<uint64_t> fsyncs_{0};

  std::mutex rewrite_mutex_;  // one rewrite at a time
  bool rewrite_running() const { return child_pid_.load() != 0; }
  std::atomic<bool> last_rewrite_ok_{true};
  std::atomic<int64_t> rewrites_{0};              // started (INFO aof_rewrites)
  // Since the last success (aof_rewrites_consecutive_failures); after 3, a failed first base is retried
  // less and less often.
  std::atomic<int64_t> consecutive_failures_{0};
  std::atomic<uint64_t> last_cow_size_{0};        // of the last successful rewrite child (aof_last_cow_size)
  std::atomic<int64_t> last_rewrite_time_sec_{-1};
  std::atomic<pid_t> child_pid_{0};
  std::atomic<int64_t> rewrite_started_ms_{0};
  std::thread rewrite_waiter_;
  // enable() until the first base is listed in a manifest (Redis's AOF_WAIT_REWRITE).
  std::atomic<bool> waiting_rewrite_{false};
  std::atomic<int64_t> next_retry_ms_{0};       // when the writer thread may try that rewrite again
  std::mutex state_mutex_;                      // one enable / disable at a time

  std::thread writer_;
  std::atomic<bool> started_{false};
  // Set by disable() and stop() before the log detaches: no rewrite may attach it again meanwhile.
  std::atomic<bool> closing_{false};
};

// Per client thread (each client has its own): what the command being run has propagated.
namespace aof_tracking {
// Called by the log for each change it takes: remembers the log and offset this thread's replies wait for.
void record(AofLog* log, uint64_t offset);
// The connection, before it sends the replies it has buffered: waits once for the last entry its commands
// appended since the previous call to be written (fsynced with always). Must hold no shard lock.
void wait_before_replies();
// What this thread's replies wait for so far, for a reply produced here but sent by another connection (a
// blocked client served by the thread that pushed): that connection record()s it before it sends.
struct PendingWait {
  AofLog* log = nullptr;
  uint64_t offset = 0;
};
PendingWait pending();
}  // namespace aof_tracking

}  // namespace rc
