#include "store/rdb/rdb_writer.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <ctime>
#include <optional>

#include "build_info.h"
#include "store/entry.h"
#include "store/keyspace.h"
#include "store/rdb/crc64.h"
#include "store/rdb/rdb_format.h"

namespace rc::rdb {
namespace {

constexpr size_t kFlushThreshold = 1024 * 1024;

// The value of `text` when it is an integer written the one way Redis writes it (no '+', no leading
// zero, no "-0") and fits in 32 bits: only those round-trip through the integer encodings unchanged.
std::optional<int32_t> canonical_int32(std::string_view text) {
  if (text.empty() || text.size() > 11) return std::nullopt;
  const bool negative = text[0] == '-';
  const std::string_view digits = negative ? text.substr(1) : text;
  if (digits.empty() || digits.size() > 10) return std::nullopt;
  if (digits[0] == '0' && (digits.size() > 1 || negative)) return std::nullopt;
  int64_t value = 0;
  for (const char c : digits) {
    if (c < '0' || c > '9') return std::nullopt;
    value = value * 10 + (c - '0');
  }
  if (negative) value = -value;
  if (value < INT32_MIN || value > INT32_MAX) return std::nullopt;
  return static_cast<int32_t>(value);
}

// strerror() may translate the message, which takes locale locks: not safe in a forked child.
std::string reason(int error_number) {
  const char* text = strerrordesc_np(error_number);
  return text != nullptr ? text : "error " + std::to_string(error_number);
}

void sleep_us(int64_t microseconds) {
  timespec pause{static_cast<time_t>(microseconds / 1000000), static_cast<long>(microseconds % 1000000) * 1000};
  while (nanosleep(&pause, &pause) != 0 && errno == EINTR) {
  }
}

}  // namespace

RdbWriter::RdbWriter(const WriteOptions& options) : options_(options) {}

RdbWriter::RdbWriter(const WriteOptions& options, int fd) : options_(options), fd_(fd) {
  buffer_.reserve(kFlushThreshold + 64 * 1024);
}

RdbWriter::RdbWriter(const WriteOptions& options, CountOnly) : options_(options), count_only_(true) {
  options_.checksum = false;
}

void RdbWriter::byte(uint8_t value) { buffer_.push_back(static_cast<char>(value)); }

void RdbWriter::raw(const void* data, size_t size) {
  if (count_only_) {
    flushed_ += size;
    return;
  }
  buffer_.append(static_cast<const char*>(data), size);
  flush_if_full();
}

void RdbWriter::flush_if_full() {
  if ((fd_ >= 0 || count_only_) && buffer_.size() >= kFlushThreshold) flush();
}

void RdbWriter::flush() {
  if (options_.checksum) crc_ = crc64(crc_, buffer_.data(), buffer_.size());
  if (count_only_) {
    flushed_ += buffer_.size();
    buffer_.clear();
    return;
  }
  if (fd_ < 0) return;  // memory mode keeps everything; the checksum covered it up to here
  size_t done = 0;
  while (done < buffer_.size() && error_ == 0) {
    const ssize_t n = ::write(fd_, buffer_.data() + done, buffer_.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      error_ = n < 0 ? errno : EIO;
      break;
    }
    done += static_cast<size_t>(n);
  }
  flushed_ += buffer_.size();
  buffer_.clear();
}

void RdbWriter::length(uint64_t value) {
  if (value < (1u << 6)) {
    byte(static_cast<uint8_t>((kLength6Bit << 6) | value));
  } else if (value < (1u << 14)) {
    byte(static_cast<uint8_t>((kLength14Bit << 6) | (value >> 8)));
    byte(static_cast<uint8_t>(value & 0xff));
  } else if (value <= UINT32_MAX) {
    byte(kLength32Bit);
    for (int shift = 24; shift >= 0; shift -= 8) byte(static_cast<uint8_t>(value >> shift));
  } else {
    byte(kLength64Bit);
    for (int shift = 56; shift >= 0; shift -= 8) byte(static_cast<uint8_t>(value >> shift));
  }
}

void RdbWriter::string(std::string_view value) {
  if (const auto number = canonical_int32(value)) {
    const int32_t n = *number;
    const uint8_t prefix = kLengthEncoded << 6;
    if (n >= INT8_MIN && n <= INT8_MAX) {
      byte(prefix | kEncodingInt8);
      byte(static_cast<uint8_t>(n));
    } else if (n >= INT16_MIN && n <= INT16_MAX) {
      byte(prefix | kEncodingInt16);
      for (int shift = 0; shift < 16; shift += 8) byte(static_cast<uint8_t>(static_cast<uint32_t>(n) >> shift));
    } else {
      byte(prefix | kEncodingInt32);
      for (int shift = 0; shift < 32; shift += 8) byte(static_cast<uint8_t>(static_cast<uint32_t>(n) >> shift));
    }
    return;
  }
  // Under 21 bytes LZF cannot gain the 4 bytes Redis asks for, so Redis does not try.
  if (options_.compress && value.size() > 20 && try_lzf(value)) return;
  length(value.size());
  raw(value.data(), value.size());
}

void RdbWriter::lzf_blob(std::string_view compressed, size_t original_size) {
  byte((kLengthEncoded << 6) | kEncodingLzf);
  length(compressed.size());
  length(original_size);
  raw(compressed.data(), compressed.size());
}

bool RdbWriter::try_lzf(std::string_view value) {
  const size_t capacity = value.size() - 4;
  if (scratch_.size() < capacity) scratch_.resize(capacity);
  const size_t compressed = compressor_.compress(value, scratch_.data(), capacity);
  if (compressed == 0) return false;
  byte((kLengthEncoded << 6) | kEncodingLzf);
  length(compressed);
  length(value.size());
  raw(scratch_.data(), compressed);
  return true;
}

void RdbWriter::begin(int64_t ctime_s, uint64_t used_memory) {
  // "REDIS0010", built by hand: this also runs in a forked child, where only plain code is safe.
  char magic[9];
  std::memcpy(magic, kMagic.data(), kMagic.size());
  for (int i = 8, version = kVersion; i >= 5; --i, version /= 10) magic[i] = static_cast<char>('0' + version % 10);
  raw(magic, sizeof magic);
  aux("redis-ver", REDIS_COMPAT_VERSION);
  aux("redis-bits", std::to_string(sizeof(void*) * 8));
  aux("ctime", std::to_string(ctime_s));
  aux("used-mem", std::to_string(used_memory));
  aux("aof-base", "0");
}

void RdbWriter::aux(std::string_view name, std::string_view value) {
  byte(kOpAux);
  string(name);
  string(value);
}

void RdbWriter::select_db(int index, uint64_t keys, uint64_t keys_with_ttl) {
  byte(kOpSelectDb);
  length(static_cast<uint64_t>(index));
  byte(kOpResizeDb);
  length(keys);
  length(keys_with_ttl);
}

void RdbWriter::expire_time(int64_t expire_at_ms) {
  if (expire_at_ms < 0) return;
  byte(kOpExpireTimeMs);
  const auto at = static_cast<uint64_t>(expire_at_ms);
  for (int shift = 0; shift < 64; shift += 8) byte(static_cast<uint8_t>(at >> shift));
}

void RdbWriter::key_value(std::string_view key, std::string_view value, int64_t expire_at_ms) {
  expire_time(expire_at_ms);
  byte(kTypeString);
  string(key);
  string(value);
  flush_if_full();
}

void RdbWriter::key_entry(const Entry& entry) {
  const uint8_t type = value_type_byte(entry);
  if (type == 0xFF) {
    if (error_ == 0) error_ = ENOTSUP;  // a type without a writer: the save fails rather than drop the key
    return;
  }
  expire_time(entry.has_expiry() ? entry.expire_at() : -1);
  byte(type);
  string(entry.key());
  value(entry);
  flush_if_full();
}

void RdbWriter::value(const Entry& entry) {
  switch (entry.type()) {
    case ValueType::String:
      return string(entry.value());
    case ValueType::Hash:
      return write_hash(entry);
    case ValueType::Set:
      return write_set(entry);
    case ValueType::List:
      return write_list(entry);
    case ValueType::ZSet:
      return write_zset(entry);
    default:
      if (error_ == 0) error_ = ENOTSUP;
  }
}

uint64_t serialized_value_length(const Entry& entry) {
  WriteOptions options;
  options.compress = false;
  RdbWriter counter(options, RdbWriter::CountOnly{});
  counter.value(entry);
  return counter.size();
}

bool RdbWriter::finish() {
  byte(kOpEof);
  flush();  // folds everything so far into the checksum
  const uint64_t checksum = options_.checksum ? crc_ : 0;
  for (int shift = 0; shift < 64; shift += 8) buffer_.push_back(static_cast<char>(checksum >> shift));
  if (fd_ >= 0) {
    const bool checksum_enabled = options_.checksum;
    options_.checksum = false;  // the trailer is not part of what it checks
    flush();
    options_.checksum = checksum_enabled;
  }
  return error_ == 0;
}

uint64_t write_keyspace(const Keyspace& keyspace, RdbWriter& writer, int64_t now_ms, int64_t key_delay_us) {
  uint64_t written = 0;
  for (int index = 0; index < keyspace.database_count(); ++index) {
    const Database& db = keyspace.db(index);
    uint64_t keys = 0;
    uint64_t keys_with_ttl = 0;
    for (size_t s = 0; s < Database::kShardCount; ++s) {
      keys += db.shard(s).table.size();
      keys_with_ttl += db.shard(s).expiring.load(std::memory_order_relaxed);
    }
    if (keys == 0) continue;
    // RESIZEDB is a sizing hint: keys already expired are counted there but not written.
    writer.select_db(index, keys, keys_with_ttl);
    for (size_t s = 0; s < Database::kShardCount; ++s) {
      const HashTable& table = db.shard(s).table;
      uint64_t cursor = 0;
      do {
        cursor = table.scan(cursor, [&](const Entry* entry) {
          if (entry->expired(now_ms)) return;
          writer.key_entry(*entry);
          ++written;
          if (key_delay_us > 0) sleep_us(key_delay_us);
        });
      } while (cursor != 0);
    }
  }
  return written;
}

std::string rdb_path(const std::string& dir, const std::string& filename) {
  if (dir.empty() || filename.starts_with('/')) return filename;
  return dir.back() == '/' ? dir + filename : dir + "/" + filename;
}

namespace {

// Writes the snapshot into an open temp file and makes it durable.
SaveResult write_and_sync(const Keyspace& keyspace, const SaveRequest& request, int fd, const std::string& path) {
  SaveResult result;
  RdbWriter writer(request.options, fd);
  writer.begin(request.now_ms / 1000, request.used_memory);
  result.keys = write_keyspace(keyspace, writer, request.now_ms, request.key_delay_us);
  if (!writer.finish()) {
    result.error = "Write error saving DB on disk (" + path + "): " + reason(writer.error_number());
    return result;
  }
  result.bytes = writer.size();
  if (::fsync(fd) != 0) {
    result.error = "Failed to fsync " + path + ": " + reason(errno);
    return result;
  }
  result.ok = true;
  return result;
}

// fsync of the directory, so that the rename itself survives a power loss.
std::optional<std::string> sync_directory(const std::string& dir) {
  const int fd = ::open(dir.empty() ? "." : dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return "Failed to open directory " + dir + " for fsync: " + reason(errno);
  const int failed = ::fsync(fd) != 0 ? errno : 0;
  ::close(fd);
  if (failed != 0) return "Failed to fsync directory " + dir + ": " + reason(failed);
  return std::nullopt;
}

}  // namespace

SaveResult save_rdb_file(const Keyspace& keyspace, const SaveRequest& request) {
  if (request.filename.empty() || request.filename.find('/') != std::string::npos) {
    return {false, "dbfilename '" + request.filename + "' must be a file name, not a path", 0, 0};
  }
  const std::string temp = rdb_path(request.dir, "temp-" + std::to_string(::getpid()) + ".rdb");
  const std::string target = rdb_path(request.dir, request.filename);
  const int fd = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) {
    return {false, "Failed opening the temp RDB file " + temp + " for saving: " + reason(errno), 0, 0};
  }
  SaveResult result = write_and_sync(keyspace, request, fd, temp);
  if (::close(fd) != 0 && result.ok) {
    result = {false, "Failed to close " + temp + ": " + reason(errno), 0, 0};
  }
  if (result.ok && ::rename(temp.c_str(), target.c_str()) != 0) {
    result = {false, "Error moving temp DB file " + temp + " on the final destination " + target + ": " +
                         reason(errno), 0, 0};
  }
  if (!result.ok) {
    ::unlink(temp.c_str());
    return result;
  }
  if (auto error = sync_directory(request.dir)) {
    result.ok = false;  // the file is in place, but its name may not survive a crash
    result.error = *error;
  }
  return result;
}

}  // namespace rc::rdb
