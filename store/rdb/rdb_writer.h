#pragma once
// Writing RDB files as Redis 7.0 does (format version 10): the same aux fields, opcodes and string
// encodings, so that redis-check-rdb accepts our files and a real Redis loads them.
//
// The writer only reads the keyspace: whoever calls write_keyspace or save_rdb_file must keep the tables
// from changing meanwhile (SAVE holds every shard lock in shared mode; BGSAVE runs it in a forked child,
// where no other thread exists). For that child's sake nothing here logs, locks or uses anything but
// malloc: errors come back as text in the result.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "store/rdb/lzf.h"

namespace rc {
class Entry;
class Keyspace;
}

namespace rc::rdb {

struct WriteOptions {
  bool compress = true;  // rdbcompression: LZF for strings over 20 bytes that shrink by more than 4
  bool checksum = true;  // rdbchecksum: without it the trailer is 0 and readers skip the check
};

class RdbWriter {
 public:
  struct CountOnly {};

  // Collects the file in memory (bytes()).
  explicit RdbWriter(const WriteOptions& options);
  // Writes through a 1 MiB buffer to `fd` (which the caller owns).
  RdbWriter(const WriteOptions& options, int fd);
  // Keeps nothing and only counts (size()): for DEBUG OBJECT's serializedlength. No checksum.
  RdbWriter(const WriteOptions& options, CountOnly);
  RdbWriter(const RdbWriter&) = delete;
  RdbWriter& operator=(const RdbWriter&) = delete;

  // "REDIS0010" and the aux fields Redis 7.0 writes for a master without replicas: redis-ver,
  // redis-bits, ctime, used-mem, aof-base.
  void begin(int64_t ctime_s, uint64_t used_memory);
  void aux(std::string_view name, std::string_view value);
  // SELECTDB and RESIZEDB before the keys of a database.
  void select_db(int index, uint64_t keys, uint64_t keys_with_ttl);
  // EXPIRETIME_MS when the key has a TTL (expire_at_ms >= 0), then the type, the key and the value.
  void key_value(std::string_view key, std::string_view value, int64_t expire_at_ms);
  // The same for a key of any type we store, with its own expiry: a string as above; a hash as
  // HASH_LISTPACK (its listpack blob) or HASH (a count, then fields and values); a set as SET_INTSET (its
  // intset blob) or SET (a count, then members); a list as LIST_QUICKLIST_2 (its nodes' listpacks, a
  // compressed node as its LZF block), as Redis 7.0 writes each encoding.
  void key_entry(const Entry& entry);
  // Only the value's bytes, as key_entry writes them after the type and key.
  void value(const Entry& entry);
  // EOF and the checksum; flushes. False when a write failed (error_number()).
  bool finish();

  // The encodings, public for tests: a length (6/14/32/64-bit forms) and a string (an 8/16/32-bit
  // integer when the text is a canonical integer in range, else LZF when enabled and worth it, else plain).
  void length(uint64_t value);
  void string(std::string_view value);

  std::string_view bytes() const { return buffer_; }  // memory mode
  uint64_t size() const { return flushed_ + buffer_.size(); }
  int error_number() const { return error_; }

 private:
  void byte(uint8_t value);
  void raw(const void* data, size_t size);
  bool try_lzf(std::string_view value);
  void flush_if_full();
  void flush();
  void expire_time(int64_t expire_at_ms);
  // store/rdb/rdb_aggregates.cpp: the aggregate types' values.
  void write_hash(const Entry& hash);
  void write_set(const Entry& set);
  void write_list(const Entry& list);
  // A string already LZF-compressed elsewhere (a compressed list node), in the LZF string encoding.
  void lzf_blob(std::string_view compressed, size_t original_size);
  // store/rdb/rdb_zsets.cpp.
  void write_zset(const Entry& zset);

  WriteOptions options_;
  int fd_ = -1;
  bool count_only_ = false;
  std::string buffer_;
  uint64_t flushed_ = 0;
  uint64_t crc_ = 0;
  int error_ = 0;
  LzfCompressor compressor_;
  std::string scratch_;  // LZF output
};

// The bytes `entry`'s value takes in an RDB file without LZF compression (DEBUG OBJECT's serializedlength).
uint64_t serialized_value_length(const Entry& entry);

// The RDB value type byte key_entry writes for `entry` (kTypeString, kTypeHashListpack, ...); 0xFF for a
// type that has no writer.
uint8_t value_type_byte(const Entry& entry);

// Writes every live key of every non-empty database, skipping keys already expired at `now_ms`.
// Returns the number of keys written. `key_delay_us` > 0 sleeps that long after each key (a test hook,
// as Redis's rdb-key-save-delay, to keep a background save running long enough to observe).
uint64_t write_keyspace(const Keyspace& keyspace, RdbWriter& writer, int64_t now_ms, int64_t key_delay_us = 0);

struct SaveRequest {
  std::string dir;       // where the file goes (the temp file is made there too, for an atomic rename)
  std::string filename;  // dbfilename
  WriteOptions options;
  int64_t now_ms = 0;        // the snapshot's time: ctime, and keys expired by then are left out
  uint64_t used_memory = 0;  // the used-mem aux field
  int64_t key_delay_us = 0;
};

struct SaveResult {
  bool ok = false;
  std::string error;  // what failed, with the path and the system's reason
  uint64_t keys = 0;
  uint64_t bytes = 0;
};

// Saves atomically: writes "temp-<pid>.rdb" in the directory, fsyncs it, renames it over the file and
// fsyncs the directory. On any failure the temp file is removed and the previous file is untouched.
SaveResult save_rdb_file(const Keyspace& keyspace, const SaveRequest& request);

std::string rdb_path(const std::string& dir, const std::string& filename);

}  // namespace rc::rdb
