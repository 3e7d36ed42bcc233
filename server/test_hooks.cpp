#include "server/test_hooks.h"

#include <cstdlib>

#include "protocol/numbers.h"

namespace rc {
namespace {

int64_t microseconds_from(const char* variable) {
  const char* value = std::getenv(variable);
  return value != nullptr ? parse_int64(value).value_or(0) : 0;
}

}  // namespace

int64_t key_save_delay_us() { return microseconds_from("REDIS_CLONE_RDB_KEY_SAVE_DELAY_US"); }
int64_t key_load_delay_us() { return microseconds_from("REDIS_CLONE_KEY_LOAD_DELAY_US"); }

}  // namespace rc
