#include "server/commands/list_pops.h"

#include <algorithm>
#include <cstdint>
#include <string>

#include "protocol/errors.h"
#include "protocol/numbers.h"
#include "server/commands/arguments.h"
#include "server/server.h"
#include "store/list_value.h"

namespace rc::list_pops {

std::optional<End> end_or_reply(CommandContext& ctx, std::string_view argument) {
  if (is_word(argument, "left")) return End::Head;
  if (is_word(argument, "right")) return End::Tail;
  ctx.out.error(errors::kSyntax);
  return std::nullopt;
}

std::string_view end_name(End end) { return end == End::Head ? "LEFT" : "RIGHT"; }

std::vector<std::string> pop_elements(KeySlot& slot, End end, size_t count) {
  Quicklist& list = list_value::elements(*slot.edit());
  const size_t popped_count = std::min(count, list.size());
  std::vector<std::string> popped;
  if (popped_count == 1) {
    popped.push_back(list.pop(end));
  } else {
    // Read as one walk, removed as one range: cheaper than element by element.
    popped.reserve(popped_count);
    const bool from_head = end == End::Head;
    list.visit(from_head ? 0 : list.size() - 1, !from_head, [&](const ListpackElement& element) {
      popped.push_back(element.to_string());
      return popped.size() < popped_count;
    });
    list.erase_range(from_head ? 0 : list.size() - popped_count, popped_count);
  }
  if (list.empty()) slot.erase();
  return popped;
}

void pop_with_key(CommandContext& ctx, KeySlot& slot, End end, size_t count, KeyedReply shape) {
  const std::string_view pop_command = end == End::Head ? "LPOP" : "RPOP";
  // The key's name outlives the entry the pop may delete: slot.key() is the caller's argument.
  const std::string_view key = slot.key();
  if (shape == KeyedReply::Element) {
    const std::vector<std::string> popped = pop_elements(slot, end, 1);
    ctx.propagate({pop_command, key});
    ctx.out.array(2);
    ctx.out.bulk(key);
    ctx.out.bulk(popped.front());
    return;
  }
  const std::vector<std::string> popped = pop_elements(slot, end, count);
  ctx.propagate({pop_command, key, std::to_string(popped.size())});
  ctx.out.array(2);
  ctx.out.bulk(key);
  ctx.out.array(popped.size());
  for (const std::string& element : popped) ctx.out.bulk(element);
}

MoveOutcome move_element(CommandContext& ctx, LockedKeys& locked, std::string_view source,
                         std::string_view destination, End from, End to, MoveCommand as) {
  // One KeySlot at a time: a change through one may move another's link.
  {
    const KeySlot from_slot = locked.slot(source);
    if (from_slot.get() == nullptr) return MoveOutcome::SourceMissing;
    if (ctx.wrong_type(from_slot.get(), ValueType::List)) return MoveOutcome::Refused;
  }
  const bool same_key = source == destination;
  if (!same_key && ctx.wrong_type(locked.slot(destination).get(), ValueType::List)) return MoveOutcome::Refused;
  std::string element;
  {
    KeySlot from_slot = locked.slot(source);
    Quicklist& list = list_value::elements(*from_slot.edit());
    element = list.pop(from);
    if (same_key) {
      list.push(to, element);
    } else if (list.empty()) {
      from_slot.erase();
    }
  }
  if (!same_key) {
    KeySlot to_slot = locked.slot(destination);
    if (to_slot.get() == nullptr) {
      to_slot.adopt(EntryPtr(list_value::create(destination, ctx.server.keyspace().limits())));
    }
    list_value::elements(*to_slot.edit()).push(to, element);
  }
  if (as == MoveCommand::Rpoplpush) {
    ctx.propagate({"RPOPLPUSH", source, destination});
  } else {
    ctx.propagate({"LMOVE", source, destination, end_name(from), end_name(to)});
  }
  ctx.out.bulk(element);
  return MoveOutcome::Moved;
}

std::optional<MpopArguments> mpop_arguments_or_reply(CommandContext& ctx, size_t numkeys_index) {
  const auto numkeys = parse_int64(ctx.arg(numkeys_index));
  if (!numkeys || *numkeys < 1) {
    ctx.out.error(errors::kNumkeysNotPositive);
    return std::nullopt;
  }
  // The keys, then LEFT|RIGHT, must be there (a numkeys past the arguments is a syntax error).
  const size_t available = ctx.argc() - numkeys_index - 1;
  if (static_cast<uint64_t>(*numkeys) >= available) {
    ctx.out.error(errors::kSyntax);
    return std::nullopt;
  }
  const auto key_count = static_cast<size_t>(*numkeys);
  const size_t end_index = numkeys_index + key_count + 1;
  const auto end = end_or_reply(ctx, ctx.arg(end_index));
  if (!end) return std::nullopt;
  std::optional<size_t> count;
  for (size_t i = end_index + 1; i < ctx.argc(); ++i) {
    if (!count && is_word(ctx.arg(i), "count") && i + 1 < ctx.argc()) {
      const auto value = parse_int64(ctx.arg(++i));
      if (!value || *value < 1) {
        ctx.out.error(errors::kMpopCountNotPositive);
        return std::nullopt;
      }
      count = static_cast<size_t>(*value);
    } else {
      ctx.out.error(errors::kSyntax);
      return std::nullopt;
    }
  }
  return MpopArguments{std::span<const std::string_view>(ctx.argv).subspan(numkeys_index + 1, key_count), *end,
                       count.value_or(1)};
}

}  // namespace rc::list_pops
