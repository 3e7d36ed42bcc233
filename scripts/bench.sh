#!/usr/bin/env bash
# bench.sh - redis-clone against Debian's redis-server, side by side on this machine (`make bench`).
#
#   scripts/bench.sh [--quick] [--rounds R] [--only REGEX]      default: throughput table
#   scripts/bench.sh --scaling      GET at 1,10,50,200,1000,5000 clients; plot to docs/bench-scaling.png
#   scripts/bench.sh --memory       bytes per key at 1,000,000 keys (16 B, 16 B + TTL, 100 B values); bytes per field
#                                   of a 1M-field hash, per member of a 1M-member set, per hash of 100,000 10-field
#                                   hashes, with the hashes and sets issue's target (PASS/MISS)
#   scripts/bench.sh --conns N      N idle clients: RSS per connection, threads, PING p50/p99 while held
#   scripts/bench.sh --ceiling      compare against shared/bench/ceiling/tpc.cpp instead of redis-server (also with --scaling)
#   scripts/bench.sh --isolation    probes PING/GET/SET while KEYS, FLUSHDB, MGET, DEL (and BGSAVE) run, then
#                                   HGETALL, SMEMBERS, SUNIONSTORE and DEL of a 1M-field hash and a 1M-member set
#   scripts/bench.sh --durability   SET ops/s with appendfsync everysec and always; RDB SAVE/BGSAVE/load of 1M keys
#   scripts/bench.sh --queue        a job queue: 50 producers LPUSH and 50 consumers BRPOP one list; items/s, p99
#   scripts/bench.sh --hot-path     syscalls by name and CPU per request, PING/GET/SET at c1 P1 and c50 P16, against
#                                   the ceiling server, with the performance issue's targets (PASS/MISS)
#
# Other options: --server-cmd CMD / --ref-cmd CMD (replace redis-clone / redis-server; {port} is replaced),
# --keys N (for --memory and --isolation), --plot FILE (for --scaling), --syscall-tool auto|perf|strace|none (for --hot-path).
# `scripts/bench.sh --help` lists them all.
# Environment: REDIS_CLONE_BIN (default build/redis-clone), PYTHON (default python3).
# Needs: redis-server and redis-tools (Debian), python3; for the plot matplotlib (pip) or gnuplot; for --hot-path
# linux-perf or strace (scripts/install-deps.sh bench installs all of these).
# What the tables mean: scripts/bench/README.md.
#
# The work is done by scripts/bench/bench.py. This wrapper is the backstop for its servers: bench.py records
# each server's process group in $BENCH_PIDFILE, and whatever way this script ends, the trap below stops
# bench.py and kills every recorded group that is still there.
set -u

HERE=$(cd "$(dirname "$0")" && pwd)
PY=${PYTHON:-python3}
command -v "$PY" >/dev/null 2>&1 || { echo "bench.sh: $PY not found" >&2; exit 2; }

BENCH_WORKDIR=$(mktemp -d /tmp/redis-clone-bench.XXXXXX)   # server logs, the ceiling binary, plot data
BENCH_PIDFILE=$BENCH_WORKDIR/pids
: >"$BENCH_PIDFILE"
export BENCH_WORKDIR BENCH_PIDFILE
BENCH_PID=""

cleanup() {
  local i pgid start now
  if [ -n "$BENCH_PID" ] && kill -0 "$BENCH_PID" 2>/dev/null; then
    kill -TERM "$BENCH_PID" 2>/dev/null
    for i in $(seq 1 100); do kill -0 "$BENCH_PID" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$BENCH_PID" 2>/dev/null
  fi
  # a group is killed only if its leader is still the process that was recorded (same start time)
  while read -r pgid start; do
    # fields after "pid (comm) ": 1 = state, 20 = start time
    now=$(sed 's/.*) //' "/proc/$pgid/stat" 2>/dev/null | cut -d' ' -f1,20)
    if [ -n "$now" ] && [ "${now#* }" = "$start" ] && [ "${now%% *}" != Z ]; then
      echo "bench.sh: killing leftover server process group $pgid" >&2
      kill -KILL -- "-$pgid" 2>/dev/null
    fi
  done < <(cat "$BENCH_PIDFILE" 2>/dev/null)
  rm -rf "$BENCH_WORKDIR"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
trap 'exit 129' HUP

# in the background so that a signal to this script is handled at once (bash defers traps until a
# foreground child ends); bench.py installs its own SIGINT handler
"$PY" "$HERE/bench/bench.py" "$@" &
BENCH_PID=$!
wait "$BENCH_PID"
rc=$?
BENCH_PID=""
exit "$rc"
