#pragma once
// Random numbers for RANDOMKEY and similar picks: splitmix64 with 8 bytes of per-thread state, seeded
// from std::random_device on a thread's first use. (A thread_local std::mt19937_64 would add 2.5 KB of
// static TLS to every thread, written at thread start: a client thread's stack would need a third page.)
#include <cstdint>
#include <random>

namespace rc {

inline uint64_t thread_random() {
  thread_local uint64_t state = 0;
  if (state == 0) {
    std::random_device device;
    state = (static_cast<uint64_t>(device()) << 32 | device()) | 1;
  }
  uint64_t z = (state += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

}  // namespace rc
