#pragma once
// Keyspace notifications (notify-keyspace-events), as Redis's notify.c: a change to a key publishes its event
// on __keyspace@<db>__:<key> and the key on __keyevent@<db>__:<event>, for the classes the configuration
// selects. Commands call notify() (CommandContext::notify) after each change, with Redis's event names; the
// expiry of a key notifies "expired" from the store. With the default (no class selected) a call costs one
// relaxed load and a branch.
#include <atomic>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace rc::keyspace_events {

// Redis's NOTIFY_* bits.
enum Class : uint32_t {
  kKeyspace = 1u << 0,   // K
  kKeyevent = 1u << 1,   // E
  kGeneric = 1u << 2,    // g: DEL, EXPIRE, RENAME, ...
  kString = 1u << 3,     // $
  kList = 1u << 4,       // l
  kSet = 1u << 5,        // s
  kHash = 1u << 6,       // h
  kZset = 1u << 7,       // z
  kExpired = 1u << 8,    // x
  kEvicted = 1u << 9,    // e
  kStream = 1u << 10,    // t
  kKeyMiss = 1u << 11,   // m
  kModule = 1u << 13,    // d
  kNew = 1u << 14,       // n
  kAll = kGeneric | kString | kList | kSet | kHash | kZset | kExpired | kEvicted | kStream | kModule,  // A
};

// Where the events go (the pub/sub registry).
class Publisher {
 public:
  virtual void publish_event(std::string_view channel, std::string_view message) = 0;

 protected:
  ~Publisher() = default;
};

// The selected classes (0: notifications off).
inline std::atomic<uint32_t> g_classes{0};

void set_publisher(Publisher* publisher);
void set_classes(uint32_t classes);
// Publishes the event; only through notify().
void deliver(uint32_t classes, std::string_view event, std::string_view key, int db);

// Key `key` of database `db` changed by `event` ("set", "del", "expired", ...) of class `type`.
inline void notify(Class type, std::string_view event, std::string_view key, int db) {
  const uint32_t classes = g_classes.load(std::memory_order_relaxed);
  if ((classes & type) != 0) [[unlikely]] deliver(classes, event, key, db);
}

// "KEA", "Kx", "" ... as the configuration reads them (Redis's keyspaceEventsStringToFlags); nullopt for a
// character outside "Ag$lshzxeKEtmdn".
std::optional<uint32_t> parse_classes(std::string_view text);
// As CONFIG GET shows them (keyspaceEventsFlagsToString): "AKE" for "KEA", "gxK" for "Kgx", ...
std::string format_classes(uint32_t classes);

}  // namespace rc::keyspace_events
