#pragma once
#include <string>
#include <string_view>
#include <vector>

namespace rc {

class Server;

// The text INFO replies with for the requested sections (none: all of them).
std::string info_text(Server& server, const std::vector<std::string_view>& sections);

}  // namespace rc
