#pragma once
// A strict reader of server replies for the fuzz targets: it accepts exactly one well-formed RESP2 or RESP3
// value and says why anything else is not. It is written from the RESP specification, not from
// ReplyWriter, so that it can catch the writer (or a handler's raw() bytes) breaking the protocol:
// a length that does not match its payload, a CR or LF inside a simple string, a count with a sign or a
// leading zero, a RESP3 type sent to a RESP2 client.
#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <optional>
#include <string>
#include <string_view>

namespace rc::fuzz {

class RespValidator {
 public:
  // `allow_resp3`: whether the RESP3-only types (_ , # ( = % ~ > | !) may appear.
  explicit RespValidator(bool allow_resp3) : allow_resp3_(allow_resp3) {}

  // Checks that `bytes` holds exactly one reply, nothing before or after it. Returns the problem, if any.
  std::optional<std::string> single_reply(std::string_view bytes) const {
    size_t position = 0;
    if (auto problem = value(bytes, position, 0)) return problem;
    if (position != bytes.size()) {
      return "trailing bytes after the reply at offset " + std::to_string(position);
    }
    return std::nullopt;
  }

  // Checks that `bytes` is a sequence of zero or more replies.
  std::optional<std::string> replies(std::string_view bytes) const {
    size_t position = 0;
    while (position < bytes.size()) {
      if (auto problem = value(bytes, position, 0)) return problem;
    }
    return std::nullopt;
  }

 private:
  // Deeper than any reply the server builds (COMMAND DOCS nests 6 levels); bounds the recursion.
  static constexpr int kMaxDepth = 32;

  // Reads one value starting at `position` and moves `position` past it.
  std::optional<std::string> value(std::string_view bytes, size_t& position, int depth) const {
    if (depth > kMaxDepth) return std::string("nesting deeper than ") + std::to_string(kMaxDepth);
    if (position >= bytes.size()) return std::string("truncated: a reply was expected");
    const char type = bytes[position];
    const size_t start = position;
    std::string_view line;
    if (auto problem = read_line(bytes, position, line)) return problem;
    const std::string where = " (type '" + printable(type) + "' at offset " + std::to_string(start) + ")";
    if (is_resp3_only(type) && !allow_resp3_) return "RESP3 type sent to a RESP2 client" + where;
    switch (type) {
      case '+':
        return std::nullopt;
      case '-':
        if (line.empty()) return "empty error" + where;
        return std::nullopt;
      case ':':
        if (!parse_integer(line)) return "malformed integer '" + std::string(line) + "'" + where;
        return std::nullopt;
      case '(':
        if (!is_big_number(line)) return "malformed big number" + where;
        return std::nullopt;
      case ',':
        if (!is_double(line)) return "malformed double '" + std::string(line) + "'" + where;
        return std::nullopt;
      case '#':
        if (line != "t" && line != "f") return "malformed boolean" + where;
        return std::nullopt;
      case '_':
        if (!line.empty()) return "null with a payload" + where;
        return std::nullopt;
      case '$':
      case '!':
      case '=':
        return blob(bytes, position, type, line, where);
      case '*':
      case '~':
      case '>':
        return aggregate(bytes, position, type, line, 1, depth, where);
      case '%':
      case '|':
        return aggregate(bytes, position, type, line, 2, depth, where);
      default:
        return "unknown reply type" + where;
    }
  }

  // A length-prefixed payload: $ (bulk, or $-1 null), ! (blob error), = (verbatim "fmt:text").
  static std::optional<std::string> blob(std::string_view bytes, size_t& position, char type,
                                         std::string_view line, const std::string& where) {
    const auto length = parse_integer(line);
    if (!length) return "malformed length" + where;
    if (*length == -1 && type == '$') return std::nullopt;
    if (*length < 0) return "negative length" + where;
    const auto size = static_cast<uint64_t>(*length);
    if (size > bytes.size() - position || bytes.size() - position - size < 2) {
      return "payload shorter than its length " + std::to_string(size) + where;
    }
    const std::string_view payload = bytes.substr(position, size);
    if (bytes.substr(position + size, 2) != "\r\n") return "payload not followed by CRLF" + where;
    if (type == '=' && (payload.size() < 4 || payload[3] != ':')) return "verbatim string without 'fmt:'" + where;
    position += size + 2;
    return std::nullopt;
  }

