#include "server/blocking.h"

#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <stdexcept>

#include <spdlog/spdlog.h>

#include "protocol/numbers.h"
#include "protocol/reply_writer.h"
#include "server/client_session.h"
#include "server/command_context.h"
#include "server/server.h"
#include "store/hash_table.h"

namespace rc {

// ---- ClientSession's blocking state ----

BlockedClient& ClientSession::blocking() {
  if (!blocking_) blocking_ = std::make_unique<BlockedClient>(*this);
  return *blocking_;
}

bool ClientSession::blocking_pending() const {
  return blocking_ != nullptr && blocking_->state() != BlockedClient::State::Idle;
}

// ---- BlockedClient ----

BlockedClient::BlockedClient(ClientSession& session) : session_(session) {
  wake_fd_ = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (wake_fd_ < 0) throw std::runtime_error("eventfd failed");
}

BlockedClient::~BlockedClient() { ::close(wake_fd_); }

void BlockedClient::reset() {
  uint64_t count = 0;
  while (::read(wake_fd_, &count, sizeof count) > 0) {
  }
  reply_.clear();
  aof_wait_ = {};
  attempt_ = nullptr;
  keys_.clear();
  extra_keys_.clear();
  argv_.clear();
  argv_views_.clear();
  deadline_.reset();
  state_.store(State::Idle, std::memory_order_release);
}

// ---- BlockingRegistry ----

BlockingRegistry::BlockingRegistry(Server& server) : server_(server) { ready_keys::set_waiters(this); }

BlockingRegistry::~BlockingRegistry() { ready_keys::set_waiters(nullptr); }

void BlockingRegistry::block(CommandContext& ctx, const std::vector<std::string_view>& keys, int64_t timeout_ms,
                             const std::vector<std::string_view>& extra_keys, Attempt attempt) {
  // Inside EXEC a client cannot wait: the command answers as if it had timed out, as Redis's DENY_BLOCKING.
  if (ctx.client.transaction.executing) return ctx.out.null_array();
  BlockedClient& client = ctx.client.blocking();
  client.db_ = ctx.client.db.load(std::memory_order_relaxed);
  client.argv_.assign(ctx.argv.begin(), ctx.argv.end());
  client.argv_views_.assign(client.argv_.begin(), client.argv_.end());
  // A key named twice is waited on once (Redis keeps one entry per key too).
  for (const std::string_view key : keys) {
    if (std::find(client.keys_.begin(), client.keys_.end(), key) == client.keys_.end()) client.keys_.emplace_back(key);
  }
  client.extra_keys_.assign(extra_keys.begin(), extra_keys.end());
  if (timeout_ms > 0) client.deadline_ = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  client.attempt_ = std::move(attempt);
  std::lock_guard lock(mutex_);
  for (const std::string& key : client.keys_) {
    auto it = waiting_.find(KeyView{client.db_, key});
    if (it == waiting_.end()) it = waiting_.emplace(KeyRef{client.db_, std::string(key)}, std::deque<BlockedClient*>()).first;
    it->second.push_back(&client);
  }
  by_id_[ctx.client.id] = &client;
  ctx.client.blocked.store(true, std::memory_order_relaxed);
  client.state_.store(BlockedClient::State::Waiting, std::memory_order_release);
  ready_keys::g_waiting_clients.fetch_add(1, std::memory_order_relaxed);
  if (client.deadline_) with_timeout_.fetch_add(1, std::memory_order_relaxed);
}

void BlockingRegistry::finish_locked(BlockedClient& client, BlockedClient::State state) {
  for (const std::string& key : client.keys_) {
    auto it = waiting_.find(KeyView{client.db_, key});
    if (it == waiting_.end()) continue;
    auto& queue = it->second;
    queue.erase(std::remove(queue.begin(), queue.end(), &client), queue.end());
    if (queue.empty()) waiting_.erase(it);
  }
  by_id_.erase(client.session_.id);
  client.session_.blocked.store(false, std::memory_order_relaxed);
  ready_keys::g_waiting_clients.fetch_sub(1, std::memory_order_relaxed);
  if (client.deadline_) with_timeout_.fetch_sub(1, std::memory_order_relaxed);
  client.state_.store(state, std::memory_order_release);
  if (state != BlockedClient::State::Idle) {
    const uint64_t one = 1;
    [[maybe_unused]] const ssize_t written = ::write(client.wake_fd_, &one, sizeof one);
  }
}

bool BlockingRegistry::cancel(BlockedClient& client) {
  std::lock_guard lock(mutex_);
  if (!client.waiting()) return false;
  finish_locked(client, BlockedClient::State::Idle);
  return true;
}

bool BlockingRegistry::unblock(uint64_t id, bool with_error) {
  std::lock_guard lock(mutex_);
  const auto it = by_id_.find(id);
  if (it == by_id_.end()) return false;
  BlockedClient& client = *it->second;
  ReplyWriter out(client.reply_, client.session_.protocol.load(std::memory_order_relaxed));
  if (with_error) {
    out.error("UNBLOCKED client unblocked via CLIENT UNBLOCK");
  } else {
    out.null_array();  // what a timeout replies
  }
  finish_locked(client, BlockedClient::State::Served);
  return true;
}

bool BlockingRegistry::acquire_extra_shards(Database& db, const BlockedClient& client) {
  for (const std::string& key : client.extra_keys_) {
    if (!HeldShards::try_acquire(db.shard(Database::shard_index(hash_key(key))).mutex)) return false;
  }
  return true;
}

void BlockingRegistry::serve(Database& db, std::string_view key) {
  const uint64_t hash = hash_key(key);
  Shard& shard = db.shard(Database::shard_index(hash));
  std::lock_guard lock(mutex_);
  const auto it = waiting_.find(KeyView{db.index(), key});
  if (it == waiting_.end()) return;
  // The queue changes as clients are served: work on a copy, in the order they blocked.
  const std::vector<BlockedClient*> queue(it->second.begin(), it->second.end());
  if (!HeldShards::holds(shard.mutex) && !HeldShards::try_acquire(shard.mutex)) {
    // Cannot happen for a key created under this thread's locks; rather than wait for a lock out of order, the
    // first client tries by itself.
    finish_locked(*queue.front(), BlockedClient::State::Retry);
    return;
  }
  for (BlockedClient* client : queue) {
    if (shard.table.find(key, hash) == nullptr) break;  // the last element went to an earlier client
    if (!client->waiting()) continue;
    if (!acquire_extra_shards(db, *client)) {
      // Another thread holds its destination's shard right now; waiting for it here could deadlock, so the
      // client tries again by itself (in its own thread, locking in order).
      finish_locked(*client, BlockedClient::State::Retry);
      continue;
    }
    ReplyWriter out(client->reply_, client->session_.protocol.load(std::memory_order_relaxed));
    CommandContext context{server_, client->session_, out, client->argv_views_};
    if (!client->attempt_(context, key)) continue;
    client->aof_wait_ = aof_tracking::pending();
    finish_locked(*client, BlockedClient::State::Served);
  }
}

std::vector<std::string> BlockingRegistry::keys_waited_in(int db) {
  std::lock_guard lock(mutex_);
  std::vector<std::string> keys;
  for (auto it = waiting_.lower_bound(KeyView{db, std::string_view()}); it != waiting_.end() && it->first.db == db;
       ++it) {
    keys.push_back(it->first.key);
  }
  return keys;
}

std::optional<int64_t> parse_block_timeout(CommandContext& ctx, std::string_view text) {
  const auto seconds = parse_long_double(text);
  if (!seconds || !std::isfinite(static_cast<double>(*seconds))) {
    ctx.out.error("ERR timeout is not a float or out of range");
    return std::nullopt;
  }
  const long double ms = std::ceil(*seconds * 1000.0L);
  if (ms < 0) {
    ctx.out.error("ERR timeout is negative");
    return std::nullopt;
  }
  // Redis adds the timeout to the clock and keeps it in a long long; beyond that, wait forever-ish.
  constexpr long double kMaxMs = 1e15L;
  return static_cast<int64_t>(std::min(ms, kMaxMs));
}

}  // namespace rc
