#pragma once
// Expiry times are absolute Unix times in milliseconds, as Redis keeps them (EXPIREAT and PXAT set them
// directly, and they survive a restart or a move to another server unchanged).
#include <chrono>
#include <cstdint>

namespace rc {

// Set by the AOF loader on its own thread while it replays commands: time then reads as 0, so no key
// expires during the replay (as Redis, which never expires keys while loading). A command logged when a
// key was alive (PERSIST, PEXPIREAT extending its TTL, APPEND) must find it alive again, even when the key's
// old TTL has passed since; keys whose time is up expire once the server runs.
inline thread_local bool t_clock_stopped_for_loading = false;

inline int64_t unix_time_ms() {
  if (t_clock_stopped_for_loading) return 0;
  using namespace std::chrono;
  return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

inline int64_t unix_time_us() {
  using namespace std::chrono;
  return duration_cast<microseconds>(system_clock::now().time_since_epoch()).count();
}

}  // namespace rc
