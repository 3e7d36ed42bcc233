#include "store/glob.h"

#include <cctype>

namespace rc {
namespace {

// Redis compares these as (signed) chars; ranges like [\x80-\xff] behave as they do there.
int as_int(char c) { return static_cast<int>(static_cast<signed char>(c)); }

bool same_char(char a, char b, bool nocase) {
  if (!nocase) return a == b;
  return std::tolower(as_int(a)) == std::tolower(as_int(b));
}

// Matches the character class starting at pattern[p] == '[' against c; `next` is set past the class.
bool match_class(std::string_view pattern, size_t p, char c, bool nocase, size_t& next) {
  ++p;
  const bool negate = p < pattern.size() && pattern[p] == '^';
  if (negate) ++p;
  bool matched = false;
  for (;;) {
    const size_t remaining = pattern.size() - p;
    if (remaining >= 2 && pattern[p] == '\\') {
      ++p;
      if (pattern[p] == c) matched = true;
    } else if (remaining > 0 && pattern[p] == ']') {
      break;
    } else if (remaining == 0) {
      break;  // unclosed class: it ends with the pattern
    } else if (remaining >= 3 && pattern[p + 1] == '-') {
      int start = as_int(pattern[p]);
      int end = as_int(pattern[p + 2]);
      int ch = as_int(c);
      if (start > end) std::swap(start, end);
      if (nocase) {
        start = std::tolower(start);
        end = std::tolower(end);
        ch = std::tolower(ch);
      }
      p += 2;
      if (ch >= start && ch <= end) matched = true;
    } else if (same_char(pattern[p], c, nocase)) {
      matched = true;
    }
    ++p;
  }
  next = p < pattern.size() ? p + 1 : p;
  return negate ? !matched : matched;
}

// Matches one pattern token (not '*') at pattern[p] against c; `next` is set past the token.
bool match_token(std::string_view pattern, size_t p, char c, bool nocase, size_t& next) {
  switch (pattern[p]) {
    case '?':
      next = p + 1;
      return true;
    case '[':
      return match_class(pattern, p, c, nocase, next);
    case '\\':
      if (pattern.size() - p >= 2) ++p;
      [[fallthrough]];
    default:
      next = p + 1;
      return same_char(pattern[p], c, nocase);
  }
}

}  // namespace

bool glob_match(std::string_view pattern, std::string_view text, bool nocase) {
  if (text.empty()) return pattern.empty();
  size_t p = 0;
  size_t s = 0;
  size_t star_pattern = std::string_view::npos;  // token after the last '*' seen
  size_t star_text = 0;                          // where that '*' currently ends in the text
  while (s < text.size()) {
    if (p < pattern.size() && pattern[p] == '*') {
      while (p < pattern.size() && pattern[p] == '*') ++p;
      if (p == pattern.size()) return true;
      star_pattern = p;
      star_text = s;
      continue;
    }
    size_t next = 0;
    if (p < pattern.size() && match_token(pattern, p, text[s], nocase, next)) {
      p = next;
      ++s;
      continue;
    }
    if (star_pattern == std::string_view::npos) return false;
    // Let the last '*' swallow one more character and retry the rest from there.
    p = star_pattern;
    s = ++star_text;
  }
  while (p < pattern.size() && pattern[p] == '*') ++p;
  return p == pattern.size();
}

}  // namespace rc
