#include "protocol/inline_splitter.h"

#include <cctype>

namespace rc {
namespace {

bool is_hex(char c) { return std::isxdigit(static_cast<unsigned char>(c)) != 0; }

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  return std::tolower(static_cast<unsigned char>(c)) - 'a' + 10;
}

// The line is read as a C string, as Redis does: a NUL byte ends it.
char at(std::string_view line, size_t i) { return i < line.size() ? line[i] : '\0'; }

bool ends_token(char c) { return c == '\0' || std::isspace(static_cast<unsigned char>(c)); }

// Reads one "double quoted" token body starting after the quote; returns the position after the closing
// quote, or npos when the quote is never closed or is followed by something other than a blank.
size_t read_double_quoted(std::string_view line, size_t i, std::string& token) {
  for (;;) {
    const char c = at(line, i);
    if (c == '\0') return std::string_view::npos;
    if (c == '\\' && at(line, i + 1) == 'x' && is_hex(at(line, i + 2)) && is_hex(at(line, i + 3))) {
      token.push_back(static_cast<char>(hex_value(at(line, i + 2)) * 16 + hex_value(at(line, i + 3))));
      i += 4;
    } else if (c == '\\' && at(line, i + 1) != '\0') {
      const char escaped = at(line, i + 1);
      switch (escaped) {
        case 'n': token.push_back('\n'); break;
        case 'r': token.push_back('\r'); break;
        case 't': token.push_back('\t'); break;
        case 'b': token.push_back('\b'); break;
        case 'a': token.push_back('\a'); break;
        default: token.push_back(escaped); break;
      }
      i += 2;
    } else if (c == '"') {
      return ends_token(at(line, i + 1)) ? i + 1 : std::string_view::npos;
    } else {
      token.push_back(c);
      ++i;
    }
  }
}

size_t read_single_quoted(std::string_view line, size_t i, std::string& token) {
  for (;;) {
    const char c = at(line, i);
    if (c == '\0') return std::string_view::npos;
    if (c == '\\' && at(line, i + 1) == '\'') {
      token.push_back('\'');
      i += 2;
    } else if (c == '\'') {
      return ends_token(at(line, i + 1)) ? i + 1 : std::string_view::npos;
    } else {
      token.push_back(c);
      ++i;
    }
  }
}

}  // namespace

std::optional<std::vector<std::string>> split_inline_arguments(std::string_view line) {
  std::vector<std::string> args;
  size_t i = 0;
  for (;;) {
    while (at(line, i) != '\0' && std::isspace(static_cast<unsigned char>(at(line, i)))) ++i;
    if (at(line, i) == '\0') return args;
    std::string token;
    // Unquoted runs and quoted parts join into one token until a blank ends it: a"b c" is one argument
    // only if the quote closes at a blank, so Redis rejects it; we follow the same state machine.
    for (;;) {
      const char c = at(line, i);
      if (c == ' ' || c == '\n' || c == '\r' || c == '\t' || c == '\0') break;
      if (c == '"' || c == '\'') {
        i = c == '"' ? read_double_quoted(line, i + 1, token) : read_single_quoted(line, i + 1, token);
        if (i == std::string_view::npos) return std::nullopt;
        break;
      }
      token.push_back(c);
      ++i;
    }
    args.push_back(std::move(token));
  }
}

}  // namespace rc
