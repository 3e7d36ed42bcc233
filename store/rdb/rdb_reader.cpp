#include "store/rdb/rdb_reader.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <thread>

#include <fmt/format.h>

#include "store/encoding_limits.h"
#include "store/keyspace.h"
#include "store/rdb/crc64.h"
#include "store/rdb/lzf.h"
#include "store/rdb/rdb_format.h"

namespace rc::rdb {

// A window over the bytes of the file: all of them in memory mode, or a 1 MiB buffer refilled from the
// descriptor. The checksum is folded over the consumed bytes lazily, a window at a time.
class ByteSource {
 public:
  explicit ByteSource(std::string_view bytes) : data_(bytes.data()), end_(bytes.size()), size_(bytes.size()) {}
  ByteSource(int fd, uint64_t size)
      : storage_(std::make_unique_for_overwrite<char[]>(kWindow)), fd_(fd), size_(size) {
    data_ = storage_.get();
  }

  uint64_t offset() const { return window_offset_ + begin_; }
  uint64_t remaining() const { return size_ > offset() ? size_ - offset() : 0; }

  // Copies `count` bytes; false when the input ends first.
  bool read(char* out, size_t count) {
    while (count > 0) {
      if (begin_ == end_ && !refill()) return false;
      const size_t take = std::min(count, end_ - begin_);
      std::memcpy(out, data_ + begin_, take);
      begin_ += take;
      out += take;
      count -= take;
    }
    return true;
  }

  // The CRC-64 of everything consumed so far.
  uint64_t checksum() {
    fold_checksum();
    return crc_;
  }

 private:
  static constexpr size_t kWindow = 1024 * 1024;

  void fold_checksum() {
    crc_ = crc64(crc_, data_ + checksummed_, begin_ - checksummed_);
    checksummed_ = begin_;
  }

  bool refill() {
    fold_checksum();
    if (fd_ < 0) return false;
    window_offset_ += end_;
    begin_ = end_ = checksummed_ = 0;
    for (;;) {
      const ssize_t n = ::read(fd_, storage_.get(), kWindow);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) throw FormatError(offset(), fmt::format("read error: {}", std::strerror(errno)));
      end_ = static_cast<size_t>(n);
      return n > 0;
    }
  }

  std::unique_ptr<char[]> storage_;
  const char* data_ = nullptr;
  size_t begin_ = 0;
  size_t end_ = 0;
  size_t checksummed_ = 0;
  uint64_t window_offset_ = 0;
  uint64_t crc_ = 0;
  int fd_ = -1;
  uint64_t size_;
};

std::string printable(std::string_view text) {
  std::string out;
  for (const char c : text.substr(0, 64)) {
    const auto byte = static_cast<unsigned char>(c);
    if (byte >= 0x20 && byte < 0x7f && c != '\\' && c != '\'') {
      out.push_back(c);
    } else {
      out += fmt::format("\\x{:02x}", byte);
    }
  }
  if (text.size() > 64) out += "...";
  return out;
}

namespace {

// Redis's defaults, for a parser not given the server's limits.
const EncodingLimits kDefaultLimits;

// LZF turns at most 3 input bytes into 264 output bytes, so a longer claim is corruption (and must not
// make us allocate gigabytes).
constexpr uint64_t kMaxLzfRatio = 90;

}  // namespace

RdbParser::RdbParser(std::string_view bytes, const EncodingLimits* limits)
    : source_(std::make_unique<ByteSource>(bytes)), limits_(limits != nullptr ? limits : &kDefaultLimits) {}
RdbParser::RdbParser(int fd, uint64_t size, const EncodingLimits* limits)
    : source_(std::make_unique<ByteSource>(fd, size)), limits_(limits != nullptr ? limits : &kDefaultLimits) {}
RdbParser::~RdbParser() = default;

uint64_t RdbParser::offset() const { return source_->offset(); }

void RdbParser::fail(uint64_t offset, const std::string& message) const { throw FormatError(offset, message); }

uint8_t RdbParser::read_byte() {
  char byte = 0;
  if (!source_->read(&byte, 1)) fail(source_->offset(), "unexpected end of file (the file is truncated)");
  return static_cast<uint8_t>(byte);
}

uint64_t RdbParser::read_little_endian(size_t bytes) {
  const uint64_t start = source_->offset();
  char buffer[8];
  if (!source_->read(buffer, bytes)) fail(start, "unexpected end of file (the file is truncated)");
  uint64_t value = 0;
  for (size_t i = bytes; i-- > 0;) value = (value << 8) | static_cast<uint8_t>(buffer[i]);
  return value;
}

uint64_t RdbParser::read_length_or_encoding(bool& encoded) {
  const uint64_t start = source_->offset();
  const uint8_t first = read_byte();
  encoded = false;
  switch (first >> 6) {
    case kLength6Bit:
      return first & 0x3f;
    case kLength14Bit:
      return (uint64_t{first & 0x3fu} << 8) | read_byte();
    case kLengthEncoded:
      encoded = true;
      return first & 0x3f;
    default:
      break;
  }
  if (first != kLength32Bit && first != kLength64Bit) fail(start, fmt::format("unknown length encoding 0x{:02x}", first));
  const size_t bytes = first == kLength32Bit ? 4 : 8;
  uint64_t value = 0;
  for (size_t i = 0; i < bytes; ++i) value = (value << 8) | read_byte();  // big endian
  return value;
}

