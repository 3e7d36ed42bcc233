#include <catch2/catch.hpp>

#include <cmath>
#include <string>

#include "protocol/reply_writer.h"

using rc::ReplyWriter;

namespace {

template <typename Write>
std::string in_protocol(int protocol, Write write) {
  std::string out;
  ReplyWriter writer(out, protocol);
  write(writer);
  return out;
}

template <typename Write>
void check_both(Write write, const std::string& resp2, const std::string& resp3) {
  CHECK(in_protocol(2, write) == resp2);
  CHECK(in_protocol(3, write) == resp3);
}

}  // namespace

TEST_CASE("types that look the same in RESP2 and RESP3") {
  check_both([](ReplyWriter& w) { w.simple("OK"); }, "+OK\r\n", "+OK\r\n");
  check_both([](ReplyWriter& w) { w.error("ERR syntax error"); }, "-ERR syntax error\r\n", "-ERR syntax error\r\n");
  check_both([](ReplyWriter& w) { w.integer(-42); }, ":-42\r\n", ":-42\r\n");
  check_both([](ReplyWriter& w) { w.integer(INT64_MIN); }, ":-9223372036854775808\r\n", ":-9223372036854775808\r\n");
  check_both([](ReplyWriter& w) { w.bulk(std::string("a\0\r\n", 4)); }, std::string("$4\r\na\0\r\n\r\n", 10),
             std::string("$4\r\na\0\r\n\r\n", 10));
  check_both([](ReplyWriter& w) { w.bulk(""); }, "$0\r\n\r\n", "$0\r\n\r\n");
  check_both([](ReplyWriter& w) { w.array(2); }, "*2\r\n", "*2\r\n");
}

TEST_CASE("types whose bytes depend on the protocol") {
  check_both([](ReplyWriter& w) { w.null(); }, "$-1\r\n", "_\r\n");
  check_both([](ReplyWriter& w) { w.null_array(); }, "*-1\r\n", "_\r\n");
  check_both([](ReplyWriter& w) { w.map(2); }, "*4\r\n", "%2\r\n");
  check_both([](ReplyWriter& w) { w.set(3); }, "*3\r\n", "~3\r\n");
  check_both([](ReplyWriter& w) { w.push(3); }, "*3\r\n", ">3\r\n");
  check_both([](ReplyWriter& w) { w.boolean(true); }, ":1\r\n", "#t\r\n");
  check_both([](ReplyWriter& w) { w.boolean(false); }, ":0\r\n", "#f\r\n");
  check_both([](ReplyWriter& w) { w.double_value(1.5); }, "$3\r\n1.5\r\n", ",1.5\r\n");
  check_both([](ReplyWriter& w) { w.double_value(0.1); }, "$19\r\n0.10000000000000001\r\n", ",0.10000000000000001\r\n");
  check_both([](ReplyWriter& w) { w.double_value(INFINITY); }, "$3\r\ninf\r\n", ",inf\r\n");
  check_both([](ReplyWriter& w) { w.double_value(-INFINITY); }, "$4\r\n-inf\r\n", ",-inf\r\n");
  check_both([](ReplyWriter& w) { w.verbatim("hi"); }, "$2\r\nhi\r\n", "=6\r\ntxt:hi\r\n");
  check_both([](ReplyWriter& w) { w.big_number("123456789012345678901234567890"); },
             "$30\r\n123456789012345678901234567890\r\n", "(123456789012345678901234567890\r\n");
}

TEST_CASE("error text cannot break the framing") {
  CHECK(in_protocol(2, [](ReplyWriter& w) { w.error("ERR bad\r\nthing"); }) == "-ERR bad  thing\r\n");
}

TEST_CASE("HELLO can switch the protocol mid-stream") {
  std::string out;
  ReplyWriter writer(out);
  writer.null();
  writer.set_protocol(3);
  writer.null();
  CHECK(out == "$-1\r\n_\r\n");
}
