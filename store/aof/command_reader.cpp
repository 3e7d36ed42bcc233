#include "store/aof/command_reader.h"

#include <charconv>
#include <cstdint>

#include <fmt/format.h>

namespace rc::aof {
namespace {

// Bounds as Redis's loader: a command of at most INT_MAX arguments, a bulk of at most 512 MiB... the
// lengths are checked against the data anyway, so these only reject absurd numbers early.
constexpr int64_t kMaxArguments = 1 << 30;
constexpr int64_t kMaxBulk = int64_t{1} << 40;

enum class LineStatus { Ok, Truncated, Corrupt };

// Reads "<marker><number>\r\n" at pos into value.
LineStatus read_number_line(std::string_view data, size_t& pos, char marker, int64_t& value) {
  if (pos >= data.size()) return LineStatus::Truncated;
  if (data[pos] != marker) return LineStatus::Corrupt;
  const size_t end = data.find("\r\n", pos + 1);
  if (end == std::string_view::npos) {
    // A line can be cut short only by the end of the data, and a number is at most 20 digits.
    return data.size() - pos > 24 ? LineStatus::Corrupt : LineStatus::Truncated;
  }
  const char* first = data.data() + pos + 1;
  const char* last = data.data() + end;
  const auto [ptr, ec] = std::from_chars(first, last, value);
  if (ec != std::errc() || ptr != last || first == last) return LineStatus::Corrupt;
  pos = end + 2;
  return LineStatus::Ok;
}

// "<marker><number>\r\n", without fmt (this runs for every logged command).
void number_line(std::string& out, char marker, size_t number) {
  char text[24];
  text[0] = marker;
  char* end = std::to_chars(text + 1, text + sizeof text - 2, number).ptr;
  *end++ = '\r';
  *end++ = '\n';
  out.append(text, end);
}

template <typename Args>
void encode(std::string& out, const Args& argv) {
  number_line(out, '*', argv.size());
  for (const std::string_view arg : argv) {
    number_line(out, '$', arg.size());
    out.append(arg);
    out += "\r\n";
  }
}

}  // namespace

ReadResult read_command(std::string_view data, size_t& position, std::vector<std::string>& argv) {
  if (position >= data.size()) return {ReadStatus::End, {}};
  size_t pos = position;
  int64_t count = 0;
  LineStatus line = read_number_line(data, pos, '*', count);
  if (line == LineStatus::Truncated) return {ReadStatus::Truncated, {}};
  if (line == LineStatus::Corrupt || count < 1 || count > kMaxArguments) {
    return {ReadStatus::Corrupt, "Bad file format reading the append only file (expected '*<count>')"};
  }
  argv.clear();
  for (int64_t i = 0; i < count; ++i) {
    int64_t length = 0;
    line = read_number_line(data, pos, '$', length);
    if (line == LineStatus::Truncated) return {ReadStatus::Truncated, {}};
    if (line == LineStatus::Corrupt || length < 0 || length > kMaxBulk) {
      return {ReadStatus::Corrupt, "Bad file format reading the append only file (expected '$<length>')"};
    }
    const auto size = static_cast<size_t>(length);
    if (data.size() - pos < size + 2) return {ReadStatus::Truncated, {}};
    if (data.substr(pos + size, 2) != "\r\n") {
      return {ReadStatus::Corrupt, "Bad file format reading the append only file (bulk not ended by CRLF)"};
    }
    argv.emplace_back(data.substr(pos, size));
    pos += size + 2;
  }
  position = pos;
  return {ReadStatus::Complete, {}};
}

void encode_command(std::string& out, std::span<const std::string_view> argv) { encode(out, argv); }

}  // namespace rc::aof
