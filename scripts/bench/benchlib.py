"""Helpers of bench.py: /proc readings, a minimal RESP client and loader, and server processes.

Every server listens on 127.0.0.1 on a port that was free a moment before. Each runs in its own process group,
is stopped by stop_all() (bench.py calls it whatever way it ends), dies with bench.py through PR_SET_PDEATHSIG,
and is written to $BENCH_PIDFILE so that bench.sh can kill it too. Every wait has a deadline.
"""
import ctypes
import os
import resource
import shlex
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time

CLK_TCK = os.sysconf("SC_CLK_TCK")
PING = b"*1\r\n$4\r\nPING\r\n"
START_TIMEOUT = 30.0   # seconds for a server's first +PONG
STOP_TIMEOUT = 5.0     # seconds between SIGTERM and SIGKILL


class BenchError(Exception):
    """A failure that ends the run: message for the user and the exit code."""

    def __init__(self, msg, code=4):
        super().__init__(msg)
        self.code = code


def log(msg=""):
    print(msg, flush=True)


def warn(msg):
    print("warning: " + msg, file=sys.stderr, flush=True)


# ----------------------------------------------------------------------------------------------------------
# /proc helpers

def proc_stat(pid):
    """Fields of /proc/PID/stat after the command name (index 0 = state), or None if the process is gone."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None


def proc_alive(pid):
    st = proc_stat(pid)
    return st is not None and st[0] not in ("Z", "X")


def cpu_ticks(pid):
    """user + system clock ticks of the whole process: all its threads, exited ones included."""
    st = proc_stat(pid)
    return None if st is None else int(st[11]) + int(st[12])


def proc_status(pid):
    """VmRSS in KiB and the thread count."""
    d = {}
    try:
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                k, _, v = line.partition(":")
                d[k] = v.strip()
    except OSError:
        return None
    return {"rss_kb": int(d.get("VmRSS", "0 kB").split()[0]), "threads": int(d.get("Threads", "0"))}


def kernel_stack_kb():
    """System-wide KernelStack: each thread costs one, and VmRSS does not show it."""
    with open("/proc/meminfo") as f:
        for line in f:
            if line.startswith("KernelStack:"):
                return int(line.split()[1])
    return 0


def listening_pid(port, candidates):
    """The PID (among candidates, or any) holding the listening socket on 127.0.0.1:port."""
    inodes = set()
    for fn in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            with open(fn) as f:
                next(f)
                for line in f:
                    p = line.split()
                    if p[3] == "0A" and int(p[1].rsplit(":", 1)[1], 16) == port:
                        inodes.add("socket:[%s]" % p[9])
        except OSError:
            pass
    pids = candidates or [int(d) for d in os.listdir("/proc") if d.isdigit()]
    for pid in pids:
        try:
            for fd in os.listdir("/proc/%d/fd" % pid):
                try:
                    if os.readlink("/proc/%d/fd/%s" % (pid, fd)) in inodes:
                        return pid
                except OSError:
                    pass
        except OSError:
            pass
    return None


def group_members(pgid):
    out = []
    for d in os.listdir("/proc"):
        if d.isdigit():
            st = proc_stat(int(d))
            if st is not None and st[2] == str(pgid):
                out.append(int(d))
    return out


def raise_nofile(need):
    """Raises this process's RLIMIT_NOFILE (servers and redis-benchmark started later inherit it)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard != resource.RLIM_INFINITY and hard < need:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (need, need))   # root may raise the hard limit
            soft, hard = need, need
        except (ValueError, OSError):
            pass
    want = hard if hard == resource.RLIM_INFINITY else max(soft, min(hard, max(need, 65536)))
    if soft != resource.RLIM_INFINITY and soft < want:
        resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))
    soft = resource.getrlimit(resource.RLIMIT_NOFILE)[0]
    if soft != resource.RLIM_INFINITY and soft < need:
        raise BenchError("need %d file descriptors, RLIMIT_NOFILE is %d (raise the hard limit: ulimit -Hn)"
                         % (need, soft), 2)


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# ----------------------------------------------------------------------------------------------------------
# A minimal RESP client (enough for PING, INFO, DBSIZE, GET, TTL)

