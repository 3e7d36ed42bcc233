#include "server/pubsub.h"

#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <mutex>
#include <stdexcept>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "protocol/numbers.h"
#include "protocol/reply_writer.h"
#include "server/client_session.h"
#include "store/clock.h"
#include "store/glob.h"

namespace rc {
namespace {

// A message frame in both protocols, each encoded on first use: one PUBLISH encodes it at most twice however
// many subscribers receive it.
class Frames {
 public:
  // ["message", channel, payload] or ["pmessage", pattern, channel, payload]
  explicit Frames(std::vector<std::string_view> parts) : parts_(std::move(parts)) {}

  std::string_view for_protocol(int protocol) {
    std::optional<std::string>& cached = protocol >= 3 ? resp3_ : resp2_;
    if (!cached) {
      cached.emplace();
      ReplyWriter out(*cached, protocol);
      out.push(parts_.size());
      for (const std::string_view part : parts_) out.bulk(part);
    }
    return *cached;
  }

 private:
  std::vector<std::string_view> parts_;
  std::optional<std::string> resp2_;
  std::optional<std::string> resp3_;
};

// The confirmations of one command, queued behind the messages already in the client's outbox once the
// command's subscriptions are made (so that a message published after them follows them).
class Confirmations {
 public:
  Confirmations(ClientSession& client, int protocol) : client_(client), writer_(frames_, protocol) {}
  ~Confirmations() { client_.subscriber().queue_own(frames_); }
  operator ReplyWriter&() { return writer_; }

