#include "server/forked_child.h"

#include <signal.h>
#include <sys/resource.h>
#include <unistd.h>

namespace rc {

void prepare_forked_child(int keep) {
  sigset_t none;
  sigemptyset(&none);
  pthread_sigmask(SIG_SETMASK, &none, nullptr);
  const auto last = static_cast<unsigned>(~0U);
  bool closed = false;
  if (keep < 3) {
    closed = ::close_range(3, last, 0) == 0;
  } else {
    const auto kept = static_cast<unsigned>(keep);
    closed = (kept == 3 || ::close_range(3, kept - 1, 0) == 0) && ::close_range(kept + 1, last, 0) == 0;
  }
  if (closed) return;
  // Kernels without close_range: one close per possible descriptor, up to the limit.
  rlimit limit{};
  const int top = getrlimit(RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur < 1u << 20 ? static_cast<int>(limit.rlim_cur)
                                                                                       : 1 << 20;
  for (int fd = 3; fd < top; ++fd) {
    if (fd != keep) ::close(fd);
  }
}

}  // namespace rc
