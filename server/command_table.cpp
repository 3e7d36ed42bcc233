#include "server/command_table.h"

#include "protocol/ascii_case.h"

namespace rc {

void CommandTable::add(CommandSpec spec) {
  spec.fullname = command_fullname(spec, nullptr);
  for (CommandSpec& sub : spec.subcommands) sub.fullname = command_fullname(sub, &spec);
  by_name_[std::string(spec.name)] = commands_.size();
  commands_.push_back(std::move(spec));
}

const CommandSpec* CommandTable::find(std::string_view name) const {
  // Command names are short; a lowered copy on the stack-sized string keeps the lookup simple.
  if (name.size() > 32) return nullptr;
  const auto it = by_name_.find(ascii_lowercase(name));
  return it == by_name_.end() ? nullptr : &commands_[it->second];
}

const CommandSpec* CommandTable::find_subcommand(const CommandSpec& container, std::string_view name) {
  for (const CommandSpec& sub : container.subcommands) {
    if (equals_ignore_case(sub.name, name)) return &sub;
  }
  return nullptr;
}

std::string command_fullname(const CommandSpec& spec, const CommandSpec* container) {
  if (container == nullptr) return std::string(spec.name);
  return std::string(container->name) + "|" + std::string(spec.name);
}

}  // namespace rc
