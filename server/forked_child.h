#pragma once
// The start of a child forked to write a snapshot (BGSAVE, BGREWRITEAOF): only the forking thread exists
// there, so nothing here takes a lock or logs.

namespace rc {

// Unblocks the signals the forking thread had blocked (main takes SIGTERM and SIGINT with sigwait; the
// child should die of them like any process) and closes every descriptor from 3 up but `keep` (-1: none),
// so the child holds no listening or client socket after the parent closes it.
void prepare_forked_child(int keep);

}  // namespace rc
