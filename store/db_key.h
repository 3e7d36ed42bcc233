#pragma once
// A key of one numbered database, for the registries keyed by (database, key) (blocked clients, watched keys):
// stored as KeyRef, looked up by KeyView without copying the key, ordered by KeyOrder.
#include <string>
#include <string_view>

namespace rc {

struct KeyView {
  int db;
  std::string_view key;
};

struct KeyRef {
  int db;
  std::string key;
};

struct KeyOrder {
  using is_transparent = void;
  template <typename A, typename B>
  bool operator()(const A& a, const B& b) const {
    return a.db != b.db ? a.db < b.db : std::string_view(a.key) < std::string_view(b.key);
  }
};

}  // namespace rc
