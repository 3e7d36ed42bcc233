#include "server/connection.h"

#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <limits>

#include <spdlog/spdlog.h>

#include "protocol/reply_writer.h"
#include "server/aof_log.h"
#include "server/pubsub.h"
#include "server/server.h"
#include "store/clock.h"

namespace rc {
namespace {

// Replies are sent once no complete command is left in the input, or earlier once this much is pending,
// so a client pipelining reads of large values without reading replies cannot make us buffer without bound.
constexpr size_t kOutputFlushThreshold = 64 * 1024;
// Buffers above this are released after use instead of being kept for the next command.
constexpr size_t kKeepBufferCapacity = 256 * 1024;

}  // namespace

Connection::Connection(Server& server, std::shared_ptr<ClientSession> session)
    : server_(server), session_(std::move(session)) {}

void Connection::run() {
  for (;;) {
    if (session_->subscriber_if_made() != nullptr && !wait_as_subscriber()) break;
    if (!receive()) break;
    if (!process_input()) break;
    if (!flush()) break;
    if (session_->close_after_reply) break;
    input_.shrink_if_idle(kKeepBufferCapacity);
    note_query_buffer();
    if (output_.capacity() > kKeepBufferCapacity) std::string().swap(output_);
  }
  session_->transaction.discard();  // its WATCHes go with it
}

bool Connection::receive() {
  char* space = input_.prepare_receive(decoder_.bytes_needed());
  for (;;) {
    const ssize_t received = ::recv(session_->fd, space, input_.free_space(), 0);
    if (received > 0) {
      input_.commit(static_cast<size_t>(received));
      if (input_.unconsumed().size() > static_cast<size_t>(server_.config().client_query_buffer_limit())) {
        spdlog::warn("Closing client {} ({}) that reached max query buffer length", session_->id, session_->peer);
        return false;
      }
      session_->last_interaction_ms.store(unix_time_ms(), std::memory_order_relaxed);
      return true;
    }
    if (received == 0) return false;
    if (errno == EINTR) continue;
    return false;
  }
}

// For CLIENT LIST (two relaxed stores per command: nobody waits on them).
void Connection::note_query_buffer() {
  session_->query_buffer.store(input_.unconsumed().size(), std::memory_order_relaxed);
  session_->query_buffer_free.store(input_.free_space(), std::memory_order_relaxed);
}

DecodeLimits Connection::current_limits() const {
  DecodeLimits limits;
  limits.max_bulk = server_.config().proto_max_bulk_len();
  limits.unauthenticated = !session_->authenticated && server_.config().password_required();
  return limits;
}

bool Connection::process_input() {
  for (;;) {
    decoder_.set_limits(current_limits());
    const DecodeStatus status = decoder_.decode(input_.unconsumed());
    if (status == DecodeStatus::NeedMore) return true;
    if (status == DecodeStatus::Error) {
      // Redis replies with the protocol error, then closes the connection.
      ReplyWriter(output_, session_->protocol.load(std::memory_order_relaxed)).error(decoder_.error());
      session_->close_after_reply = true;
      spdlog::debug("client {} ({}): {}", session_->id, session_->peer, decoder_.error());
      return true;
    }
    if (!decoder_.args().empty()) {
      note_query_buffer();
      // Messages published before this command go out before its reply.
      take_published();
      execute_command(server_, *session_, output_, decoder_.args());
    }
    input_.consume(decoder_.consumed());
    if (session_->blocking_pending() && !wait_while_blocked()) return false;
    if (session_->close_after_reply) return true;
    if (output_.size() >= kOutputFlushThreshold && !flush()) return false;
  }
}

bool Connection::wait_for_event(const BlockedClient& blocked) {
  pollfd events[2] = {{session_->fd, POLLIN, 0}, {blocked.wake_fd(), POLLIN, 0}};
  int timeout_ms = -1;
  if (blocked.deadline()) {
    const auto left = *blocked.deadline() - std::chrono::steady_clock::now();
    // Rounded up, so that the wait never ends a little before the deadline and spins.
    timeout_ms = static_cast<int>(std::clamp<int64_t>(
        std::chrono::ceil<std::chrono::milliseconds>(left).count(), 0, std::numeric_limits<int>::max()));
  }
  if (::poll(events, 2, timeout_ms) <= 0) return false;
  return (events[0].revents & (POLLIN | POLLHUP | POLLERR)) != 0;
}

// The client's own thread waits here; the thread that serves it (or CLIENT UNBLOCK) leaves the reply in the
// client's outbox and signals its wake-up descriptor. Commands the client sends meanwhile are read (so that a
// disconnect is seen) but run only after the wait, as Redis does.
bool Connection::wait_while_blocked() {
  BlockedClient& blocked = session_->blocking();
  BlockingRegistry& registry = server_.blocking();
  if (!flush()) {
    registry.cancel(blocked);
    blocked.reset();
    return false;
  }
  for (;;) {
    switch (blocked.state()) {
      case BlockedClient::State::Served:
        output_ += blocked.reply();
        aof_tracking::record(blocked.aof_wait().log, blocked.aof_wait().offset);
        blocked.reset();
        return true;
      case BlockedClient::State::Retry: {
        // Its key got a value, but the serving thread could not take every lock the command needs without
        // waiting: the command runs again here, and may block again.
        const std::vector<std::string> argv(blocked.argv().begin(), blocked.argv().end());
        blocked.reset();
        const std::vector<std::string_view> views(argv.begin(), argv.end());
        execute_command(server_, *session_, output_, views);
        if (!session_->blocking_pending()) return true;
        if (!flush()) {
          registry.cancel(blocked);
          blocked.reset();
          return false;
        }
        continue;
      }
      case BlockedClient::State::Idle:
        return true;
      case BlockedClient::State::Waiting:
        break;
    }
    if (blocked.deadline() && std::chrono::steady_clock::now() >= *blocked.deadline()) {
      if (registry.cancel(blocked)) {
        ReplyWriter(output_, session_->protocol.load(std::memory_order_relaxed)).null_array();
        blocked.reset();
        return true;
      }
      continue;  // served at the same moment: the reply is there
    }
    if (wait_for_event(blocked) && !receive()) {
      // Disconnected (or over the query buffer limit) while waiting; a reply served meanwhile is dropped.
      registry.cancel(blocked);
      blocked.reset();
      return false;
    }
  }
}

void Connection::take_published() {
  if (Subscriber* subscriber = session_->subscriber_if_made()) subscriber->take_outbox(output_);
}

bool Connection::wait_as_subscriber() {
  Subscriber& subscriber = *session_->subscriber_if_made();
  for (;;) {
    take_published();
    if (subscriber.over_limit()) return false;
    if (!output_.empty() && !flush()) return false;
    pollfd events[2] = {{session_->fd, POLLIN, 0}, {subscriber.wake_fd(), POLLIN, 0}};
    if (::poll(events, 2, -1) < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    if (events[0].revents & (POLLIN | POLLHUP | POLLERR)) return true;
  }
}

// Every reply leaves through here: first the AOF entries of the commands that produced them must be
// written (fsynced with always), one wait for the whole batch. A client that has subscribed never blocks in
// send: while its socket is full it waits on the socket and on its wake-up descriptor, so that it notices
// when publishers have pushed it over its output buffer limit (a subscriber that never reads).
bool Connection::flush() {
  aof_tracking::wait_before_replies();
  take_published();
  Subscriber* subscriber = session_->subscriber_if_made();
  size_t sent = 0;
  while (sent < output_.size()) {
    const int flags = MSG_NOSIGNAL | (subscriber != nullptr ? MSG_DONTWAIT : 0);
    const ssize_t n = ::send(session_->fd, output_.data() + sent, output_.size() - sent, flags);
    if (n > 0) {
      sent += static_cast<size_t>(n);
      if (subscriber != nullptr) subscriber->note_unsent(output_.size() - sent);
    } else if (n < 0 && errno == EINTR) {
      continue;
    } else if (n < 0 && subscriber != nullptr && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      subscriber->note_unsent(output_.size() - sent);
      pollfd events[2] = {{session_->fd, POLLOUT, 0}, {subscriber->wake_fd(), POLLIN, 0}};
      if (::poll(events, 2, -1) < 0 && errno != EINTR) return false;
      if (events[1].revents & POLLIN) subscriber->clear_wakeup();  // the outbox is taken after this send
      if (subscriber->over_limit()) return false;
    } else {
      return false;
    }
  }
  output_.clear();
  return true;
}

}  // namespace rc
