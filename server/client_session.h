#pragma once
// What the server knows about one connected client. The connection's own thread changes most of it; the
// fields that other clients read (CLIENT LIST, INFO) are atomics or guarded by `mutex`.
#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>

#include "server/transaction.h"

namespace rc {

struct CommandSpec;
class BlockedClient;

struct ClientSession {
  // Out of line, where BlockedClient is complete.
  ClientSession(uint64_t id_, int fd_, std::string peer_, std::string local_, int64_t created_ms_);
  ~ClientSession();

  const uint64_t id;
  const int fd;
  const std::string peer;   // "ip:port" of the client
  const std::string local;  // "ip:port" it connected to
  const int64_t created_ms;

  // Owned by the connection thread.
  bool close_after_reply = false;  // QUIT, protocol errors
  bool authenticated = true;
  TransactionState transaction;  // MULTI/EXEC/WATCH
  // The state of a blocking command (server/blocking.h), made on the first one.
  BlockedClient& blocking();
  // Whether the last command blocked the client and its connection has not collected the outcome yet.
  bool blocking_pending() const;

  // Changed by the connection thread, read by others (CLIENT LIST, INFO).
  std::atomic<int> protocol{2};  // 2 or 3, set by HELLO
  std::atomic<int> db{0};
  // The command being run or last run (CLIENT LIST cmd=): nullptr before the first, and after an unknown
  // command or subcommand, as Redis's lastcmd.
  std::atomic<const CommandSpec*> last_command{nullptr};
  // The input buffer (qbuf=, qbuf-free=): unconsumed bytes, the command being run included, and free room.
  std::atomic<size_t> query_buffer{0};
  std::atomic<size_t> query_buffer_free{0};
  std::atomic<int64_t> last_interaction_ms{0};
  std::atomic<uint64_t> commands_processed{0};
  // Waiting in a blocking command (CLIENT LIST flag b; the idle timeout spares it, as Redis's).
  std::atomic<bool> blocked{false};

  // Read by other clients' threads.
  mutable std::mutex mutex;
  std::string name;
  std::string lib_name;
  std::string lib_version;

 private:
  std::unique_ptr<BlockedClient> blocking_;
};

}  // namespace rc
