#pragma once
// RDB persistence of a running server: SAVE, BGSAVE, save points, the load at startup and the save at
// shutdown, and the INFO persistence figures.
//
// BGSAVE forks. The forking thread first takes every shard lock of every database in shared mode
// (SnapshotLocks): no writer is then inside a table, so the child's copy of memory is one consistent
// instant. The parent releases the locks as soon as fork() returns, so writers wait only for the fork
// itself; readers never wait. The child writes the file straight from the tables (it is the only thread
// there, so it takes no lock and never logs), reports on a pipe and _exits; a waiter thread of the parent
// reads the report, reaps the child and records the outcome.
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <sys/types.h>
#include <thread>
#include <vector>

#include "server/fork_slot.h"
#include "store/rdb/rdb_writer.h"

namespace rc {

class Config;
class Keyspace;
class LoadingState;

struct SavePoint {
  int64_t seconds;
  int64_t changes;
};

// How the words of a `save` value are separated. A configuration line (or command-line flag) splits on
// any run of whitespace; CONFIG SET splits on each single space, as Redis does, so "10  5" has an empty
// middle word and is refused for its odd count.
enum class SaveWords { AnyWhitespace, SingleSpaces };

// "3600 1 300 100 60 10000" as pairs (seconds, changes); "" is none; nullopt when Redis would refuse it:
// an odd number of words, a word that is not an integer, seconds below 1 or changes below 0.
std::optional<std::vector<SavePoint>> parse_save_points(std::string_view text,
                                                        SaveWords words = SaveWords::AnyWhitespace);
// The canonical text CONFIG GET shows ("3600 1 300 100"), whatever spacing the points were given with.
std::string format_save_points(const std::vector<SavePoint>& points);

// What INFO persistence reports (Redis's names).
struct PersistenceInfo {
  uint64_t changes_since_last_save = 0;
  bool bgsave_in_progress = false;
  int64_t last_save_time = 0;          // Unix seconds of the last successful save (or of the start)
  bool last_bgsave_ok = true;
  int64_t last_bgsave_time_sec = -1;   // how long the last background save took
  int64_t current_bgsave_time_sec = -1;
  uint64_t saves = 0;                  // SAVEs and BGSAVEs started
  uint64_t last_cow_size = 0;          // bytes the last child had to copy (its private dirty memory)
  uint64_t last_load_keys_loaded = 0;
  uint64_t last_load_keys_expired = 0;
};

enum class SaveOutcome { Ok, Failed, BackgroundInProgress };
// Scheduled: another kind of child (an AOF rewrite) runs, and BGSAVE SCHEDULE asked to start when it ends;
// OtherChildActive: the same without SCHEDULE.
enum class BgsaveOutcome { Started, Failed, AlreadyInProgress, Scheduled, OtherChildActive };

// What the exit path does about a final save (SHUTDOWN's flags, or the default on SIGTERM).
enum class ShutdownSave {
  Default,          // save when save points are configured, as Redis on SIGTERM
  Save,             // the final save already ran (SHUTDOWN, or SIGTERM): again only if keys changed since
  NoSave,           // SHUTDOWN NOSAVE (or a SHUTDOWN that found nothing to save)
};

class Persistence {
 public:
  // `dirty` counts successful write commands (ServerStats::dirty); `start_time_s` is the first LASTSAVE;
  // `forks` is the server's one-child-at-a-time slot, shared with the AOF rewrite.
  Persistence(Config& config, Keyspace& keyspace, const std::atomic<uint64_t>& dirty, int64_t start_time_s,
              ForkSlot& forks);
  ~Persistence();
  Persistence(const Persistence&) = delete;
  Persistence& operator=(const Persistence&) = delete;

  // Before listening: checks dir and save, then loads dir/dbfilename when it exists and logs the number
  // of keys and the time. Returns the message to print before exiting with 1 (corrupt file, bad config).
  std::optional<std::string> load_at_startup(LoadingState& loading);
  // Starts the check of the save points and of a scheduled BGSAVE, ten times a second (in its own thread).
  void start();