uint64_t RdbParser::read_length(const char* what) {
  const uint64_t start = source_->offset();
  bool encoded = false;
  const uint64_t value = read_length_or_encoding(encoded);
  if (encoded) fail(start, fmt::format("{}: expected a length, found a string encoding", what));
  return value;
}

void RdbParser::read_string(std::string& out, const char* what) {
  const uint64_t start = source_->offset();
  bool encoded = false;
  const uint64_t length = read_length_or_encoding(encoded);
  if (encoded) {
    switch (length) {
      case kEncodingInt8:
        out = std::to_string(static_cast<int8_t>(read_little_endian(1)));
        return;
      case kEncodingInt16:
        out = std::to_string(static_cast<int16_t>(read_little_endian(2)));
        return;
      case kEncodingInt32:
        out = std::to_string(static_cast<int32_t>(read_little_endian(4)));
        return;
      case kEncodingLzf:
        return read_lzf(out, what);
      default:
        fail(start, fmt::format("{}: unknown string encoding {}", what, length));
    }
  }
  if (length > source_->remaining()) {
    fail(start, fmt::format("{}: length {} is past the end of the file ({} bytes left; the file is truncated "
                            "or corrupt)", what, length, source_->remaining()));
  }
  out.resize(length);
  if (!source_->read(out.data(), length)) fail(start, fmt::format("{}: unexpected end of file", what));
}

void RdbParser::read_lzf(std::string& out, const char* what) {
  const uint64_t start = source_->offset();
  const uint64_t compressed_length = read_length("LZF compressed length");
  const uint64_t length = read_length("LZF length");
  if (compressed_length > source_->remaining()) {
    fail(start, fmt::format("{}: LZF data of {} bytes is past the end of the file ({} bytes left)", what,
                            compressed_length, source_->remaining()));
  }
  if (length == 0 || compressed_length == 0 || length / kMaxLzfRatio > compressed_length) {
    fail(start, fmt::format("{}: impossible LZF sizes ({} bytes compressed to {})", what, length, compressed_length));
  }
  compressed_.resize(compressed_length);
  if (!source_->read(compressed_.data(), compressed_length)) fail(start, fmt::format("{}: unexpected end of file", what));
  out.resize(length);
  if (lzf_decompress(compressed_, out.data(), length) != length) {
    fail(start, fmt::format("{}: corrupt LZF data (it does not decompress to the {} bytes it declares)", what, length));
  }
}

void RdbParser::read_header() {
  char header[9];
  if (!source_->read(header, sizeof header)) fail(0, "not an RDB file: shorter than the 9-byte header");
  if (std::string_view(header, 5) != kMagic) fail(0, "not an RDB file: wrong signature (no \"REDIS\")");
  int version = 0;
  for (int i = 5; i < 9; ++i) {
    if (header[i] < '0' || header[i] > '9') fail(5, "not an RDB file: the version is not four digits");
    version = version * 10 + (header[i] - '0');
  }
  if (version < 1 || version > kVersion) {
    fail(5, fmt::format("can't handle RDB format version {} (versions 1 to {} are supported)", version, kVersion));
  }
  version_ = version;
}

void RdbParser::read_trailer() {
  if (version_ < 5) return;  // no checksum before version 5
  const uint64_t expected = source_->checksum();
  const uint64_t start = source_->offset();
  const uint64_t stored = read_little_endian(8);
  if (stored == 0) {
    checksum_skipped_ = true;  // saved with rdbchecksum no
  } else if (verify_checksum_ && stored != expected) {
    fail(start, fmt::format("wrong checksum: the file says {:016x}, its contents give {:016x} (the file is corrupt)",
                            stored, expected));
  }
}

bool RdbParser::next(KeyRecord& record) {
  if (done_) return false;
  if (version_ == 0) read_header();
  int64_t expire_at_ms = -1;
  for (;;) {
    const uint64_t start = source_->offset();
    const uint8_t type = read_byte();
    if (type == kOpEof) {
      read_trailer();
      done_ = true;
      return false;
    }
    if (type == kTypeString || is_aggregate_type(type)) {
      record.offset = start;
      record.db = db_;
      record.expire_at_ms = expire_at_ms;
      read_string(record.key, "key");
      if (type == kTypeString) {
        record.aggregate.reset();
        read_string(record.value, "string value");
        return true;
      }
      record.value.clear();
      record.aggregate = read_aggregate(type, record.key, expire_at_ms);
      if (record.aggregate) return true;
      if (skipped_empty_keys_++ < 10) skipped_empty_key_names_.push_back(record.key);
      expire_at_ms = -1;  // the skipped key's
      continue;
    }
    if (!read_opcode(type, start, expire_at_ms)) reject_type(type, start);
  }
}

