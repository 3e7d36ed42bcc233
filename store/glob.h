#pragma once
// Redis's glob patterns (KEYS, SCAN MATCH, CONFIG GET): * ? [abc] [^a] [a-z] and \ escapes, with the same
// answers as Redis's stringmatchlen, including its quirks (an empty string matches only an empty pattern;
// an unclosed [ runs to the end of the pattern). Matching backtracks only to the last '*', so a pattern
// like *a*a*a*...b costs O(pattern x string), never exponential time (cf. CVE-2022-36021).
#include <string_view>

namespace rc {

bool glob_match(std::string_view pattern, std::string_view text, bool nocase = false);

}  // namespace rc