class Conn:
    def __init__(self, port, timeout=10.0):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.buf = b""

    def close(self):
        self.sock.close()

    def _fill(self):
        chunk = self.sock.recv(65536)
        if not chunk:
            raise ConnectionError("connection closed by the server")
        self.buf += chunk

    def line(self):
        while b"\r\n" not in self.buf:
            self._fill()
        line, self.buf = self.buf.split(b"\r\n", 1)
        return line

    def reply(self):
        """Simple strings as b'+OK', errors as b'-ERR ...', integers as int, bulk as bytes/None."""
        line = self.line()
        if line[:1] == b"$":
            n = int(line[1:])
            if n < 0:
                return None
            while len(self.buf) < n + 2:
                self._fill()
            data, self.buf = self.buf[:n], self.buf[n + 2:]
            return data
        if line[:1] == b":":
            return int(line[1:])
        if line[:1] == b"*":
            return [self.reply() for _ in range(max(0, int(line[1:])))]
        return line

    def call(self, *args):
        self.sock.sendall(encode(args))
        return self.reply()


def encode(args):
    out = [b"*%d\r\n" % len(args)]
    for a in args:
        a = a if isinstance(a, bytes) else str(a).encode()
        out.append(b"$%d\r\n%s\r\n" % (len(a), a))
    return b"".join(out)


def info_field(port, section, field):
    """A field of INFO section, or None if the server does not answer it."""
    try:
        c = Conn(port, timeout=5)
        try:
            r = c.call("INFO", section)
        finally:
            c.close()
    except (OSError, ValueError):
        return None
    if isinstance(r, bytes) and not r.startswith(b"-"):
        for line in r.decode(errors="replace").splitlines():
            if line.startswith(field + ":"):
                return line.split(":", 1)[1].strip()
    return None


def load_keys(port, n, keyfmt, valsize, ttl=None, deadline_s=600.0, stall_s=60.0, db=0):
    """Pipelined SET of n keys into database db (value = the index as valsize digits, optionally EX ttl).
    Returns seconds."""
    key_fmt = keyfmt.encode()
    tail = b"" if ttl is None else b"$2\r\nEX\r\n$%d\r\n%d\r\n" % (len(str(ttl)), ttl)
    head = b"*3\r\n$3\r\nSET\r\n" if ttl is None else b"*5\r\n$3\r\nSET\r\n"

    def command(i):
        k = key_fmt % i
        v = b"%0*d" % (valsize, i)
        return b"%s$%d\r\n%s\r\n$%d\r\n%s\r\n%s" % (head, len(k), k, len(v), v, tail)
    return load_pipelined(port, n, command, b"+OK\r\n", "%d keys" % n, 10_000, deadline_s, stall_s, db)


