#include "protocol/request_decoder.h"

#include <algorithm>
#include <cstring>
#include <limits>

#include "protocol/errors.h"
#include "protocol/inline_splitter.h"
#include "protocol/numbers.h"

namespace rc {
namespace {

// Offset of the first '\r' at or after `from`, or npos.
size_t find_cr(std::string_view input, size_t from) {
  if (from >= input.size()) return std::string_view::npos;
  const void* found = std::memchr(input.data() + from, '\r', input.size() - from);
  return found ? static_cast<size_t>(static_cast<const char*>(found) - input.data()) : std::string_view::npos;
}

// Before AUTH, Redis accepts only small requests, so an unauthenticated client cannot make it allocate much.
constexpr int64_t kUnauthenticatedMaxArgs = 10;
constexpr int64_t kUnauthenticatedMaxBulk = 16 * 1024;

}  // namespace

DecodeStatus RequestDecoder::decode(std::string_view input) {
  bytes_needed_ = 0;
  if (phase_ == Phase::Start) {
    args_.clear();
    consumed_ = 0;
    if (input.empty()) return DecodeStatus::NeedMore;
    if (input[0] != '*') return decode_inline(input);
    const DecodeStatus header = decode_multibulk_header(input);
    if (header != DecodeStatus::Complete || phase_ == Phase::Start) return header;
  }
  return decode_bulks(input);
}

DecodeStatus RequestDecoder::decode_inline(std::string_view input) {
  const void* found = std::memchr(input.data(), '\n', input.size());
  if (found == nullptr) {
    if (input.size() > limits_.max_inline) return fail(std::string(errors::kProtoInlineTooBig));
    return DecodeStatus::NeedMore;
  }
  const size_t newline = static_cast<size_t>(static_cast<const char*>(found) - input.data());
  size_t line_length = newline;
  if (line_length > 0 && input[line_length - 1] == '\r') --line_length;
  auto split = split_inline_arguments(input.substr(0, line_length));
  if (!split) return fail(std::string(errors::kProtoUnbalancedQuotes));
  inline_args_ = std::move(*split);
  args_.assign(inline_args_.begin(), inline_args_.end());
  consumed_ = newline + 1;
  return DecodeStatus::Complete;
}

// Reads `*N\r\n`. Returns Complete with phase_ still Start for an empty request (N <= 0), which Redis
// accepts and ignores.
DecodeStatus RequestDecoder::decode_multibulk_header(std::string_view input) {
  const size_t cr = find_cr(input, 0);
  if (cr == std::string_view::npos) {
    if (input.size() > limits_.max_inline) return fail(std::string(errors::kProtoMultibulkCountTooBig));
    return DecodeStatus::NeedMore;
  }
  // Like Redis, the byte after '\r' must have arrived, but it is not checked to be '\n'.
  if (cr + 2 > input.size()) return DecodeStatus::NeedMore;
  const auto count = parse_int64(input.substr(1, cr - 1));
  if (!count || *count > std::numeric_limits<int>::max()) {
    return fail(std::string(errors::kProtoInvalidMultibulkLength));
  }
  if (*count > limits_.max_multibulk) return fail(std::string(errors::kProtoInvalidMultibulkLength));
  if (limits_.unauthenticated && *count > kUnauthenticatedMaxArgs) {
    return fail(std::string(errors::kProtoUnauthenticatedMultibulk));
  }
  if (*count <= 0) return complete(input, cr + 2);
  phase_ = Phase::Bulks;
  bulks_remaining_ = *count;
  bulk_length_ = -1;
  position_ = cr + 2;
  spans_.clear();
  // Reserve for what a typical command needs; a huge declared count grows as arguments really arrive.
  spans_.reserve(static_cast<size_t>(std::min<int64_t>(*count, 1024)));
  return DecodeStatus::Complete;
}

DecodeStatus RequestDecoder::decode_bulks(std::string_view input) {
  while (bulks_remaining_ > 0) {
    if (bulk_length_ < 0) {
      const size_t cr = find_cr(input, position_);
      if (cr == std::string_view::npos) {
        if (input.size() - position_ > limits_.max_inline) return fail(std::string(errors::kProtoBulkCountTooBig));
        return DecodeStatus::NeedMore;
      }
      if (cr + 2 > input.size()) return DecodeStatus::NeedMore;
      if (input[position_] != '$') return fail(errors::protocol_expected_dollar(input[position_]));
      const auto length = parse_int64(input.substr(position_ + 1, cr - position_ - 1));
      if (!length || *length < 0 || *length > limits_.max_bulk) {
        return fail(std::string(errors::kProtoInvalidBulkLength));
      }
      if (limits_.unauthenticated && *length > kUnauthenticatedMaxBulk) {
        return fail(std::string(errors::kProtoUnauthenticatedBulk));
      }
      bulk_length_ = *length;
      position_ = cr + 2;
    }
    const size_t needed = position_ + static_cast<size_t>(bulk_length_) + 2;
    if (input.size() < needed) {
      bytes_needed_ = needed;
      return DecodeStatus::NeedMore;
    }
    // As in Redis, the two bytes after a bulk are skipped without checking that they are CR LF.
    spans_.emplace_back(position_, static_cast<size_t>(bulk_length_));
    position_ = needed;
    bulk_length_ = -1;
    --bulks_remaining_;
  }
  args_.clear();
  args_.reserve(spans_.size());
  for (const auto& [offset, length] : spans_) args_.push_back(input.substr(offset, length));
  return complete(input, position_);
}

DecodeStatus RequestDecoder::complete(std::string_view, size_t consumed) {
  consumed_ = consumed;
  phase_ = Phase::Start;
  position_ = 0;
  return DecodeStatus::Complete;
}

DecodeStatus RequestDecoder::fail(std::string message) {
  error_ = std::move(message);
  phase_ = Phase::Start;
  return DecodeStatus::Error;
}

}  // namespace rc
