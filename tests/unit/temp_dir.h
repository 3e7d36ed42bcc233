#pragma once
// A fresh directory under the system's temp dir, removed with everything in it when the test ends.
#include <stdlib.h>

#include <filesystem>
#include <string>
#include <string_view>

namespace rc::test {

struct TempDir {
  std::filesystem::path path;
  explicit TempDir(std::string_view prefix) {
    std::string pattern = (std::filesystem::temp_directory_path() / (std::string(prefix) + "-XXXXXX")).string();
    path = ::mkdtemp(pattern.data());
  }
  ~TempDir() { std::filesystem::remove_all(path); }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
};

}  // namespace rc::test
