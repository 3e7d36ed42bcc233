// redis-clone: a Redis-compatible server with one thread per client.
#include <pthread.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "build_info.h"
#include "server/aof_log.h"
#include "server/config.h"
#include "server/descriptor_limit.h"
#include "server/log_level.h"
#include "server/options.h"
#include "server/server.h"

namespace {

// Each client's thread needs little stack: handlers keep large data on the heap. A small default keeps
// thousands of idle connections cheap (the kernel maps stack pages only when touched anyway).
constexpr size_t kThreadStackBytes = 256 * 1024;

void set_default_thread_stack() {
  pthread_attr_t attributes;
  pthread_attr_init(&attributes);
  pthread_attr_setstacksize(&attributes, kThreadStackBytes);
  pthread_setattr_default_np(&attributes);
  pthread_attr_destroy(&attributes);
}

// Config file first, then the environment's password, then the command line (later settings win).
bool load_configuration(rc::Config& config, const rc::CommandLine& line) {
  if (!line.config_file.empty()) {
    if (const auto error = config.load_file(line.config_file)) {
      std::fprintf(stderr, "%s\n", error->c_str());
      return false;
    }
  }
  if (const char* password = std::getenv("REDIS_CLONE_PASSWORD"); password != nullptr && *password != '\0') {
    config.set("requirepass", password, true);
  }
  for (const auto& [name, words] : line.directives) {
    std::string value;
    for (const auto& word : words) {
      if (!value.empty()) value.push_back(' ');
      value.append(rc::quote_config_word(word));
    }
    if (!config.known(name)) {
      std::fprintf(stderr, "redis-clone: unknown option '--%s' (see --help)\n", name.c_str());
      return false;
    }
    // A flag is read as a config line ("--save 900 1" is "save 900 1"), with the same checks.
    if (const auto error = config.load_text(name + " " + value, "command line")) {
      std::fprintf(stderr, "redis-clone: invalid --%s '%s': %s\n", name.c_str(), value.c_str(),
                   error->substr(error->rfind('\n') + 1).c_str());
      return false;
    }
  }
  return true;
}

const char* signal_name(int signal) { return signal == SIGINT ? "SIGINT" : "SIGTERM"; }

// The loader wakes the main thread with this signal when it is done, so that clients stop getting -LOADING
// at once (a short load must not leave a window in which a client that connected gets it).
constexpr int kLoadDoneSignal = SIGUSR1;

// Until `loaded`: 0, or the stop signal that came first. `stop_signals` includes kLoadDoneSignal; the
// 10 ms timeout is only a fallback.
int wait_for_load(const sigset_t& stop_signals, const std::atomic<bool>& loaded) {
  const timespec interval{0, 10'000'000};
  while (!loaded.load()) {
    const int received = sigtimedwait(&stop_signals, nullptr, &interval);
    if (received == SIGINT || received == SIGTERM) return received;
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  const rc::ParseOutcome parsed = rc::parse_options(std::vector<std::string>(argv + 1, argv + argc));
  switch (parsed.kind) {
    case rc::ParseOutcome::Kind::Help:
      std::fputs(rc::usage_text().c_str(), stdout);
      return 0;
    case rc::ParseOutcome::Kind::Version:
      std::printf("redis-clone %s (Redis %s compatible)\n", REDIS_CLONE_VERSION, REDIS_COMPAT_VERSION);
      return 0;
    case rc::ParseOutcome::Kind::Error:
      std::fprintf(stderr, "redis-clone: %s\n", parsed.error.c_str());
      return 2;
    case rc::ParseOutcome::Kind::Run:
      break;
  }
  rc::Config config;
  if (!load_configuration(config, parsed.command_line)) return parsed.command_line.config_file.empty() ? 2 : 1;
  rc::apply_log_level(config.text("loglevel"));
  set_default_thread_stack();
  rc::raise_descriptor_limit(static_cast<size_t>(config.maxclients()));

  // Every thread inherits this mask: SIGINT and SIGTERM are taken by sigwait below, in the main thread
  // only, so shutdown runs as ordinary code rather than inside a signal handler.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  sigset_t blocked = stop_signals;
  sigaddset(&blocked, kLoadDoneSignal);
  pthread_sigmask(SIG_BLOCK, &blocked, nullptr);
  signal(SIGPIPE, SIG_IGN);
  // A file-size limit (ulimit -f) must fail the write with EFBIG, which the AOF and the saves handle, rather
  // than kill the server. Forked save children inherit this.
  signal(SIGXFSZ, SIG_IGN);

  spdlog::info("redis-clone {} (Redis {} compatible), pid={}, just started", REDIS_CLONE_VERSION,
               REDIS_COMPAT_VERSION, ::getpid());
  if (!config.file().empty()) spdlog::info("Configuration loaded from {}", config.file());
  rc::Server server(config);
  // The server listens first and loads the data after, as Redis: meanwhile clients get -LOADING (INFO
  // shows the progress). With appendonly yes the AOF is the data (the RDB file is then not loaded). A
  // corrupt file stops the start (never a partial load). The log (server.aof()) exists either way: CONFIG
  // SET appendonly starts and stops it at run time.
  rc::AofLog& aof = server.aof();
  const bool aof_at_startup = config.text("appendonly") == "yes";
  const std::string where = fmt::format("{}:{}", config.text("bind"), config.text("port"));
  server.loading().begin();
  if (const auto error = server.listen()) {
    spdlog::warn("Warning: {}", *error);
    spdlog::error("Failed listening on {} (TCP), aborting.", where);
    return 1;
  }
  server.start_accepting();
  spdlog::info("Server listening on {} (port {})", where, server.port());
  // The files load on a thread of their own while this one keeps taking signals: SIGTERM, SIGINT or
  // SHUTDOWN during the load stops it and exits without saving, as Redis does (the files stay as they were).
  std::optional<std::string> load_error;
  std::atomic<bool> loaded{false};
  std::thread loader([&] {
    load_error = aof_at_startup ? aof.load_and_open(server) : server.persistence().load_at_startup(server.loading());
    loaded.store(true);
    ::kill(::getpid(), kLoadDoneSignal);  // blocked in every thread: only the sigtimedwait below takes it
  });
  sigset_t load_signals = stop_signals;
  sigaddset(&load_signals, kLoadDoneSignal);
  const int stop_signal = wait_for_load(load_signals, loaded);
  if (stop_signal != 0) server.loading().cancel();
  loader.join();
  if (stop_signal != 0) {
    spdlog::info("Received {} while loading: exiting without saving...", signal_name(stop_signal));
    server.stop();
    spdlog::info("redis-clone is now ready to exit, bye bye...");
    return 0;
  }
  if (load_error) {
    spdlog::error("Fatal error loading the {}: {}. Exiting.", aof_at_startup ? "append only file" : "DB", *load_error);
    return 1;
  }
  if (aof_at_startup) aof.start();
  server.loading().end();
  server.start_background_jobs();
  server.persistence().start();
  if (config.protected_mode() && !config.password_required()) {
    spdlog::info("Protected mode is on: only loopback clients are served until a password is set");
  }
  spdlog::info("Ready to accept connections");

  // A final save that fails keeps the server running, as Redis does: another signal tries again.
  constexpr int kMaxShutdownAttempts = 1000;
  for (int attempt = 1;; ++attempt) {
    int received = 0;
    sigwait(&stop_signals, &received);
    spdlog::info("Received {}, scheduling shutdown...", signal_name(received));
    if (!server.shutdown_requested() && aof.refuses_shutdown(false)) continue;
    if (server.persistence().prepare_shutdown() || attempt == kMaxShutdownAttempts) break;
    spdlog::warn("Error trying to save the DB, can't exit. Fix the cause and signal again, or SHUTDOWN NOSAVE.");
  }
  spdlog::info("User requested shutdown...");
  server.stop();
  aof.stop();  // everything logged is written and fsynced
  // Saves again only if writes arrived between the final save and the clients' disconnection.
  if (!server.persistence().finish_at_exit()) return 1;
  spdlog::info("redis-clone is now ready to exit, bye bye...");
  return 0;
}
