#pragma once
// Runs commands through the real dispatcher (arity checks, command table, handlers) on a server that does
// not listen, and returns the exact RESP bytes of each reply, for handler tests:
//
//   rc::test::CommandRunner redis;
//   CHECK(redis.run({"SET", "k", "v"}) == "+OK\r\n");
//   redis.use_resp3();   // as after HELLO 3, without its long reply
//
// Arguments are string_views: write a value with NUL bytes as "a\0b"sv (std::literals).
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "server/aof_log.h"
#include "server/client_session.h"
#include "server/connection.h"
#include "server/options.h"
#include "server/server.h"

namespace rc::test {

// prefix + number (built with += : GCC 12 warns falsely (-Wrestrict) about "literal" + std::string).
inline std::string numbered(std::string_view prefix, int64_t number) {
  std::string text(prefix);
  text += std::to_string(number);
  return text;
}

class CommandRunner {
 public:
  CommandRunner() : server_(), session_(1, -1, "127.0.0.1:40000", "127.0.0.1:6379", 0) {}

  // The reply to one command (argv[0] is its name), as a connection sends it: after waiting for the
  // command's AOF entry (when a log is active), so that no wait is left over for a later test.
  std::string run(const std::vector<std::string_view>& argv) {
    std::string out;
    execute_command(server_, session_, out, argv);
    aof_tracking::wait_before_replies();
    return out;
  }
  // Several commands as one pipelined batch: one wait for the AOF before the replies, as a connection does.
  std::vector<std::string> run_pipeline(const std::vector<std::vector<std::string_view>>& commands) {
    std::vector<std::string> replies;
    for (const auto& argv : commands) {
      execute_command(server_, session_, replies.emplace_back(), argv);
    }
    aof_tracking::wait_before_replies();
    return replies;
  }

  void use_resp3() { session_.protocol.store(3); }

  Server& server() { return server_; }
  ClientSession& session() { return session_; }

 private:
  Server server_;
  ClientSession session_;
};

}  // namespace rc::test
