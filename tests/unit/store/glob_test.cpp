// Redis's glob matcher (KEYS, SCAN MATCH): the answers of stringmatchlen, including its quirks.
#include <catch2/catch.hpp>

#include <string>

#include "store/glob.h"

using namespace std::literals;
using rc::glob_match;

TEST_CASE("glob: literals, ? and *") {
  CHECK(glob_match("hello", "hello"));
  CHECK_FALSE(glob_match("hello", "hell"));
  CHECK_FALSE(glob_match("hell", "hello"));
  CHECK(glob_match("h?llo", "hallo"));
  CHECK_FALSE(glob_match("h?llo", "hllo"));
  CHECK(glob_match("h*llo", "hllo"));
  CHECK(glob_match("h*llo", "heeeello"));
  CHECK(glob_match("*", "anything"));
  CHECK(glob_match("**", "x"));
  CHECK(glob_match("*o*", "two"));
  CHECK_FALSE(glob_match("*o*", "three"));
  CHECK(glob_match("*e", "three"));
  CHECK(glob_match("f???", "four"));
  CHECK_FALSE(glob_match("f???", "fiver"));
}

TEST_CASE("glob: an empty string matches only the empty pattern") {
  CHECK(glob_match("", ""));
  CHECK_FALSE(glob_match("*", ""));  // stringmatchlen never matches an empty string against '*'
  CHECK_FALSE(glob_match("", "a"));
}

TEST_CASE("glob: character classes") {
  CHECK(glob_match("[ot]*", "one"));
  CHECK(glob_match("[ot]*", "two"));
  CHECK_FALSE(glob_match("[ot]*", "five"));
  CHECK(glob_match("[^o]*", "two"));
  CHECK_FALSE(glob_match("[^o]*", "one"));
  CHECK(glob_match("[a-f]*", "five"));
  CHECK(glob_match("[f-a]*", "five"));  // reversed ranges are swapped
  CHECK_FALSE(glob_match("[a-f]*", "nine"));
  CHECK(glob_match("[\\]]", "]"));
  // An unclosed class runs to the end of the pattern: "[abc" is [abc], "[" an empty class matching nothing.
  CHECK(glob_match("[abc", "a"));
  CHECK_FALSE(glob_match("[", "["));
  CHECK_FALSE(glob_match("a[", "a["));
}

TEST_CASE("glob: escapes") {
  CHECK(glob_match("a\\*b", "a*b"));
  CHECK_FALSE(glob_match("a\\*b", "axb"));
  CHECK(glob_match("a\\?b", "a?b"));
  CHECK(glob_match("a\\[b", "a[b"));
  CHECK(glob_match("a\\\\b", "a\\b"));
  CHECK(glob_match("t\\wo", "two"));  // an escaped ordinary character is itself
  CHECK(glob_match("\\", "\\"));      // a trailing backslash is literal
}

TEST_CASE("glob: binary keys and case folding") {
  CHECK(glob_match("h\0*"sv, "h\0llo"sv));
  CHECK_FALSE(glob_match("h\0*"sv, "hello"sv));
  CHECK(glob_match("h*"sv, "h\0llo"sv));
  CHECK(glob_match("HELLO", "hello", true));
  CHECK_FALSE(glob_match("HELLO", "hello", false));
  CHECK(glob_match("[A-C]x", "bx", true));
}

TEST_CASE("glob: a pathological pattern against a long string finishes (no exponential backtracking)") {
  const std::string pattern = "*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*b";
  const std::string text(10000, 'a');
  CHECK_FALSE(glob_match(pattern, text));
  CHECK(glob_match(pattern, text + "b"));
}
