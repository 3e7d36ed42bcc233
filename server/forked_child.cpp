#include "server/forked_child.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/resource.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>

namespace rc {

namespace {
constexpr size_t kMaxReportBytes = 4096;
std::atomic<uint64_t> g_total_forks{0};
std::atomic<uint64_t> g_latest_fork_usec{0};
}  // namespace

pid_t timed_fork() {
  const auto started = std::chrono::steady_clock::now();
  const pid_t pid = ::fork();
  if (pid > 0) {
    const auto took = std::chrono::steady_clock::now() - started;
    g_latest_fork_usec.store(static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::microseconds>(took).count()));
    g_total_forks.fetch_add(1);
  }
  return pid;
}

uint64_t total_forks() { return g_total_forks.load(); }
uint64_t latest_fork_usec() { return g_latest_fork_usec.load(); }

uint64_t private_dirty_bytes() {
  const int fd = ::open("/proc/self/smaps_rollup", O_RDONLY | O_CLOEXEC);
  if (fd < 0) return 0;
  char text[4096];
  const ssize_t n = ::read(fd, text, sizeof text - 1);
  ::close(fd);
  if (n <= 0) return 0;
  text[n] = '\0';
  const char* field = std::strstr(text, "Private_Dirty:");
  if (field == nullptr) return 0;
  return std::strtoull(field + std::strlen("Private_Dirty:"), nullptr, 10) * 1024;
}

void report_to_parent(int fd, const std::string& text) {
  size_t done = 0;
  while (done < text.size()) {
    const ssize_t n = ::write(fd, text.data() + done, text.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;
    done += static_cast<size_t>(n);
  }
}

std::string read_child_report(int fd) {
  ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) | O_NONBLOCK);
  std::string text;
  char buffer[512];
  while (text.size() < kMaxReportBytes) {
    const ssize_t n = ::read(fd, buffer, sizeof buffer);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    text.append(buffer, static_cast<size_t>(n));
  }
  return text;
}

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
