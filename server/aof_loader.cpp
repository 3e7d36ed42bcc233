// The load at startup: the manifest's files, the base as RDB or as commands, the incremental files
// as commands run on the server; then the incremental file appends go to is opened.
#include "server/aof_log.h"

#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <fstream>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "server/aof_io.h"
#include "server/client_session.h"
#include "server/command_table.h"
#include "server/commands/arguments.h"
#include "server/config.h"
#include "server/connection.h"
#include "server/loading.h"
#include "server/server.h"
#include "server/test_hooks.h"
#include "store/aof/command_reader.h"
#include "store/clock.h"
#include "store/rdb/rdb_reader.h"

namespace rc {

using aof_io::file_size;
using aof_io::read_file;
using aof_io::reason;

namespace {

// Runs one logged command on `server` as a client without a connection would.
void replay(Server& server, ClientSession& client, const std::vector<std::string>& argv) {
  std::vector<std::string_view> views(argv.begin(), argv.end());
  std::string ignored_reply;
  execute_command(server, client, ignored_reply, views);
}

// Runs the commands of an AOF-format file. A command cut short at the end of the last file is dropped
// and the file truncated there (aof-load-truncated yes); anything else malformed stops the load.
std::optional<std::string> load_commands(Server& server, ClientSession& client, const std::string& file,
                                         bool last, bool allow_truncated, uint64_t& commands, uint64_t loaded_before) {
  std::string data;
  if (auto error = read_file(file, data)) return error;
  size_t position = 0;
  std::vector<std::string> argv;
  for (;;) {
    const aof::ReadResult result = aof::read_command(data, position, argv);
    if (result.status == aof::ReadStatus::End) return std::nullopt;
    if (result.status == aof::ReadStatus::Corrupt) {
      return fmt::format("{} in {} at offset {}", result.error, file, position);
    }
    if (result.status == aof::ReadStatus::Truncated) {
      if (!last || !allow_truncated) {
        return fmt::format("Unexpected end of file reading the append only file {} at offset {}", file, position);
      }
      spdlog::warn("!!! Warning: short read while loading the AOF file {}!!!", file);
      spdlog::warn("AOF {} loaded anyway because aof-load-truncated is enabled; truncated at offset {}", file,
                   position);
      if (::truncate(file.c_str(), static_cast<off_t>(position)) != 0) {
        return fmt::format("Error truncating the AOF file {}: {}", file, reason(errno));
      }
      return std::nullopt;
    }
    // Redis wraps transactions in MULTI/EXEC; the load is single-threaded, so their bodies just run.
    if (is_word(argv[0], "multi") || is_word(argv[0], "exec")) continue;
    if (server.commands().find(argv[0]) == nullptr) {
      return fmt::format("Unknown command '{}' reading the append only file {} at offset {}", argv[0], file, position);
    }
    if (server.loading().cancelled().load(std::memory_order_relaxed)) return std::string("the load was cancelled");
    replay(server, client, argv);
    ++commands;
    server.loading().loaded_bytes().store(loaded_before + position, std::memory_order_relaxed);
  }
}

bool starts_with_rdb_magic(const std::string& file) {
  std::ifstream in(file, std::ios::binary);
  char magic[5] = {};
  in.read(magic, 5);
  return in.gcount() == 5 && std::string_view(magic, 5) == "REDIS";
}

}  // namespace

// Stops the clock for this thread for the duration of a load (see store/clock.h).
struct StoppedClock {
  StoppedClock() { t_clock_stopped_for_loading = true; }
  ~StoppedClock() { t_clock_stopped_for_loading = false; }
  StoppedClock(const StoppedClock&) = delete;
  StoppedClock& operator=(const StoppedClock&) = delete;
};

std::optional<std::string> AofLog::load_files(Server& server, const aof::Manifest& manifest) {
  ClientSession client(0, -1, "aof", "", unix_time_ms());
  const StoppedClock no_expiry_while_loading;
  const bool allow_truncated = config_.text("aof-load-truncated") != "no";
  std::vector<aof::ManifestFile> files;
  if (manifest.base) files.push_back(*manifest.base);
  files.insert(files.end(), manifest.incrementals.begin(), manifest.incrementals.end());
  uint64_t total_bytes = 0;
  for (const aof::ManifestFile& listed : files) total_bytes += file_size(path(listed.name));
  server.loading().set_total_bytes(total_bytes);
  uint64_t commands = 0;
  uint64_t loaded_before = 0;  // bytes of the files already loaded
  for (size_t i = 0; i < files.size(); ++i) {
    const std::string file = path(files[i].name);
    if (::access(file.c_str(), R_OK) != 0) {
      return fmt::format("The AOF file {} listed in the manifest doesn't exist", file);
    }
    if (files[i].type == aof::FileType::Base && starts_with_rdb_magic(file)) {
      const rdb::LoadWatch watch{&server.loading().loaded_bytes(), loaded_before, key_load_delay_us(),
                                 &server.loading().cancelled()};
      const rdb::LoadResult result = rdb::load_rdb_file(file, keyspace_, unix_time_ms(), true, watch);
      if (!result.ok) return fmt::format("Bad AOF base file {}: {}", file, result.error);
      spdlog::info("DB loaded from base file {}: {} keys", files[i].name, result.keys_loaded);
    } else if (auto error = load_commands(server, client, file, i + 1 == files.size(), allow_truncated, commands,
                                          loaded_before)) {
      return error;
    }
    loaded_before += file_size(file);
    if (i + 1 < files.size()) older_size_ += file_size(file);
  }
  spdlog::info("DB loaded from append only file: {} commands", commands);
  return std::nullopt;
}

std::optional<std::string> AofLog::load_and_open(Server& server) {
  const std::string manifest_path = path(aof::manifest_file_name(prefix_));
  if (::access(manifest_path.c_str(), F_OK) != 0) return create_initial_files();
  std::string text;
  if (auto error = read_file(manifest_path, text)) return error;
  aof::ManifestParse parsed = aof::parse_manifest(text);
  if (!parsed.manifest) return fmt::format("{} in the AOF manifest {}", parsed.error, manifest_path);
  aof::Manifest manifest = std::move(*parsed.manifest);
  const auto started = std::chrono::steady_clock::now();
  if (auto error = load_files(server, manifest)) return error;
  spdlog::info("AOF loaded in {:.3f} seconds",
               std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count());
  if (manifest.incrementals.empty()) {
    const int64_t seq = 1;
    manifest.incrementals.push_back({aof::incremental_file_name(prefix_, seq), seq, aof::FileType::Incremental});
    if (manifest.base) older_size_ += file_size(path(manifest.base->name));
    if (auto error = open_incremental(manifest.incrementals.back().name)) return error;
    if (auto error = save_manifest(manifest)) return error;
  } else {
    if (auto error = open_incremental(manifest.incrementals.back().name)) return error;
    manifest_ = manifest;
  }
  current_size_.store(older_size_ + incr_size_);
  base_size_.store(current_size_.load());
  return std::nullopt;
}

}  // namespace rc
