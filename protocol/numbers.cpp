#include "protocol/numbers.h"

#include <cctype>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <limits>

namespace rc {

std::optional<int64_t> parse_int64(std::string_view text) {
  // Same acceptance as Redis's string2ll: 20 characters at most, "0" only as the whole number.
  if (text.empty() || text.size() >= 21) return std::nullopt;
  if (text == "0") return 0;
  size_t pos = 0;
  const bool negative = text[0] == '-';
  if (negative) pos = 1;
  if (pos >= text.size() || text[pos] < '1' || text[pos] > '9') return std::nullopt;
  uint64_t magnitude = 0;
  for (; pos < text.size(); ++pos) {
    const char c = text[pos];
    if (c < '0' || c > '9') return std::nullopt;
    const uint64_t digit = static_cast<uint64_t>(c - '0');
    if (magnitude > (std::numeric_limits<uint64_t>::max() - digit) / 10) return std::nullopt;
    magnitude = magnitude * 10 + digit;
  }
  constexpr uint64_t kMaxPositive = static_cast<uint64_t>(std::numeric_limits<int64_t>::max());
  if (negative) {
    if (magnitude > kMaxPositive + 1) return std::nullopt;
    return static_cast<int64_t>(0 - magnitude);
  }
  if (magnitude > kMaxPositive) return std::nullopt;
  return static_cast<int64_t>(magnitude);
}

namespace {

// strtod/strtold need a terminated buffer; numbers longer than this are rejected as Redis does.
constexpr size_t kMaxNumberText = 5 * 1024;

template <typename Float, typename Parse>
std::optional<Float> parse_floating(std::string_view text, Parse parse, bool allow_infinite, size_t max_length) {
  if (text.empty() || text.size() > max_length) return std::nullopt;
  if (std::isspace(static_cast<unsigned char>(text[0]))) return std::nullopt;
  const std::string buffer(text);
  char* end = nullptr;
  errno = 0;
  const Float value = parse(buffer.c_str(), &end);
  if (static_cast<size_t>(end - buffer.c_str()) != buffer.size()) return std::nullopt;
  if (std::isnan(value)) return std::nullopt;
  if (errno == ERANGE && (std::isinf(value) || value == 0)) return std::nullopt;
  if (!allow_infinite && std::isinf(value)) return std::nullopt;
  return value;
}

}  // namespace

std::optional<double> parse_double(std::string_view text) {
  return parse_floating<double>(text, [](const char* s, char** e) { return std::strtod(s, e); }, true,
                                std::string_view::npos);
}

std::optional<long double> parse_long_double(std::string_view text) {
  // string2ld reads into a MAX_LONG_DOUBLE_CHARS buffer: 5119 characters at most.
  return parse_floating<long double>(text, [](const char* s, char** e) { return std::strtold(s, e); },
                                     false, kMaxNumberText - 1);
}

std::optional<long double> parse_long_double_or_infinity(std::string_view text) {
  return parse_floating<long double>(text, [](const char* s, char** e) { return std::strtold(s, e); }, true,
                                     kMaxNumberText - 1);
}

std::string format_double(double value) {
  if (std::isinf(value)) return value > 0 ? "inf" : "-inf";
  char buffer[64];
  const int length = std::snprintf(buffer, sizeof buffer, "%.17g", value);
  return std::string(buffer, static_cast<size_t>(length));
}

std::string format_long_double(long double value) {
  if (std::isinf(value)) return value > 0 ? "inf" : "-inf";
  // "%.17Lf" of a huge value has thousands of digits; Redis formats into a 5 KB buffer the same way.
  char buffer[kMaxNumberText + 64];
  int length = std::snprintf(buffer, sizeof buffer, "%.17Lf", value);
  if (length <= 0 || static_cast<size_t>(length) >= sizeof buffer) return {};
  std::string text(buffer, static_cast<size_t>(length));
  if (text.find('.') != std::string::npos) {
    while (text.back() == '0') text.pop_back();
    if (text.back() == '.') text.pop_back();
  }
  if (text == "-0") text = "0";
  return text;
}

}  // namespace rc