// The opcodes that come between keys. False when `type` is none of them.
bool RdbParser::read_opcode(uint8_t type, uint64_t start, int64_t& expire_at_ms) {
  switch (type) {
    case kOpExpireTimeMs:
      expire_at_ms = static_cast<int64_t>(read_little_endian(8));
      return true;
    case kOpExpireTime:
      expire_at_ms = int64_t{static_cast<int32_t>(read_little_endian(4))} * 1000;
      return true;
    case kOpFreq:
      read_byte();
      return true;
    case kOpIdle:
      read_length("LRU idle time");
      return true;
    case kOpSelectDb: {
      const uint64_t db = read_length("SELECTDB");
      if (db > INT32_MAX) fail(start, fmt::format("database number {} is out of range", db));
      db_ = static_cast<int>(db);
      return true;
    }
    case kOpResizeDb:
      read_length("RESIZEDB size");
      read_length("RESIZEDB expires size");
      return true;
    case kOpAux: {
      std::pair<std::string, std::string> field;
      read_string(field.first, "aux field name");
      read_string(field.second, "aux field value");
      aux_.push_back(std::move(field));
      return true;
    }
    case kOpFunction2: {
      std::string code;
      read_string(code, "function library");
      ++skipped_functions_;
      return true;
    }
    default:
      return false;
  }
}

void RdbParser::reject_type(uint8_t type, uint64_t start) {
  if (type == kOpModuleAux) fail(start, "module aux data (opcode 247) is not supported: the file needs a Redis module");
  if (type == kOpFunction) {
    fail(start, "function library in the 7.0 release-candidate format (opcode 246) is not supported");
  }
  const std::string_view name = type_name(type);
  if (name.empty()) fail(start, fmt::format("unknown opcode or value type {} (0x{:02x})", type, type));
  std::string key;
  read_string(key, "key");
  fail(start, fmt::format("value type {} ({}) of key '{}' is not supported: redis-clone stores strings, lists, "
                          "hashes and sets", type, name, printable(key)));
}

namespace {

LoadResult parse_into(RdbParser& parser, Keyspace& keyspace, int64_t now_ms, const LoadWatch& watch) {
  LoadResult result;
  result.found = true;
  KeyRecord record;
  while (parser.next(record)) {
    if (watch.cancelled != nullptr && watch.cancelled->load(std::memory_order_relaxed)) {
      throw FormatError(record.offset, "the load was cancelled");
    }
    if (watch.loaded_bytes != nullptr) {
      watch.loaded_bytes->store(watch.loaded_before + parser.offset(), std::memory_order_relaxed);
    }
    if (watch.key_delay_us > 0) std::this_thread::sleep_for(std::chrono::microseconds(watch.key_delay_us));
    if (record.db >= keyspace.database_count()) {
      throw FormatError(record.offset, fmt::format("key in database {}, but the server has {} databases (see "
                                                   "'databases')", record.db, keyspace.database_count()));
    }
    if (record.expire_at_ms >= 0 && record.expire_at_ms <= now_ms) {
      ++result.keys_expired;
      continue;
    }
    bool duplicate = false;
    keyspace.db(record.db).write(record.key, [&](KeySlot& slot) {
      duplicate = slot.get() != nullptr;
      if (duplicate) return;
      if (record.aggregate) return slot.adopt(std::move(record.aggregate));
      slot.set(record.value, record.expire_at_ms < 0 ? Entry::kNoExpiry : record.expire_at_ms);
    });
    if (duplicate) {
      throw FormatError(record.offset, fmt::format("duplicate key '{}' in database {}", printable(record.key), record.db));
    }
    ++result.keys_loaded;
  }
  result.ok = true;
  result.version = parser.version();
  result.skipped_functions = parser.skipped_functions();
  result.empty_keys_skipped = parser.skipped_empty_keys();
  result.empty_key_names = parser.skipped_empty_key_names();
  for (const auto& [name, value] : parser.aux_fields()) {
    if (name == "redis-ver") result.redis_version = value;
  }
  return result;
}

}  // namespace

LoadResult load_rdb_file(const std::string& path, Keyspace& keyspace, int64_t now_ms, bool verify_checksum,
                         const LoadWatch& watch) {
  LoadResult result;
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    result.ok = errno == ENOENT;  // no file yet: start empty
    if (!result.ok) result.error = fmt::format("Fatal error loading the DB from '{}': {}", path, std::strerror(errno));
    return result;
  }
  struct stat info {};
  if (::fstat(fd, &info) != 0 || !S_ISREG(info.st_mode)) {
    result.found = true;
    result.error = fmt::format("Fatal error loading the DB from '{}': not a regular file", path);
    ::close(fd);
    return result;
  }
  try {
    RdbParser parser(fd, static_cast<uint64_t>(info.st_size), &keyspace.limits());
    parser.set_verify_checksum(verify_checksum);
    result = parse_into(parser, keyspace, now_ms, watch);
  } catch (const FormatError& error) {
    result.found = true;
    result.ok = false;
    result.error_offset = error.offset();
    result.error = fmt::format("Bad RDB file '{}' at byte offset {}: {}", path, error.offset(), error.what());
  }
  ::close(fd);
  return result;
}

}  // namespace rc::rdb
