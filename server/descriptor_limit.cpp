#include "server/descriptor_limit.h"

#include <sys/resource.h>

#include <algorithm>

#include <spdlog/spdlog.h>

namespace rc {

// Descriptors the server keeps for itself (listeners, logs, files), as Redis's CONFIG_MIN_RESERVED_FDS.
constexpr size_t kReservedDescriptors = 32;

size_t raise_descriptor_limit(size_t maxclients) {
  const size_t wanted = maxclients + kReservedDescriptors;
  rlimit limit{};
  if (getrlimit(RLIMIT_NOFILE, &limit) != 0) return 0;
  if (limit.rlim_cur >= wanted) return limit.rlim_cur;
  const rlim_t target = limit.rlim_max == RLIM_INFINITY ? wanted : std::min<rlim_t>(limit.rlim_max, wanted);
  limit.rlim_cur = target;
  if (setrlimit(RLIMIT_NOFILE, &limit) != 0 || target < wanted) {
    spdlog::warn("You requested maxclients of {} requiring at least {} max file descriptors; the limit is {}.",
                 maxclients, wanted, static_cast<unsigned long long>(target));
  }
  getrlimit(RLIMIT_NOFILE, &limit);
  return limit.rlim_cur;
}

}  // namespace rc
