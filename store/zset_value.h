#pragma once
// The sorted set type's value rules (Redis 7.0's t_zset.c), on the entry that holds it, under its shard lock
// held by the caller. A sorted set starts as a listpack of member,score,member,score... ordered by (score,
// member), the score stored as Redis's d2string text (an integral score becomes a listpack integer). It
// becomes a Skiplist (store/skiplist.h) once it has more than zset-max-listpack-entries members or a member
// longer than zset-max-listpack-value bytes. Only a value built whole (ZRANGESTORE, ZUNIONSTORE and friends,
// an RDB load) is made a listpack again when it fits, as Redis decides it.
//
// Results are copied out (member bytes and score), so that a caller can reply after changing the value.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "store/compact_blob.h"
#include "store/encoding_limits.h"
#include "store/entry.h"
#include "store/listpack.h"
#include "store/skiplist.h"

namespace rc::zset_value {

struct Scored {
  std::string member;
  double score;
  bool operator==(const Scored& other) const = default;
};
using ScoredList = std::vector<Scored>;

// An empty sorted set (a listpack); the caller adds a member at once (no empty sorted set is kept).
Entry* create(std::string_view key, int64_t expire_at_ms = Entry::kNoExpiry);
// An empty skiplist sorted set (the RDB loader fills it when it is too big for a listpack).
Entry* create_skiplist(std::string_view key, int64_t expire_at_ms = Entry::kNoExpiry);
// A sorted set of `elements` (in any order, members distinct), a listpack when they fit the limits (count
// and member length, as Redis's zsetConvertToListpackIfNeeded), else a skiplist.
Entry* build(std::string_view key, const ScoredList& elements, const EncodingLimits& limits,
             int64_t expire_at_ms = Entry::kNoExpiry);
// A sorted set from a listpack that passed Listpack::validate_pairs and is ordered (an RDB value), made a
// skiplist when it has more members than zset-max-listpack-entries (the only limit Redis's loader checks).
Entry* from_listpack(std::string_view key, Listpack pairs, int64_t expire_at_ms, const EncodingLimits& limits);
// A skiplist made a listpack when it fits the limits (after an RDB load of a ZSET / ZSET_2 value).
void convert_to_listpack_if_fits(Entry& zset, const EncodingLimits& limits);

size_t length(const Entry& zset);
std::optional<double> score(const Entry& zset, std::string_view member);
// 0-based rank from the low end (from the high end when `reverse`) and score of a member.
std::optional<std::pair<uint64_t, double>> rank(const Entry& zset, std::string_view member, bool reverse);

// ZADD's conditions (INCR adds to the current score).
struct AddFlags {
  bool incr = false;
  bool nx = false;
  bool xx = false;
  bool gt = false;
  bool lt = false;
};
enum class AddOutcome { Added, Updated, Unchanged, Skipped, NaN };
// Redis's zsetAdd: Added (new member), Updated (score changed), Unchanged (same score), Skipped (NX/XX/GT/LT
// said no), NaN (an increment gave NaN; nothing changed). `new_score` is set for Added/Updated/Unchanged.
AddOutcome add(Entry& zset, double score, std::string_view member, AddFlags flags, const EncodingLimits& limits,
               double& new_score);
// True when it was there. The caller deletes the key once the set is empty.
bool remove(Entry& zset, std::string_view member);

// Elements in order (descending when `reverse`), by 0-based rank [start, end] (clamped by the caller), by
// score or by member range after skipping `offset` of them, at most `limit` (negative: all).
ScoredList range_by_rank(const Entry& zset, size_t start, size_t end, bool reverse);
ScoredList range_by_score(const Entry& zset, const ScoreRange& range, bool reverse, size_t offset, int64_t limit);
ScoredList range_by_lex(const Entry& zset, const LexRange& range, bool reverse, size_t offset, int64_t limit);
size_t count_in(const Entry& zset, const ScoreRange& range);
size_t count_in(const Entry& zset, const LexRange& range);

// ZREMRANGEBY*: the number of members removed.
size_t remove_by_rank(Entry& zset, size_t start, size_t end);
size_t remove_by_score(Entry& zset, const ScoreRange& range);
size_t remove_by_lex(Entry& zset, const LexRange& range);
// Removes and returns up to `count` members from the low end (the high end when `from_max`).
ScoredList pop(Entry& zset, bool from_max, size_t count);

// A uniformly chosen member (the set must not be empty).
Scored random_element(const Entry& zset);

// Calls visit(std::string_view member, double score) for every member in (score, member) order.
template <typename Visit>
void for_each(const Entry& zset, Visit&& visit);

// ZSCAN: a listpack is visited whole in one call (cursor 0 back), a skiplist by its member index. visit gets
// the member and the score's text as Redis sends it (a listpack's stored text, a skiplist's score printed).
template <typename Visit>
uint64_t scan(const Entry& zset, uint64_t cursor, size_t count, Visit&& visit);

// For the RDB writer: the listpack's bytes (Compact encoding only).
std::string_view listpack_bytes(const Entry& zset);

// store/aggregate.cpp's dispatch.
void destroy(AggregateEncoding encoding, void* aggregate) noexcept;
void* copy(AggregateEncoding encoding, const void* aggregate);
size_t memory(AggregateEncoding encoding, const void* aggregate);
size_t free_effort(const Entry& zset);

// How Redis's zzlInsertAt stores a score in a listpack: an integral one within +-LLONG_MAX/2 as an integer
// (so -0 becomes 0), any other as d2string's text ("%.17g", inf, -inf).
std::string score_text(double score);
// A skiplist score as ZSCAN sends it ("%.17Lg", inf, -inf).
std::string scan_score_text(double score);
// A listpack's score element as a double (Redis's zzlGetScore).
double score_of(const ListpackElement& element);

// ---- implementation details of the templates ----

namespace detail {
using ListpackView = BlobView<Listpack>;
inline const Skiplist& skiplist(const Entry& zset) { return *static_cast<const Skiplist*>(zset.aggregate()); }
}  // namespace detail

template <typename Visit>
void for_each(const Entry& zset, Visit&& visit) {
  if (zset.aggregate_encoding() == AggregateEncoding::Table) {
    for (const Skiplist::Node* node = detail::skiplist(zset).first(); node != nullptr; node = node->next()) {
      visit(node->member(), node->score);
    }
    return;
  }
  const detail::ListpackView pairs(zset);
  for (auto it = pairs->begin(); it != pairs->end();) {
    const ListpackElement member = *it++;
    const double value = score_of(*it++);
    if (member.is_integer()) {
      visit(std::string_view(member.to_string()), value);
    } else {
      visit(member.string(), value);
    }
  }
}

template <typename Visit>
uint64_t scan(const Entry& zset, uint64_t cursor, size_t count, Visit&& visit) {
  if (zset.aggregate_encoding() == AggregateEncoding::Compact) {
    const detail::ListpackView pairs(zset);
    for (auto it = pairs->begin(); it != pairs->end();) {
      const std::string member = (*it++).to_string();
      visit(std::string_view(member), (*it++).to_string());
    }
    return 0;
  }
  const Skiplist& list = detail::skiplist(zset);
  size_t seen = 0;
  // Redis counts a member and its score as two replies here: 20 x COUNT buckets at most.
  for (size_t buckets = 0; buckets < count * 20 && seen < count; ++buckets) {
    cursor = list.scan(cursor, [&](const Skiplist::Node* node) {
      ++seen;
      visit(node->member(), scan_score_text(node->score));
    });
    if (cursor == 0) break;
  }
  return cursor;
}

}  // namespace rc::zset_value
