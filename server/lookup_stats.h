#pragma once
// Redis's keyspace_hits and keyspace_misses: how many keys the read commands looked up and found, or not
// (Redis's lookupKeyRead; the lookups of write commands such as INCR do not count). Client threads count
// in stripes, one cache line each, so that they do not all write the same counter.
#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>

namespace rc {

class LookupStats {
 public:
  void record(bool found) {
    Stripe& stripe = stripes_[stripe_of_this_thread()];
    (found ? stripe.hits : stripe.misses).fetch_add(1, std::memory_order_relaxed);
  }
  uint64_t hits() const { return sum(&Stripe::hits); }
  uint64_t misses() const { return sum(&Stripe::misses); }

 private:
  static constexpr size_t kStripes = 64;
  struct alignas(64) Stripe {
    std::atomic<uint64_t> hits{0};
    std::atomic<uint64_t> misses{0};
  };
  static size_t stripe_of_this_thread() {
    static std::atomic<size_t> next{0};
    thread_local const size_t index = next.fetch_add(1, std::memory_order_relaxed) % kStripes;
    return index;
  }
  uint64_t sum(std::atomic<uint64_t> Stripe::*counter) const {
    uint64_t total = 0;
    for (const Stripe& stripe : stripes_) total += (stripe.*counter).load(std::memory_order_relaxed);
    return total;
  }
  std::array<Stripe, kStripes> stripes_{};
};

}  // namespace rc
