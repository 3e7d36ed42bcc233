#pragma once
// Splits an inline command line into arguments as Redis's sdssplitargs does: blanks separate arguments,
// "double quotes" understand \n \r \t \b \a \xHH and \", 'single quotes' only \', and a closing quote must
// be followed by a blank or the end of the line.
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace rc {

// nullopt for unbalanced quotes (Redis: "Protocol error: unbalanced quotes in request").
std::optional<std::vector<std::string>> split_inline_arguments(std::string_view line);

}  // namespace rc
