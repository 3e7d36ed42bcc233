#pragma once
// Each command family registers its commands in the table; build_command_table calls them all.
#include "server/command_table.h"

namespace rc {

void register_strings(CommandTable& table);
void register_keys(CommandTable& table);
void register_connection(CommandTable& table);
void register_server_admin(CommandTable& table);
void register_info(CommandTable& table);
void register_config(CommandTable& table);
void register_command_docs(CommandTable& table);

}  // namespace rc
