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
class Subscriber;

struct ClientSession {
  // Out of line, where BlockedClient and Subscriber are complete.
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
  // CLIENT REPLY OFF / SKIP: the replies of the commands are dropped (pub/sub pushes still go out).
  bool reply_off = false;
  bool reply_skip_next = false;  // CLIENT REPLY SKIP was the last command: skip the next one's reply
  bool reply_skip = false;       // the command being run is that one
  // The state of a blocking command (server/blocking.h), made on the first one.
  BlockedClient& blocking();
  // Whether the last command blocked the client and its connection has not collected the outcome yet.
  bool blocking_pending() const;
  // The pub/sub state (server/pubsub.h: subscriptions, outbox, wake-up descriptor), made on the first
  // subscription; subscriber_if_made() is nullptr before.
  Subscriber& subscriber();
  Subscriber* subscriber_if_made() const { return subscriber_.get(); }

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
  // Subscriptions (CLIENT LIST sub= psub= ssub=), kept by the pub/sub registry. A client with any is in
  // Redis's pubsub mode: flag P, spared by the idle timeout, and in RESP2 limited to the pub/sub commands.
  std::atomic<size_t> channel_subscriptions{0};
  std::atomic<size_t> pattern_subscriptions{0};
  std::atomic<size_t> shard_subscriptions{0};
  bool subscribed() const {
    return channel_subscriptions.load(std::memory_order_relaxed) + pattern_subscriptions.load(std::memory_order_relaxed) +
               shard_subscriptions.load(std::memory_order_relaxed) != 0;
  }

  // Read by other clients' threads.
  mutable std::mutex mutex;
  std::string name;
  std::string lib_name;
  std::string lib_version;

 private:
  std::unique_ptr<BlockedClient> blocking_;
  std::unique_ptr<Subscriber> subscriber_;
};

}  // namespace rc