 private:
  ClientSession& client_;
  std::string frames_;
  ReplyWriter writer_;
};

// A subscribe/unsubscribe confirmation: [kind, channel or null, count], a push frame in RESP3.
void confirm(ReplyWriter& out, std::string_view kind, const std::string_view* channel, size_t count) {
  out.push(3);
  out.bulk(kind);
  if (channel != nullptr) {
    out.bulk(*channel);
  } else {
    out.null();
  }
  out.integer(static_cast<int64_t>(count));
}

template <typename T>
void erase_value(std::vector<T>& values, const T& value) {
  values.erase(std::remove(values.begin(), values.end(), value), values.end());
}

}  // namespace

// ---- Subscriber ----

Subscriber::Subscriber(ClientSession& session) : session_(session) {
  wake_fd_ = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (wake_fd_ < 0) throw std::runtime_error("eventfd failed");
}

Subscriber::~Subscriber() { ::close(wake_fd_); }

void Subscriber::clear_wakeup() {
  uint64_t count = 0;
  while (::read(wake_fd_, &count, sizeof count) > 0) {
  }
}

void Subscriber::take_outbox(std::string& out) {
  // The signal is consumed before the outbox is read: a frame queued after this read signals again.
  clear_wakeup();
  std::lock_guard lock(mutex_);
  if (outbox_.empty()) return;
  if (out.empty()) {
    out.swap(outbox_);
  } else {
    out += outbox_;
    outbox_.clear();
  }
}

void Subscriber::queue_own(std::string_view frames) {
  std::lock_guard lock(mutex_);
  outbox_.append(frames);
}

void Subscriber::signal() {
  const uint64_t one = 1;
  [[maybe_unused]] const ssize_t written = ::write(wake_fd_, &one, sizeof one);
}

// As Redis's checkClientOutputBufferLimits: over the hard limit at once, over the soft one once it has stayed
// over it for longer than its seconds (the time counts from the first frame that went over).
void Subscriber::deliver(std::string_view frame, const OutputBufferLimit& limit, int64_t now_ms) {
  std::lock_guard lock(mutex_);
  if (over_limit_.load(std::memory_order_relaxed)) return;
  const uint64_t pending = outbox_.size() + unsent_.load(std::memory_order_relaxed) + frame.size();
  bool close = limit.hard_bytes != 0 && pending >= limit.hard_bytes;
  if (limit.soft_bytes != 0 && pending >= limit.soft_bytes) {
    if (soft_limit_since_ms_ == 0) {
      soft_limit_since_ms_ = now_ms;
    } else if (now_ms - soft_limit_since_ms_ > limit.soft_seconds * 1000) {
      close = true;
    }
  } else {
    soft_limit_since_ms_ = 0;
  }
  if (close) {
    spdlog::warn("Client id={} addr={} scheduled to be closed ASAP for overcoming of output buffer limits.",
                 session_.id, session_.peer);
    outbox_.clear();
    over_limit_.store(true, std::memory_order_release);
    signal();
    return;
  }
  const bool was_empty = outbox_.empty();
  outbox_.append(frame);
  if (was_empty) signal();
}

// ---- PubSubRegistry ----

PubSubRegistry::PubSubRegistry() { keyspace_events::set_publisher(this); }

PubSubRegistry::~PubSubRegistry() { keyspace_events::set_publisher(nullptr); }

void PubSubRegistry::set_limit(const OutputBufferLimit& limit) {
  hard_limit_.store(limit.hard_bytes, std::memory_order_relaxed);
  soft_limit_.store(limit.soft_bytes, std::memory_order_relaxed);
  soft_seconds_.store(limit.soft_seconds, std::memory_order_relaxed);
}

OutputBufferLimit PubSubRegistry::limit() const {
  return {hard_limit_.load(std::memory_order_relaxed), soft_limit_.load(std::memory_order_relaxed),
          soft_seconds_.load(std::memory_order_relaxed)};
}

void PubSubRegistry::update_counts(ClientSession& client, const Subscriber& subscriber) {
  client.channel_subscriptions.store(subscriber.channels_.size(), std::memory_order_relaxed);
  client.pattern_subscriptions.store(subscriber.patterns_.size(), std::memory_order_relaxed);
  client.shard_subscriptions.store(subscriber.shard_channels_.size(), std::memory_order_relaxed);
}

void PubSubRegistry::subscribe(ClientSession& client, ReplyWriter& reply, const std::vector<std::string_view>& channels,
                               Kind kind) {
  Subscriber& subscriber = client.subscriber();
  auto& mine = kind == Kind::Channel ? subscriber.channels_ : subscriber.shard_channels_;
  const std::string_view word = kind == Kind::Channel ? "subscribe" : "ssubscribe";
  std::unique_lock lock(mutex_);
  // Destroyed (queued) before the lock is released.
  Confirmations out(client, reply.protocol());
  for (const std::string_view channel : channels) {
    if (mine.emplace(channel).second) {
      ChannelMap& map = map_of(kind);
      auto it = map.find(channel);
      if (it == map.end()) it = map.emplace(std::string(channel), std::vector<Subscriber*>()).first;
      it->second.push_back(&subscriber);
      update_counts(client, subscriber);
    }
    // Channels and patterns count together; shard channels alone.
    const size_t count = kind == Kind::Channel ? mine.size() + subscriber.patterns_.size() : mine.size();
    confirm(out, word, &channel, count);
  }
}

bool PubSubRegistry::remove_channel_locked(Subscriber& subscriber, std::string_view channel, Kind kind) {
  auto& mine = kind == Kind::Channel ? subscriber.channels_ : subscriber.shard_channels_;
  const auto own = mine.find(channel);
  if (own == mine.end()) return false;
  mine.erase(own);
  ChannelMap& map = map_of(kind);
  const auto it = map.find(channel);
  if (it != map.end()) {
    erase_value(it->second, &subscriber);
    // A channel nobody listens to any more is dropped, so that subscribing to many channels once costs nothing
    // once they are left.
    if (it->second.empty()) map.erase(it);
  }
  return true;
}

void PubSubRegistry::unsubscribe(ClientSession& client, ReplyWriter& reply,
                                 const std::vector<std::string_view>& channels, Kind kind) {
  Subscriber& subscriber = client.subscriber();
  auto& mine = kind == Kind::Channel ? subscriber.channels_ : subscriber.shard_channels_;
  const std::string_view word = kind == Kind::Channel ? "unsubscribe" : "sunsubscribe";
  auto count = [&] { return kind == Kind::Channel ? mine.size() + subscriber.patterns_.size() : mine.size(); };
  std::unique_lock lock(mutex_);
  // Destroyed (queued) before the lock is released.
  Confirmations out(client, reply.protocol());
  if (channels.empty()) {
    if (mine.empty()) return confirm(out, word, nullptr, count());
    const std::vector<std::string> all(mine.begin(), mine.end());
    for (const std::string& channel : all) {
      remove_channel_locked(subscriber, channel, kind);
      update_counts(client, subscriber);
      const std::string_view name = channel;
      confirm(out, word, &name, count());
    }
    return;
  }
  for (const std::string_view channel : channels) {
    if (remove_channel_locked(subscriber, channel, kind)) update_counts(client, subscriber);
    confirm(out, word, &channel, count());
  }
}

void PubSubRegistry::psubscribe(ClientSession& client, ReplyWriter& reply,
                                const std::vector<std::string_view>& patterns) {
  Subscriber& subscriber = client.subscriber();
  std::unique_lock lock(mutex_);
  // Destroyed (queued) before the lock is released.
  Confirmations out(client, reply.protocol());
  for (const std::string_view pattern : patterns) {
    auto& mine = subscriber.patterns_;
    if (std::find(mine.begin(), mine.end(), pattern) == mine.end()) {
      mine.emplace_back(pattern);
      auto it = std::find_if(patterns_.begin(), patterns_.end(),
                             [&](const PatternSubscribers& entry) { return entry.pattern == pattern; });
      if (it == patterns_.end()) it = patterns_.insert(patterns_.end(), PatternSubscribers{std::string(pattern), {}});
      it->subscribers.push_back(&subscriber);
      update_counts(client, subscriber);
    }
    confirm(out, "psubscribe", &pattern, subscriber.channels_.size() + mine.size());
  }
}

bool PubSubRegistry::remove_pattern_locked(Subscriber& subscriber, std::string_view pattern) {
  auto& mine = subscriber.patterns_;
  const auto own = std::find(mine.begin(), mine.end(), pattern);
  if (own == mine.end()) return false;
  mine.erase(own);
  const auto it = std::find_if(patterns_.begin(), patterns_.end(),
                               [&](const PatternSubscribers& entry) { return entry.pattern == pattern; });
  if (it != patterns_.end()) {
    erase_value(it->subscribers, &subscriber);
    if (it->subscribers.empty()) patterns_.erase(it);
  }
  return true;
}

void PubSubRegistry::punsubscribe(ClientSession& client, ReplyWriter& reply,
                                  const std::vector<std::string_view>& patterns) {
  Subscriber& subscriber = client.subscriber();
  auto count = [&] { return subscriber.channels_.size() + subscriber.patterns_.size(); };
  std::unique_lock lock(mutex_);
  // Destroyed (queued) before the lock is released.
  Confirmations out(client, reply.protocol());
  if (patterns.empty()) {
    if (subscriber.patterns_.empty()) return confirm(out, "punsubscribe", nullptr, count());
    const std::vector<std::string> all = subscriber.patterns_;
    for (const std::string& pattern : all) {
      remove_pattern_locked(subscriber, pattern);
      update_counts(client, subscriber);
      const std::string_view name = pattern;
      confirm(out, "punsubscribe", &name, count());
    }
    return;
  }
  for (const std::string_view pattern : patterns) {
    if (remove_pattern_locked(subscriber, pattern)) update_counts(client, subscriber);
    confirm(out, "punsubscribe", &pattern, count());
  }
}

void PubSubRegistry::forget(ClientSession& client) {
  Subscriber* subscriber = client.subscriber_if_made();
  if (subscriber == nullptr) return;
  std::unique_lock lock(mutex_);
  for (const Kind kind : {Kind::Channel, Kind::Shard}) {
    auto& mine = kind == Kind::Channel ? subscriber->channels_ : subscriber->shard_channels_;
    const std::vector<std::string> all(mine.begin(), mine.end());
    for (const std::string& channel : all) remove_channel_locked(*subscriber, channel, kind);
  }
  const std::vector<std::string> patterns = subscriber->patterns_;
  for (const std::string& pattern : patterns) remove_pattern_locked(*subscriber, pattern);
  update_counts(client, *subscriber);
}

size_t PubSubRegistry::publish(std::string_view channel, std::string_view message, Kind kind) {
  const OutputBufferLimit limits = limit();
  const int64_t now = unix_time_ms();
  size_t receivers = 0;
  std::shared_lock lock(mutex_);
  const ChannelMap& map = map_of(kind);
  if (const auto it = map.find(channel); it != map.end()) {
    Frames frames({kind == Kind::Channel ? "message" : "smessage", channel, message});
    for (Subscriber* subscriber : it->second) {
      subscriber->deliver(frames.for_protocol(subscriber->session_.protocol.load(std::memory_order_relaxed)), limits,
                          now);
      ++receivers;
    }
  }
  if (kind == Kind::Shard) return receivers;  // shard channels ignore patterns
  for (const PatternSubscribers& entry : patterns_) {
    if (!glob_match(entry.pattern, channel)) continue;
    Frames frames({"pmessage", entry.pattern, channel, message});
    for (Subscriber* subscriber : entry.subscribers) {
      subscriber->deliver(frames.for_protocol(subscriber->session_.protocol.load(std::memory_order_relaxed)), limits,
                          now);
      ++receivers;
    }
  }
  return receivers;
}

std::vector<std::string> PubSubRegistry::channels(Kind kind, std::optional<std::string_view> pattern) const {
  std::shared_lock lock(mutex_);
  std::vector<std::string> names;
  for (const auto& [channel, subscribers] : map_of(kind)) {
    if (!pattern || glob_match(*pattern, channel)) names.push_back(channel);
  }
  return names;
}

size_t PubSubRegistry::subscribers(Kind kind, std::string_view channel) const {
  std::shared_lock lock(mutex_);
  const ChannelMap& map = map_of(kind);
  const auto it = map.find(channel);
  return it == map.end() ? 0 : it->second.size();
}

size_t PubSubRegistry::pattern_count() const {
  std::shared_lock lock(mutex_);
  return patterns_.size();
}

size_t PubSubRegistry::channel_count(Kind kind) const {
  std::shared_lock lock(mutex_);
  return map_of(kind).size();
}

// ---- client-output-buffer-limit ----

namespace {

constexpr std::string_view kLimitClasses[] = {"normal", "slave", "pubsub"};

std::vector<std::string_view> split_words(std::string_view text) {
  std::vector<std::string_view> words;
  size_t start = 0;
  while (start < text.size()) {
    const size_t first = text.find_first_not_of(" \t", start);
    if (first == std::string_view::npos) break;
    const size_t end = std::min(text.find_first_of(" \t", first), text.size());
    words.push_back(text.substr(first, end - first));
    start = end;
  }
  return words;
}

// As Redis's getClientTypeByName (any case; "replica" is "slave"); -1 for an unknown or the master class.
int limit_class(std::string_view name) {
  const std::string lower = [&] {
    std::string text(name);
    for (char& c : text) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return text;
  }();
  if (lower == "normal") return 0;
  if (lower == "slave" || lower == "replica") return 1;
  if (lower == "pubsub") return 2;
  return -1;
}

// Redis's memtoull: digits with an optional unit (b, k, kb, m, mb, g, gb; any case).
std::optional<uint64_t> memory_amount(std::string_view text) {
  std::string lower(text);
  for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  static const std::pair<std::string_view, uint64_t> kUnits[] = {
      {"gb", 1ULL << 30}, {"mb", 1ULL << 20}, {"kb", 1ULL << 10}, {"g", 1000ULL * 1000 * 1000},
      {"m", 1000ULL * 1000}, {"k", 1000ULL}, {"b", 1}};
  uint64_t multiplier = 1;
  std::string_view digits = lower;
  for (const auto& [suffix, factor] : kUnits) {
    if (digits.size() > suffix.size() && digits.substr(digits.size() - suffix.size()) == suffix) {
      multiplier = factor;
      digits.remove_suffix(suffix.size());
      break;
    }
  }
  const auto value = parse_int64(digits);
  if (!value || *value < 0 || static_cast<uint64_t>(*value) > UINT64_MAX / multiplier) return std::nullopt;
  return static_cast<uint64_t>(*value) * multiplier;
}

struct ClassLimits {
  OutputBufferLimit limits[3];
};

ClassLimits parse_full(std::string_view full_value) {
  ClassLimits parsed;
  const auto words = split_words(full_value);
  for (size_t i = 0; i + 3 < words.size(); i += 4) {
    const int index = limit_class(words[i]);
    if (index < 0) continue;
    parsed.limits[index] = {memory_amount(words[i + 1]).value_or(0), memory_amount(words[i + 2]).value_or(0),
                            parse_int64(words[i + 3]).value_or(0)};
  }
  return parsed;
}

}  // namespace

OutputLimitsParse merge_output_buffer_limits(std::string_view current, std::string_view update) {
  const auto words = split_words(update);
  if (words.size() % 4 != 0) return {"", "Wrong number of arguments in buffer limit configuration."};
  ClassLimits merged = parse_full(current);
  // Every class is checked before any is applied: the whole value is taken or refused.
  ClassLimits checked = merged;
  for (size_t i = 0; i < words.size(); i += 4) {
    const int index = limit_class(words[i]);
    if (index < 0) return {"", "Invalid client class specified in buffer limit configuration."};
    const auto hard = memory_amount(words[i + 1]);
    const auto soft = memory_amount(words[i + 2]);
    const auto seconds = parse_int64(words[i + 3]);
    if (!hard || !soft || !seconds || *seconds < 0 || *seconds > INT32_MAX) {
      return {"", "Error in hard, soft or soft_seconds setting in buffer limit configuration."};
    }
    checked.limits[index] = {*hard, *soft, *seconds};
  }
  merged = checked;
  std::string value;
  for (size_t index = 0; index < 3; ++index) {
    const OutputBufferLimit& limit = merged.limits[index];
    value += fmt::format("{}{} {} {} {}", index == 0 ? "" : " ", kLimitClasses[index], limit.hard_bytes,
                         limit.soft_bytes, limit.soft_seconds);
  }
  return {value, ""};
}

OutputBufferLimit pubsub_output_limit(std::string_view full_value) { return parse_full(full_value).limits[2]; }

}  // namespace rc
