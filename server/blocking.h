#pragma once
// Clients blocked on keys (BLPOP, BRPOP, BLMOVE, BRPOPLPUSH, BLMPOP, BZPOPMIN, BZPOPMAX, BZMPOP), as Redis's
// blocked.c: each waits for one of its keys to get a value, first come first served per key.
//
// A blocking command's handler first tries to pop with its keys' shards locked; when nothing is there it calls
// block() under those same locks (so no push can slip in between) and returns. Its connection thread then waits
// on its socket and on its own wake-up descriptor (poll, no timer loop), which:
//   - the thread of a command that created one of its keys signals, after it served the client: it ran the
//     client's Attempt with the key's shard still held (store/ready_keys.h) and left the reply in the client's
//     outbox, so the pushed value goes to the waiter before any other command can see it;
//   - CLIENT UNBLOCK signals, with a timeout or error reply in the outbox.
// The waiting thread itself handles its timeout and its client's disconnect (cancel()). Nobody but the
// client's own thread writes its socket.
#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <deque>
#include <map>
#include <optional>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "server/aof_log.h"
#include "store/db_key.h"
#include "store/ready_keys.h"

namespace rc {

class Server;
struct ClientSession;
struct CommandContext;

// One connection's blocking state, kept for the connection's life (its wake-up descriptor is made once).
class BlockedClient {
 public:
  enum class State { Idle, Waiting, Served, Retry };

  explicit BlockedClient(ClientSession& session);
  ~BlockedClient();
  BlockedClient(const BlockedClient&) = delete;
  BlockedClient& operator=(const BlockedClient&) = delete;

  int wake_fd() const { return wake_fd_; }
  State state() const { return state_.load(std::memory_order_acquire); }
  bool waiting() const { return state() == State::Waiting; }
  // Once the state is Served: the reply, and the AOF position it must wait for before it is sent.
  std::string& reply() { return reply_; }
  const aof_tracking::PendingWait& aof_wait() const { return aof_wait_; }
  // The command, as the client sent it (copied: the input buffer moves on while the client waits).
  const std::vector<std::string_view>& argv() const { return argv_views_; }
  // When the wait ends by itself; nullopt: never (timeout 0).
  const std::optional<std::chrono::steady_clock::time_point>& deadline() const { return deadline_; }
  // Drains the wake-up descriptor and returns to Idle, for the next command.
  void reset();

 private:
  friend class BlockingRegistry;
  ClientSession& session_;
  int wake_fd_ = -1;
  std::atomic<State> state_{State::Idle};
  int db_ = 0;
  std::vector<std::string> keys_;
  std::vector<std::string> extra_keys_;
  std::vector<std::string> argv_;
  std::vector<std::string_view> argv_views_;
  std::optional<std::chrono::steady_clock::time_point> deadline_;
  std::function<bool(CommandContext&, std::string_view)> attempt_;
  std::string reply_;
  aof_tracking::PendingWait aof_wait_;
};

class BlockingRegistry : public KeyWaiters {
 public:
  // How a blocked command tries again once `ready_key` (one of its keys) got a value. It runs on the thread that
  // created the key, which holds that key's shard and the shards of the command's `extra_keys` (so it must lock
  // nothing else); its context's client is the blocked one and its reply goes to that client's outbox. Returns
  // whether it replied (a pop, or an error such as BLMOVE's WRONGTYPE destination): then the client is unblocked.
  // False (the key is of another type) leaves it blocked.
  using Attempt = std::function<bool(CommandContext& ctx, std::string_view ready_key)>;

  explicit BlockingRegistry(Server& server);
  ~BlockingRegistry() override;

  // Blocks ctx's client on `keys` until `timeout_ms` (0: forever) passes. Called by the handler with the shards
  // of `keys` locked; `extra_keys` are other keys the Attempt touches (BLMOVE's destination). Inside EXEC it
  // replies a null array instead, as a timeout would.
  void block(CommandContext& ctx, const std::vector<std::string_view>& keys, int64_t timeout_ms,
             const std::vector<std::string_view>& extra_keys, Attempt attempt);

  // From the client's own thread, when its wait ends (timeout, disconnect): removes it, unless another thread
  // served or unblocked it first (then false, and the reply is in its outbox).
  bool cancel(BlockedClient& client);
  // CLIENT UNBLOCK: ends the wait of client `id` with the timeout reply or the UNBLOCKED error; false when it
  // is not blocked.
  bool unblock(uint64_t id, bool with_error);

  size_t blocked_clients() const { return ready_keys::g_waiting_clients.load(std::memory_order_relaxed); }
  // Those of them whose wait has a timeout (INFO clients_in_timeout_table).
  size_t clients_with_timeout() const { return with_timeout_.load(std::memory_order_relaxed); }

  // KeyWaiters (store/ready_keys.h).
  void serve(Database& db, std::string_view key) override;
  std::vector<std::string> keys_waited_in(int db) override;

 private:
  // Removes `client` from every queue and ends its wait in `state`; mutex_ held.
  void finish_locked(BlockedClient& client, BlockedClient::State state);
  // Takes the shards of the client's extra keys (BLMOVE's destination) without waiting; false if one is busy.
  bool acquire_extra_shards(Database& db, const BlockedClient& client);

  Server& server_;
  std::mutex mutex_;
  std::map<KeyRef, std::deque<BlockedClient*>, KeyOrder> waiting_;  // per key, in the order they blocked
  std::map<uint64_t, BlockedClient*> by_id_;
  std::atomic<size_t> with_timeout_{0};
};

// Parses a blocking command's timeout as Redis's getTimeoutFromObjectOrReply (seconds, fractional, rounded up to
// a millisecond); replies the error and returns nullopt when it is not valid.
std::optional<int64_t> parse_block_timeout(CommandContext& ctx, std::string_view text);

}  // namespace rc
