#pragma once
// Replies a stored element (a listpack's integer or bytes, or a table's bytes) as the bulk string a client
// sees: an integer in decimal, as Redis's addReplyBulkLongLong.
#include <charconv>

#include "protocol/reply_writer.h"
#include "store/listpack.h"

namespace rc {

inline void bulk_element(ReplyWriter& out, const ListpackElement& element) {
  if (!element.is_integer()) return out.bulk(element.string());
  char digits[24];
  const auto end = std::to_chars(digits, digits + sizeof digits, element.integer()).ptr;
  out.bulk(std::string_view(digits, static_cast<size_t>(end - digits)));
}

}  // namespace rc
