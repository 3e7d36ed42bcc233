#pragma once
// Publish/subscribe, as Redis's pubsub.c: channels (SUBSCRIBE), patterns (PSUBSCRIBE) and shard channels
// (SSUBSCRIBE, which in a server without cluster are one more namespace of channels, never matched by patterns).
//
// Delivery: a publisher never writes another client's socket. Each subscriber has an outbox of frames already
// encoded in its own protocol; PUBLISH appends to it under the subscriber's small mutex and signals the
// subscriber's wake-up descriptor when it was empty. The subscriber's own thread waits on its socket and that
// descriptor (poll) and sends the outbox. The outbox (with whatever the thread has not managed to send yet) is
// bounded by `client-output-buffer-limit pubsub`: past the hard limit, or past the soft one for longer than its
// seconds, the publisher drops the frame and marks the subscriber for closing, and its thread disconnects it.
// A publisher never waits for a subscriber.
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "store/keyspace_events.h"

namespace rc {

struct ClientSession;
class ReplyWriter;

// One class of Redis's client-output-buffer-limit: 0 bytes means no limit.
struct OutputBufferLimit {
  uint64_t hard_bytes = 0;
  uint64_t soft_bytes = 0;
  int64_t soft_seconds = 0;
};

class PubSubRegistry;

// One connection's subscriptions and outbox, kept for the connection's life once it first subscribed (its
// wake-up descriptor is made once). Its subscription sets belong to the connection's thread (changed under the
// registry's lock); the outbox is shared with publishers under `mutex_`.
class Subscriber {
 public:
  explicit Subscriber(ClientSession& session);
  ~Subscriber();
  Subscriber(const Subscriber&) = delete;
  Subscriber& operator=(const Subscriber&) = delete;

  int wake_fd() const { return wake_fd_; }
  // From the connection's thread: consumes the wake-up signal, then appends what publishers queued to `out`.
  void take_outbox(std::string& out);
  // Consumes the wake-up signal only (the outbox is taken later, before the next wait).
  void clear_wakeup();
  // From the connection's thread: how many reply bytes it holds and has not sent yet (they count against the
  // limit, as Redis counts its whole output buffer).
  void note_unsent(size_t bytes) { unsent_.store(bytes, std::memory_order_relaxed); }
  // From the connection's thread: queues its own pub/sub confirmations, which are pushes: they are sent in
  // order with the messages and even while CLIENT REPLY is OFF, and never count as over the limit.
  void queue_own(std::string_view frames);
  // A publisher found the client over its output buffer limit: its thread must close it.
  bool over_limit() const { return over_limit_.load(std::memory_order_acquire); }

 private:
  friend class PubSubRegistry;
  // From a publisher: queues one frame, or marks the client for closing when it would exceed `limit`.
  void deliver(std::string_view frame, const OutputBufferLimit& limit, int64_t now_ms);
  void signal();

  ClientSession& session_;
  int wake_fd_ = -1;
  std::mutex mutex_;
  std::string outbox_;
  int64_t soft_limit_since_ms_ = 0;  // when the soft limit was first exceeded; 0: it is not
  std::atomic<size_t> unsent_{0};
  std::atomic<bool> over_limit_{false};
  // The subscriptions, read and changed only by the connection's thread under the registry's lock. Patterns
  // in the order they were made, as Redis's list (PUNSUBSCRIBE with no argument replies in that order).
  std::set<std::string, std::less<>> channels_;
  std::set<std::string, std::less<>> shard_channels_;
  std::vector<std::string> patterns_;
};

class PubSubRegistry : public keyspace_events::Publisher {
 public:
  // Channels and shard channels are separate namespaces with the same rules (and the same functions).
  enum class Kind { Channel, Shard };

  // The registry receives the keyspace notifications of the process while it exists.
  PubSubRegistry();
  ~PubSubRegistry();
  PubSubRegistry(const PubSubRegistry&) = delete;
  PubSubRegistry& operator=(const PubSubRegistry&) = delete;

