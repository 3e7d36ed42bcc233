#include "store/aof/manifest.h"

#include <fmt/format.h>

#include "protocol/inline_splitter.h"
#include "protocol/numbers.h"

namespace rc::aof {
namespace {

// One manifest line: its key/value pairs read into `file`; an error message when it is malformed.
std::optional<std::string> read_line(std::string_view line, ManifestFile& file) {
  const auto words = split_inline_arguments(line);
  if (!words || words->size() % 2 != 0) return std::string("Invalid AOF manifest file format");
  std::string type;
  for (size_t i = 0; i < words->size(); i += 2) {
    const std::string& key = (*words)[i];
    const std::string& value = (*words)[i + 1];
    if (key == "file") {
      file.name = value;
    } else if (key == "seq") {
      const auto seq = parse_int64(value);
      if (!seq || *seq < 1) return std::string("Invalid AOF manifest file format (bad seq)");
      file.seq = *seq;
    } else if (key == "type") {
      type = value;
    }
  }
  if (file.name.empty() || file.seq == 0 || type.size() != 1 || (type != "b" && type != "h" && type != "i")) {
    return std::string("Invalid AOF manifest file format (missing file, seq or type)");
  }
  if (file.name.find('/') != std::string::npos) return std::string("File can't be a path, just a filename");
  file.type = static_cast<FileType>(type[0]);
  return std::nullopt;
}

std::string line_for(const ManifestFile& file) {
  return fmt::format("file {} seq {} type {}\n", file.name, file.seq, static_cast<char>(file.type));
}

}  // namespace

ManifestParse parse_manifest(std::string_view text) {
  Manifest manifest;
  size_t number = 0;
  while (!text.empty()) {
    ++number;
    const size_t end = text.find('\n');
    std::string_view line = text.substr(0, end);
    text.remove_prefix(end == std::string_view::npos ? text.size() : end + 1);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.empty() || line.front() == '#') continue;
    ManifestFile file;
    if (auto error = read_line(line, file)) return {std::nullopt, fmt::format("{} at line {}", *error, number)};
    if (file.type == FileType::Base) {
      if (manifest.base) return {std::nullopt, fmt::format("Found duplicate base file information at line {}", number)};
      manifest.base = file;
    } else if (file.type == FileType::History) {
      manifest.history.push_back(file);
    } else {
      if (file.seq <= manifest.last_incremental_seq()) {
        return {std::nullopt, fmt::format("Found a non-monotonic sequence number at line {}", number)};
      }
      manifest.incrementals.push_back(file);
    }
  }
  if (!manifest.base && manifest.incrementals.empty()) return {std::nullopt, "Found an empty AOF manifest"};
  return {std::move(manifest), {}};
}

std::string Manifest::to_text() const {
  std::string text;
  if (base) text += line_for(*base);
  for (const ManifestFile& file : history) text += line_for(file);
  for (const ManifestFile& file : incrementals) text += line_for(file);
  return text;
}

std::string base_file_name(std::string_view prefix, int64_t seq, bool rdb_preamble) {
  return fmt::format("{}.{}.base.{}", prefix, seq, rdb_preamble ? "rdb" : "aof");
}

std::string incremental_file_name(std::string_view prefix, int64_t seq) {
  return fmt::format("{}.{}.incr.aof", prefix, seq);
}

std::string manifest_file_name(std::string_view prefix) { return fmt::format("{}.manifest", prefix); }

}  // namespace rc::aof
