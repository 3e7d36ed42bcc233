#pragma once
// What the sorted set commands share: reading score and member intervals as Redis's zslParseRange and
// zslParseLexRange do, clamping ranks as its rank commands do, and writing member lists with or without
// their scores in RESP2 (flat) or RESP3 ([member, score] pairs) shape.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

#include "protocol/reply_writer.h"
#include "server/command_context.h"
#include "store/encoding_limits.h"
#include "store/skiplist.h"
#include "store/zset_value.h"

namespace rc {

// "1.5", "(1.5" (exclusive), "-inf", "+inf": strtod over the argument read as a C string, so a NUL ends it
// and an empty bound is 0, as in Redis. nullopt for anything else or NaN.
std::optional<ScoreRange> parse_score_range(std::string_view min, std::string_view max);
// "-", "+", "[member", "(member"; nullopt for anything else.
std::optional<LexRange> parse_lex_range(std::string_view min, std::string_view max);

// Ranks `start`..`end` (negative from the end) clamped to a set of `length` members as Redis's rank
// commands do; nullopt when the range is empty.
std::optional<std::pair<size_t, size_t>> clamp_ranks(int64_t start, int64_t end, size_t length);

// Members, each followed by its score when `with_scores`: one flat array in RESP2, an array of [member,
// score] pairs in RESP3.
void reply_scored(ReplyWriter& out, const zset_value::ScoredList& elements, bool with_scores);

const EncodingLimits& zset_limits(const CommandContext& ctx);

}  // namespace rc
