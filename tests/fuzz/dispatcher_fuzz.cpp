// libFuzzer target: whatever a client may send, run through the real dispatcher and every command handler.
//
// Each input is what one client sends to a fresh server (default configuration, no socket, no background
// jobs). It is decoded with RequestDecoder as a connection does, and each request runs through
// execute_command.
// Checked for every command: it appends exactly one well-formed reply (resp_validator.h), in RESP2 unless
// the client is (or has just switched to) RESP3. A protocol error ends the input, as it closes a
// connection; so does QUIT. Crashes, sanitizer reports, uncaught exceptions and hangs (libFuzzer's
// -timeout) are findings too.
//
// Skipped, because they would stop or stall the fuzzer, or touch the file system, rather than test anything:
// SHUTDOWN (signals the process), SAVE/BGSAVE/BGREWRITEAOF (write files; BGSAVE forks), DEBUG SLEEP and the
// DEBUG subcommands that crash or reload on purpose, blocking and pub/sub commands (wait for events or
// reply more than once), replication commands, CLIENT PAUSE, and SETRANGE/SETBIT offsets that make a string
// as large as the client asks (SETRANGE k 500000000 x is legitimate and would only measure memset).
#include <spdlog/spdlog.h>

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <initializer_list>
#include <string>
#include <string_view>
#include <vector>

#include "protocol/numbers.h"
#include "protocol/reply_writer.h"
#include "protocol/request_decoder.h"
#include "server/client_session.h"
#include "server/command_table.h"
#include "server/connection.h"
#include "server/config.h"
#include "server/server.h"
#include "store/clock.h"
#include "tests/fuzz/resp_validator.h"

