#pragma once
// Everything a command handler may use: the server's state, its client, its arguments and the reply writer.
#include <cstddef>
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
};

}  // namespace rc
