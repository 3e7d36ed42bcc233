#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "protocol/request_decoder.h"

using rc::DecodeStatus;
using rc::RequestDecoder;

namespace {

// Feeds `wire` to a decoder the way a connection does (the unconsumed bytes, growing as they "arrive"),
// split at `split`, and returns every request's arguments.
std::vector<std::vector<std::string>> decode_split(const std::string& wire, size_t split) {
  RequestDecoder decoder;
  std::vector<std::vector<std::string>> requests;
  std::string buffer;
  size_t fed = 0;
  auto drain = [&] {
    for (;;) {
      const DecodeStatus status = decoder.decode(buffer);
      if (status == DecodeStatus::NeedMore) return;
      REQUIRE(status == DecodeStatus::Complete);
      requests.emplace_back(decoder.args().begin(), decoder.args().end());
      buffer.erase(0, decoder.consumed());
    }
  };
  for (const size_t end : {split, wire.size()}) {
    buffer.append(wire, fed, end - fed);
    fed = end;
    drain();
  }
  return requests;
}

std::string decode_error(const std::string& wire) {
  RequestDecoder decoder;
  std::string buffer = wire;
  for (;;) {
    const DecodeStatus status = decoder.decode(buffer);
    if (status == DecodeStatus::Error) return decoder.error();
    if (status == DecodeStatus::NeedMore) return "(need more)";
    buffer.erase(0, decoder.consumed());
  }
}

}  // namespace

TEST_CASE("a pipeline of multibulk and inline requests decodes identically at every split point") {
  const std::string wire =
      "*3\r\n$3\r\nSET\r\n$3\r\nkey\r\n$5\r\nva\r\nl\r\n"  // CR LF inside a value
      "*1\r\n$4\r\nPING\r\n"
      "PING\r\n"
      "SET a \"hello world\"\n"                              // inline, bare LF
      "*2\r\n$3\r\nGET\r\n$0\r\n\r\n"                        // empty argument
      "*0\r\n"                                               // empty request: skipped silently
      "\r\n"                                                 // blank inline line: skipped
      "*-1\r\n";
  const std::vector<std::vector<std::string>> expected = {
      {"SET", "key", "va\r\nl"}, {"PING"}, {"PING"}, {"SET", "a", "hello world"}, {"GET", ""}, {}, {}, {}};
  for (size_t split = 0; split <= wire.size(); ++split) {
    INFO("split at " << split);
    REQUIRE(decode_split(wire, split) == expected);
  }
}

TEST_CASE("fed one byte at a time, the decoder asks for more until the request is whole") {
  using namespace std::string_literals;
  const std::string with_nul = "*2\r\n$4\r\nECHO\r\n$3\r\na\0b\r\n"s;
  RequestDecoder decoder;
  std::string buffer;
  for (size_t i = 0; i + 1 < with_nul.size(); ++i) {
    buffer.push_back(with_nul[i]);
    REQUIRE(decoder.decode(buffer) == DecodeStatus::NeedMore);
  }
  buffer.push_back(with_nul.back());
  REQUIRE(decoder.decode(buffer) == DecodeStatus::Complete);
  REQUIRE(decoder.consumed() == with_nul.size());
  REQUIRE(decoder.args().size() == 2);
  REQUIRE(decoder.args()[1] == "a\0b"s);
}

TEST_CASE("binary-safe bulks: NUL bytes and every byte value survive") {
  std::string value;
  for (int c = 0; c < 256; ++c) value.push_back(static_cast<char>(c));
  const std::string wire = "*2\r\n$4\r\nECHO\r\n$256\r\n" + value + "\r\n";
  const auto requests = decode_split(wire, wire.size() / 2);
  REQUIRE(requests.size() == 1);
  REQUIRE(requests[0][1] == value);
}

TEST_CASE("while a large bulk is pending the decoder says how many bytes the request needs") {
  RequestDecoder decoder;
  const std::string head = "*2\r\n$3\r\nSET\r\n$100000\r\nabc";
  REQUIRE(decoder.decode(head) == DecodeStatus::NeedMore);
  // header (4) + "$3\r\nSET\r\n" (9) + "$100000\r\n" (9) + 100000 + CR LF
  REQUIRE(decoder.bytes_needed() == 4 + 9 + 9 + 100000 + 2);
}

TEST_CASE("malformed requests get Redis's protocol error text") {
  CHECK(decode_error("*abc\r\n") == "ERR Protocol error: invalid multibulk length");
  CHECK(decode_error("*3000000000\r\n") == "ERR Protocol error: invalid multibulk length");
  CHECK(decode_error("*+1\r\n") == "ERR Protocol error: invalid multibulk length");
  CHECK(decode_error("*01\r\n") == "ERR Protocol error: invalid multibulk length");
  CHECK(decode_error("*1\r\n$abc\r\n") == "ERR Protocol error: invalid bulk length");
  CHECK(decode_error("*1\r\n$-1\r\n") == "ERR Protocol error: invalid bulk length");
  CHECK(decode_error("*1\r\n$536870913\r\n") == "ERR Protocol error: invalid bulk length");
  CHECK(decode_error("*1\r\nfoo\r\n") == "ERR Protocol error: expected '$', got 'f'");
  CHECK(decode_error("SET a \"unclosed\r\n") == "ERR Protocol error: unbalanced quotes in request");
  CHECK(decode_error("SET a \"x\"y\r\n") == "ERR Protocol error: unbalanced quotes in request");
  CHECK(decode_error(std::string(70 * 1024, 'a')) == "ERR Protocol error: too big inline request");
  CHECK(decode_error("*" + std::string(70 * 1024, '1')) == "ERR Protocol error: too big mbulk count string");
  CHECK(decode_error("*1\r\n$" + std::string(70 * 1024, '1')) == "ERR Protocol error: too big bulk count string");
}

TEST_CASE("requests just under the limits are accepted") {
  CHECK(decode_error(std::string(60 * 1024, 'a')) == "(need more)");
  CHECK(decode_error("*1\r\n$536870912\r\n") == "(need more)");
}

TEST_CASE("inline arguments follow redis-cli quoting") {
  const auto requests = decode_split(
      "SET k \"a\\x41\\n\\\"\"\r\n"
      "ECHO 'it\\'s'\r\n"
      "  spaced   out  \r\n"
      "x\"y z\"\r\n",
      0);
  REQUIRE(requests.size() == 4);
  CHECK(requests[0] == std::vector<std::string>{"SET", "k", "aA\n\""});
  CHECK(requests[1] == std::vector<std::string>{"ECHO", "it's"});
  CHECK(requests[2] == std::vector<std::string>{"spaced", "out"});
  CHECK(requests[3] == std::vector<std::string>{"xy z"});
}

TEST_CASE("the decoder starts afresh after an error") {
  RequestDecoder decoder;
  REQUIRE(decoder.decode("*1\r\n$x\r\n") == DecodeStatus::Error);
  REQUIRE(decoder.decode("*1\r\n$4\r\nPING\r\n") == DecodeStatus::Complete);
  REQUIRE(decoder.args().size() == 1);
}
