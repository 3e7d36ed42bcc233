#pragma once
// The start of a child forked to write a snapshot (BGSAVE, BGREWRITEAOF): only the forking thread exists
// there, so nothing here takes a lock or logs.

#include <sys/types.h>

#include <cstdint>
#include <string>

namespace rc {

// Unblocks the signals the forking thread had blocked (main takes SIGTERM and SIGINT with sigwait; the
// child should die of them like any process) and closes every descriptor from 3 up but `keep` (-1: none),
// so the child holds no listening or client socket after the parent closes it.
void prepare_forked_child(int keep);

// fork() for a snapshot child, timed: in the parent, a successful fork is counted for INFO stats
// (total_forks, and latest_fork_usec: how long fork() itself took, the pause writers see at its heart).
pid_t timed_fork();
uint64_t total_forks();
uint64_t latest_fork_usec();

// The child's private dirty memory: pages it holds alone, i.e. the copies made because the parent wrote
// to them while it ran (Redis's rdb_last_cow_size and aof_last_cow_size come from the same /proc figure).
uint64_t private_dirty_bytes();
// The child's last words to its parent, through a pipe: one short line of text, written before _exit.
void report_to_parent(int fd, const std::string& text);
// The parent's side: what the child wrote, read after waitpid and without blocking (another process
// forked meanwhile may hold a copy of the pipe's write end, so EOF may never come; the report is far
// smaller than a pipe's buffer, so the child never waits for it to be read).
std::string read_child_report(int fd);

}  // namespace rc
