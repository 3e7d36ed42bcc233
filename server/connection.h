#pragma once
// One client's connection, served by its own thread: blocking recv into the input buffer, decode and run
// every complete command, then one send for all their replies (after one wait for their AOF entries).
#include <memory>
#include <string>

#include "protocol/request_decoder.h"
#include "server/client_session.h"
#include "server/input_buffer.h"

namespace rc {

class Server;
class BlockedClient;

class Connection {
 public:
  Connection(Server& server, std::shared_ptr<ClientSession> session);
  // Serves the client until it disconnects, sends QUIT, breaks the protocol or the server stops.
  void run();

 private:
  bool receive();
  bool process_input();
  bool flush();
  // After a command blocked the client (BLPOP with nothing to pop): waits for its reply, its timeout or its
  // disconnect; false when the connection is to end.
  bool wait_while_blocked();
  // Waits until the socket is readable (true), the client is woken or its deadline passes.
  bool wait_for_event(const BlockedClient& blocked);
  // For a client that has subscribed: sends what publishers queue for it until its socket is readable (true),
  // or false when the connection is to end (gone, or over its output buffer limit).
  bool wait_as_subscriber();
  // Moves the messages publishers queued for this client behind the replies already in output_.
  void take_published();
  DecodeLimits current_limits() const;
  void note_query_buffer();

  Server& server_;
  std::shared_ptr<ClientSession> session_;
  InputBuffer input_;
  RequestDecoder decoder_;
  std::string output_;
};

// Executes one command (argv non-empty) and appends its reply to `out`.
void execute_command(Server& server, ClientSession& client, std::string& out,
                     const std::vector<std::string_view>& argv);

}  // namespace rc
