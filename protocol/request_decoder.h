#pragma once
// A streaming decoder of client requests: RESP multibulk (`*2\r\n$3\r\nGET\r\n$1\r\nk\r\n`) and inline
// commands (`GET k\r\n`, with redis-cli's quoting). It holds no socket: the connection hands it every byte
// not yet consumed, starting at the first byte of the request being decoded, and the decoder resumes where
// it stopped, so a request split across any number of recv calls costs one pass over its bytes.
// Multibulk arguments are views into the caller's buffer: a bulk is never copied by the decoder.
#include <cstddef>
#include <cstdint>
#include <limits>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace rc {

struct DecodeLimits {
  size_t max_inline = 64 * 1024;                           // PROTO_INLINE_MAX_SIZE
  int64_t max_multibulk = std::numeric_limits<int>::max();  // Redis 7 accepts up to INT_MAX arguments
  int64_t max_bulk = 512LL * 1024 * 1024;                   // proto-max-bulk-len
  // Before AUTH the limits are small, and passing them gets Redis's "unauthenticated" errors.
  bool unauthenticated = false;
};

enum class DecodeStatus { NeedMore, Complete, Error };

class RequestDecoder {
 public:
  explicit RequestDecoder(DecodeLimits limits = {}) : limits_(limits) {}
  void set_limits(const DecodeLimits& limits) { limits_ = limits; }

  // Decodes from `input` (all unconsumed bytes, beginning at the current request). After NeedMore, call
  // again with the same bytes plus whatever arrived since. After Complete, args() and consumed() describe
  // the request and the next call starts a new one.
  DecodeStatus decode(std::string_view input);

  // After Complete: the arguments (empty for a blank inline line or `*0`, which Redis skips silently).
  const std::vector<std::string_view>& args() const { return args_; }
  size_t consumed() const { return consumed_; }

  // After Error: the error reply text, in Redis's words ("ERR Protocol error: ...").
  const std::string& error() const { return error_; }

  // While a bulk body is pending: how many bytes of input the request needs at least (lets the caller
  // size its buffer to receive a large argument in place). Zero when unknown.
  size_t bytes_needed() const { return bytes_needed_; }

  // Bytes of the current request already parsed (a partial request in the buffer must stay in place).
  bool in_progress() const { return phase_ != Phase::Start; }

 private:
  enum class Phase { Start, Bulks };
  DecodeStatus decode_inline(std::string_view input);
  DecodeStatus decode_multibulk_header(std::string_view input);
  DecodeStatus decode_bulks(std::string_view input);
  DecodeStatus fail(std::string message);
  DecodeStatus complete(std::string_view input, size_t consumed);

  DecodeLimits limits_;
  Phase phase_ = Phase::Start;
  int64_t bulks_remaining_ = 0;
  int64_t bulk_length_ = -1;  // -1: the next `$len` line has not been read yet
  size_t position_ = 0;       // offset in input where decoding resumes
  std::vector<std::pair<size_t, size_t>> spans_;  // (offset, length) of each bulk read so far
  std::vector<std::string_view> args_;
  std::vector<std::string> inline_args_;  // inline arguments are unescaped, so they own their bytes
  size_t consumed_ = 0;
  size_t bytes_needed_ = 0;
  std::string error_;
};

}  // namespace rc