  // SAVE: writes the snapshot in the calling thread while holding every shard lock in shared mode
  // (writers wait for the whole save, as on Redis, where SAVE blocks the server; readers go on).
  SaveOutcome save();
  // BGSAVE: forks a child that writes the snapshot. While an AOF rewrite child runs, `schedule` (BGSAVE
  // SCHEDULE) makes it start once that child has ended.
  BgsaveOutcome bgsave(bool schedule = false);

  // SHUTDOWN: kills a background save, then saves (unless NOSAVE); the exit path then knows not to save
  // again unless something changed. False when the save failed.
  bool save_for_shutdown();
  void set_shutdown_mode(ShutdownSave mode);

  // The exit path, as Redis on SIGTERM. First, while clients are still served: kills a background save and
  // makes the final save (when save points are configured and no SHUTDOWN decided otherwise). False when
  // that save failed: the server should keep running, as Redis does ("can't exit"), rather than lose data.
  bool prepare_shutdown();
  // Then, after the clients are gone: stops the background work and saves again only if writes slipped in
  // after prepare_shutdown's save. False when that save failed.
  bool finish_at_exit();

  // FLUSHALL, as Redis 7.0: a background save still writing the flushed keys is killed (not counted as
  // a failure), and with save points the now empty dataset is saved at once, so that a restart cannot
  // bring the keys back. Called after the flush, before the dispatcher counts the keys it removed.
  void save_after_flushall(uint64_t keys_removed);

  // As Redis's stop-writes-on-bgsave-error: with save points configured, the last background save failed
  // and the parameter is yes, write commands are refused (MISCONF) until a save succeeds.
  bool refuses_writes() const;

  bool save_points_configured() const;
  int64_t last_save_time() const;
  // dir/dbfilename: where SAVE writes and the start (and DEBUG RELOAD) loads.
  std::string file_path() const;
  PersistenceInfo info() const;

 private:
  struct Child {
    pid_t pid = 0;
    int report_fd = -1;
    int64_t started_ms = 0;
    uint64_t dirty_at_fork = 0;
    std::string temp_path;  // removed by the parent when the child dies of a signal
    bool killed = false;    // by us (shutdown, FLUSHALL): not a failure
  };
  rdb::SaveRequest save_request() const;
  // `uncounted_changes`: changes already in the snapshot that ServerStats::dirty does not count yet.
  std::optional<std::string> save_now(uint64_t uncounted_changes = 0);
  struct ForkTiming {
    double locks_ms;
    double fork_ms;
  };
  BgsaveOutcome fork_child();
  ForkTiming fork_snapshot(rdb::SaveRequest& request, int report_fd, Child& child);
  void wait_for_child(Child child);
  void kill_child();  // with save_mutex_ held
  void cron_loop();
  void check_save_points();
  void start_scheduled_bgsave();
  void stop_cron();
  bool final_save_wanted(bool changed) const;
  bool changed_since_last_save() const;

  Config& config_;
  Keyspace& keyspace_;
  const std::atomic<uint64_t>& dirty_;
  ForkSlot& forks_;

  // Held for the whole of a SAVE and while a BGSAVE forks: one save starts at a time.
  std::mutex save_mutex_;

  mutable std::mutex mutex_;  // guards what follows
  Child child_;
  std::thread waiter_;
  uint64_t dirty_at_last_save_ = 0;
  int64_t last_save_time_;
  int64_t last_bgsave_try_ = 0;
  // Redis's lastbgsave_status: set by every background save that ends (but not one we killed), and
  // by a successful SAVE; a failed SAVE leaves it as it was. Atomic: every write command reads it.
  std::atomic<bool> last_bgsave_ok_{true};
  int64_t last_bgsave_time_sec_ = -1;
  uint64_t saves_ = 0;
  uint64_t last_cow_size_ = 0;
  uint64_t last_load_keys_loaded_ = 0;
  uint64_t last_load_keys_expired_ = 0;
  ShutdownSave shutdown_mode_ = ShutdownSave::Default;

  const int64_t key_delay_us_;  // key_save_delay_us() (tests only)

  std::mutex cron_mutex_;
  std::condition_variable cron_wake_;
  bool cron_stopping_ = false;
  std::thread cron_;
};

}  // namespace rc