  // SUBSCRIBE / SSUBSCRIBE: subscribes ctx's client to each channel and writes one confirmation per channel,
  // with the client's running count.
  void subscribe(ClientSession& client, ReplyWriter& reply, const std::vector<std::string_view>& channels, Kind kind);
  // UNSUBSCRIBE / SUNSUBSCRIBE: from each channel, or from every one when `channels` is empty (one
  // confirmation with a null channel when there was none).
  void unsubscribe(ClientSession& client, ReplyWriter& reply, const std::vector<std::string_view>& channels, Kind kind);
  void psubscribe(ClientSession& client, ReplyWriter& reply, const std::vector<std::string_view>& patterns);
  void punsubscribe(ClientSession& client, ReplyWriter& reply, const std::vector<std::string_view>& patterns);
  // Drops every subscription of `client` without a reply (disconnect, RESET). Once it returns no publisher
  // touches the client's Subscriber any more.
  void forget(ClientSession& client);

  // PUBLISH / SPUBLISH: queues the message for every subscriber of `channel` (and, for a channel, of every
  // matching pattern); returns how many deliveries that made, as Redis counts receivers.
  size_t publish(std::string_view channel, std::string_view message, Kind kind);

  // keyspace_events::Publisher: a PUBLISH made by the server.
  void publish_event(std::string_view channel, std::string_view message) override {
    publish(channel, message, Kind::Channel);
  }

  // PUBSUB CHANNELS / SHARDCHANNELS: the channels with a subscriber, those matching `pattern` when given.
  std::vector<std::string> channels(Kind kind, std::optional<std::string_view> pattern) const;
  // PUBSUB NUMSUB / SHARDNUMSUB: subscribers of one channel (patterns not counted).
  size_t subscribers(Kind kind, std::string_view channel) const;
  // PUBSUB NUMPAT, INFO pubsub_patterns: distinct patterns with a subscriber.
  size_t pattern_count() const;
  // INFO pubsub_channels / pubsubshard_channels.
  size_t channel_count(Kind kind) const;

  // client-output-buffer-limit pubsub, from the configuration.
  void set_limit(const OutputBufferLimit& limit);

 private:
  struct TransparentHash {
    using is_transparent = void;
    size_t operator()(std::string_view text) const { return std::hash<std::string_view>()(text); }
  };
  using ChannelMap =
      std::unordered_map<std::string, std::vector<Subscriber*>, TransparentHash, std::equal_to<>>;
  struct PatternSubscribers {
    std::string pattern;
    std::vector<Subscriber*> subscribers;
  };

  ChannelMap& map_of(Kind kind) { return kind == Kind::Channel ? channels_ : shard_channels_; }
  const ChannelMap& map_of(Kind kind) const { return kind == Kind::Channel ? channels_ : shard_channels_; }
  // Removes one subscription; mutex_ held. Returns whether the client had it.
  bool remove_channel_locked(Subscriber& subscriber, std::string_view channel, Kind kind);
  bool remove_pattern_locked(Subscriber& subscriber, std::string_view pattern);
  void update_counts(ClientSession& client, const Subscriber& subscriber);
  OutputBufferLimit limit() const;

  mutable std::shared_mutex mutex_;  // publishers share it; (un)subscribing takes it alone
  ChannelMap channels_;
  ChannelMap shard_channels_;
  std::vector<PatternSubscribers> patterns_;
  std::atomic<uint64_t> hard_limit_{0};
  std::atomic<uint64_t> soft_limit_{0};
  std::atomic<int64_t> soft_seconds_{0};
};

// Parses a client-output-buffer-limit value ("normal 0 0 0 replica 256mb 64mb 60 pubsub 32mb 8mb 60", any
// subset of the classes) over `current` (the full value as CONFIG GET shows it) and returns the new full
// value, or Redis's error text.
struct OutputLimitsParse {
  std::string value;
  std::string error;
};
OutputLimitsParse merge_output_buffer_limits(std::string_view current, std::string_view update);
// The pubsub class of a full client-output-buffer-limit value.
OutputBufferLimit pubsub_output_limit(std::string_view full_value);

}  // namespace rc