  // An aggregate of count * per_entry values: * ~ > (one per element), % | (key and value); *-1 is a null.
  std::optional<std::string> aggregate(std::string_view bytes, size_t& position, char type, std::string_view line,
                                       int per_entry, int depth, const std::string& where) const {
    const auto count = parse_integer(line);
    if (!count) return "malformed count" + where;
    if (*count == -1 && type == '*') return std::nullopt;
    if (*count < 0) return "negative count" + where;
    // Every element takes at least 3 bytes ("_\r\n"): a larger count cannot be honest, and checking it here
    // keeps the loop below bounded by the input.
    const uint64_t elements = static_cast<uint64_t>(*count) * static_cast<uint64_t>(per_entry);
    if (elements > (bytes.size() - position) / 3) return "count larger than the bytes that follow" + where;
    for (uint64_t i = 0; i < elements; ++i) {
      if (auto problem = value(bytes, position, depth + 1)) return problem;
    }
    // An attribute (|) annotates the value that follows it, which is part of the same reply.
    if (type == '|') return value(bytes, position, depth + 1);
    return std::nullopt;
  }

  // Reads the type byte's line up to CRLF; the line must hold no other CR or LF.
  static std::optional<std::string> read_line(std::string_view bytes, size_t& position, std::string_view& line) {
    const size_t begin = position + 1;
    const size_t crlf = bytes.find("\r\n", begin);
    if (crlf == std::string_view::npos) {
      return "line at offset " + std::to_string(position) + " does not end in CRLF";
    }
    line = bytes.substr(begin, crlf - begin);
    if (line.find_first_of("\r\n") != std::string_view::npos) {
      return "CR or LF inside the line at offset " + std::to_string(position);
    }
    position = crlf + 2;
    return std::nullopt;
  }

  // A canonical int64: "0", or an optional '-' and digits without a leading zero.
  static std::optional<int64_t> parse_integer(std::string_view text) {
    const bool negative = !text.empty() && text[0] == '-';
    const std::string_view digits = negative ? text.substr(1) : text;
    if (digits.empty() || digits.size() > 19) return std::nullopt;
    if (digits[0] == '0' && (digits.size() > 1 || negative)) return std::nullopt;
    uint64_t magnitude = 0;
    for (const char c : digits) {
      if (c < '0' || c > '9') return std::nullopt;
      magnitude = magnitude * 10 + static_cast<uint64_t>(c - '0');
    }
    const uint64_t limit = negative ? uint64_t{1} << 63 : (uint64_t{1} << 63) - 1;
    if (magnitude > limit) return std::nullopt;
    return negative ? static_cast<int64_t>(0 - magnitude) : static_cast<int64_t>(magnitude);
  }

  static bool is_big_number(std::string_view text) {
    const std::string_view digits = !text.empty() && text[0] == '-' ? text.substr(1) : text;
    if (digits.empty()) return false;
    for (const char c : digits) {
      if (c < '0' || c > '9') return false;
    }
    return true;
  }

  // What RESP3 allows for a double: inf, -inf, nan, or a number strtod reads in full.
  static bool is_double(std::string_view text) {
    if (text == "inf" || text == "-inf" || text == "nan") return true;
    if (text.empty() || text.size() > 400) return false;
    for (const char c : text) {
      if (!((c >= '0' && c <= '9') || c == '-' || c == '+' || c == '.' || c == 'e' || c == 'E')) return false;
    }
    const std::string copy(text);
    char* end = nullptr;
    errno = 0;
    std::strtod(copy.c_str(), &end);
    return end == copy.c_str() + copy.size();
  }

  static bool is_resp3_only(char type) {
    return type == '_' || type == ',' || type == '#' || type == '(' || type == '=' || type == '%' ||
           type == '~' || type == '>' || type == '|' || type == '!';
  }

  static std::string printable(char c) {
    if (c >= 0x20 && c < 0x7f) return std::string(1, c);
    static constexpr char kHex[] = "0123456789abcdef";
    const auto byte = static_cast<unsigned char>(c);
    return std::string("\\x") + kHex[byte >> 4] + kHex[byte & 15];
  }

  bool allow_resp3_;
};

}  // namespace rc::fuzz
