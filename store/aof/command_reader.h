#pragma once
// Reads the commands of an append-only file (RESP multibulk, "*<n>\r\n" then n "$<len>\r\n<bytes>\r\n"),
// and encodes them. Reading separates a command cut short by the end of the data (Truncated: the tail of a
// file whose last write did not finish) from bytes that can never form a command (Corrupt).
#include <cstddef>
#include <initializer_list>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace rc::aof {

enum class ReadStatus { Complete, End, Truncated, Corrupt };

struct ReadResult {
  ReadStatus status;
  std::string error;  // Corrupt: what is wrong (the offset is `position` on return)
};

// Reads the command starting at data[position] into argv and moves position past it (only when Complete).
ReadResult read_command(std::string_view data, size_t& position, std::vector<std::string>& argv);

// Appends argv as one RESP multibulk command.
void encode_command(std::string& out, std::span<const std::string_view> argv);
inline void encode_command(std::string& out, std::initializer_list<std::string_view> argv) {
  encode_command(out, std::span<const std::string_view>(argv.begin(), argv.size()));
}

}  // namespace rc::aof
