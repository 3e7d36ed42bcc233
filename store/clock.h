#pragma once
// Expiry times are absolute Unix times in milliseconds, as Redis keeps them (EXPIREAT and PXAT set them
// directly, and they survive a restart or a move to another server unchanged).
#include <chrono>
#include <cstdint>

namespace rc {

inline int64_t unix_time_ms() {
  using namespace std::chrono;
  return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

inline int64_t unix_time_us() {
  using namespace std::chrono;
  return duration_cast<microseconds>(system_clock::now().time_since_epoch()).count();
}

}  // namespace rc