def load_items(port, key, n, item, per_command, command="HSET", deadline_s=600.0, stall_s=60.0, db=0):
    """Pipelined HSET/SADD of n items into one key, per_command items per command (n a multiple of it);
    item(i) gives the arguments of item i (HSET: field and value; SADD: the member). Each command must add
    all its items (:per_command). Returns seconds."""
    if n % per_command:
        raise BenchError("load_items: %d items is not a multiple of %d per command" % (n, per_command))

    def cmd(c):
        return encode([command, key] + [a for i in range(c * per_command, (c + 1) * per_command) for a in item(i)])
    return load_pipelined(port, n // per_command, cmd, b":%d\r\n" % per_command,
                          "%d items into %s" % (n, key), max(1, 10_000 // per_command), deadline_s, stall_s, db)


def load_pipelined(port, n, command, reply, what, per_batch=10_000, deadline_s=600.0, stall_s=60.0, db=0):
    """Sends command(0) .. command(n-1) (encoded RESP) on one connection in batches of per_batch, into
    database db, while a reader thread checks that every reply is exactly `reply`. Returns seconds."""
    conn = Conn(port, timeout=stall_s)
    conn.sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 1 << 20)
    if db != 0:
        r = conn.call("SELECT", db)
        if r != b"+OK":
            conn.close()
            raise BenchError("SELECT %d answered %r" % (db, r))
    size = len(reply)
    expected = size * n
    state = {"bytes": 0, "error": None}

    def reader():
        pending = b""
        try:
            while state["bytes"] < expected:
                chunk = conn.sock.recv(1 << 20)
                if not chunk:
                    state["error"] = "connection closed after %d replies" % (state["bytes"] // size)
                    return
                data = pending + chunk
                whole = len(data) - len(data) % size
                if data[:whole].count(reply) * size != whole:
                    at = data.find(b"-")
                    if at < 0:
                        at = next(k for k in range(0, whole, size) if data[k:k + size] != reply)
                    state["error"] = "a reply was not %r: %r" % (reply, data[at:at + 120])
                    return
                pending = data[whole:]
                state["bytes"] += len(chunk)
        except OSError as e:
            state["error"] = "reading replies: %s" % e

    t0 = time.monotonic()
    th = threading.Thread(target=reader, daemon=True)
    th.start()
    try:
        for start in range(0, n, per_batch):
            conn.sock.sendall(b"".join(command(i) for i in range(start, min(n, start + per_batch))))
            if state["error"] or time.monotonic() - t0 > deadline_s:
                break
    except OSError as e:
        state["error"] = state["error"] or "sending: %s" % e
    th.join(max(1.0, deadline_s - (time.monotonic() - t0)))
    secs = time.monotonic() - t0
    conn.close()
    if state["error"] or state["bytes"] < expected:
        raise BenchError("loading %s into port %d: %s" % (
            what, port, state["error"] or "only %d replies within %.0f s" % (state["bytes"] // size, deadline_s)))
    return secs


def ping_latencies_us(conn, count=2000, bursts=10):
    """PING round trips in `bursts` bursts 20 ms apart (a single burst samples one scheduler placement only)."""
    for _ in range(200):                   # warm-up
        conn.sock.sendall(PING)
        conn.line()
    lat = []
    per = max(1, count // bursts)
    for i in range(count):
        if i and i % per == 0:
            time.sleep(0.02)
        t0 = time.perf_counter_ns()
        conn.sock.sendall(PING)
        line = conn.line()
        lat.append((time.perf_counter_ns() - t0) / 1000.0)
        if line != b"+PONG":
            raise BenchError("PING answered %r" % line[:80])
    lat.sort()
    return percentile(lat, 50), percentile(lat, 99)


def percentile(sorted_vals, p):
    if not sorted_vals:
        return float("nan")
    k = int(round(p / 100.0 * len(sorted_vals) + 0.5)) - 1
    return sorted_vals[min(len(sorted_vals) - 1, max(0, k))]


def median(vals):
    vals = [v for v in vals if v == v]
    return statistics.median(vals) if vals else float("nan")


# ----------------------------------------------------------------------------------------------------------
# Servers

_libc = ctypes.CDLL(None, use_errno=True)


def die_with_parent():
    _libc.prctl(1, signal.SIGKILL)         # PR_SET_PDEATHSIG: die with this script, however it ends


def record_group(pgid):
    """Writes a process group (its leader's PID, from start_new_session) to $BENCH_PIDFILE, where bench.sh's
    trap finds it and kills it if bench.py could not."""
    pidfile = os.environ.get("BENCH_PIDFILE")
    if pidfile:
        st = proc_stat(pgid)
        with open(pidfile, "a") as f:
            f.write("%d %s\n" % (pgid, st[19] if st else "0"))   # pgid, start time


class Server:
    """One server process: argv is a list whose items may contain {port}."""

    all_started = []

    def __init__(self, label, argv, workdir, version_cmd=None, fixed_version=None, maxclients_args=()):
        if "/" in argv[0]:                      # servers run in workdir: a relative path is the caller's
            argv = [os.path.abspath(argv[0])] + argv[1:]
        self.label, self.argv, self.workdir = label, argv, workdir
        self.version_cmd = version_cmd          # prints the version; else INFO server redis_version
        self.fixed_version = fixed_version
        self.maxclients_args = maxclients_args  # for --conns: items may contain {maxclients}
        self.proc = None
        self.pid = None          # the process that listens (CPU, RSS and liveness are read from it)
        self.port = None
        self.logpath = os.path.join(workdir, "server-%s.log" % label)

    def start(self, extra_args=()):
        for attempt in range(3):           # the free port may be taken between probe and bind
            self.port = free_port()
            argv = [a.replace("{port}", str(self.port)) for a in self.argv] + list(extra_args)
            with open(self.logpath, "ab") as logf:
                logf.write(("\n--- %s\n" % shlex.join(argv)).encode())
                logf.flush()
                try:
                    self.proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=logf,
                                                 stderr=subprocess.STDOUT, cwd=self.workdir,
                                                 start_new_session=True, preexec_fn=die_with_parent)
                except OSError as e:   # a missing or non-executable binary: a message, not a traceback
                    raise BenchError("cannot start %s: %s\n  command: %s" % (self.label, e, shlex.join(argv)), 3)
            if self not in Server.all_started:
                Server.all_started.append(self)
            record_group(self.proc.pid)
            why = self._wait_ping()
            if why is None:
                self.pid = listening_pid(self.port, group_members(self.proc.pid)) or self.proc.pid
                return self
            self.stop()
            if "in use" not in self.log_tail(5):
                break
        raise BenchError("%s did not answer PING on 127.0.0.1:%d within %.0f s (%s)\n  command: %s\n%s" % (
            self.label, self.port, START_TIMEOUT, why, shlex.join(argv), self.log_tail()), 3)

    def ping_once(self, timeout=5.0):
        """None if the server answers PING with +PONG within timeout, else why not."""
        try:
            c = Conn(self.port, timeout=timeout)
            try:
                r = c.call("PING")
            finally:
                c.close()
        except (OSError, ValueError) as e:
            return str(e) or type(e).__name__
        return None if r == b"+PONG" else "PING answered %r" % (r,)

    ping_poll_s = 0.05   # how often a starting server is asked for PING

    def _wait_ping(self):
        deadline = self._ping_deadline()
        last = "no answer"
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                return "it exited with status %s" % self.proc.returncode
            last = self.ping_once(timeout=2.0)
            if last is None:
                self._answered_ping()
                return None
            self._not_ready(last)
            time.sleep(self.ping_poll_s)
        return last

    # hooks for subclasses that time the start (durability.py)
    def _ping_deadline(self):
        return time.monotonic() + START_TIMEOUT

    def _answered_ping(self):
        pass

    def _not_ready(self, answer):
        pass

    def alive(self):
        if self.proc is None:
            return False
        if self.pid == self.proc.pid:
            return self.proc.poll() is None
        return proc_alive(self.pid)

    def check_alive(self, during):
        if not self.alive():
            rc = self.proc.returncode if self.proc is not None else None
            how = ("killed by signal %d" % -rc if rc < 0 else "exit status %d" % rc) if rc is not None else "died"
            raise BenchError("%s (pid %s) died (%s) during %s; last lines of its output:\n%s" % (
                self.label, self.pid, how, during, self.log_tail()), 4)

    def stop(self):
        if self.proc is None:
            return
        for sig in (signal.SIGTERM, signal.SIGKILL):
            try:
                os.killpg(self.proc.pid, sig)
            except ProcessLookupError:
                pass
            if self.pid and self.pid != self.proc.pid:
                try:
                    os.kill(self.pid, sig)
                except ProcessLookupError:
                    pass
            try:
                self.proc.wait(timeout=STOP_TIMEOUT)
                if not (self.pid and self.pid != self.proc.pid and proc_alive(self.pid)):
                    break
            except subprocess.TimeoutExpired:
                pass
        self.proc = None

    def version(self):
        if self.fixed_version:
            return self.fixed_version
        if self.version_cmd:
            try:
                out = subprocess.run(self.version_cmd, capture_output=True, text=True, timeout=10)
                text = (out.stdout or out.stderr).strip().splitlines()
                if text:
                    return text[0]
            except (OSError, subprocess.TimeoutExpired):
                pass
        v = info_field(self.port, "server", "redis_version") if self.port else None
        return "redis_version " + v if v else "n/a"

    def log_tail(self, n=20):
        try:
            with open(self.logpath, errors="replace") as f:
                lines = f.read().splitlines()[-n:]
        except OSError:
            return ""
        return "\n".join("    " + l for l in lines)


def stop_all():
    for s in Server.all_started:
        try:
            s.stop()
        except Exception as e:            # never leave the others running because one failed
            warn("stopping %s: %s" % (s.label, e))