namespace {

using rc::fuzz::RespValidator;

// Larger offsets are fine for Redis (up to proto-max-bulk-len) but only cost the fuzzer time and memory.
constexpr int64_t kMaxFuzzedOffset = 4096;

bool equals_word(std::string_view arg, std::string_view lower) {
  if (arg.size() != lower.size()) return false;
  for (size_t i = 0; i < arg.size(); ++i) {
    const char c = arg[i] >= 'A' && arg[i] <= 'Z' ? static_cast<char>(arg[i] - 'A' + 'a') : arg[i];
    if (c != lower[i]) return false;
  }
  return true;
}

bool is_named(std::string_view arg, std::initializer_list<std::string_view> names) {
  for (const std::string_view name : names) {
    if (equals_word(arg, name)) return true;
  }
  return false;
}

// An offset that would make the server build a string this large on purpose (not an error path).
bool is_costly_offset(rc::Server& server, std::string_view arg, int64_t unit) {
  const auto offset = rc::parse_int64(arg);
  return offset && *offset > kMaxFuzzedOffset && *offset / unit <= server.config().integer("proto-max-bulk-len");
}

bool should_skip(rc::Server& server, const std::vector<std::string_view>& argv) {
  const rc::CommandSpec* spec = server.commands().find(argv[0]);
  if (spec == nullptr) return false;  // the unknown-command path is fuzzed too
  if (spec->flags & (rc::kBlocking | rc::kPubSub)) return true;
  if (is_named(argv[0], {"shutdown", "save", "bgsave", "bgrewriteaof", "monitor", "sync", "psync", "replicaof",
                         "slaveof", "failover", "wait", "waitaof", "subscribe", "psubscribe", "ssubscribe"})) {
    return true;
  }
  if (argv.size() >= 2 && equals_word(argv[0], "debug") &&
      is_named(argv[1], {"sleep", "segfault", "panic", "restart", "crash-and-recover", "reload", "loadaof", "oom",
                         "assert", "pause-cron", "jmap"})) {
    return true;
  }
  if (argv.size() >= 2 && equals_word(argv[0], "client") && equals_word(argv[1], "pause")) return true;
  if (argv.size() >= 3 && equals_word(argv[0], "setrange")) return is_costly_offset(server, argv[2], 1);
  if (argv.size() >= 3 && equals_word(argv[0], "setbit")) return is_costly_offset(server, argv[2], 8);
  return false;
}

[[noreturn]] void report(const std::string& problem, const std::vector<std::string_view>& argv,
                         std::string_view reply) {
  std::string command;
  for (const std::string_view arg : argv) {
    command.append(command.empty() ? "" : " ").append("'").append(arg).append("'");
  }
  std::fprintf(stderr, "dispatcher_fuzz: malformed reply: %s\n  command: %s\n  reply (%zu bytes): %.*s\n",
               problem.c_str(), command.c_str(), reply.size(), static_cast<int>(std::min<size_t>(reply.size(), 2000)),
               reply.data());
  std::abort();
}

// Runs one request and checks that it appended exactly one reply, in the protocol the client speaks.
void run_command(rc::Server& server, rc::ClientSession& session, std::string& out,
                 const std::vector<std::string_view>& argv) {
  const size_t before = out.size();
  const int protocol_before = session.protocol;
  rc::execute_command(server, session, out, argv);
  // HELLO 3 answers in RESP3 already; HELLO 2 from RESP3 answers in RESP2. Either is fine.
  const RespValidator validator(protocol_before >= 3 || session.protocol >= 3);
  const std::string_view reply = std::string_view(out).substr(before);
  if (auto problem = validator.single_reply(reply)) report(*problem, argv, reply);
}

// Plays `input` as one client's byte stream; stops at a protocol error or QUIT as the connection does.
void play(rc::Server& server, rc::ClientSession& session, std::string_view input) {
  rc::RequestDecoder decoder;
  std::string out;
  size_t offset = 0;
  // Each Complete consumes at least one byte, so this loop runs at most input.size() times.
  while (offset < input.size()) {
    const rc::DecodeStatus status = decoder.decode(input.substr(offset));
    if (status == rc::DecodeStatus::NeedMore) return;
    if (status == rc::DecodeStatus::Error) {
      // The connection's last reply before it closes; the error may quote any byte of the input.
      out.clear();
      rc::ReplyWriter(out, session.protocol).error(decoder.error());
      if (auto problem = RespValidator(false).single_reply(out)) report(*problem, {"(protocol error)"}, out);
      return;
    }
    offset += decoder.consumed();
    const std::vector<std::string_view>& argv = decoder.args();
    if (argv.empty() || should_skip(server, argv)) continue;
    run_command(server, session, out, argv);
    if (session.close_after_reply) return;
    out.clear();  // checked already; keeps memory flat over long pipelines
  }
}

// The validator is checked against known replies before fuzzing, so that a too lax validator cannot hide
// malformed replies (and a too strict one fails here rather than as a false finding).
void self_test_validator() {
  struct Case {
    std::string_view bytes;
    bool resp3;
    bool valid;
  };
  static constexpr std::array kCases = {
      Case{"+OK\r\n", false, true},
      Case{"-ERR x\r\n", false, true},
      Case{":-12\r\n", false, true},
      Case{"$3\r\na\r\n\r\n", false, true},
      Case{"$-1\r\n", false, true},
      Case{"*2\r\n$1\r\na\r\n:1\r\n", false, true},
      Case{"*-1\r\n", false, true},
      Case{"%1\r\n+a\r\n,1.5\r\n", true, true},
      Case{"_\r\n", true, true},
      Case{"=7\r\ntxt:abc\r\n", true, true},
      Case{"#t\r\n", true, true},
      Case{",-inf\r\n", true, true},
      Case{"~0\r\n", true, true},
      Case{"_\r\n", false, false},
      Case{"+O\rK\r\n", false, false},
      Case{"$3\r\nab\r\n", false, false},
      Case{"$3\r\nabcd\r\n", false, false},
      Case{":012\r\n", false, false},
      Case{":1\r\n:2\r\n", false, false},
      Case{"*3\r\n:1\r\n", false, false},
      Case{"*1\r\n", false, false},
      Case{"+OK\n", false, false},
      Case{"", false, false},
      Case{",1.5x\r\n", true, false},
      Case{"=3\r\nabc\r\n", true, false},
  };
  for (const Case& c : kCases) {
    if (RespValidator(c.resp3).single_reply(c.bytes).has_value() == c.valid) {
      std::fprintf(stderr, "dispatcher_fuzz: validator self-test failed on %.*s\n", static_cast<int>(c.bytes.size()),
                   c.bytes.data());
      std::abort();
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  spdlog::set_level(spdlog::level::off);
  self_test_validator();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  spdlog::set_level(spdlog::level::off);  // CONFIG SET loglevel changes the process-wide level
  rc::Server server;  // the default configuration
  // Registered like a connected client, so that CLIENT LIST / INFO clients see it; fd -1 is never a socket.
  const auto session = server.clients().add(-1, "127.0.0.1:50000", "127.0.0.1:5001", rc::unix_time_ms());
  play(server, *session, {reinterpret_cast<const char*>(data), size});
  // Server::stop waits for registered clients to leave.
  server.clients().remove(session->id);
  return 0;
}
