#pragma once
// The command table: the one place where a command is declared (name, arity, flags, key positions, handler).
// The dispatcher checks existence and arity from it before any handler runs, and COMMAND answers from it.
#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace rc {

struct CommandContext;
using CommandHandler = void (*)(CommandContext&);

// Command flags as COMMAND INFO reports them.
enum CommandFlag : uint32_t {
  kWrite = 1u << 0,
  kReadonly = 1u << 1,
  kDenyOom = 1u << 2,
  kAdmin = 1u << 3,
  kNoScript = 1u << 4,
  kLoading = 1u << 5,
  kStale = 1u << 6,
  kFast = 1u << 7,
  kNoAuth = 1u << 8,
  kMayReplicate = 1u << 9,
  kNoMandatoryKeys = 1u << 10,
  kSkipSlowlog = 1u << 11,
  kAllowBusy = 1u << 12,
  kNoMulti = 1u << 13,
  kBlocking = 1u << 14,
  kPubSub = 1u << 15,
  kSkipMonitor = 1u << 16,
  kNoAsyncLoading = 1u << 17,
  kMovableKeys = 1u << 18,  // the keys are found from an argument (SINTERCARD numkeys), not first/last/step

  // ACL categories beyond those the flags and the group imply (Redis's acl_categories), for COMMAND INFO.
  kAclKeyspace = 1u << 24,
  kAclDangerous = 1u << 25,
  kAclConnection = 1u << 26,
  kAclAdmin = 1u << 27,
};

struct CommandSpec {
  std::string_view name;  // lower case; a subcommand's is its own word ("setname")
  int arity;              // N: exactly N words including the name(s); -N: at least N
  uint32_t flags;
  int first_key;          // 0 when the command takes no key
  int last_key;           // -1: the last argument
  int key_step;
  CommandHandler handler;  // nullptr for a container (CLIENT, CONFIG, ...) whose subcommands do the work
  std::string_view group;  // COMMAND DOCS group: string, generic, connection, server, keyspace
  std::string_view since;  // Redis version that introduced it
  std::string_view summary;
  std::vector<CommandSpec> subcommands = {};
  std::string fullname = {};  // set by CommandTable::add: "get", "client|list" (see command_fullname)
};

class CommandTable {
 public:
  void add(CommandSpec spec);

  // The command named by argv[0] (any case), or nullptr.
  const CommandSpec* find(std::string_view name) const;
  // The subcommand of a container named by `name` (any case), or nullptr.
  static const CommandSpec* find_subcommand(const CommandSpec& container, std::string_view name);

  const std::vector<CommandSpec>& all() const { return commands_; }
  size_t size() const { return commands_.size(); }

 private:
  std::vector<CommandSpec> commands_;
  std::unordered_map<std::string, size_t> by_name_;
};

// The full name COMMAND and error messages use: "get", or "client|setname" for a subcommand.
std::string command_fullname(const CommandSpec& spec, const CommandSpec* container);

// Builds the table with every command redis-clone implements (server/commands/*.cpp register theirs).
CommandTable build_command_table();

}  // namespace rc
