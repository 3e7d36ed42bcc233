#include "server/aof_base_writer.h"

#include <fcntl.h>
#include <unistd.h>

#include <chrono>
#include <string_view>
#include <thread>
#include <vector>

#include "protocol/numbers.h"
#include "server/aof_io.h"
#include "store/aof/command_reader.h"
#include "store/clock.h"
#include "store/hash_value.h"
#include "store/list_value.h"
#include "store/keyspace.h"
#include "store/rdb/rdb_writer.h"
#include "store/set_value.h"
#include "store/zset_value.h"

namespace rc {

using aof_io::write_all;

namespace {

// Redis's AOF_REWRITE_ITEMS_PER_CMD: a big list, hash, set or sorted set becomes several commands of at most this many
// fields or members each, so that no single command is huge.
constexpr size_t kItemsPerCommand = 64;

// The commands that rebuild one list, hash or set: `command` key item..., a new one every kItemsPerCommand
// items (an item is a field and its value, or a member).
class ItemCommands {
 public:
  ItemCommands(std::string& out, std::string_view command, std::string_view key, size_t words_per_item)
      : out_(out), words_per_command_(kItemsPerCommand * words_per_item) {
    words_.emplace_back(command);
    words_.emplace_back(key);
  }
  ItemCommands(const ItemCommands&) = delete;
  ItemCommands& operator=(const ItemCommands&) = delete;

  void add(std::string word) {
    words_.push_back(std::move(word));
    if (words_.size() - 2 == words_per_command_) emit();
  }
  // Emits the items not emitted yet.
  void finish() {
    if (words_.size() > 2) emit();
  }

 private:
  void emit() {
    const std::vector<std::string_view> argv(words_.begin(), words_.end());
    aof::encode_command(out_, argv);
    words_.resize(2);  // the command and the key stay
  }

  std::string& out_;
  size_t words_per_command_;
  std::vector<std::string> words_;
};

// The commands that rebuild `entry` (without its expiry); false for a type we cannot write.
bool write_key(std::string& out, const Entry& entry) {
  switch (entry.type()) {
    case ValueType::String:
      if (entry.has_expiry()) {
        aof::encode_command(out, {"SET", entry.key(), entry.value(), "PXAT", std::to_string(entry.expire_at())});
      } else {
        aof::encode_command(out, {"SET", entry.key(), entry.value()});
      }
      return true;
    case ValueType::Hash: {
      ItemCommands hset(out, "HSET", entry.key(), 2);
      hash_value::for_each(entry, [&](const hash_value::Element& field, const hash_value::Element& value) {
        hset.add(field.to_string());
        hset.add(value.to_string());
      });
      hset.finish();
      return true;
    }
    case ValueType::List: {
      ItemCommands rpush(out, "RPUSH", entry.key(), 1);
      list_value::elements(entry).visit(0, false, [&](const ListpackElement& element) {
        rpush.add(element.to_string());
        return true;
      });
      rpush.finish();
      return true;
    }
    case ValueType::Set: {
      ItemCommands sadd(out, "SADD", entry.key(), 1);
      set_value::for_each(entry, [&](std::string_view member) { sadd.add(std::string(member)); });
      sadd.finish();
      return true;
    }
    case ValueType::ZSet: {
      // ZADD score member..., the score as "%.17g" (Redis's rioWriteBulkDouble).
      ItemCommands zadd(out, "ZADD", entry.key(), 2);
      zset_value::for_each(entry, [&](std::string_view member, double score) {
        zadd.add(format_double(score));
        zadd.add(std::string(member));
      });
      zadd.finish();
      return true;
    }
    default:
      return false;
  }
}

// The base in AOF form: SELECT, then for every live key of every non-empty database the commands that
// rebuild it: SET with PXAT for a string; RPUSH, HSET, SADD or ZADD, then PEXPIREAT when it has a TTL, for
// a list, hash, set or sorted set, as Redis's rewriteAppendOnlyFile (which writes HMSET where we write HSET,
// the same change).
bool write_aof_base(const Keyspace& keyspace, int fd, int64_t now_ms, int64_t key_delay_us) {
  std::string out;
  bool writable = true;
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
          if (!write_key(out, *entry)) writable = false;
          if (!entry->is_string() && entry->has_expiry()) {
            aof::encode_command(out, {"PEXPIREAT", entry->key(), std::to_string(entry->expire_at())});
          }
          if (key_delay_us > 0) std::this_thread::sleep_for(std::chrono::microseconds(key_delay_us));
        });
        if (!writable) return false;
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
