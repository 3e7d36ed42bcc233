#pragma once
// Each command family registers its commands in the table; build_command_table calls them all.
#include "server/command_table.h"

namespace rc {

void register_strings(CommandTable& table);
void register_string_multi(CommandTable& table);
void register_string_counters(CommandTable& table);
void register_string_ranges(CommandTable& table);
void register_string_lcs(CommandTable& table);
void register_keys(CommandTable& table);
void register_expire(CommandTable& table);
void register_key_scan(CommandTable& table);
void register_object(CommandTable& table);
void register_misc_admin(CommandTable& table);
void register_persistence(CommandTable& table);
void register_connection(CommandTable& table);
void register_server_admin(CommandTable& table);
void register_info(CommandTable& table);
void register_config(CommandTable& table);
void register_command_docs(CommandTable& table);
void register_aof_commands(CommandTable& table);
void register_hashes(CommandTable& table);
void register_hash_random(CommandTable& table);
void register_sets(CommandTable& table);
void register_set_random(CommandTable& table);
void register_set_algebra(CommandTable& table);
void register_lists(CommandTable& table);
void register_list_ranges(CommandTable& table);
void register_list_moves(CommandTable& table);
void register_zsets(CommandTable& table);
void register_zset_ranges(CommandTable& table);
void register_zset_pops(CommandTable& table);
void register_zset_random(CommandTable& table);
void register_zset_algebra(CommandTable& table);
void register_list_blocking(CommandTable& table);
void register_zset_blocking(CommandTable& table);
void register_transactions(CommandTable& table);
void register_pubsub(CommandTable& table);

}  // namespace rc
