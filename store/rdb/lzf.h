#pragma once
// The LZF compressed format, as Redis stores long strings in RDB files (string encoding 3). A compressed
// block is a sequence of items, each starting with a control byte c:
//   c < 32          a literal run: the next c + 1 bytes are copied as they are;
//   c >= 32         a back reference: length n = c >> 5, and when n == 7 the next byte is added to it; then
//                   one more byte b; copy n + 2 bytes starting (c & 31) * 256 + b + 1 bytes back in the
//                   output (the copy may overlap what it produces, which encodes runs).
// So a reference reaches at most 8192 bytes back and copies 3 to 264 bytes.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string_view>

namespace rc::rdb {

class LzfCompressor {
 public:
  LzfCompressor();
  ~LzfCompressor();
  LzfCompressor(const LzfCompressor&) = delete;
  LzfCompressor& operator=(const LzfCompressor&) = delete;

  // Compresses `input` into output[0, capacity). Returns the compressed size, or 0 when the result would
  // not fit in `capacity` bytes (Redis passes input.size() - 4, so that only a real gain is kept).
  size_t compress(std::string_view input, char* output, size_t capacity);

 private:
  // Where each 3-byte sequence was last seen, as position + base_: entries below base_ belong to earlier
  // inputs, so the table never needs clearing between calls.
  std::unique_ptr<uint32_t[]> last_seen_;
  uint32_t base_ = 0;
};

// Decompresses `input` into output[0, capacity). Returns the number of bytes produced, or 0 when the
// input is malformed (a run or reference past either end, a reference before the start of the output)
// or does not fit. The caller compares the result with the length it expects.
size_t lzf_decompress(std::string_view input, char* output, size_t capacity);

}  // namespace rc::rdb
