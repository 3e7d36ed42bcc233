#include "server/loading.h"

#include <algorithm>

#include <fmt/format.h>

#include "store/clock.h"

namespace rc {

void LoadingState::begin() {
  start_time_s_.store(unix_time_ms() / 1000, std::memory_order_relaxed);
  total_.store(0, std::memory_order_relaxed);
  loaded_.store(0, std::memory_order_relaxed);
  cancelled_.store(false, std::memory_order_relaxed);
  active_.store(true, std::memory_order_release);
}

void LoadingState::end() { active_.store(false, std::memory_order_release); }

std::string LoadingState::info_fields() const {
  if (!active()) return "";
  const uint64_t total = total_.load(std::memory_order_relaxed);
  const uint64_t loaded = loaded_.load(std::memory_order_relaxed);
  const int64_t start = start_time_s_.load(std::memory_order_relaxed);
  // As Redis: the percentage of the files' bytes read, and an estimate of the seconds left from the
  // rate so far (a made-up 1 s in the first second).
  const double percent = total > 0 ? static_cast<double>(loaded) / static_cast<double>(total) * 100 : 0;
  const uint64_t remaining = total > 0 ? total - std::min(loaded, total) : 1;
  const int64_t elapsed = unix_time_ms() / 1000 - start;
  const int64_t eta = elapsed == 0 ? 1 : static_cast<int64_t>(static_cast<uint64_t>(elapsed) * remaining / (loaded + 1));
  return fmt::format(
      "loading_start_time:{}\r\nloading_total_bytes:{}\r\nloading_rdb_used_mem:0\r\nloading_loaded_bytes:{}\r\n"
      "loading_loaded_perc:{:.2f}\r\nloading_eta_seconds:{}\r\n",
      start, total, loaded, percent, eta);
}

}  // namespace rc
