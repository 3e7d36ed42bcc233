#include "store/zset_value.h"

#include <malloc.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <iterator>
#include <memory>

#include "store/thread_random.h"

namespace rc::zset_value {
namespace {

using Node = Skiplist::Node;

Skiplist& skiplist(Entry& zset) { return *static_cast<Skiplist*>(zset.aggregate()); }
bool is_listpack(const Entry& zset) { return zset.aggregate_encoding() == AggregateEncoding::Compact; }

// Every element of a listpack, in order. Listpacks are small (zset-max-listpack-entries), so the range
// operations work on this copy, as Redis walks them linearly too.
ScoredList listpack_elements(const Entry& zset) {
  const detail::ListpackView pairs(zset);
  ScoredList elements;
  elements.reserve(pairs->size() / 2);
  for (auto it = pairs->begin(); it != pairs->end();) {
    std::string member = (*it++).to_string();
    elements.push_back({std::move(member), score_of(*it++)});
  }
  return elements;
}

// Inserts a member that is not present at its (score, member) place, as Redis's zzlInsert.
void listpack_insert(Listpack& pairs, double score, std::string_view member) {
  auto it = pairs.begin();
  while (it != pairs.end()) {
    const auto score_position = std::next(it);
    const double current = score_of(*score_position);
    if (current > score || (current == score && (*it).to_string() > member)) break;
    it = std::next(score_position);
  }
  it = pairs.insert(it, member);
  pairs.insert(std::next(it), score_text(score));
}

void listpack_erase(Listpack& pairs, std::string_view member) {
  const auto it = pairs.find(member, 1);
  if (it != pairs.end()) pairs.erase(it, std::next(it, 2));
}

// Listpack -> skiplist, as Redis's zsetConvert.
void convert_to_skiplist(Entry& zset) {
  auto list = std::make_unique<Skiplist>();
  for (const Scored& element : listpack_elements(zset)) list->insert(element.score, element.member);
  Listpack::from_raw(zset.aggregate());  // frees it
  zset.set_aggregate(list.release(), AggregateEncoding::Table);
}

Listpack listpack_of(const ScoredList& sorted) {
  Listpack pairs;
  for (const Scored& element : sorted) {
    pairs.append(element.member);
    pairs.append(score_text(element.score));
  }
  return pairs;
}

bool fits_listpack(size_t count, size_t longest, size_t total, const EncodingLimits& limits) {
  return count <= limits.zset_entries() && longest <= limits.zset_value() && total <= Listpack::kSafetyLimit;
}

bool by_score_then_member(const Scored& a, const Scored& b) {
  return a.score < b.score || (a.score == b.score && a.member < b.member);
}

// The [first, last) indexes of a sorted copy that `in_range` accepts (a contiguous run).
template <typename InRange>
std::pair<size_t, size_t> run_of(const ScoredList& elements, InRange&& in_range) {
  size_t first = 0;
  while (first < elements.size() && !in_range(elements[first])) ++first;
  size_t last = first;
  while (last < elements.size() && in_range(elements[last])) ++last;
  return {first, last};
}

// The run of a member range in a listpack as Redis's zzlFirstInLexRange / zzlLastInLexRange find it (lex
// ranges assume equal scores; on mixed ones this linear walk is what Redis does): forwards, the first member
// at or above min, if it is within max, and those after it while within max; backwards, the last member at or
// below max, if it is within min, and those before it while within min. As [first, last) indexes.
std::pair<size_t, size_t> lex_run(const ScoredList& elements, const LexRange& range, bool reverse) {
  if (range.empty()) return {0, 0};
  if (!reverse) {
    size_t first = 0;
    while (first < elements.size() && !range.above_min(elements[first].member)) ++first;
    size_t last = first;
    while (last < elements.size() && range.below_max(elements[last].member)) ++last;
    return {first, last};
  }
  size_t last = elements.size();
  while (last > 0 && !range.below_max(elements[last - 1].member)) --last;
  size_t first = last;
  while (first > 0 && range.above_min(elements[first - 1].member)) --first;
  return {first, last};
}

// Copies up to `limit` elements of a run after skipping `offset`, forwards or backwards.
ScoredList take_run(const ScoredList& elements, std::pair<size_t, size_t> run, bool reverse, size_t offset,
                    int64_t limit) {
  ScoredList result;
  const size_t length = run.second - run.first;
  for (size_t i = offset; i < length && (limit < 0 || static_cast<int64_t>(result.size()) < limit); ++i) {
    result.push_back(elements[reverse ? run.second - 1 - i : run.first + i]);
  }
  return result;
}

// Walks a skiplist from `node` (forwards, or backwards when `reverse`) while `in_range`, as Redis's
// genericZrangebyscoreCommand: the offset is skipped without looking at the range.
template <typename InRange>
ScoredList walk(const Node* node, bool reverse, size_t offset, int64_t limit, InRange&& in_range) {
  ScoredList result;
  while (node != nullptr && offset-- > 0) node = reverse ? node->backward : node->next();
  while (node != nullptr && (limit < 0 || static_cast<int64_t>(result.size()) < limit) && in_range(node)) {
    result.push_back({std::string(node->member()), node->score});
    node = reverse ? node->backward : node->next();
  }
  return result;
}

// Removes a run of listpack elements.
size_t erase_run(Entry& zset, std::pair<size_t, size_t> run) {
  const size_t count = run.second - run.first;
  if (count == 0) return 0;
  BorrowedBlob<Listpack> pairs(zset);
  pairs->erase_range(static_cast<int64_t>(run.first * 2), count * 2);
  return count;
}

// Removes skiplist nodes from `node` on while `in_range`.
template <typename InRange>
size_t erase_from(Skiplist& list, Node* node, InRange&& in_range) {
  size_t removed = 0;
  while (node != nullptr && in_range(node)) {
    Node* next = node->next();
    list.erase(node);
    node = next;
    ++removed;
  }
  return removed;
}

}  // namespace

std::string score_text(double score) {
  if (std::isnan(score)) return "nan";
  if (std::isinf(score)) return score > 0 ? "inf" : "-inf";
  // Redis's double2ll: integral values within +-LLONG_MAX/2 are stored as integers (-0 as 0).
  constexpr double kLimit = static_cast<double>(INT64_MAX / 2);
  if (score >= -kLimit && score <= kLimit) {
    const auto integer = static_cast<int64_t>(score);
    if (static_cast<double>(integer) == score) return std::to_string(integer);
  }
  char text[64];
  const int length = std::snprintf(text, sizeof text, "%.17g", score);
  return std::string(text, static_cast<size_t>(length));
}

std::string scan_score_text(double score) {
  if (std::isinf(score)) return score > 0 ? "inf" : "-inf";
  char text[64];
  const int length = std::snprintf(text, sizeof text, "%.17Lg", static_cast<long double>(score));
  return std::string(text, static_cast<size_t>(length));
}

double score_of(const ListpackElement& element) {
  if (element.is_integer()) return static_cast<double>(element.integer());
  // As Redis's zzlStrtod: at most 127 bytes, read by strtod.
  char text[128];
  const size_t length = std::min(element.string().size(), sizeof text - 1);
  std::memcpy(text, element.string().data(), length);
  text[length] = '\0';
  return std::strtod(text, nullptr);
}

Entry* create(std::string_view key, int64_t expire_at_ms) {
  return Entry::create_aggregate(key, ValueType::ZSet, AggregateEncoding::Compact, Listpack().release(),
                                 expire_at_ms);
}

Entry* create_skiplist(std::string_view key, int64_t expire_at_ms) {
  return Entry::create_aggregate(key, ValueType::ZSet, AggregateEncoding::Table, new Skiplist(), expire_at_ms);
}

Entry* build(std::string_view key, const ScoredList& elements, const EncodingLimits& limits, int64_t expire_at_ms) {
  size_t longest = 0;
  size_t total = 0;
  for (const Scored& element : elements) {
    longest = std::max(longest, element.member.size());
    total += element.member.size();
  }
  if (!fits_listpack(elements.size(), longest, total, limits)) {
    Entry* zset = create_skiplist(key, expire_at_ms);
    for (const Scored& element : elements) skiplist(*zset).insert(element.score, element.member);
    return zset;
  }
  ScoredList sorted = elements;
  std::sort(sorted.begin(), sorted.end(), by_score_then_member);
  return Entry::create_aggregate(key, ValueType::ZSet, AggregateEncoding::Compact, listpack_of(sorted).release(),
                                 expire_at_ms);
}

Entry* from_listpack(std::string_view key, Listpack pairs, int64_t expire_at_ms, const EncodingLimits& limits) {
  const bool too_many = pairs.size() / 2 > limits.zset_entries();
  Entry* zset = Entry::create_aggregate(key, ValueType::ZSet, AggregateEncoding::Compact, pairs.release(),
                                        expire_at_ms);
  if (too_many) convert_to_skiplist(*zset);
  return zset;
}

void convert_to_listpack_if_fits(Entry& zset, const EncodingLimits& limits) {
  if (is_listpack(zset)) return;
  const Skiplist& list = detail::skiplist(zset);
  size_t longest = 0;
  size_t total = 0;
  for (const Node* node = list.first(); node != nullptr; node = node->next()) {
    longest = std::max<size_t>(longest, node->member_length);
    total += node->member_length;
  }
  if (!fits_listpack(list.size(), longest, total, limits)) return;
  ScoredList sorted;
  for_each(zset, [&](std::string_view member, double score) { sorted.push_back({std::string(member), score}); });
  delete &skiplist(zset);
  zset.set_aggregate(listpack_of(sorted).release(), AggregateEncoding::Compact);
}

size_t length(const Entry& zset) {
  if (!is_listpack(zset)) return detail::skiplist(zset).size();
  return detail::ListpackView(zset)->size() / 2;
}

std::optional<double> score(const Entry& zset, std::string_view member) {
  if (!is_listpack(zset)) {
    const Node* node = detail::skiplist(zset).find(member);
    if (node == nullptr) return std::nullopt;
    return node->score;
  }
  const detail::ListpackView pairs(zset);
  const auto it = pairs->find(member, 1);
  if (it == pairs->end()) return std::nullopt;
  return score_of(*std::next(it));
}

std::optional<std::pair<uint64_t, double>> rank(const Entry& zset, std::string_view member, bool reverse) {
  const size_t count = length(zset);
  if (!is_listpack(zset)) {
    const Skiplist& list = detail::skiplist(zset);
    const Node* node = list.find(member);
    if (node == nullptr) return std::nullopt;
    const uint64_t position = list.rank_of(node) - 1;
    return std::pair(reverse ? count - 1 - position : position, node->score);
  }
  const detail::ListpackView pairs(zset);
  uint64_t position = 0;
  for (auto it = pairs->begin(); it != pairs->end(); std::advance(it, 2), ++position) {
    if ((*it).matches(member)) {
      return std::pair(reverse ? count - 1 - position : position, score_of(*std::next(it)));
    }
  }
  return std::nullopt;
}

AddOutcome add(Entry& zset, double score, std::string_view member, AddFlags flags, const EncodingLimits& limits,
               double& new_score) {
  if (std::isnan(score)) return AddOutcome::NaN;
  const std::optional<double> current = zset_value::score(zset, member);
  if (current) {
    if (flags.nx) return AddOutcome::Skipped;
    if (flags.incr) {
      score += *current;
      if (std::isnan(score)) return AddOutcome::NaN;
    }
    if ((flags.lt && score >= *current) || (flags.gt && score <= *current)) return AddOutcome::Skipped;
    new_score = score;
    if (score == *current) return AddOutcome::Unchanged;
    if (is_listpack(zset)) {
      BorrowedBlob<Listpack> pairs(zset);
      listpack_erase(*pairs, member);
      listpack_insert(*pairs, score, member);
    } else {
      Skiplist& list = skiplist(zset);
      list.update_score(list.find(member), score);
    }
    return AddOutcome::Updated;
  }
  if (flags.xx) return AddOutcome::Skipped;
  if (is_listpack(zset)) {
    bool fits = false;
    {
      const detail::ListpackView pairs(zset);
      fits = pairs->size() / 2 + 1 <= limits.zset_entries() && member.size() <= limits.zset_value() &&
             pairs->safe_to_add(member.size());
    }
    if (fits) {
      BorrowedBlob<Listpack> pairs(zset);
      listpack_insert(*pairs, score, member);
    } else {
      convert_to_skiplist(zset);
    }
  }
  if (!is_listpack(zset)) skiplist(zset).insert(score, member);
  new_score = score;
  return AddOutcome::Added;
}

bool remove(Entry& zset, std::string_view member) {
  if (!is_listpack(zset)) {
    Skiplist& list = skiplist(zset);
    Node* node = list.find(member);
    if (node == nullptr) return false;
    list.erase(node);
    return true;
  }
  BorrowedBlob<Listpack> pairs(zset);
  const auto it = pairs->find(member, 1);
  if (it == pairs->end()) return false;
  pairs->erase(it, std::next(it, 2));
  return true;
}

ScoredList range_by_rank(const Entry& zset, size_t start, size_t end, bool reverse) {
  if (is_listpack(zset)) {
    const ScoredList elements = listpack_elements(zset);
    const size_t count = elements.size();
    const std::pair<size_t, size_t> run = reverse ? std::pair(count - 1 - end, count - start)
                                                  : std::pair(start, end + 1);
    return take_run(elements, run, reverse, 0, -1);
  }
  const Skiplist& list = detail::skiplist(zset);
  const Node* node = list.at_rank(reverse ? list.size() - start : start + 1);
  return walk(node, reverse, 0, static_cast<int64_t>(end - start + 1), [](const Node*) { return true; });
}

ScoredList range_by_score(const Entry& zset, const ScoreRange& range, bool reverse, size_t offset, int64_t limit) {
  if (is_listpack(zset)) {
    const ScoredList elements = listpack_elements(zset);
    return take_run(elements, run_of(elements, [&](const Scored& e) { return range.contains(e.score); }), reverse,
                    offset, limit);
  }
  const Skiplist& list = detail::skiplist(zset);
  if (reverse) {
    return walk(list.last_in(range), true, offset, limit, [&](const Node* n) { return range.above_min(n->score); });
  }
  return walk(list.first_in(range), false, offset, limit, [&](const Node* n) { return range.below_max(n->score); });
}

ScoredList range_by_lex(const Entry& zset, const LexRange& range, bool reverse, size_t offset, int64_t limit) {
  if (is_listpack(zset)) {
    const ScoredList elements = listpack_elements(zset);
    return take_run(elements, lex_run(elements, range, reverse), reverse, offset, limit);
  }
  const Skiplist& list = detail::skiplist(zset);
  if (reverse) {
    return walk(list.last_in(range), true, offset, limit,
                [&](const Node* n) { return range.above_min(n->member()); });
  }
  return walk(list.first_in(range), false, offset, limit, [&](const Node* n) { return range.below_max(n->member()); });
}

size_t count_in(const Entry& zset, const ScoreRange& range) {
  if (is_listpack(zset)) {
    const ScoredList elements = listpack_elements(zset);
    const auto run = run_of(elements, [&](const Scored& e) { return range.contains(e.score); });
    return run.second - run.first;
  }
  const Skiplist& list = detail::skiplist(zset);
  const Node* first = list.first_in(range);
  if (first == nullptr) return 0;
  return list.rank_of(list.last_in(range)) - list.rank_of(first) + 1;
}

size_t count_in(const Entry& zset, const LexRange& range) {
  if (is_listpack(zset)) {
    const ScoredList elements = listpack_elements(zset);
    const auto run = lex_run(elements, range, false);
    return run.second - run.first;
  }
  // As Redis's zlexcountCommand: from the first member in range to the last one, by rank.
  const Skiplist& list = detail::skiplist(zset);
  const Node* first = list.first_in(range);
  if (first == nullptr) return 0;
  size_t count = list.size() - (list.rank_of(first) - 1);
  if (const Node* last = list.last_in(range)) count -= list.size() - list.rank_of(last);
  return count;
}

size_t remove_by_rank(Entry& zset, size_t start, size_t end) {
  if (is_listpack(zset)) return erase_run(zset, {start, end + 1});
  Skiplist& list = skiplist(zset);
  size_t left = end - start + 1;
  return erase_from(list, list.at_rank(start + 1), [&](const Node*) { return left-- > 0; });
}

size_t remove_by_score(Entry& zset, const ScoreRange& range) {
  if (is_listpack(zset)) {
    const ScoredList elements = listpack_elements(zset);
    return erase_run(zset, run_of(elements, [&](const Scored& e) { return range.contains(e.score); }));
  }
  Skiplist& list = skiplist(zset);
  return erase_from(list, list.first_in(range), [&](const Node* n) { return range.below_max(n->score); });
}

size_t remove_by_lex(Entry& zset, const LexRange& range) {
  if (is_listpack(zset)) {
    const ScoredList elements = listpack_elements(zset);
    return erase_run(zset, lex_run(elements, range, false));
  }
  Skiplist& list = skiplist(zset);
  return erase_from(list, list.first_in(range), [&](const Node* n) { return range.below_max(n->member()); });
}

ScoredList pop(Entry& zset, bool from_max, size_t count) {
  const size_t total = length(zset);
  count = std::min(count, total);
  if (count == 0) return {};
  const ScoredList taken = range_by_rank(zset, 0, count - 1, from_max);
  if (from_max) {
    remove_by_rank(zset, total - count, total - 1);
  } else {
    remove_by_rank(zset, 0, count - 1);
  }
  return taken;
}

Scored random_element(const Entry& zset) {
  if (!is_listpack(zset)) {
    const Node* node = detail::skiplist(zset).random_node(thread_random);
    return {std::string(node->member()), node->score};
  }
  const detail::ListpackView pairs(zset);
  const auto index = static_cast<int64_t>(thread_random() % (pairs->size() / 2));
  const auto it = pairs->seek(index * 2);
  return {(*it).to_string(), score_of(*std::next(it))};
}

std::string_view listpack_bytes(const Entry& zset) { return detail::ListpackView(zset)->bytes(); }

void destroy(AggregateEncoding encoding, void* aggregate) noexcept {
  if (encoding == AggregateEncoding::Table) {
    delete static_cast<Skiplist*>(aggregate);
  } else {
    Listpack::from_raw(aggregate);
  }
}

void* copy(AggregateEncoding encoding, const void* aggregate) {
  if (encoding == AggregateEncoding::Compact) return Listpack(*detail::ListpackView(aggregate)).release();
  const auto* source = static_cast<const Skiplist*>(aggregate);
  auto list = std::make_unique<Skiplist>();
  for (const Node* node = source->first(); node != nullptr; node = node->next()) {
    list->insert(node->score, node->member());
  }
  return list.release();
}

size_t memory(AggregateEncoding encoding, const void* aggregate) {
  if (encoding == AggregateEncoding::Compact) return detail::ListpackView(aggregate)->allocated_bytes();
  const auto* list = static_cast<const Skiplist*>(aggregate);
  return malloc_usable_size(const_cast<Skiplist*>(list)) + list->allocated_bytes();
}

size_t free_effort(const Entry& zset) { return is_listpack(zset) ? 1 : detail::skiplist(zset).size(); }

}  // namespace rc::zset_value
