// List commands on one key and one element or end (Redis's t_list.c): LPUSH, RPUSH, LPUSHX, RPUSHX, LPOP,
// RPOP, LLEN, LINDEX, LINSERT and LSET. Ranges (LRANGE, LTRIM, LREM, LPOS) are in list_ranges.cpp, the
// commands over two or more keys (LMOVE, RPOPLPUSH, LMPOP) in list_moves.cpp, and the pops every one of
// them shares with the blocking commands in list_pops.cpp. The node layout is store/quicklist's. A list is
// created by the push that gives it its first element and deleted with its last one.
#include <cstdint>
#include <string>

#include "protocol/errors.h"
#include "server/command_context.h"
#include "server/command_table.h"
#include "server/commands/arguments.h"
#include "server/commands/list_pops.h"
#include "server/commands/registry.h"
#include "server/server.h"
#include "store/list_value.h"

namespace rc {
namespace {

using list_pops::End;

// LPUSH/RPUSH key element [element ...], and the X forms that push only onto an existing list: the new
// length (0 when an X form finds no list).
void push_elements(CommandContext& ctx, End end, bool only_existing) {
  ctx.db().write(ctx.arg(1), [&](KeySlot& slot) {
    if (ctx.wrong_type(slot.get(), ValueType::List)) return;
    if (slot.get() == nullptr) {
      if (only_existing) return ctx.out.integer(0);
      slot.adopt(EntryPtr(list_value::create(slot.key(), ctx.server.keyspace().limits())));
    }
    Quicklist& list = list_value::elements(*slot.edit());
    for (size_t i = 2; i < ctx.argc(); ++i) list.push(end, ctx.arg(i));
    ctx.propagate_as_received();
    ctx.out.integer(static_cast<int64_t>(list.size()));
  });
}

void handle_lpush(CommandContext& ctx) { push_elements(ctx, End::Head, false); }
void handle_rpush(CommandContext& ctx) { push_elements(ctx, End::Tail, false); }
void handle_lpushx(CommandContext& ctx) { push_elements(ctx, End::Head, true); }
void handle_rpushx(CommandContext& ctx) { push_elements(ctx, End::Tail, true); }

// LPOP/RPOP key [count]: without a count one element as a bulk (null when the key is missing); with one,
// an array of up to count elements (a null array when missing, an empty one for count 0).
void pop_elements(CommandContext& ctx, End end, std::string_view name) {
  if (ctx.argc() > 3) return ctx.out.error(errors::wrong_arity(name));
  const bool has_count = ctx.argc() == 3;
  int64_t count = 1;
  if (has_count) {
    const auto value = parse_int64(ctx.arg(2));
    if (!value || *value < 0) return ctx.out.error(errors::kCountNotPositive);
    count = *value;
  }
  ctx.db().write(ctx.arg(1), [&](KeySlot& slot) {
    if (slot.get() == nullptr) return has_count ? ctx.out.null_array() : ctx.out.null();
    if (ctx.wrong_type(slot.get(), ValueType::List)) return;
    if (count == 0) return ctx.out.array(0);
    const auto popped = list_pops::pop_elements(slot, end, static_cast<size_t>(count));
    ctx.propagate_as_received();
    if (!has_count) return ctx.out.bulk(popped.front());
    ctx.out.array(popped.size());
    for (const std::string& element : popped) ctx.out.bulk(element);
  });
}

void handle_lpop(CommandContext& ctx) { pop_elements(ctx, End::Head, "lpop"); }
void handle_rpop(CommandContext& ctx) { pop_elements(ctx, End::Tail, "rpop"); }

// LLEN key: 0 for a missing key.
void handle_llen(CommandContext& ctx) {
  ctx.read_key(ctx.arg(1), [&](const Entry* list) {
    if (ctx.wrong_type(list, ValueType::List)) return;
    ctx.out.integer(list != nullptr ? static_cast<int64_t>(list_value::length(*list)) : 0);
  });
}

// LINDEX key index: the element, or null. The key is looked up before the index is read, as in Redis.
void handle_lindex(CommandContext& ctx) {
  ctx.read_key(ctx.arg(1), [&](const Entry* list) {
    if (list == nullptr) return ctx.out.null();
    if (ctx.wrong_type(list, ValueType::List)) return;
    const auto index = integer_or_reply(ctx, ctx.arg(2));
    if (!index) return;
    const auto element = list_value::elements(*list).at(*index);
    if (!element) return ctx.out.null();
    ctx.out.bulk(*element);
  });
}

// LINSERT key BEFORE|AFTER pivot element: the new length, -1 when the pivot is not there, 0 when the key is
// missing.
void handle_linsert(CommandContext& ctx) {
  bool after;
  if (is_word(ctx.arg(2), "after")) {
    after = true;
  } else if (is_word(ctx.arg(2), "before")) {
    after = false;
  } else {
    return ctx.out.error(errors::kSyntax);
  }
  ctx.db().write(ctx.arg(1), [&](KeySlot& slot) {
    if (slot.get() == nullptr) return ctx.out.integer(0);
    if (ctx.wrong_type(slot.get(), ValueType::List)) return;
    Quicklist& list = list_value::elements(*slot.get());
    if (!list.insert_at_pivot(ctx.arg(3), ctx.arg(4), after)) return ctx.out.integer(-1);
    slot.edit();
    ctx.propagate_as_received();
    ctx.out.integer(static_cast<int64_t>(list.size()));
  });
}

// LSET key index element: OK, "no such key", or "index out of range".
void handle_lset(CommandContext& ctx) {
  ctx.db().write(ctx.arg(1), [&](KeySlot& slot) {
    if (slot.get() == nullptr) return ctx.out.error(errors::kNoSuchKey);
    if (ctx.wrong_type(slot.get(), ValueType::List)) return;
    const auto index = integer_or_reply(ctx, ctx.arg(2));
    if (!index) return;
    if (!list_value::elements(*slot.get()).replace(*index, ctx.arg(3))) return ctx.out.error(errors::kIndexOutOfRange);
    slot.edit();
    ctx.propagate_as_received();
    ctx.out.ok();
  });
}

}  // namespace

void register_lists(CommandTable& table) {
  constexpr uint32_t kPush = kWrite | kDenyOom | kFast;
  //         name      arity flags first last step handler
  table.add({"lpush", -3, kPush, 1, 1, 1, handle_lpush, "list", "1.0.0", "Prepend one or multiple elements to a list"});
  table.add({"rpush", -3, kPush, 1, 1, 1, handle_rpush, "list", "1.0.0", "Append one or multiple elements to a list"});
  table.add({"lpushx", -3, kPush, 1, 1, 1, handle_lpushx, "list", "2.2.0",
             "Prepend an element to a list, only if the list exists"});
  table.add({"rpushx", -3, kPush, 1, 1, 1, handle_rpushx, "list", "2.2.0",
             "Append an element to a list, only if the list exists"});
  table.add({"lpop", -2, kWrite | kFast, 1, 1, 1, handle_lpop, "list", "1.0.0",
             "Remove and get the first elements in a list"});
  table.add({"rpop", -2, kWrite | kFast, 1, 1, 1, handle_rpop, "list", "1.0.0",
             "Remove and get the last elements in a list"});
  table.add({"llen", 2, kReadonly | kFast, 1, 1, 1, handle_llen, "list", "1.0.0", "Get the length of a list"});
  table.add({"lindex", 3, kReadonly, 1, 1, 1, handle_lindex, "list", "1.0.0", "Get an element from a list by its index"});
  table.add({"linsert", 5, kWrite | kDenyOom, 1, 1, 1, handle_linsert, "list", "2.2.0",
             "Insert an element before or after another element in a list"});
  table.add({"lset", 4, kWrite | kDenyOom, 1, 1, 1, handle_lset, "list", "1.0.0",
             "Set the value of an element in a list by its index"});
}

}  // namespace rc
