#pragma once
// Everything a command handler may use: the server's state, its client, its arguments and the reply writer.
#include <cstddef>
#include <initializer_list>
#include <string_view>
#include <vector>

#include "protocol/reply_writer.h"
#include "server/client_session.h"
#include "store/database.h"
#include "store/keyspace_events.h"

namespace rc {

class Server;

struct CommandContext {
  Server& server;
  ClientSession& client;
  ReplyWriter& out;
  const std::vector<std::string_view>& argv;

  size_t argc() const { return argv.size(); }
  std::string_view arg(size_t index) const { return argv[index]; }
  Database& db() const;
  // A read of `key` as Redis's lookupKeyRead: fn(const Entry*) under the shard lock, counted as a
  // keyspace hit or miss. (Write commands use db().write(), whose lookups do not count.)
  template <typename Fn>
  auto read_key(std::string_view key, Fn&& fn) const {
    return db().read(key, [&](const Entry* entry) {
      count_lookup(entry);
      return fn(entry);
    });
  }
  // Whether `entry` holds another type than `type`; if so, replies Redis's WRONGTYPE error. A missing key
  // (nullptr) is never of the wrong type. Every command that reads or changes a value asks this first.
  bool wrong_type(const Entry* entry, ValueType type) const;
  // Counts a lookup made some other way as a read (GETDEL, GETSET, SET ... GET, GETEX, COPY's source).
  void count_lookup(const Entry* entry) const;
  // Logs the change just made to the AOF (Redis's alsoPropagate), in the client's database. Call it
  // inside the write lambda / ShardLocks scope that made the change, so that the log's order is the
  // order of application; pass absolute expiry times (PXAT, PEXPIREAT) so that a replay is correct later.
  void propagate(std::initializer_list<std::string_view> command) const;
  void propagate(const std::vector<std::string_view>& command) const;
  // The command exactly as the client sent it (for commands whose effect does not depend on the time).
  void propagate_as_received() const { propagate(argv); }
  // A keyspace notification (Redis's notifyKeyspaceEvent) for `key` of the client's database: call it after
  // the change, with Redis's event name and class (keyspace_events::kString, kGeneric, kHash, kSet, kList,
  // kZset, ...). Free while notify-keyspace-events is empty.
  void notify(keyspace_events::Class type, std::string_view event, std::string_view key) const {
    keyspace_events::notify(type, event, key, client.db.load(std::memory_order_relaxed));
  }
};

}  // namespace rc
