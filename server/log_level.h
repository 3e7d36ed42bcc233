#pragma once
// Redis's log levels mapped onto spdlog's: debug < verbose < notice < warning.
#include <string>

#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

namespace rc {

inline void apply_log_level(const std::string& level) {
  if (level == "debug") {
    spdlog::set_level(spdlog::level::trace);
  } else if (level == "verbose") {
    spdlog::set_level(spdlog::level::debug);
  } else if (level == "warning") {
    spdlog::set_level(spdlog::level::warn);
  } else {
    spdlog::set_level(spdlog::level::info);
  }
  spdlog::set_pattern(fmt::format("{}:M %d %b %Y %H:%M:%S.%e %^%L%$ %v", ::getpid()));
}

}  // namespace rc
