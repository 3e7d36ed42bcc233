"""System calls of a server, by name, while one redis-benchmark run is measured (bench.py --hot-path).

perf (Debian's linux-perf): `perf record -e raw_syscalls:sys_enter -p PID`, one sample per system call of every
thread of the server, and of the threads it creates while recording (the event is inherited: a
thread-per-connection server creates one per client), so the counts are those of the whole process. It starts
with recording disabled (-D -1) and records only between the `enable` and `disable` sent on its control FIFO,
each acknowledged, around the redis-benchmark run. `perf script` gives each sample's system call number, named
from the C library's <asm/unistd_64.h>; `perf report --stats` must show no lost sample.

Why not `perf stat` on the tracepoints syscalls:sys_enter_*, one per system call: every such event is in the
perf context of every thread, and each context switch walks them. With all ~360 of them the server used 12x
its CPU time per request (4.5x with 30), where one event that samples every call costs 1.1x to 1.6x. Its exit
also waits for an RCU grace period per tracepoint (~40 ms each, 14 s for all of them).

strace (`strace -f -c -p PID`) is the fallback: it stops the server at every system call, which makes it
several times slower, but it names every call too.

Every process started here runs in its own process group, dies with bench.py (PR_SET_PDEATHSIG) and is recorded
in $BENCH_PIDFILE, so that bench.sh kills it too; every wait has a deadline.
"""
import glob
import os
import re
import select
import signal
import subprocess
import time

from benchlib import die_with_parent, record_group

TOTAL = "(all)"              # key of the total count
ATTACH_TIMEOUT = 30.0        # seconds for perf to open its counters or strace to attach
EXIT_TIMEOUT = 60.0          # seconds for perf or strace to print its counts and exit


class CountError(Exception):
    """Counting failed for one run (or could not start): the message says why."""


def _run_quiet(argv, timeout=30):
    try:
        p = subprocess.run(argv, capture_output=True, text=True, timeout=timeout, stdin=subprocess.DEVNULL)
    except (OSError, subprocess.TimeoutExpired) as e:
        return None, str(e)
    return p.returncode, (p.stdout + p.stderr).strip()


def perf_check():
    """None if perf can count syscall tracepoints here, else why not."""
    rc, out = _run_quiet(["perf", "stat", "-x,", "-e", "raw_syscalls:sys_enter", "--", "true"])
    if rc is None:
        return "perf: %s" % out
    counts = [l.split(",", 1)[0] for l in out.splitlines() if "sys_enter" in l]
    if rc != 0 or not counts or not all(c.isdigit() for c in counts):
        return "perf stat -e raw_syscalls:sys_enter failed (rc %s): %s" % (rc, " ".join(out.splitlines()[-2:])[:200])
    if not syscall_names():
        return "no <asm/unistd_64.h> to name the system calls by their numbers (Debian package linux-libc-dev)"
    return None


def strace_check():
    rc, out = _run_quiet(["strace", "-f", "-c", "-o", os.devnull, "--", "true"])
    if rc is None or rc != 0:
        return "strace -c failed: %s" % (out.splitlines()[-1][:200] if out else rc)
    return None


def _spawn(argv, stderr_path):
    with open(stderr_path, "wb") as err:
        proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=err,
                                start_new_session=True, preexec_fn=die_with_parent)
    record_group(proc.pid)
    return proc


def _end(proc, sig, timeout):
    """Sends sig to proc's group and waits; SIGKILL if it is still there after timeout. True if it ended by itself."""
    if proc.poll() is not None:
        return True
    try:
        os.killpg(proc.pid, sig)
    except ProcessLookupError:
        pass
    try:
        proc.wait(timeout=timeout)
        return True
    except subprocess.TimeoutExpired:
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            pass
        return False


def _tail(path, n=3):
    try:
        with open(path, errors="replace") as f:
            return " | ".join(f.read().strip().splitlines()[-n:])[:300]
    except OSError:
        return ""


