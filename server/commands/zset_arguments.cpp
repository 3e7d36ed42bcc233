#include "server/commands/zset_arguments.h"

#include <cmath>
#include <cstdlib>
#include <string>

#include "server/server.h"

namespace rc {
namespace {

std::optional<std::pair<double, bool>> parse_score_bound(std::string_view text) {
  const bool exclusive = !text.empty() && text[0] == '(';
  const std::string digits(text.substr(exclusive ? 1 : 0));
  char* end = nullptr;
  const double value = std::strtod(digits.c_str(), &end);
  if (*end != '\0' || std::isnan(value)) return std::nullopt;
  return std::pair(value, exclusive);
}

std::optional<LexBound> parse_lex_bound(std::string_view text) {
  // "+" and "-" are read as C strings: a NUL right after them ends the argument.
  const bool alone = text.size() == 1 || (text.size() > 1 && text[1] == '\0');
  if (text.empty()) return std::nullopt;
  switch (text[0]) {
    case '+':
      if (!alone) return std::nullopt;
      return LexBound{LexBound::Kind::PositiveInfinity, {}, true};
    case '-':
      if (!alone) return std::nullopt;
      return LexBound{LexBound::Kind::NegativeInfinity, {}, true};
    case '(':
      return LexBound{LexBound::Kind::Value, std::string(text.substr(1)), true};
    case '[':
      return LexBound{LexBound::Kind::Value, std::string(text.substr(1)), false};
    default:
      return std::nullopt;
  }
}

}  // namespace

std::optional<ScoreRange> parse_score_range(std::string_view min, std::string_view max) {
  const auto low = parse_score_bound(min);
  const auto high = parse_score_bound(max);
  if (!low || !high) return std::nullopt;
  return ScoreRange{low->first, high->first, low->second, high->second};
}

std::optional<LexRange> parse_lex_range(std::string_view min, std::string_view max) {
  auto low = parse_lex_bound(min);
  auto high = parse_lex_bound(max);
  if (!low || !high) return std::nullopt;
  return LexRange{std::move(*low), std::move(*high)};
}

std::optional<std::pair<size_t, size_t>> clamp_ranks(int64_t start, int64_t end, size_t length) {
  const auto size = static_cast<int64_t>(length);
  if (start < 0) start += size;
  if (end < 0) end += size;
  if (start < 0) start = 0;
  if (start > end || start >= size) return std::nullopt;
  if (end >= size) end = size - 1;
  return std::pair(static_cast<size_t>(start), static_cast<size_t>(end));
}

void reply_scored(ReplyWriter& out, const zset_value::ScoredList& elements, bool with_scores) {
  out.array(with_scores && !out.resp3() ? elements.size() * 2 : elements.size());
  for (const zset_value::Scored& element : elements) {
    if (with_scores && out.resp3()) out.array(2);
    out.bulk(element.member);
    if (with_scores) out.double_value(element.score);
  }
}

const EncodingLimits& zset_limits(const CommandContext& ctx) { return ctx.server.keyspace().limits(); }

}  // namespace rc
