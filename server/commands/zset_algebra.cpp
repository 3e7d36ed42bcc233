// Sorted set algebra over several keys (Redis's zunionInterDiffGenericCommand): ZUNION, ZINTER, ZDIFF, their
// STORE forms, and ZINTERCARD. Plain sets take part too, each member with score 1.
//
// Each command locks the shards of all its keys at once (LockedKeys), so it reads and stores as one atomic
// step. As in Redis, the sources are looked up (and type-checked) before the options are read, WEIGHTS
// multiply each source's scores (a NaN product counts as 0), AGGREGATE SUM/MIN/MAX combines them (a NaN sum
// becomes 0), and a result is ordered by (score, member). A stored result is a listpack when it fits
// zset-max-listpack-*.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <unordered_map>
#include <vector>

#include "protocol/errors.h"
#include "protocol/numbers.h"
#include "server/command_context.h"
#include "server/command_table.h"
#include "server/commands/arguments.h"
#include "server/commands/registry.h"
#include "server/commands/zset_arguments.h"
#include "store/set_value.h"
#include "store/shard_locks.h"
#include "store/zset_value.h"

namespace rc {
namespace {

using Keys = std::span<const std::string_view>;
enum class Operation { Union, Intersection, Difference };
enum class Aggregate { Sum, Min, Max };

struct Source {
  const Entry* value = nullptr;  // a sorted set, a set, or nullptr for a missing key
  double weight = 1;

