#pragma once
// Everything a command handler may use: the server's state, its client, its arguments and the reply writer.
#include <cstddef>
#include <initializer_list>
#include <string_view>
#include <vector>

#include "protocol/reply_writer.h"
#include "server/client_session.h"
#include "store/database.h"

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
  // Logs the change just made to the AOF (Redis's alsoPropagate), in the client's database. Call it
  // inside the write lambda / ShardLocks scope that made the change, so that the log's order is the
  // order of application; pass absolute expiry times (PXAT, PEXPIREAT) so that a replay is correct later.
  void propagate(std::initializer_list<std::string_view> command) const;
  void propagate(const std::vector<std::string_view>& command) const;
  // The command exactly as the client sent it (for commands whose effect does not depend on the time).
  void propagate_as_received() const { propagate(argv); }
};

}  // namespace rc