class PerfCounter:
    """`perf record -e raw_syscalls:sys_enter -p PID`: one sample per system call of any of the server's threads
    (and of those it creates while recording: the event is inherited), whose `id` field names the call."""
    tool = "perf"

    def __init__(self, workdir):
        self.workdir = workdir
        self.proc = None
        self.runs = 0
        self.names = syscall_names()
        self.how = ("perf record -e raw_syscalls:sys_enter -p PID (every thread of the server, and those it creates "
                    "meanwhile), enabled only while redis-benchmark runs")
        self.data = os.path.join(workdir, "syscalls.data")
        self.err = os.path.join(workdir, "perf-record.stderr")
        self.fifos = [os.path.join(workdir, "perf.ctl"), os.path.join(workdir, "perf.ack")]
        self.ctl = self.ack = -1

    def open(self):
        pass

    def start(self, pid):
        self.runs += 1
        for path in self.fifos + [self.data]:
            if os.path.exists(path):
                os.unlink(path)
        for path in self.fifos:
            os.mkfifo(path)
        # read-write opens do not wait for the other end, and perf's exit is no EOF here
        self.ctl = os.open(self.fifos[0], os.O_RDWR)
        self.ack = os.open(self.fifos[1], os.O_RDWR | os.O_NONBLOCK)
        # -c 1: every call is a sample; -m: 16 MB of buffer per CPU, so that none is lost at ~300k calls/s;
        # -D -1: nothing is recorded before `enable`
        self.proc = _spawn(["perf", "record", "-q", "-o", self.data, "-c", "1", "-m", "4096", "-D", "-1",
                            "--control", "fifo:%s,%s" % tuple(self.fifos), "-e", "raw_syscalls:sys_enter",
                            "-p", str(pid)], self.err)
        try:
            self._command("enable")
        except CountError:
            self.kill()
            raise

    def _command(self, cmd, timeout=ATTACH_TIMEOUT):
        """Sends a command on the control FIFO and waits for perf's `ack`."""
        os.write(self.ctl, cmd.encode() + b"\n")
        deadline = time.monotonic() + timeout
        got = b""
        while b"ack" not in got:
            left = deadline - time.monotonic()
            if self.proc.poll() is not None:
                raise CountError("perf record exited (rc %s) before taking '%s': %s" % (
                    self.proc.returncode, cmd, _tail(self.err)))
            if left <= 0:
                raise CountError("perf record did not take '%s' within %.0f s" % (cmd, timeout))
            if select.select([self.ack], [], [], min(left, 0.2))[0]:
                got += os.read(self.ack, 64)

    def stop(self):
        """{syscall name: count, TOTAL: count} of the run started by start()."""
        if self.proc is None:
            raise CountError("no counter was running")
        try:
            self._command("disable")
            ended = _end(self.proc, signal.SIGINT, EXIT_TIMEOUT)     # perf writes its file and exits
        finally:
            self.kill()
        if not ended:
            raise CountError("perf record did not exit within %.0f s after SIGINT" % EXIT_TIMEOUT)
        try:
            return self._read()
        finally:
            if os.path.exists(self.data):
                os.unlink(self.data)

    def _read(self):
        rc, out = _run_quiet(["perf", "script", "-i", self.data, "-F", "trace"], timeout=EXIT_TIMEOUT)
        if rc != 0:
            raise CountError("perf script failed (rc %s): %s" % (rc, out[-300:]))
        ids = {}
        for m in re.finditer(r"^\s*NR (\d+) ", out, re.M):
            ids[int(m.group(1))] = ids.get(int(m.group(1)), 0) + 1
        if not ids:
            raise CountError("perf record wrote no system call: %s" % _tail(self.err))
        rc, stats = _run_quiet(["perf", "report", "-i", self.data, "--stats"], timeout=EXIT_TIMEOUT)
        lost = sum(int(m.group(1)) for m in re.finditer(r"LOST\w* events:\s+(\d+)", stats or ""))
        if lost:
            raise CountError("perf record lost samples (%d LOST records): the counts would be low" % lost)
        counts = {self.names.get(i, "syscall %d" % i): n for i, n in ids.items()}
        counts[TOTAL] = sum(ids.values())
        return counts

    def kill(self):
        if self.proc is not None:
            _end(self.proc, signal.SIGKILL, 10)
            self.proc = None
        for fd in (self.ctl, self.ack):
            if fd >= 0:
                os.close(fd)
        self.ctl = self.ack = -1

    def close(self):
        self.kill()


