// libFuzzer target: RequestDecoder on arbitrary bytes, delivered in arbitrary pieces.
//
// Input layout: byte 0 gives the number of split points n (0..15), the next 2n bytes are the split points
// (little-endian, taken modulo the payload size), the rest is the payload a client sends. The payload is
// decoded twice, as a connection does: once in one piece, once arriving in the chosen pieces, and checked:
//   - consumed() is positive and at most the bytes given; bytes_needed(), when set, is more than was given;
//   - an Error's text is a protocol error ("ERR Protocol error: ...");
//   - a multibulk request's arguments lie inside the bytes it consumed;
//   - both deliveries yield the same requests and the same protocol error (decoding must not depend on how
//     the bytes were split by the network);
//   - after an Error the same decoder decodes a valid frame correctly.
// A third pass decodes the payload with small limits to reach the "too big" paths, checking the same
// safety properties but not the equality (Redis too reports those limits depending on what has arrived).
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "protocol/request_decoder.h"

namespace {

using rc::DecodeLimits;
using rc::DecodeStatus;
using rc::RequestDecoder;

// Every request decoded from one delivery, and how it ended.
struct Transcript {
  std::vector<std::vector<std::string>> requests;
  std::string error;  // the protocol error, if decoding stopped on one
  bool operator==(const Transcript&) const = default;
};

[[noreturn]] void fail(const char* what) {
  std::fprintf(stderr, "decoder_fuzz: invariant violated: %s\n", what);
  std::abort();
}

void check(bool condition, const char* what) {
  if (!condition) fail(what);
}

// A heap copy of exactly `bytes.size()` bytes, so that AddressSanitizer reports any read past the end
// (a std::string has spare capacity and a terminating NUL that would hide it).
class ExactCopy {
 public:
  explicit ExactCopy(std::string_view bytes) : size_(bytes.size()), data_(std::make_unique<char[]>(bytes.size())) {
    if (!bytes.empty()) std::memcpy(data_.get(), bytes.data(), bytes.size());
  }
  std::string_view view() const { return {data_.get(), size_}; }

 private:
  size_t size_;
  std::unique_ptr<char[]> data_;
};

// Checks what a Complete says about `input` and returns the request's arguments as owned strings.
std::vector<std::string> checked_request(const RequestDecoder& decoder, std::string_view input) {
  const size_t consumed = decoder.consumed();
  check(consumed > 0, "Complete consumed nothing (a connection would loop forever)");
  check(consumed <= input.size(), "consumed() is larger than the input");
  std::vector<std::string> args;
  size_t total = 0;
  for (const std::string_view arg : decoder.args()) {
    if (input[0] == '*') {
      // Multibulk arguments are views into the input, inside the request.
      check(arg.data() >= input.data() && arg.data() + arg.size() <= input.data() + consumed,
            "a multibulk argument points outside the request");
    }
    total += arg.size();
    args.emplace_back(arg);
  }
  check(total <= consumed, "the arguments hold more bytes than the request");
  return args;
}

// Feeds `payload` in the pieces that end at `splits` (ascending, the last is payload.size()), keeping the
// unconsumed bytes as a connection does, and records every request.
Transcript decode_in_pieces(std::string_view payload, const std::vector<size_t>& splits, RequestDecoder& decoder) {
  Transcript transcript;
  std::string pending;  // received, not yet consumed
  size_t delivered = 0;
  for (const size_t split : splits) {
    pending.append(payload.substr(delivered, split - delivered));
    delivered = split;
    // Each round consumes at least one byte (checked), so this loop is bounded by the payload size.
    for (;;) {
      const ExactCopy input(pending);
      const DecodeStatus status = decoder.decode(input.view());
      if (status == DecodeStatus::NeedMore) {
        check(decoder.bytes_needed() == 0 || decoder.bytes_needed() > pending.size(),
              "bytes_needed() is not more than what was given");
        break;
      }
      if (status == DecodeStatus::Error) {
        // The text may quote the offending byte, CR or LF included: ReplyWriter::error maps those to spaces.
        check(decoder.error().starts_with("ERR Protocol error: "), "an Error that is not a protocol error");
        transcript.error = decoder.error();
        return transcript;
      }
      transcript.requests.push_back(checked_request(decoder, input.view()));
      pending.erase(0, decoder.consumed());
    }
  }
  return transcript;
}

// After an Error the connection closes, but the decoder must still be usable: a fresh, valid frame decodes.
void check_recovers(RequestDecoder& decoder) {
  using namespace std::string_view_literals;
  const std::string_view frame = "*2\r\n$4\r\nECHO\r\n$3\r\na\0b\r\n"sv;  // a NUL inside a bulk, too
  const ExactCopy input(frame);
  check(decoder.decode(input.view()) == DecodeStatus::Complete, "a valid frame after an Error is not Complete");
  check(decoder.consumed() == frame.size(), "a valid frame after an Error: wrong consumed()");
  check(decoder.args().size() == 2 && decoder.args()[0] == "ECHO" &&
            decoder.args()[1] == "a\0b"sv,
        "a valid frame after an Error: wrong arguments");
  const ExactCopy inline_input("PING x\r\n");
  check(decoder.decode(inline_input.view()) == DecodeStatus::Complete && decoder.args().size() == 2 &&
            decoder.args()[0] == "PING" && decoder.consumed() == 8,
        "an inline frame after a valid frame after an Error");
}

// The split points chosen by the input's prefix; returns the payload that follows it.
std::string_view parse_splits(std::string_view data, std::vector<size_t>& splits) {
  if (data.empty()) return data;
  const size_t count = static_cast<unsigned char>(data[0]) % 16;
  const size_t header = 1 + 2 * count;
  if (data.size() < header) return {};
  const std::string_view payload = data.substr(header);
  for (size_t i = 0; i < count; ++i) {
    const size_t raw = static_cast<unsigned char>(data[1 + 2 * i]) |
                       (static_cast<size_t>(static_cast<unsigned char>(data[2 + 2 * i])) << 8);
    splits.push_back(raw % (payload.size() + 1));
  }
  std::sort(splits.begin(), splits.end());
  splits.push_back(payload.size());
  return payload;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::vector<size_t> splits;
  const std::string_view payload = parse_splits({reinterpret_cast<const char*>(data), size}, splits);
  if (splits.empty()) return 0;

  const DecodeLimits defaults;
  RequestDecoder whole_decoder(defaults);
  const Transcript whole = decode_in_pieces(payload, {payload.size()}, whole_decoder);
  RequestDecoder split_decoder(defaults);
  const Transcript pieces = decode_in_pieces(payload, splits, split_decoder);
  if (!(whole == pieces)) fail("decoding in pieces differs from decoding in one piece");
  if (!whole.error.empty()) check_recovers(whole_decoder);

  // Small limits reach the size checks that 4 KiB inputs never reach with Redis's defaults.
  DecodeLimits small;
  small.max_inline = 16;
  small.max_multibulk = 8;
  small.max_bulk = 32;
  RequestDecoder limited(small);
  const Transcript bounded = decode_in_pieces(payload, splits, limited);
  if (!bounded.error.empty()) check_recovers(limited);
  return 0;
}
