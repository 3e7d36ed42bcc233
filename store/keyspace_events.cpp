#include "store/keyspace_events.h"

#include <fmt/format.h>

namespace rc::keyspace_events {
namespace {

std::atomic<Publisher*> g_publisher{nullptr};

}  // namespace

void set_publisher(Publisher* publisher) { g_publisher.store(publisher, std::memory_order_release); }

void set_classes(uint32_t classes) { g_classes.store(classes, std::memory_order_relaxed); }

void deliver(uint32_t classes, std::string_view event, std::string_view key, int db) {
  Publisher* publisher = g_publisher.load(std::memory_order_acquire);
  if (publisher == nullptr) return;
  if (classes & kKeyspace) publisher->publish_event(fmt::format("__keyspace@{}__:{}", db, key), event);
  if (classes & kKeyevent) publisher->publish_event(fmt::format("__keyevent@{}__:{}", db, event), key);
}

std::optional<uint32_t> parse_classes(std::string_view text) {
  uint32_t classes = 0;
  for (const char c : text) {
    switch (c) {
      case 'A': classes |= kAll; break;
      case 'g': classes |= kGeneric; break;
      case '$': classes |= kString; break;
      case 'l': classes |= kList; break;
      case 's': classes |= kSet; break;
      case 'h': classes |= kHash; break;
      case 'z': classes |= kZset; break;
      case 'x': classes |= kExpired; break;
      case 'e': classes |= kEvicted; break;
      case 'K': classes |= kKeyspace; break;
      case 'E': classes |= kKeyevent; break;
      case 't': classes |= kStream; break;
      case 'm': classes |= kKeyMiss; break;
      case 'd': classes |= kModule; break;
      case 'n': classes |= kNew; break;
      default: return std::nullopt;
    }
  }
  return classes;
}

std::string format_classes(uint32_t classes) {
  std::string text;
  if ((classes & kAll) == kAll) {
    text += 'A';
  } else {
    static constexpr std::pair<uint32_t, char> kLetters[] = {
        {kGeneric, 'g'}, {kString, '$'}, {kList, 'l'},  {kSet, 's'},    {kHash, 'h'},  {kZset, 'z'},
        {kExpired, 'x'}, {kEvicted, 'e'}, {kStream, 't'}, {kModule, 'd'}, {kNew, 'n'}};
    for (const auto& [flag, letter] : kLetters) {
      if (classes & flag) text += letter;
    }
  }
  if (classes & kKeyspace) text += 'K';
  if (classes & kKeyevent) text += 'E';
  if (classes & kKeyMiss) text += 'm';
  return text;
}

}  // namespace rc::keyspace_events