def syscall_names():
    """{number: name} from the C library's headers (linux-libc-dev), {} if they are not there."""
    names = {}
    for path in sorted(glob.glob("/usr/include/*/asm/unistd_64.h")) + ["/usr/include/asm/unistd_64.h"]:
        try:
            with open(path) as f:
                for m in re.finditer(r"^#define __NR_(\w+)\s+(\d+)", f.read(), re.M):
                    names[int(m.group(2))] = m.group(1)
        except OSError:
            continue
        if names:
            break
    return names


class StraceCounter:
    tool = "strace"

    def __init__(self, workdir):
        self.workdir = workdir
        self.current = None
        self.runs = 0
        self.how = ("strace -f -c -p PID (every thread, and those created meanwhile); it stops the server at each "
                    "system call, so these runs are slow")

    def open(self):
        pass

    def start(self, pid):
        self.runs += 1
        self.out = os.path.join(self.workdir, "strace.txt")
        self.err = os.path.join(self.workdir, "strace.stderr")
        if os.path.exists(self.out):
            os.unlink(self.out)
        try:
            want = len(os.listdir("/proc/%d/task" % pid))
        except OSError as e:
            raise CountError("reading /proc/%d/task: %s" % (pid, e))
        self.current = _spawn(["strace", "-f", "-c", "-o", self.out, "-p", str(pid)], self.err)
        deadline = time.monotonic() + ATTACH_TIMEOUT
        while True:         # "Process PID attached with N threads", or "Process TID attached" per thread
            try:
                with open(self.err, errors="replace") as f:
                    text = f.read()
            except OSError:
                text = ""
            attached = sum(int(m.group(1) or 1) for m in re.finditer(r" attached(?: with (\d+) threads)?", text))
            if attached >= want:
                return
            if self.current.poll() is not None or time.monotonic() > deadline:
                self.kill()
                raise CountError("strace attached %d of %d threads: %s" % (attached, want, _tail(self.err)))
            time.sleep(0.02)

    def stop(self):
        proc, self.current = self.current, None
        if proc is None:
            raise CountError("no counter was running")
        if not _end(proc, signal.SIGINT, EXIT_TIMEOUT):
            raise CountError("strace did not detach within %.0f s" % EXIT_TIMEOUT)
        counts = {}
        try:
            with open(self.out) as f:
                for line in f:
                    # % time  seconds  usecs/call  calls  [errors]  syscall
                    fields = line.split()
                    if len(fields) >= 5 and fields[3].isdigit() and fields[-1] != "total":
                        counts[fields[-1]] = int(fields[3])
        except OSError as e:
            raise CountError("strace wrote no summary (%s): %s" % (e, _tail(self.err)))
        counts[TOTAL] = sum(counts.values())
        return counts

    def kill(self):
        if self.current is not None:
            _end(self.current, signal.SIGKILL, 10)
            self.current = None

    def close(self):
        self.kill()


def choose_counter(tool, workdir):
    """tool: auto, perf, strace or none. Returns (counter or None, [notes])."""
    notes = []
    if tool in ("auto", "perf"):
        why = perf_check()
        if why is None:
            return PerfCounter(workdir), notes
        notes.append("perf cannot count system calls here: %s" % why)
        if tool == "perf":
            return None, notes
    if tool in ("auto", "strace"):
        why = strace_check()
        if why is None:
            return StraceCounter(workdir), notes
        notes.append("strace cannot count system calls here: %s" % why)
    if tool == "none":
        notes.append("system calls not counted (--syscall-tool none)")
    return None, notes
