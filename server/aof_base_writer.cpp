#include "server/aof_base_writer.h"

#include <fcntl.h>
#include <unistd.h>

#include <chrono>
#include <thread>

#include "server/aof_io.h"
#include "store/aof/command_reader.h"
#include "store/clock.h"
#include "store/keyspace.h"
#include "store/rdb/rdb_writer.h"

namespace rc {

using aof_io::write_all;

namespace {

// The base in AOF form: SELECT, then SET (with PXAT) for every live key of every non-empty database.
bool write_aof_base(const Keyspace& keyspace, int fd, int64_t now_ms, int64_t key_delay_us) {
  std::string out;
  for (int index = 0; index < keyspace.database_count(); ++index) {
    const Database& db = keyspace.db(index);
    bool selected = false;
    for (size_t s = 0; s < Database::kShardCount; ++s) {
      uint64_t cursor = 0;
      do {
        cursor = db.shard(s).table.scan(cursor, [&](const Entry* entry) {
          if (entry->expired(now_ms)) return;
          if (!selected) aof::encode_command(out, {"SELECT", std::to_string(index)});
          selected = true;
          if (entry->has_expiry()) {
            aof::encode_command(out, {"SET", entry->key(), entry->value(), "PXAT", std::to_string(entry->expire_at())});
          } else {
            aof::encode_command(out, {"SET", entry->key(), entry->value()});
          }
          if (key_delay_us > 0) std::this_thread::sleep_for(std::chrono::microseconds(key_delay_us));
        });
        if (out.size() > (1 << 20)) {
          if (!write_all(fd, out)) return false;
          out.clear();
        }
      } while (cursor != 0);
    }
  }
  return write_all(fd, out);
}

}  // namespace

bool write_base_file(const Keyspace& keyspace, const std::string& file, bool rdb_preamble, int64_t key_delay_us) {
  const int fd = ::open(file.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return false;
  const int64_t now = unix_time_ms();
  bool ok = true;
  if (rdb_preamble) {
    rdb::RdbWriter writer(rdb::WriteOptions{}, fd);
    writer.begin(now / 1000, 0);
    rdb::write_keyspace(keyspace, writer, now, key_delay_us);
    ok = writer.finish();
  } else {
    ok = write_aof_base(keyspace, fd, now, key_delay_us);
  }
  ok = ok && ::fsync(fd) == 0;
  ::close(fd);
  return ok;
}

}  // namespace rc
