#pragma once
// Number parsing and formatting with Redis's exact rules. Clients see these rules through error replies
// ("value is not an integer or out of range") and through the text of numbers we send back, so they
// follow Redis's util.c behaviour rather than the C++ library's defaults.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace rc {

// Strict decimal integer: optional '-', no '+', no leading zeros, no spaces, fits in int64 (Redis string2ll).
std::optional<int64_t> parse_int64(std::string_view text);

// A double as Redis's getDoubleFromObject accepts it: strtod syntax, no surrounding spaces, not NaN.
std::optional<double> parse_double(std::string_view text);

// A long double as INCRBYFLOAT accepts it (strtold; no spaces; not NaN or infinite).
std::optional<long double> parse_long_double(std::string_view text);
// A long double as Redis's string2ld reads it: parse_long_double, but a spelled-out infinity ("inf",
// "-Infinity") is accepted (an overflow such as "1e5000" is not). INCRBYFLOAT and HINCRBYFLOAT read their
// operands so, and refuse an infinite one or an infinite result afterwards, with their own errors.
std::optional<long double> parse_long_double_or_infinity(std::string_view text);

// Shortest text that reads back as the same double, as Redis 7 replies doubles ("%.17g", inf, -inf).
std::string format_double(double value);

// Redis's human-friendly long double text (INCRBYFLOAT): fixed notation, trailing zeros trimmed.
std::string format_long_double(long double value);

}  // namespace rc
