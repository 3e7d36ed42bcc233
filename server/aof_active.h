#pragma once
// The log write commands go to (AofLog::active()); nullptr while none is started. Defined in
// aof_log.cpp, whose start(), stop() and disable() set it; a rewrite that activates the log
// (aof_rewrite.cpp, begin_rewrite) sets it too.
#include <atomic>

namespace rc {

class AofLog;

extern std::atomic<AofLog*> g_active;

}  // namespace rc
