#pragma once
// Each client holds a descriptor, so maxclients needs RLIMIT_NOFILE above it: raised at start and when
// CONFIG SET maxclients grows, as far as the hard limit allows, with a warning when it cannot be.
#include <cstddef>

namespace rc {

// Returns the soft limit in force afterwards.
size_t raise_descriptor_limit(size_t maxclients);

}  // namespace rc
