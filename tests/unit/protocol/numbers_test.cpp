#include <catch2/catch.hpp>

#include <cmath>

#include "protocol/numbers.h"

using rc::parse_int64;

TEST_CASE("integers are accepted exactly as Redis's string2ll accepts them") {
  CHECK(parse_int64("0") == 0);
  CHECK(parse_int64("-1") == -1);
  CHECK(parse_int64("9223372036854775807") == INT64_MAX);
  CHECK(parse_int64("-9223372036854775808") == INT64_MIN);
  CHECK_FALSE(parse_int64("9223372036854775808"));
  CHECK_FALSE(parse_int64("-9223372036854775809"));
  CHECK_FALSE(parse_int64("18446744073709551616"));
  CHECK_FALSE(parse_int64(""));
  CHECK_FALSE(parse_int64("-"));
  CHECK_FALSE(parse_int64("+1"));
  CHECK_FALSE(parse_int64("01"));
  CHECK_FALSE(parse_int64("-0"));
  CHECK_FALSE(parse_int64(" 1"));
  CHECK_FALSE(parse_int64("1 "));
  CHECK_FALSE(parse_int64("1.0"));
  CHECK_FALSE(parse_int64("1e3"));
}

TEST_CASE("doubles follow strtod without spaces, NaN or overflow") {
  CHECK(rc::parse_double("1.5") == 1.5);
  CHECK(rc::parse_double("-1e3") == -1000.0);
  CHECK(rc::parse_double("inf") == INFINITY);
  CHECK_FALSE(rc::parse_double(" 1"));
  CHECK_FALSE(rc::parse_double("1 "));
  CHECK_FALSE(rc::parse_double("nan"));
  CHECK_FALSE(rc::parse_double("1e999"));
  CHECK_FALSE(rc::parse_double(""));
  CHECK_FALSE(rc::parse_double("abc"));
}

TEST_CASE("long doubles for INCRBYFLOAT reject infinity too") {
  CHECK(rc::parse_long_double("10.5") == 10.5L);
  CHECK_FALSE(rc::parse_long_double("inf"));
  CHECK_FALSE(rc::parse_long_double("nan"));
}

TEST_CASE("long doubles as string2ld reads them accept a spelled-out infinity, not an overflow") {
  CHECK(rc::parse_long_double_or_infinity("10.5") == 10.5L);
  CHECK(rc::parse_long_double_or_infinity("1e400") == 1e400L);
  CHECK(std::isinf(*rc::parse_long_double_or_infinity("inf")));
  CHECK(*rc::parse_long_double_or_infinity("-Infinity") < 0);
  CHECK_FALSE(rc::parse_long_double_or_infinity("1e5000"));
  CHECK_FALSE(rc::parse_long_double_or_infinity("nan"));
  CHECK_FALSE(rc::parse_long_double_or_infinity(" 1"));
  CHECK_FALSE(rc::parse_long_double_or_infinity(""));
}

TEST_CASE("numbers are formatted as Redis replies them") {
  CHECK(rc::format_double(3.0) == "3");
  CHECK(rc::format_double(0.1) == "0.10000000000000001");
  CHECK(rc::format_double(-INFINITY) == "-inf");
  CHECK(rc::format_long_double(10.5L) == "10.5");
  CHECK(rc::format_long_double(3.0L) == "3");
  CHECK(rc::format_long_double(-0.0L) == "0");
  CHECK(rc::format_long_double(5.0e3L) == "5000");
  CHECK(rc::format_long_double(0.1L) == "0.1");
}
