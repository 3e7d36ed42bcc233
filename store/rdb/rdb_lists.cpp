// Lists in RDB files, both ways, as Redis 7.0's rdbSaveObject and rdbLoadObject handle them.
//
// Writing: LIST_QUICKLIST_2, the node count, then per node its container (2 packed, 1 plain) and its
// listpack (or a plain node's element) as a string; a packed node held compressed goes out as its LZF
// block in the LZF string encoding, as Redis writes it.
//
// Reading, into a quicklist with the current list-max-listpack-size and list-compress-depth:
//   LIST              elements pushed one by one (nodes filled as by RPUSH);
//   LIST_ZIPLIST      the ziplist converted to one listpack node, whatever its size (as Redis);
//   LIST_QUICKLIST    each node's ziplist converted to a listpack node;
//   LIST_QUICKLIST_2  each packed node's listpack adopted as a node, each plain one (Redis's container for
//                     a huge element) a plain node of its element.
// Blobs are deep-validated whatever sanitize-dump-payload says: a corrupt one fails the load. Empty nodes
// are skipped and a list left with no element is skipped (null), as Redis does.
#include <fmt/format.h>

#include <memory>
#include <optional>
#include <string>

#include "store/encoding_limits.h"
#include "store/list_value.h"
#include "store/listpack.h"
#include "store/quicklist.h"
#include "store/rdb/legacy_encodings.h"
#include "store/rdb/rdb_format.h"
#include "store/rdb/rdb_reader.h"
#include "store/rdb/rdb_writer.h"

namespace rc::rdb {

void RdbWriter::write_list(const Entry& list) {
  const Quicklist& elements = list_value::elements(list);
  length(elements.node_count());
  elements.for_each_stored_node([&](std::string_view bytes, size_t listpack_size, bool compressed, bool plain) {
    length(plain ? kQuicklistNodePlain : kQuicklistNodePacked);
    if (compressed) {
      lzf_blob(bytes, listpack_size);
    } else {
      string(bytes);
    }
    flush_if_full();
  });
}

EntryPtr RdbParser::read_list(uint8_t type, const std::string& key, int64_t expire_at_ms) {
  auto elements = std::make_unique<Quicklist>(limits_->list_fill(), limits_->list_compress());
  std::string blob;
  if (type == kTypeList) {
    const uint64_t count = read_length("list size");
    for (uint64_t i = 0; i < count; ++i) {
      read_string(blob, "list element");
      elements->push(Quicklist::End::Tail, blob);
    }
  } else if (type == kTypeListZiplist) {
    const uint64_t start = offset();
    read_string(blob, "list ziplist");
    std::optional<Listpack> node = listpack_from_ziplist(blob);
    if (!node) fail_value(start, key, "list ziplist integrity check failed (the blob is corrupt)");
    elements->append_node(std::move(*node));
  } else {
    const uint64_t nodes = read_length("quicklist node count");
    for (uint64_t i = 0; i < nodes; ++i) {
      uint64_t container = kQuicklistNodePacked;
      if (type == kTypeListQuicklist2) {
        const uint64_t start = offset();
        container = read_length("quicklist node container");
        if (container != kQuicklistNodePacked && container != kQuicklistNodePlain) {
          fail_value(start, key, fmt::format("unknown quicklist node container {}", container));
        }
      }
      const uint64_t start = offset();
      read_string(blob, "quicklist node");
      if (container == kQuicklistNodePlain) {
        elements->append_plain_node(blob);
        continue;
      }
      std::optional<Listpack> node;
      if (type == kTypeListQuicklist2) {
        node = Listpack::adopt(blob);
      } else {
        node = listpack_from_ziplist(blob);
      }
      if (!node) {
        fail_value(start, key, fmt::format("{} node integrity check failed (the blob is corrupt)", type_name(type)));
      }
      elements->append_node(std::move(*node));
    }
  }
  if (elements->empty()) return nullptr;
  return EntryPtr(list_value::adopt(key, elements.release(), expire_at_ms));
}

}  // namespace rc::rdb
