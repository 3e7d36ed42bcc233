#pragma once
// The manifest of a Redis 7 multi-part append-only file (appenddirname/appendfilename.manifest): one line
// per file, "file <name> seq <n> type <b|h|i>", the base first, then the incremental files in the order
// they were written. Redis ignores keys it does not know and lines starting with '#', and so do we.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace rc::aof {

enum class FileType : char { Base = 'b', History = 'h', Incremental = 'i' };

struct ManifestFile {
  std::string name;
  int64_t seq = 0;
  FileType type = FileType::Incremental;
};

struct Manifest {
  std::optional<ManifestFile> base;
  std::vector<ManifestFile> incrementals;  // in seq order, the last one receives the appends
  std::vector<ManifestFile> history;       // obsolete files Redis has not deleted yet: never loaded

  std::string to_text() const;
  int64_t last_incremental_seq() const { return incrementals.empty() ? 0 : incrementals.back().seq; }
};

// Parses a manifest's text; on error, a message naming the line (Redis's checks: a file name, a seq and a
// type on every line, at most one base, incremental seqs increasing).
struct ManifestParse {
  std::optional<Manifest> manifest;
  std::string error;
};
ManifestParse parse_manifest(std::string_view text);

// File names as Redis 7 makes them: appendonly.aof.<seq>.base.rdb|aof, appendonly.aof.<seq>.incr.aof.
std::string base_file_name(std::string_view prefix, int64_t seq, bool rdb_preamble);
std::string incremental_file_name(std::string_view prefix, int64_t seq);
std::string manifest_file_name(std::string_view prefix);

}  // namespace rc::aof
