// INFO [section ...]: the server's state in Redis's field names, so monitoring tools and clients that read
// them (redis_version, connected_clients, used_memory, db0:keys=...) work unchanged.
#include <malloc.h>
#include <sys/resource.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <fstream>
#include <set>

#include <fmt/format.h>

#include "build_info.h"
#include "server/command_context.h"
#include "server/command_table.h"
#include "server/commands/arguments.h"
#include "server/commands/info.h"
#include "server/commands/registry.h"
#include "server/aof_log.h"
#include "server/forked_child.h"
#include "server/server.h"
#include "store/clock.h"

namespace rc {
namespace {

std::string human_bytes(uint64_t bytes) {
  const char* units[] = {"B", "K", "M", "G", "T"};
  double value = static_cast<double>(bytes);
  int unit = 0;
  while (value >= 1024 && unit < 4) {
    value /= 1024;
    ++unit;
  }
  return unit == 0 ? fmt::format("{}B", bytes) : fmt::format("{:.2f}{}", value, units[unit]);
}

uint64_t resident_bytes() {
  std::ifstream statm("/proc/self/statm");
  uint64_t size = 0;
  uint64_t resident = 0;
  statm >> size >> resident;
  return resident * static_cast<uint64_t>(sysconf(_SC_PAGESIZE));
}

std::string server_section(Server& server) {
  utsname system{};
  uname(&system);
  const int64_t now_us = unix_time_us();
  const int64_t uptime = (now_us / 1000 - server.start_time_ms()) / 1000;
  return fmt::format(
      "# Server\r\n"
      "redis_version:{}\r\nredis_git_sha1:00000000\r\nredis_git_dirty:0\r\nredis_build_id:0\r\n"
      "redis_mode:standalone\r\nos:{} {} {}\r\narch_bits:{}\r\nmonotonic_clock:POSIX clock_gettime\r\n"
      "multiplexing_api:threads\r\natomicvar_api:c11-builtin\r\ngcc_version:{}.{}.{}\r\nprocess_id:{}\r\n"
      "process_supervised:no\r\nrun_id:{}\r\ntcp_port:{}\r\nserver_time_usec:{}\r\nuptime_in_seconds:{}\r\n"
      "uptime_in_days:{}\r\nhz:10\r\nconfigured_hz:10\r\nlru_clock:{}\r\nexecutable:\r\nconfig_file:\r\n"
      "io_threads_active:0\r\nredis_clone_version:{}\r\n",
      REDIS_COMPAT_VERSION, system.sysname, system.release, system.machine, sizeof(void*) * 8, __GNUC__,
      __GNUC_MINOR__, __GNUC_PATCHLEVEL__, ::getpid(), server.run_id(), server.port(), now_us, uptime,
      uptime / 86400, (now_us / 1000000) & ((1 << 24) - 1), REDIS_CLONE_VERSION);
}

std::string clients_section(Server& server) {
  return fmt::format(
      "# Clients\r\nconnected_clients:{}\r\ncluster_connections:0\r\nmaxclients:{}\r\n"
      "client_recent_max_input_buffer:0\r\nclient_recent_max_output_buffer:0\r\nblocked_clients:{}\r\n"
      "tracking_clients:0\r\nclients_in_timeout_table:{}\r\n",
      server.clients().count(), server.max_clients(), server.blocking().blocked_clients(),
      server.blocking().clients_with_timeout());
}

std::string memory_section(Server& server) {
  const struct mallinfo2 heap = mallinfo2();
  const uint64_t used = heap.uordblks + heap.hblkhd;
  const uint64_t rss = resident_bytes();
  return fmt::format(
      "# Memory\r\nused_memory:{}\r\nused_memory_human:{}\r\nused_memory_rss:{}\r\nused_memory_rss_human:{}\r\n"
      "maxmemory:0\r\nmaxmemory_human:0B\r\nmaxmemory_policy:noeviction\r\n"
      "mem_fragmentation_ratio:{:.2f}\r\nmem_allocator:libc\r\nlazyfree_pending_objects:{}\r\n",
      used, human_bytes(used), rss, human_bytes(rss), used ? static_cast<double>(rss) / used : 0.0,
      server.keyspace().lazy_free().pending());
}

// RDB fields in Redis 7.0's order, then the AOF's, then the progress of a load under way.
std::string persistence_section(Server& server) {
  const PersistenceInfo rdb = server.persistence().info();
  return fmt::format(
      "# Persistence\r\nloading:{}\r\nasync_loading:0\r\nrdb_changes_since_last_save:{}\r\n"
      "rdb_bgsave_in_progress:{}\r\nrdb_last_save_time:{}\r\nrdb_last_bgsave_status:{}\r\n"
      "rdb_last_bgsave_time_sec:{}\r\nrdb_current_bgsave_time_sec:{}\r\nrdb_saves:{}\r\n"
      "rdb_last_cow_size:{}\r\nrdb_last_load_keys_expired:{}\r\nrdb_last_load_keys_loaded:{}\r\n{}{}",
      server.loading().active() ? 1 : 0, rdb.changes_since_last_save, rdb.bgsave_in_progress ? 1 : 0, rdb.last_save_time,
      rdb.last_bgsave_ok ? "ok" : "err", rdb.last_bgsave_time_sec, rdb.current_bgsave_time_sec, rdb.saves,
      rdb.last_cow_size, rdb.last_load_keys_expired, rdb.last_load_keys_loaded, server.aof().info_fields(),
      server.loading().info_fields());
}

std::string stats_section(Server& server) {
  uint64_t commands = server.stats().commands_processed.load();
  server.clients().for_each([&](const ClientSession& client) { commands += client.commands_processed.load(); });
  return fmt::format(
      "# Stats\r\ntotal_connections_received:{}\r\ntotal_commands_processed:{}\r\nrejected_connections:{}\r\n"
      "expired_keys:{}\r\nevicted_keys:0\r\nkeyspace_hits:{}\r\nkeyspace_misses:{}\r\npubsub_channels:{}\r\n"
      "pubsub_patterns:{}\r\npubsubshard_channels:{}\r\nlatest_fork_usec:{}\r\ntotal_forks:{}\r\n",
      server.clients().total_connections(), commands, server.stats().rejected_connections.load(),
      server.keyspace().expired_keys(), server.stats().lookups.hits(), server.stats().lookups.misses(),
      server.pubsub().channel_count(PubSubRegistry::Kind::Channel), server.pubsub().pattern_count(),
      server.pubsub().channel_count(PubSubRegistry::Kind::Shard), latest_fork_usec(), total_forks());
}

std::string replication_section(Server& server) {
  return fmt::format("# Replication\r\nrole:master\r\nconnected_slaves:0\r\nmaster_replid:{}\r\n"
                     "master_repl_offset:0\r\n",
                     server.run_id());
}

std::string cpu_section() {
  rusage self{};
  getrusage(RUSAGE_SELF, &self);
  return fmt::format("# CPU\r\nused_cpu_sys:{}.{:06}\r\nused_cpu_user:{}.{:06}\r\n", self.ru_stime.tv_sec,
                     self.ru_stime.tv_usec, self.ru_utime.tv_sec, self.ru_utime.tv_usec);
}

std::string keyspace_section(Server& server) {
  std::string text = "# Keyspace\r\n";
  for (int i = 0; i < server.keyspace().database_count(); ++i) {
    const Database& db = server.keyspace().db(i);
    const size_t keys = db.size();
    if (keys == 0) continue;
    // avg_ttl is the active expiry pass's running estimate (0 until it has sampled keys with a TTL).
    text += fmt::format("db{}:keys={},expires={},avg_ttl={}\r\n", i, keys, db.expiring(), db.avg_ttl());
  }
  return text;
}

}  // namespace

std::string info_text(Server& server, const std::vector<std::string_view>& requested) {
  // No argument, "default" or "all"/"everything": every section we have.
  static const char* kSections[] = {"server", "clients", "memory", "persistence", "stats", "replication", "cpu", "keyspace"};
  std::set<std::string> wanted;
  for (std::string_view name : requested) {
    wanted.insert(ascii_lowercase(name));
  }
  const bool everything = wanted.empty() || wanted.count("default") || wanted.count("all") || wanted.count("everything");
  std::string text;
  for (const char* section : kSections) {
    if (!everything && !wanted.count(section)) continue;
    if (!text.empty()) text += "\r\n";
    const std::string name = section;
    if (name == "server") text += server_section(server);
    if (name == "clients") text += clients_section(server);
    if (name == "memory") text += memory_section(server);
    if (name == "persistence") text += persistence_section(server);
    if (name == "stats") text += stats_section(server);
    if (name == "replication") text += replication_section(server);
    if (name == "cpu") text += cpu_section();
    if (name == "keyspace") text += keyspace_section(server);
  }
  return text;
}

namespace {

void handle_info(CommandContext& ctx) {
  const std::vector<std::string_view> sections(ctx.argv.begin() + 1, ctx.argv.end());
  ctx.out.verbatim(info_text(ctx.server, sections));
}

}  // namespace

void register_info(CommandTable& table) {
  table.add({"info", -1, kLoading | kStale | kAclDangerous, 0, 0, 0, handle_info, "server", "1.0.0",
             "Returns information and statistics about the server."});
}

}  // namespace rc
