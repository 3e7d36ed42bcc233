#include "server/commands/registry.h"

namespace rc {

CommandTable build_command_table() {
  CommandTable table;
  register_strings(table);
  register_string_multi(table);
  register_string_counters(table);
  register_string_ranges(table);
  register_string_lcs(table);
  register_keys(table);
  register_expire(table);
  register_key_scan(table);
  register_object(table);
  register_misc_admin(table);
  register_persistence(table);
  register_connection(table);
  register_server_admin(table);
  register_info(table);
  register_config(table);
  register_command_docs(table);
  register_aof_commands(table);
  register_hashes(table);
  register_hash_random(table);
  register_sets(table);
  register_set_random(table);
  register_set_algebra(table);
  register_lists(table);
  register_list_ranges(table);
  register_list_moves(table);
  register_zsets(table);
  register_zset_ranges(table);
  register_zset_pops(table);
  register_zset_random(table);
  register_zset_algebra(table);
  register_list_blocking(table);
  register_zset_blocking(table);
  register_transactions(table);
  register_pubsub(table);
  return table;
}

}  // namespace rc
