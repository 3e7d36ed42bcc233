#pragma once
// The compact encodings older Redis versions wrote into RDB files, turned into the listpack Redis 7.0
// would hold for the same value. Each converter validates as it goes (every entry lies inside the blob,
// agrees with its neighbours and with the header) and returns nullopt on the first inconsistency; the
// blobs come from files and RESTORE payloads, so nothing here trusts a length before checking it.
//
// A ziplist (Redis 2.6 to 6.2): [total bytes u32][offset of the last entry u32][count u16, 65535 =
// unknown][entries][0xFF]; entry = [previous entry's size: 1 byte, or 0xFE + u32][encoding][data], with
// strings' lengths big endian and integers little endian.
// A zipmap (Redis before 2.6): [count u8, 254 = unknown][key length][key][value length][free bytes u8]
// [value][unused bytes]...[0xFF]; a length is 1 byte, or 0xFE + u32 little endian.
//
// Strings that spell integers become integer entries, and integers keep their value, exactly as Redis
// appends them while loading, so the resulting bytes equal Redis's.
#include <optional>
#include <string_view>

#include "store/listpack.h"

namespace rc::rdb {

// The entries of a list ziplist, in order: RDB_TYPE_LIST_ZIPLIST (10) and each node of
// RDB_TYPE_LIST_QUICKLIST (14). An empty ziplist gives an empty listpack (Redis skips such a node).
std::optional<Listpack> listpack_from_ziplist(std::string_view ziplist);

// field,value (RDB_TYPE_HASH_ZIPLIST, 13) or member,score (RDB_TYPE_ZSET_ZIPLIST, 12) pairs; also
// rejects an odd number of entries and a field or member that appears twice (compared as text, so the
// string "7" and the integer 7 are the same). An empty ziplist gives an empty listpack (an empty key,
// which Redis drops).
std::optional<Listpack> listpack_from_ziplist_pairs(std::string_view ziplist);

// A hash zipmap (RDB_TYPE_HASH_ZIPMAP, 9) as field,value pairs; also rejects an empty zipmap, a repeated
// field, and a pair that would take the listpack past Redis's 1 GB limit.
std::optional<Listpack> listpack_from_zipmap(std::string_view zipmap);

}  // namespace rc::rdb