  size_t length() const {
    if (value == nullptr) return 0;
    return value->type() == ValueType::ZSet ? zset_value::length(*value) : set_value::length(*value);
  }
  // Calls visit(std::string_view member, double score); a set's members score 1.
  template <typename Visit>
  void for_each(Visit&& visit) const {
    if (value == nullptr) return;
    if (value->type() == ValueType::ZSet) return zset_value::for_each(*value, visit);
    set_value::for_each(*value, [&](std::string_view member) { visit(member, 1.0); });
  }
  std::optional<double> score(std::string_view member) const {
    if (value == nullptr) return std::nullopt;
    if (value->type() == ValueType::ZSet) return zset_value::score(*value, member);
    return set_value::contains(*value, member) ? std::optional<double>(1.0) : std::nullopt;
  }
};

struct Request {
  Operation operation;
  bool store = false;             // ZUNIONSTORE and friends: the first argument is the destination
  bool cardinality_only = false;  // ZINTERCARD
  std::string_view name;
};

struct Parsed {
  std::vector<Source> sources;
  Keys keys;
  Aggregate aggregate = Aggregate::Sum;
  bool with_scores = false;
  uint64_t limit = 0;  // ZINTERCARD: stop counting there (0: no limit)
};

double combine(double target, double value, Aggregate aggregate) {
  switch (aggregate) {
    case Aggregate::Sum: {
      const double sum = target + value;
      return std::isnan(sum) ? 0.0 : sum;
    }
    case Aggregate::Min:
      return value < target ? value : target;
    case Aggregate::Max:
      return value > target ? value : target;
  }
  return target;
}

double weighted(double score, double weight) {
  const double product = score * weight;
  return std::isnan(product) ? 0.0 : product;
}

std::optional<Aggregate> aggregate_named(std::string_view word) {
  if (is_word(word, "sum")) return Aggregate::Sum;
  if (is_word(word, "min")) return Aggregate::Min;
  if (is_word(word, "max")) return Aggregate::Max;
  return std::nullopt;
}

// The number of keys and the keys, as Redis reads them.
std::optional<Keys> keys_or_reply(CommandContext& ctx, const Request& request, size_t numkeys_index) {
  const auto count = integer_or_reply(ctx, ctx.arg(numkeys_index));
  if (!count) return std::nullopt;
  if (*count < 1) {
    ctx.out.error(errors::at_least_one_key(request.name));
    return std::nullopt;
  }
  if (static_cast<uint64_t>(*count) > ctx.argc() - numkeys_index - 1) {
    ctx.out.error(errors::kSyntax);
    return std::nullopt;
  }
  return Keys(ctx.argv).subspan(numkeys_index + 1, static_cast<size_t>(*count));
}

// The sources (looked up and type-checked first, as Redis), then WEIGHTS, AGGREGATE, WITHSCORES, LIMIT.
bool parse_rest(CommandContext& ctx, const Request& request, LockedKeys& locked, Parsed& parsed) {
  for (const std::string_view key : parsed.keys) {
    const Entry* value = locked.slot(key).get();
    ctx.count_lookup(value);
    if (value != nullptr && value->type() != ValueType::ZSet && value->type() != ValueType::Set) {
      ctx.out.error(errors::kWrongType);
      return false;
    }
    parsed.sources.push_back({value, 1.0});
  }
  const bool algebra = request.operation != Operation::Difference && !request.cardinality_only;
  const size_t setnum = parsed.keys.size();
  size_t j = static_cast<size_t>(parsed.keys.data() - ctx.argv.data()) + setnum;
  while (j < ctx.argc()) {
    const size_t remaining = ctx.argc() - j;
    const std::string_view word = ctx.arg(j);
    if (algebra && remaining >= setnum + 1 && is_word(word, "weights")) {
      ++j;
      for (Source& source : parsed.sources) {
        const auto weight = parse_double(ctx.arg(j++));
        if (!weight) {
          ctx.out.error(errors::kWeightNotFloat);
          return false;
        }
        source.weight = *weight;
      }
    } else if (algebra && remaining >= 2 && is_word(word, "aggregate")) {
      const auto aggregate = aggregate_named(ctx.arg(j + 1));
      if (!aggregate) {
        ctx.out.error(errors::kSyntax);
        return false;
      }
      parsed.aggregate = *aggregate;
      j += 2;
    } else if (!request.store && !request.cardinality_only && is_word(word, "withscores")) {
      parsed.with_scores = true;
      ++j;
    } else if (request.cardinality_only && remaining >= 2 && is_word(word, "limit")) {
      const auto limit = parse_int64(ctx.arg(j + 1));
      if (!limit || *limit < 0) {
        ctx.out.error(errors::kLimitNegative);  // also for a LIMIT that is not a number, as Redis
        return false;
      }
      parsed.limit = static_cast<uint64_t>(*limit);
      j += 2;
    } else {
      ctx.out.error(errors::kSyntax);
      return false;
    }
  }
  return true;
}

// Members in every source: the smallest one is walked (the sources are sorted by size first).
zset_value::ScoredList intersect(const Parsed& parsed, uint64_t* cardinality) {
  zset_value::ScoredList result;
  const std::vector<Source>& sources = parsed.sources;
  if (sources[0].length() == 0) return result;
  bool stopped = false;
  sources[0].for_each([&](std::string_view member, double score) {
    if (stopped) return;
    double total = weighted(score, sources[0].weight);
    for (size_t j = 1; j < sources.size(); ++j) {
      const auto found = sources[j].value == sources[0].value ? std::optional<double>(score) : sources[j].score(member);
      if (!found) return;
      total = combine(total, *found * sources[j].weight, parsed.aggregate);
    }
    if (cardinality != nullptr) {
      ++*cardinality;
      stopped = parsed.limit != 0 && *cardinality >= parsed.limit;
      return;
    }
    result.push_back({std::string(member), total});
  });
  return result;
}

zset_value::ScoredList unite(const Parsed& parsed) {
  std::unordered_map<std::string, double> scores;
  for (const Source& source : parsed.sources) {
    source.for_each([&](std::string_view member, double score) {
      const double value = weighted(score, source.weight);
      const auto [it, fresh] = scores.try_emplace(std::string(member), value);
      if (!fresh) it->second = combine(it->second, value, parsed.aggregate);
    });
  }
  zset_value::ScoredList result;
  result.reserve(scores.size());
  for (auto& [member, score] : scores) result.push_back({member, score});
  return result;
}

zset_value::ScoredList subtract(const Parsed& parsed) {
  zset_value::ScoredList result;
  const std::vector<Source>& sources = parsed.sources;
  sources[0].for_each([&](std::string_view member, double score) {
    for (size_t j = 1; j < sources.size(); ++j) {
      if (sources[j].score(member)) return;
    }
    result.push_back({std::string(member), score});
  });
  return result;
}

void sort_by_score(zset_value::ScoredList& elements) {
  std::sort(elements.begin(), elements.end(), [](const zset_value::Scored& a, const zset_value::Scored& b) {
    return a.score < b.score || (a.score == b.score && a.member < b.member);
  });
}

void run(CommandContext& ctx, const Request& request) {
  const size_t numkeys_index = request.store ? 2 : 1;
  Parsed parsed;
  const auto keys = keys_or_reply(ctx, request, numkeys_index);
  if (!keys) return;
  parsed.keys = *keys;
  // The destination's shard is locked with the sources', so the result lands atomically.
  LockedKeys locked(ctx.db(), Keys(ctx.argv).subspan(request.store ? 1 : numkeys_index + 1,
                                                     parsed.keys.size() + (request.store ? 2 : 0)));
  if (!parse_rest(ctx, request, locked, parsed)) return;
  if (request.operation != Operation::Difference) {
    std::stable_sort(parsed.sources.begin(), parsed.sources.end(),
                     [](const Source& a, const Source& b) { return a.length() < b.length(); });
  }
  if (request.cardinality_only) {
    uint64_t cardinality = 0;
    intersect(parsed, &cardinality);
    locked.unlock();
    return ctx.out.integer(static_cast<int64_t>(cardinality));
  }
  zset_value::ScoredList result = request.operation == Operation::Union          ? unite(parsed)
                                  : request.operation == Operation::Intersection ? intersect(parsed, nullptr)
                                                                                 : subtract(parsed);
  if (!request.store) {
    locked.unlock();
    sort_by_score(result);
    return reply_scored(ctx.out, result, parsed.with_scores);
  }
  const std::string_view destination = ctx.arg(1);
  KeySlot slot = locked.slot(destination);
  if (!result.empty()) {
    slot.adopt(EntryPtr(zset_value::build(destination, result, zset_limits(ctx))));
  } else if (!slot.erase()) {
    return ctx.out.integer(0);
  }
  ctx.propagate_as_received();
  ctx.out.integer(static_cast<int64_t>(result.size()));
}

void handle_zunion(CommandContext& ctx) { run(ctx, {Operation::Union, false, false, "zunion"}); }
void handle_zinter(CommandContext& ctx) { run(ctx, {Operation::Intersection, false, false, "zinter"}); }
void handle_zdiff(CommandContext& ctx) { run(ctx, {Operation::Difference, false, false, "zdiff"}); }
void handle_zunionstore(CommandContext& ctx) { run(ctx, {Operation::Union, true, false, "zunionstore"}); }
void handle_zinterstore(CommandContext& ctx) { run(ctx, {Operation::Intersection, true, false, "zinterstore"}); }
void handle_zdiffstore(CommandContext& ctx) { run(ctx, {Operation::Difference, true, false, "zdiffstore"}); }
void handle_zintercard(CommandContext& ctx) { run(ctx, {Operation::Intersection, false, true, "zintercard"}); }

}  // namespace

void register_zset_algebra(CommandTable& table) {
  constexpr uint32_t kRead = kReadonly | kMovableKeys;
  constexpr uint32_t kStore = kWrite | kDenyOom | kMovableKeys;
  constexpr std::string_view kGroup = "sorted-set";
  //         name        arity flags first last step handler
  table.add({"zunion", -3, kRead, 0, 0, 0, handle_zunion, kGroup, "6.2.0", "Add multiple sorted sets"});
  table.add({"zinter", -3, kRead, 0, 0, 0, handle_zinter, kGroup, "6.2.0", "Intersect multiple sorted sets"});
  table.add({"zdiff", -3, kRead, 0, 0, 0, handle_zdiff, kGroup, "6.2.0", "Subtract multiple sorted sets"});
  table.add({"zunionstore", -4, kStore, 1, 1, 1, handle_zunionstore, kGroup, "2.0.0",
             "Add multiple sorted sets and store the resulting sorted set in a new key"});
  table.add({"zinterstore", -4, kStore, 1, 1, 1, handle_zinterstore, kGroup, "2.0.0",
             "Intersect multiple sorted sets and store the resulting sorted set in a new key"});
  table.add({"zdiffstore", -4, kStore, 1, 1, 1, handle_zdiffstore, kGroup, "6.2.0",
             "Subtract multiple sorted sets and store the resulting sorted set in a new key"});
  table.add({"zintercard", -3, kRead, 0, 0, 0, handle_zintercard, kGroup, "7.0.0",
             "Intersect multiple sorted sets and return the cardinality of the result"});
}

}  // namespace rc
