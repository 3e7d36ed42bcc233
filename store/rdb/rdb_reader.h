#pragma once
// Reading RDB files (format versions 1 to 10): those we write and those Redis 7.0 (or an older Redis)
// writes, as long as they hold the types the store has: strings, hashes (HASH, HASH_LISTPACK and the older
// HASH_ZIPLIST and HASH_ZIPMAP) and sets (SET, SET_INTSET). Everything is checked: a bad magic, an unknown
// opcode or type, a length past the end of the file, bad LZF data, a corrupt listpack, intset, ziplist or
// zipmap, a field or member twice, a short read or a wrong checksum stops the load with a message that
// names the byte offset where it went wrong. Nothing is ever half loaded silently.
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "store/entry.h"

namespace rc {
class Keyspace;
struct EncodingLimits;
}

namespace rc::rdb {

// A problem in the file's contents, at `offset` bytes from its start.
class FormatError : public std::runtime_error {
 public:
  FormatError(uint64_t offset, const std::string& what) : std::runtime_error(what), offset_(offset) {}
  uint64_t offset() const { return offset_; }

 private:
  uint64_t offset_;
};

struct KeyRecord {
  int db = 0;
  std::string key;
  std::string value;          // a string's value
  EntryPtr aggregate;         // a hash or a set: the whole entry, built under `key` (null for a string)
  int64_t expire_at_ms = -1;  // -1: no TTL
  uint64_t offset = 0;        // where the key's record starts
};

// Where the bytes come from: a file descriptor (read through a buffer) or memory.
class ByteSource;

class RdbParser {
 public:
  // Reads from memory (the view must outlive the parser). Hashes and sets are built with the encodings
  // `limits` give (Redis's defaults unless told), as Redis's loader picks them; `limits` must outlive it.
  explicit RdbParser(std::string_view bytes, const EncodingLimits* limits = nullptr);
  // Reads from an open file (the caller closes it); `size` bounds every length the file declares.
  RdbParser(int fd, uint64_t size, const EncodingLimits* limits = nullptr);
  ~RdbParser();
  RdbParser(const RdbParser&) = delete;
  RdbParser& operator=(const RdbParser&) = delete;

  // The next key. False at the end of the file, after the checksum was verified. Throws FormatError. A
  // hash or set with no element is skipped (Redis skips such keys, which old versions could write).
  bool next(KeyRecord& record);

  int version() const { return version_; }
  // Bytes of the file consumed so far.
  uint64_t offset() const;
  const std::vector<std::pair<std::string, std::string>>& aux_fields() const { return aux_; }
  // Function libraries found (FUNCTION2 opcodes): skipped, since there is no scripting engine.
  size_t skipped_functions() const { return skipped_functions_; }
  // Empty hashes and sets skipped, and the names of the first ten (for the log, as Redis's).
  uint64_t skipped_empty_keys() const { return skipped_empty_keys_; }
  const std::vector<std::string>& skipped_empty_key_names() const { return skipped_empty_key_names_; }
  // Whether the file was written with rdbchecksum no (a zero trailer: nothing to verify).
  bool checksum_skipped() const { return checksum_skipped_; }
  // rdbchecksum no: a wrong checksum is not an error (as Redis).
  void set_verify_checksum(bool verify) { verify_checksum_ = verify; }

 private:
  void read_header();
  bool read_opcode(uint8_t type, uint64_t start, int64_t& expire_at_ms);
  [[noreturn]] void reject_type(uint8_t type, uint64_t start);
  void read_trailer();
  uint8_t read_byte();
  uint64_t read_length(const char* what);
  // A length, or a special string encoding when `encoded` is set (the 11xxxxxx forms).
  uint64_t read_length_or_encoding(bool& encoded);
  void read_string(std::string& out, const char* what);
  void read_lzf(std::string& out, const char* what);
  uint64_t read_little_endian(size_t bytes);
  [[noreturn]] void fail(uint64_t offset, const std::string& message) const;

  // store/rdb/rdb_aggregates.cpp: the values of hashes and sets, as entries for `key`; null when empty.
  static bool is_aggregate_type(uint8_t type);
  EntryPtr read_aggregate(uint8_t type, const std::string& key, int64_t expire_at_ms);
  EntryPtr read_set(const std::string& key, int64_t expire_at_ms);
  EntryPtr read_hash(const std::string& key, int64_t expire_at_ms);
  EntryPtr read_intset(const std::string& key, int64_t expire_at_ms);
  EntryPtr read_hash_blob(uint8_t type, const std::string& key, int64_t expire_at_ms);
  // store/rdb/rdb_lists.cpp.
  EntryPtr read_list(uint8_t type, const std::string& key, int64_t expire_at_ms);
  // store/rdb/rdb_zsets.cpp: sorted sets.
  static bool is_zset_type(uint8_t type);
  EntryPtr read_zset(uint8_t type, const std::string& key, int64_t expire_at_ms);
  EntryPtr read_zset_blob(uint8_t type, const std::string& key, int64_t expire_at_ms);
  double read_score(bool binary);
  [[noreturn]] void fail_value(uint64_t offset, const std::string& key, std::string_view problem) const;

  std::unique_ptr<ByteSource> source_;
  const EncodingLimits* limits_;
  int version_ = 0;
  int db_ = 0;
  bool done_ = false;
  bool checksum_skipped_ = false;
  bool verify_checksum_ = true;
  size_t skipped_functions_ = 0;
  uint64_t skipped_empty_keys_ = 0;
  std::vector<std::string> skipped_empty_key_names_;
  std::vector<std::pair<std::string, std::string>> aux_;
  std::string compressed_;  // LZF input
};

struct LoadResult {
  bool found = false;  // false: there was no file (not an error: the server starts empty)
  bool ok = false;
  std::string error;   // "Bad RDB file '<path>' at byte offset N: ..." or the system error
  uint64_t error_offset = 0;
  uint64_t keys_loaded = 0;
  uint64_t keys_expired = 0;  // in the file but already past their time: not loaded
  int version = 0;
  std::string redis_version;  // the redis-ver aux field, when present
  size_t skipped_functions = 0;
  uint64_t empty_keys_skipped = 0;             // empty hashes and sets in the file: not loaded
  std::vector<std::string> empty_key_names;    // the first ten of them
};

// What a load at startup reports as it goes (INFO's loading_loaded_bytes), and a test hook.
struct LoadWatch {
  std::atomic<uint64_t>* loaded_bytes = nullptr;  // set to loaded_before + the bytes read, key by key
  uint64_t loaded_before = 0;                      // bytes of the earlier files of the same load (AOF)
  int64_t key_delay_us = 0;                        // a pause after each key, as Redis's key-load-delay
  const std::atomic<bool>* cancelled = nullptr;    // once true, the load stops at the next key (an error)
};

// Loads `path` into `keyspace` (whose databases should be empty; a key met twice is an error), with the
// encoding limits of keyspace.limits(). Keys whose time has passed at `now_ms` are skipped. On error the keyspace may hold part of the file: the caller
// refuses to start.
// A key or other text for a message: printable, quoted characters escaped, cut to 64 bytes.
std::string printable(std::string_view text);

LoadResult load_rdb_file(const std::string& path, Keyspace& keyspace, int64_t now_ms, bool verify_checksum = true,
                         const LoadWatch& watch = {});

}  // namespace rc::rdb
