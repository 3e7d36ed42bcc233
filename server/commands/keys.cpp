// Generic key commands: DEL, UNLINK, EXISTS, TOUCH, TYPE, RENAME, RENAMENX, COPY, MOVE.
// (Expiry commands are in expire.cpp; KEYS, SCAN and RANDOMKEY in key_scan.cpp.)

#include <fmt/format.h>

#include "protocol/errors.h"
#include "server/command_context.h"
#include "server/command_table.h"
#include "server/commands/arguments.h"
#include "server/commands/registry.h"
#include "server/server.h"
#include "store/aggregate.h"
#include "store/clock.h"
#include "store/shard_locks.h"

namespace rc {
namespace {

// DEL and UNLINK: each key on its own (not atomic across keys). A removed value is freed after its shard
// lock is released: by this thread, or, for UNLINK (and DEL with lazyfree-lazy-user-del yes) and a value
// that is costly to free, by the lazy-free thread, so that the reply does not wait for it (Redis's
// dbAsyncDelete).
void delete_keys(CommandContext& ctx, std::string_view command, bool lazy) {
  int64_t deleted = 0;
  for (size_t i = 1; i < ctx.argc(); ++i) {
    EntryPtr removed = ctx.db().write(ctx.arg(i), [&](KeySlot& slot) {
      EntryPtr entry = slot.remove();
      if (entry) {
        ctx.propagate({command, ctx.arg(i)});  // key by key, each under its own shard lock
        ctx.notify(keyspace_events::kGeneric, "del", ctx.arg(i));
      }
      return entry;
    });
    if (!removed) continue;
    ++deleted;
    if (lazy && free_effort(*removed) > kLazyFreeThreshold) {
      Garbage garbage;
      garbage.add(removed.release());
      ctx.server.keyspace().lazy_free().submit(std::move(garbage));
    }
  }
  ctx.out.integer(deleted);
}

void handle_del(CommandContext& ctx) { delete_keys(ctx, "DEL", ctx.server.config().lazyfree_user_del()); }
void handle_unlink(CommandContext& ctx) { delete_keys(ctx, "UNLINK", true); }

// EXISTS and TOUCH: how many of the arguments name a live key (a repeated key counts each time).
void handle_exists(CommandContext& ctx) {
  int64_t found = 0;
  for (size_t i = 1; i < ctx.argc(); ++i) {
    found += ctx.read_key(ctx.arg(i), [](const Entry* entry) { return entry != nullptr ? 1 : 0; });
  }
  ctx.out.integer(found);
}

void handle_type(CommandContext& ctx) {
  ctx.out.simple(ctx.read_key(ctx.arg(1), [](const Entry* entry) {
    return entry != nullptr ? value_type_name(entry->type()) : std::string_view("none");
  }));
}

// RENAME and RENAMENX. Both shards are locked (in index order) for the whole operation, and only one
// KeySlot is used at a time: each lookup or change may resize the table and move the other's link.
void rename_key(CommandContext& ctx, bool nx) {
  const std::string_view from = ctx.arg(1);
  const std::string_view to = ctx.arg(2);
  Database& db = ctx.db();
  Garbage garbage;  // freed after the locks are released
  ShardLocks locks;
  locks.add(db, from);
  locks.add(db, to);
  locks.lock();
  const int64_t now = unix_time_ms();
  bool target_exists = false;
  if (from != to) {
    const KeySlot target = slot_in_locked_shard(db, to, now, garbage);
    target_exists = target.get() != nullptr;
  }
  KeySlot source = slot_in_locked_shard(db, from, now, garbage);
  if (source.get() == nullptr) return ctx.out.error(errors::kNoSuchKey);
  if (from == to) return nx ? ctx.out.integer(0) : ctx.out.ok();
  if (nx && target_exists) return ctx.out.integer(0);
  EntryPtr moved(Entry::renamed(*source.get(), to));  // adopted below, never freed under the locks
  garbage.add(source.take().release());  // one change in all, counted by the adopt below
  KeySlot target = slot_in_locked_shard(db, to, now, garbage);
  target.adopt(std::move(moved));  // replaces the target's entry, if any
  ctx.propagate({"RENAME", from, to});
  ctx.notify(keyspace_events::kGeneric, "rename_from", from);
  ctx.notify(keyspace_events::kGeneric, "rename_to", to);
  nx ? ctx.out.integer(1) : ctx.out.ok();
}

void handle_rename(CommandContext& ctx) { rename_key(ctx, false); }
void handle_renamenx(CommandContext& ctx) { rename_key(ctx, true); }

// COPY source destination [DB destination-db] [REPLACE]
void handle_copy(CommandContext& ctx) {
  int target_db = ctx.client.db.load();
  bool replace = false;
  for (size_t i = 3; i < ctx.argc(); ++i) {
    if (is_word(ctx.arg(i), "replace")) {
      replace = true;
    } else if (is_word(ctx.arg(i), "db") && i + 1 < ctx.argc()) {
      const auto index = db_index_or_reply(ctx, ctx.arg(++i));
      if (!index) return;
      target_db = *index;
    } else {
      return ctx.out.error(errors::kSyntax);
    }
  }
  Database& source_db = ctx.db();
  Database& destination_db = ctx.server.keyspace().db(target_db);
  if (&source_db == &destination_db && ctx.arg(1) == ctx.arg(2)) return ctx.out.error(errors::kSameObject);
  Garbage garbage;  // everything dropped below is freed after the locks are released
  EntryPtr copy;
  ShardLocks locks;
  locks.add(source_db, ctx.arg(1));
  locks.add(destination_db, ctx.arg(2));
  locks.lock();
  const int64_t now = unix_time_ms();
  // One KeySlot at a time (both keys may share a shard): probe the target, copy the source, then store.
  bool target_exists = false;
  {
    const KeySlot target = slot_in_locked_shard(destination_db, ctx.arg(2), now, garbage);
    target_exists = target.get() != nullptr;
  }
  {
    const KeySlot source = slot_in_locked_shard(source_db, ctx.arg(1), now, garbage);
    ctx.count_lookup(source.get());
    if (source.get() == nullptr || (target_exists && !replace)) return ctx.out.integer(0);
    copy.reset(Entry::clone(*source.get(), ctx.arg(2)));
  }
  KeySlot target = slot_in_locked_shard(destination_db, ctx.arg(2), now, garbage);
  target.adopt(std::move(copy));  // replaces the target's entry, if any
  ctx.propagate_as_received();
  keyspace_events::notify(keyspace_events::kGeneric, "copy_to", ctx.arg(2), target_db);
  ctx.out.integer(1);
}

// MOVE key db: the entry itself changes tables (no copy), keeping its expiry.
void handle_move(CommandContext& ctx) {
  const auto index = db_index_or_reply(ctx, ctx.arg(2));
  if (!index) return;
  Database& source_db = ctx.db();
  Database& destination_db = ctx.server.keyspace().db(*index);
  if (&source_db == &destination_db) return ctx.out.error(errors::kSameObject);
  Garbage garbage;
  ShardLocks locks;
  locks.add(source_db, ctx.arg(1));
  locks.add(destination_db, ctx.arg(1));
  locks.lock();
  const int64_t now = unix_time_ms();
  KeySlot source = slot_in_locked_shard(source_db, ctx.arg(1), now, garbage);
  if (source.get() == nullptr) return ctx.out.integer(0);
  KeySlot target = slot_in_locked_shard(destination_db, ctx.arg(1), now, garbage);
  if (target.get() != nullptr) return ctx.out.integer(0);
  target.adopt(source.take());
  ctx.propagate_as_received();
  ctx.notify(keyspace_events::kGeneric, "move_from", ctx.arg(1));
  keyspace_events::notify(keyspace_events::kGeneric, "move_to", ctx.arg(1), *index);
  ctx.out.integer(1);
}

}  // namespace

std::optional<int> db_index_or_reply(CommandContext& ctx, std::string_view argument) {
  const auto value = parse_int64(argument);
  if (!value) {
    ctx.out.error(errors::kNotInteger);
    return std::nullopt;
  }
  if (*value < INT32_MIN || *value > INT32_MAX) {
    ctx.out.error(errors::kDbIndexNotInt32);
    return std::nullopt;
  }
  if (*value < 0 || *value >= ctx.server.keyspace().database_count()) {
    ctx.out.error(errors::kDbIndexOutOfRange);
    return std::nullopt;
  }
  return static_cast<int>(*value);
}

void register_keys(CommandTable& table) {
  //         name        arity flags              first last step handler
  table.add({"del", -2, kWrite, 1, -1, 1, handle_del, "generic", "1.0.0", "Deletes one or more keys."});
  table.add({"unlink", -2, kWrite | kFast, 1, -1, 1, handle_unlink, "generic", "4.0.0",
             "Asynchronously deletes one or more keys."});
  table.add({"exists", -2, kReadonly | kFast, 1, -1, 1, handle_exists, "generic", "1.0.0",
             "Determines whether one or more keys exist."});
  table.add({"touch", -2, kReadonly | kFast, 1, -1, 1, handle_exists, "generic", "3.2.1",
             "Returns the number of existing keys out of those specified after updating the time they were last "
             "accessed."});
  table.add({"type", 2, kReadonly | kFast, 1, 1, 1, handle_type, "generic", "1.0.0",
             "Determines the type of value stored at a key."});
  table.add({"rename", 3, kWrite, 1, 2, 1, handle_rename, "generic", "1.0.0", "Renames a key and overwrites the destination."});
  table.add({"renamenx", 3, kWrite | kFast, 1, 2, 1, handle_renamenx, "generic", "1.0.0",
             "Renames a key only when the target key name doesn't exist."});
  table.add({"copy", -3, kWrite | kDenyOom, 1, 2, 1, handle_copy, "generic", "6.2.0", "Copies the value of a key to a new key."});
  table.add({"move", 3, kWrite | kFast, 1, 1, 1, handle_move, "generic", "1.0.0", "Moves a key to another database."});
}

}  // namespace rc
