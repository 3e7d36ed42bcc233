#!/usr/bin/env python3
"""scripts/bench.sh --isolation: latency of small commands while another client runs a slow one.

Per round and per server (A then B): a fresh server, --keys keys in db 0 and as many in db 1 (pipelined SETs,
not timed), then three probe processes (PING, GET, SET, each its own connection) send one command about every
millisecond while a fourth connection runs, one after the other:

    KEYS *            in db 0
    FLUSHDB           of db 1 (db 1 is loaded again afterwards, untimed, so that BGSAVE sees the full data)
    MGET              of 100,000 keys of db 0 (spread over the keyspace)
    DEL               of a 100 MB string (SET first, untimed)
    BGSAVE            only if the server answers "+Background saving started"; its run lasts until INFO
                      persistence shows rdb_bgsave_in_progress:0 (the file goes to the server's --dir or
                      working directory, both the bench's temp directory)
    then, in db 0, a hash `bighash` of --keys fields and a set `bigset` of --keys members are loaded (pipelined
    HSET/SADD of 100 items each, not timed), and
    HGETALL bighash, SMEMBERS bigset, SUNIONSTORE dst bigset, DEL dst, DEL bighash

For each slow command: its own time (from the first byte sent to the last byte of the reply), and for each
probe the samples whose round trip overlaps that time, their p99 and max. Also an idle second before the
first slow command, as the baseline.

Why processes and not threads: a Python thread needs the GIL to take its timestamp after recv() returns, and
whichever thread holds it (e.g. the one receiving an 18 MB KEYS reply) keeps it for up to the 5 ms switch
interval; on a 2-core machine that would add client-side waits that belong to neither server. Each probe is
therefore `python3 isolation.py --probe KIND PORT FILE`: a blocking socket, CLOCK_MONOTONIC timestamps (the
same clock in every process, so probe samples and the slow command's window compare directly), GC off, and
its samples written to FILE when it is told to stop (stdin closed). The slow client in the main process does
not parse replies while timing: it knows the exact size of the expected reply and only counts bytes.
"""
import array
import bisect
import gc
import os
import re
import select
import socket
import subprocess
import sys
import threading
import time

if __name__ != "__main__" or "--probe" not in sys.argv[1:2]:
    from benchlib import BenchError, Conn, die_with_parent, encode, load_items, load_keys, log, percentile, warn

PROBES = ("PING", "GET", "SET")
INTERVAL_NS = 1_000_000            # one probe command about every millisecond
VALSIZE = 16                       # loaded values: the key's index as 16 digits
MGET_KEYS = 100_000
BIG_BYTES = 100 * 1024 * 1024
SLOW_TIMEOUT = 300.0               # seconds for any slow command (or a probe round trip)
BGSAVE_DEADLINE = 300.0
IDLE_S = 1.0
STALL_MS = 10.0                    # probe round trips above this on the server under test are listed
PROBE_SET_KEY = b"probe:set"
BIG_HASH, BIG_SET, UNION_DST = "bighash", "bigset", "dst"   # in db 0, loaded after BGSAVE
OK_DB = 0


def clock_ns():
    """CLOCK_MONOTONIC: one clock for all processes of the machine (perf_counter uses it too on Linux)."""
    return time.clock_gettime_ns(time.CLOCK_MONOTONIC)


def key_format(n):
    """Fixed-width key names key:0000000 .. (all the same length, so a KEYS reply's size is known)."""
    return "key:%%0%dd" % max(7, len(str(max(0, n - 1))))


# ----------------------------------------------------------------------------------------------------------
# Probe process (`isolation.py --probe KIND PORT FILE`): no benchlib import, nothing but the loop.

def probe_main(argv):
    kind, port, out = argv[0], int(argv[1]), argv[2]
    gc.disable()

    def enc(*args):
        return b"".join([b"*%d\r\n" % len(args)] + [b"$%d\r\n%s\r\n" % (len(a), a) for a in args])

    get_key = (key_format(int(argv[3])) % 0).encode()
    cmd, want = {
        "PING": (enc(b"PING"), b"+PONG\r\n"),
        "GET": (enc(b"GET", get_key), b"$%d\r\n%0*d\r\n" % (VALSIZE, VALSIZE, 0)),
        "SET": (enc(b"SET", PROBE_SET_KEY, b"%0*d" % (VALSIZE, 1)), b"+OK\r\n"),
    }[kind]
    need = len(want)
    sock = socket.create_connection(("127.0.0.1", port), timeout=SLOW_TIMEOUT)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def round_trip():
        sock.sendall(cmd)
        got = b""
        while len(got) < need:
            chunk = sock.recv(need - len(got))
            if not chunk:
                raise ConnectionError("connection closed by the server")
            got += chunk
        return got

    for _ in range(200):                       # warm-up; every reply must be right before we start
        got = round_trip()
        if got != want:
            print("error %s answered %r, expected %r" % (kind, got[:80], want), flush=True)
            return 1
    print("ready", flush=True)
    samples = array.array("q")
    errors, first_error, rc = 0, "", 0
    hard_end = clock_ns() + 4 * 3600 * 10 ** 9
    next_t = clock_ns()
    try:
        while True:
            wait = next_t - clock_ns()
            if select.select([0], [], [], max(0, wait) / 1e9)[0] or clock_ns() > hard_end:
                break                          # stdin readable: the parent closed it (stop)
            t0 = clock_ns()
            got = round_trip()
            t1 = clock_ns()
            samples.append(t0)
            samples.append(t1)
            if got != want:
                errors += 1
                first_error = first_error or "%r" % got[:80]
            next_t = t0 + INTERVAL_NS
    except OSError as e:
        first_error, rc = "%s after %d samples: %s" % (kind, len(samples) // 2, e), 1
    with open(out, "wb") as f:
        samples.tofile(f)
    print("done %d %d %s" % (len(samples) // 2, errors, first_error), flush=True)
    return rc


# ----------------------------------------------------------------------------------------------------------
# The bench side

class Probe:
    def __init__(self, kind, port, keys, workdir, tag):
        self.kind = kind
        self.out = os.path.join(workdir, "probe-%s-%s.bin" % (tag, kind))
        self.errlog = open(os.path.join(workdir, "probe-%s-%s.err" % (tag, kind)), "wb")
        self.proc = subprocess.Popen([sys.executable, os.path.abspath(__file__), "--probe", kind, str(port),
                                      self.out, str(keys)],
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self.errlog,
                                     preexec_fn=die_with_parent)
        self.t0 = self.t1 = None
        self.errors, self.error_text = 0, ""

    def wait_ready(self, deadline):
        line = b""
        while not line.endswith(b"\n") and time.monotonic() < deadline:
            if select.select([self.proc.stdout], [], [], 0.2)[0]:
                c = os.read(self.proc.stdout.fileno(), 256)
                if not c:
                    break
                line += c
        if line.strip() != b"ready":
            raise BenchError("the %s probe did not start: %r" % (self.kind, line.strip()[:200] or b"no answer"))

    def stop(self):
        """Stops the process and reads its samples; errors are counted, not raised."""
        if self.proc is None:
            return
        try:                                   # communicate() closes stdin: the probe's signal to stop
            out = self.proc.communicate(timeout=SLOW_TIMEOUT + 30)[0].decode(errors="replace")
        except subprocess.TimeoutExpired:
            self.proc.kill()
            out = self.proc.communicate()[0].decode(errors="replace")
            self.error_text = "did not stop"
        self.errlog.close()
        self.proc = None
        m = re.search(r"done (\d+) (\d+) ?(.*)", out)
        if m:
            self.errors = int(m.group(2))
            self.error_text = self.error_text or m.group(3).strip()
        else:
            self.error_text = self.error_text or "no summary: %r" % out.strip()[-200:]
        a = array.array("q")
        try:
            with open(self.out, "rb") as f:
                a.frombytes(f.read())
            os.unlink(self.out)
        except OSError:
            pass
        self.t0, self.t1 = a[0::2], a[1::2]    # both ascending: the probe sends after each reply

    def kill(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        self.proc = None
        if not self.errlog.closed:
            self.errlog.close()

    def overlapping(self, w0, w1):
        """(start_ns, latency_ms) of the samples whose round trip overlaps [w0, w1]."""
        lo = bisect.bisect_right(self.t1, w0)   # first sample that ended after w0
        hi = bisect.bisect_left(self.t0, w1)    # samples that started before w1
        return [(self.t0[i], (self.t1[i] - self.t0[i]) / 1e6) for i in range(lo, hi)]


class SchedMonitor(threading.Thread):
    """While active, reads every ~2 ms /proc/.../schedstat (ns on a CPU, ns runnable but waiting for one) of
    each probe process and of the server thread that serves it (when the server has one thread per client).
    A probe round trip that took long is then split into: the probe process waited for a CPU, the server
    thread waited for a CPU, or neither (the server thread was blocked: a lock, I/O, ...)."""

    PERIOD = 0.002

    def __init__(self):
        super().__init__(daemon=True)
        self.paths = {}                   # name -> schedstat path
        self.samples = []                 # (clock_ns, {name: (cpu_ns, runq_ns)})
        self.active = threading.Event()
        self.done = threading.Event()

    @staticmethod
    def read(path):
        try:
            with open(path) as f:
                v = f.read().split()
            return int(v[0]), int(v[1])
        except (OSError, ValueError, IndexError):
            return None

    def run(self):
        while not self.done.is_set():
            if not self.active.wait(0.1):
                continue
            self.samples.append((clock_ns(), {k: self.read(p) for k, p in self.paths.items()}))
            time.sleep(self.PERIOD)

    def stop(self):
        self.done.set()
        self.join(5)

    def explain(self, t0, t1, names):
        """{name: (cpu_ms, runq_ms)} between the last sample before t0 and the first after t1."""
        ts = [x[0] for x in self.samples]
        i, j = bisect.bisect_right(ts, t0) - 1, bisect.bisect_left(ts, t1)
        if i < 0 or j >= len(ts) or ts[j] - ts[i] > (t1 - t0) + 50 * 10 ** 6:
            return None                    # not sampled closely enough around the round trip
        out = {}
        for k in names:
            a, b = self.samples[i][1].get(k), self.samples[j][1].get(k)
            if a and b:
                out[k] = ((b[0] - a[0]) / 1e6, (b[1] - a[1]) / 1e6)
        return out


def server_tasks(pid):
    try:
        return set(os.listdir("/proc/%d/task" % pid))
    except OSError:
        return set()


def load_db(port, db, n, keyfmt):
    """Pipelined SET of n keys into db (value = the index as VALSIZE digits). Returns seconds."""
    return load_keys(port, n, keyfmt, VALSIZE, db=db)


def read_exact(sock, size, first):
    """Receives exactly `size` bytes (the expected reply) into a bytearray; if the reply starts with another
    byte than `first` (an error), reads that line and raises. Returns (data, clock_ns at the last byte)."""
    buf = bytearray(size)
    view = memoryview(buf)
    got = 0
    while got < size:
        k = sock.recv_into(view[got:], size - got)
        if k == 0:
            raise BenchError("connection closed after %d of %d reply bytes" % (got, size))
        if got == 0 and buf[0] != first:
            line = bytes(buf[:k])
            while b"\r\n" not in line and len(line) < 4096:
                c = sock.recv(4096)
                if not c:
                    break
                line += c
            raise BenchError("answered %r" % line.split(b"\r\n", 1)[0][:200])
        got += k
    t1 = clock_ns()
    return buf, t1


def no_more_data(sock):
    """After an exact-size read: True if nothing else arrived (the reply was not longer than expected)."""
    sock.setblocking(False)
    try:
        extra = sock.recv(1)
    except BlockingIOError:
        extra = b""
    finally:
        sock.setblocking(True)
        sock.settimeout(SLOW_TIMEOUT)
    return not extra


def timed(conn, cmd, size, first):
    conn.buf = b""
    t0 = clock_ns()
    conn.sock.sendall(cmd)
    data, t1 = read_exact(conn.sock, size, first)
    if not no_more_data(conn.sock):
        raise BenchError("the reply was longer than the %d bytes expected" % size)
    return data, t0, t1


class Session:
    """One server, one round: load, probes, the slow commands. Appends rows to results."""

    def __init__(self, srv, args, rnd):
        self.srv, self.args, self.rnd = srv, args, rnd
        self.n = args.keys
        self.keyfmt = key_format(self.n)
        self.big = max(100, self.n - self.n % 100)   # fields of the big hash, members of the big set
        self.windows = []      # (step, t0, t1, cmd_ms or None, note)
        self.probes = []
        self.mon = SchedMonitor()

    def step(self, name, fn):
        """Runs one slow command; a wrong reply is recorded as this step's note (and a failure)."""
        self.srv.check_alive(name)
        try:
            fn(name)
        except (BenchError, OSError, ValueError) as e:
            self.srv.check_alive(name)
            self.windows.append((name, None, None, None, "FAILED: %s" % e))
            self.slow.close()                  # its stream may hold the rest of a reply: a new connection
            self.slow = Conn(self.srv.port, timeout=SLOW_TIMEOUT)
            self.args.failures.append("isolation %s %s" % (self.srv.label, name))
            warn("%s, round %d, %s: %s" % (self.srv.label, self.rnd, name, e))
        finally:
            self.mon.active.clear()
        self.srv.check_alive(name)

    def sampled(self):
        """Starts the schedstat samples a little before a timed command (they are stopped after it)."""
        self.mon.active.set()
        time.sleep(0.005)

    def timed(self, cmd, size, first):
        self.sampled()
        try:
            return timed(self.slow, cmd, size, first)
        finally:
            time.sleep(0.005)
            self.mon.active.clear()

    def run(self):
        srv, n = self.srv, self.n
        srv.start()
        srv.version_seen = srv.version()
        log("\n  round %d, %s: %s (port %d, pid %d), load average %s" % (
            self.rnd, srv.label, srv.version_seen, srv.port, srv.pid, load_avg()))
        c = Conn(srv.port, timeout=SLOW_TIMEOUT)
        try:                                   # empty, even if it found a dump file to load at its start
            r = c.call("FLUSHALL")
        finally:
            c.close()
        if r != b"+OK":
            raise BenchError("%s: FLUSHALL answered %r" % (srv.label, r))
        for db in (0, 1):
            secs = load_db(srv.port, db, n, self.keyfmt)
            srv.check_alive("loading db %d" % db)
            log("    loaded %d keys %s (%d-byte values) into db %d in %.1f s" % (n, self.keyfmt, VALSIZE, db, secs))
        c = Conn(srv.port, timeout=SLOW_TIMEOUT)
        try:
            sizes = []
            for db in (1, 0):
                c.call("SELECT", db)
                sizes.insert(0, c.call("DBSIZE"))
            ok = c.call("SET", PROBE_SET_KEY, "%0*d" % (VALSIZE, 1))
            got = c.call("GET", self.keyfmt % 0)
        finally:
            c.close()
        if sizes != [n, n] or ok != b"+OK" or got != b"%0*d" % (VALSIZE, 0):
            raise BenchError("%s after loading: DBSIZE of db 0 and 1 %r (expected %d), SET %r, GET %r" % (
                srv.label, sizes, n, ok, got))
        tag = "%s-%d" % (srv.label, self.rnd)
        try:
            deadline = time.monotonic() + 60
            for k in PROBES:                   # one by one: the server thread each one gets can be told apart
                before = server_tasks(srv.pid)
                p = Probe(k, srv.port, n, self.args.workdir, tag)
                self.probes.append(p)
                p.wait_ready(deadline)
                self.mon.paths[k + " probe"] = "/proc/%d/schedstat" % p.proc.pid
                new = server_tasks(srv.pid) - before
                if len(new) == 1:
                    self.mon.paths[k + " server"] = "/proc/%d/task/%s/schedstat" % (srv.pid, new.pop())
            self.mon.start()
            self.slow = Conn(srv.port, timeout=SLOW_TIMEOUT)
            try:
                self.sampled()
                t0 = clock_ns()
                time.sleep(IDLE_S)
                self.windows.append(("idle %.0f s" % IDLE_S, t0, clock_ns(), None, ""))
                time.sleep(0.005)
                self.mon.active.clear()
                self.step("KEYS * (db 0)", self.keys_star)
                self.step("FLUSHDB (db 1)", self.flushdb)
                self.step("MGET %d keys" % min(MGET_KEYS, n), self.mget)
                self.step("DEL 100 MB string", self.del_big)
                self.step("BGSAVE", self.bgsave)
                self.step("load %s, %s" % (BIG_HASH, BIG_SET), self.load_big)
                self.step("HGETALL " + BIG_HASH, self.hgetall)
                self.step("SMEMBERS " + BIG_SET, self.smembers)
                self.step("SUNIONSTORE %s %s" % (UNION_DST, BIG_SET), self.sunionstore)
                self.step("DEL %s (a set)" % UNION_DST, lambda step: self.del_key(step, UNION_DST, "members"))
                self.step("DEL " + BIG_HASH, lambda step: self.del_key(step, BIG_HASH, "fields"))
            finally:
                self.slow.close()
            for p in self.probes:
                p.stop()
        finally:
            for p in self.probes:
                p.kill()
            if self.mon.is_alive():
                self.mon.stop()
        srv.check_alive("the isolation steps")
        srv.stop()
        return self.rows()

    def select(self, db):
        r = self.slow.call("SELECT", db)
        if r != b"+OK":
            raise BenchError("SELECT %d answered %r" % (db, r))

    def keys_star(self, name):
        self.select(0)
        klen = len(self.keyfmt % 0)
        elem = len(b"$%d\r\n" % klen) + klen + 2
        extra = b"$%d\r\n%s\r\n" % (len(PROBE_SET_KEY), PROBE_SET_KEY)
        head = b"*%d\r\n" % (self.n + 1)
        data, t0, t1 = self.timed(encode(("KEYS", "*")), len(head) + self.n * elem + len(extra), ord("*"))
        if not data.startswith(head) or data.count(b"\r\nkey:") != self.n or extra not in data:
            raise BenchError("the KEYS reply does not hold the %d keys and %s" % (self.n, PROBE_SET_KEY.decode()))
        self.windows.append((name, t0, t1, (t1 - t0) / 1e6, "%d keys, %.1f MB reply" % (self.n + 1, len(data) / 1e6)))

    def flushdb(self, name):
        self.select(1)
        _, t0, t1 = self.timed(encode(("FLUSHDB",)), 5, ord("+"))
        size = self.slow.call("DBSIZE")
        if size != 0:
            raise BenchError("DBSIZE of db 1 after FLUSHDB: %r" % size)
        self.windows.append((name, t0, t1, (t1 - t0) / 1e6, "%d keys" % self.n))
        secs = load_db(self.srv.port, 1, self.n, self.keyfmt)     # untimed: BGSAVE then sees both dbs
        log("    reloaded db 1 in %.1f s" % secs)

    def mget(self, name):
        self.select(0)
        m = min(MGET_KEYS, self.n)
        step = self.n // m
        cmd = encode(["MGET"] + [self.keyfmt % (i * step) for i in range(m)])
        elem = len(b"$%d\r\n" % VALSIZE) + VALSIZE + 2
        head = b"*%d\r\n" % m
        data, t0, t1 = self.timed(cmd, len(head) + m * elem, ord("*"))
        if not data.startswith(head + b"$%d\r\n%0*d\r\n" % (VALSIZE, VALSIZE, 0)) or \
                data.count(b"$%d\r\n" % VALSIZE) != m or not data.endswith(b"%0*d\r\n" % (VALSIZE, (m - 1) * step)):
            raise BenchError("the MGET reply does not hold the %d values" % m)
        self.windows.append((name, t0, t1, (t1 - t0) / 1e6, "keys 0, %d, %d, ..." % (step, 2 * step) if step > 1 else ""))

    def del_big(self, name):
        self.select(0)
        ok = self.slow.call("SET", "big", b"x" * BIG_BYTES)     # untimed
        size = self.slow.call("STRLEN", "big")
        if ok != b"+OK" or size != BIG_BYTES:
            raise BenchError("SET big (100 MB) answered %r, STRLEN %r" % (ok, size))
        time.sleep(0.2)
        _, t0, t1 = self.timed(encode(("DEL", "big")), 4, ord(":"))
        self.windows.append((name, t0, t1, (t1 - t0) / 1e6, ""))

    def bgsave(self, name):
        self.select(0)
        self.slow.buf = b""
        self.sampled()
        t0 = clock_ns()
        r = self.slow.call("BGSAVE")
        t_reply = clock_ns()
        if r != b"+Background saving started":
            text = r.decode(errors="replace") if isinstance(r, bytes) else repr(r)
            self.windows.append((name, None, None, None, "skipped: BGSAVE answered %s" % text[:60].rstrip(" :,")))
            return
        deadline = time.monotonic() + BGSAVE_DEADLINE
        while True:
            info = self.slow.call("INFO", "persistence")
            t1 = clock_ns()
            text = info.decode(errors="replace") if isinstance(info, bytes) else ""
            if "rdb_bgsave_in_progress:0" in text:
                break
            if time.monotonic() > deadline:
                raise BenchError("still saving after %.0f s" % BGSAVE_DEADLINE)
            time.sleep(0.01)
        time.sleep(0.005)                      # a schedstat sample after the end
        self.remove_dump()
        status = re.search(r"rdb_last_bgsave_status:(\w+)", text)
        note = "reply after %.1f ms; until rdb_bgsave_in_progress:0" % ((t_reply - t0) / 1e6)
        if not status or status.group(1) != "ok":
            note += "; rdb_last_bgsave_status:%s" % (status.group(1) if status else "?")
            self.args.failures.append("isolation %s BGSAVE" % self.srv.label)
        self.windows.append((name, t0, t1, (t1 - t0) / 1e6, note))

    def load_big(self, name):
        """Untimed setup: one hash of `big` fields field:%07d -> 8 digits and one set of `big` members
        member:%07d, in db 0 (HSET/SADD of 100 items per command, pipelined), checked by HLEN and SCARD.
        A failure is this step's note, and the steps after it fail on their replies."""
        self.select(0)
        m = self.big
        hs = load_items(self.srv.port, BIG_HASH, m, lambda i: (b"field:%07d" % i, b"%08d" % i), 100)
        ss = load_items(self.srv.port, BIG_SET, m, lambda i: (b"member:%07d" % i,), 100, "SADD")
        hlen, scard = self.slow.call("HLEN", BIG_HASH), self.slow.call("SCARD", BIG_SET)
        enc = [self.slow.call("OBJECT", "ENCODING", k) for k in (BIG_HASH, BIG_SET)]
        if hlen != m or scard != m:
            raise BenchError("after loading: HLEN %s %r, SCARD %s %r (expected %d)" % (
                BIG_HASH, hlen, BIG_SET, scard, m))
        log("    loaded %s (%d fields, %s) in %.1f s and %s (%d members, %s) in %.1f s" % (
            BIG_HASH, m, enc[0].decode(errors="replace"), hs, BIG_SET, m, enc[1].decode(errors="replace"), ss))
        time.sleep(0.2)

    def hgetall(self, name):
        self.select(0)
        m = self.big
        flen = len(b"field:%07d" % 0)
        head = b"*%d\r\n" % (2 * m)
        pair = len(b"$%d\r\n" % flen) + flen + 2 + len(b"$8\r\n") + 8 + 2
        data, t0, t1 = self.timed(encode(("HGETALL", BIG_HASH)), len(head) + m * pair, ord("*"))
        parts = bytes(data[len(head):]).split(b"\r\n")      # $13, field, $8, value, ..., ""
        fields, values = parts[1::4], parts[3::4]
        if not data.startswith(head) or len(parts) != 4 * m + 1 or len(set(fields)) != m or not all(
                f[:6] == b"field:" and len(f) == flen and v[:1] == b"0" and f[6:] == v[1:]
                for f, v in zip(fields, values)):
            raise BenchError("the HGETALL reply does not hold the %d fields field:%%07d with their values" % m)
        self.windows.append((name, t0, t1, (t1 - t0) / 1e6, "%d fields, %.1f MB reply" % (m, len(data) / 1e6)))

    def smembers(self, name):
        self.select(0)
        m = self.big
        mlen = len(b"member:%07d" % 0)
        head = b"*%d\r\n" % m
        data, t0, t1 = self.timed(encode(("SMEMBERS", BIG_SET)), len(head) + m * (len(b"$%d\r\n" % mlen) + mlen + 2),
                                  ord("*"))
        members = bytes(data[len(head):]).split(b"\r\n")[1::2]
        if not data.startswith(head) or len(members) != m or len(set(members)) != m or not all(
                x[:7] == b"member:" and len(x) == mlen for x in members):
            raise BenchError("the SMEMBERS reply does not hold the %d members member:%%07d" % m)
        self.windows.append((name, t0, t1, (t1 - t0) / 1e6, "%d members, %.1f MB reply" % (m, len(data) / 1e6)))

    def sunionstore(self, name):
        self.select(0)
        m = self.big
        data, t0, t1 = self.timed(encode(("SUNIONSTORE", UNION_DST, BIG_SET)), len(b":%d\r\n" % m), ord(":"))
        scard = self.slow.call("SCARD", UNION_DST)
        if bytes(data) != b":%d\r\n" % m or scard != m:
            raise BenchError("SUNIONSTORE answered %r, then SCARD %s %r (expected %d)" % (
                bytes(data), UNION_DST, scard, m))
        self.windows.append((name, t0, t1, (t1 - t0) / 1e6, "%d members stored" % m))

    def del_key(self, name, key, what):
        self.select(0)
        time.sleep(0.2)
        data, t0, t1 = self.timed(encode(("DEL", key)), 4, ord(":"))
        if bytes(data) != b":1\r\n":
            raise BenchError("DEL %s answered %r" % (key, bytes(data)))
        self.windows.append((name, t0, t1, (t1 - t0) / 1e6, "%d %s" % (self.big, what)))

    def why(self, kind, t, lat_ms):
        """Where a long round trip went, from the schedstat samples around it."""
        got = self.mon.explain(t, t + int(lat_ms * 1e6), (kind + " probe", kind + " server"))
        if not got:
            return "not sampled"
        parts, waits = [], 0.0
        for side in ("probe", "server"):
            v = got.get("%s %s" % (kind, side))
            if v:
                parts.append("%s on a CPU %.1f ms, waiting for one %.1f ms" % (
                    "probe process" if side == "probe" else "server thread", v[0], v[1]))
                waits = max(waits, v[1])
        if kind + " server" not in got:
            parts.append("server thread unknown")
            verdict = ""
        elif waits >= 0.5 * lat_ms:
            verdict = " -> CPU contention"
        else:
            verdict = " -> NOT waiting for a CPU: the server thread was blocked (lock? I/O?)"
        return "; ".join(parts) + verdict

    def remove_dump(self):
        """Removes the file BGSAVE wrote (CONFIG GET dir, dbfilename), but only inside the bench's temp dir."""
        d, f = self.slow.call("CONFIG", "GET", "dir"), self.slow.call("CONFIG", "GET", "dbfilename")
        if not (isinstance(d, list) and len(d) == 2 and isinstance(f, list) and len(f) == 2):
            warn("%s: CONFIG GET dir/dbfilename answered %r %r: the BGSAVE file is left" % (self.srv.label, d, f))
            return
        path = os.path.realpath(os.path.join(d[1].decode(errors="replace"), f[1].decode(errors="replace")))
        if os.path.commonpath([path, os.path.realpath(self.args.workdir)]) != os.path.realpath(self.args.workdir):
            warn("%s: BGSAVE wrote %s, outside the bench's temp dir: left there" % (self.srv.label, path))
            return
        try:
            os.unlink(path)
        except OSError as e:
            warn("removing %s: %s" % (path, e))

    def rows(self):
        out = []
        for step, w0, w1, ms, note in self.windows:
            row = {"step": step, "server": self.srv.label, "round": self.rnd, "ms": ms, "note": note,
                   "probes": {}, "stalls": []}
            if w0 is not None:
                for p in self.probes:
                    s = p.overlapping(w0, w1)
                    row["probes"][p.kind] = sorted(lat for _, lat in s)
                    row["stalls"] += [(p.kind, (t - w0) / 1e6, lat, self.why(p.kind, t, lat))
                                      for t, lat in s if lat > STALL_MS]
            out.append(row)
        for p in self.probes:
            if p.errors or p.error_text:
                msg = "%s probe on %s: %d wrong replies %s" % (p.kind, self.srv.label, p.errors, p.error_text)
                warn(msg)
                self.args.failures.append("isolation %s %s probe" % (self.srv.label, p.kind))
        return out


def load_avg():
    with open("/proc/loadavg") as f:
        return " ".join(f.read().split()[:3])


# ----------------------------------------------------------------------------------------------------------
# Table

def merge(rows, labels):
    """{step: {label: merged}} in step order: cmd ms = median over rounds, probe samples pooled."""
    steps = {}
    for r in rows:
        by = steps.setdefault(r["step"], {})
        m = by.setdefault(r["server"], {"ms": [], "notes": [], "probes": {k: [] for k in PROBES}, "stalls": [],
                                         "rounds": 0})
        m["rounds"] += 1
        if r["ms"] is not None:
            m["ms"].append(r["ms"])
        if r["note"]:
            m["notes"].append((r["round"], r["note"]))
        for k, v in r["probes"].items():
            m["probes"][k] += v
        m["stalls"] += [(r["round"],) + s for s in r["stalls"]]
    for by in steps.values():
        for m in by.values():
            for k in PROBES:
                m["probes"][k].sort()
            m["ms"] = sorted(m["ms"])[len(m["ms"]) // 2] if m["ms"] else None
            texts = [nt for _, nt in m["notes"]]    # the same in every round: once, else per round
            m["notes"] = texts[:1] if len(set(texts)) == 1 else ["round %d: %s" % x for x in m["notes"]]
    return steps


def probe_cells(m, k):
    s = m["probes"][k] if m else []
    if not s:
        return ("0", "-", "-")
    return ("%d" % len(s), "%.2f" % percentile(s, 99), "%.2f" % s[-1])


def worst(m, what):
    vals = [percentile(m["probes"][k], 99) if what == "p99" else m["probes"][k][-1] for k in PROBES if m["probes"][k]]
    return max(vals) if vals else None


def print_table(rows, labels, rounds):
    steps = merge(rows, labels)
    log("")
    log("slow command's time in ms (first byte sent .. last reply byte%s); probes: samples overlapping it, "
        "p99 and max round trip in ms%s" % (", median of %d rounds" % rounds if rounds > 1 else "",
                                             ", pooled over the rounds" if rounds > 1 else ""))
    sw = max([18] + [len(step) for step in steps])     # the slow command's column
    widths = [sw, 6, 9] + [6, 7, 8] * len(PROBES)
    hdr = ["slow command", "server", "cmd ms"]
    for k in PROBES:
        hdr += [k + " n", "p99", "max"]
    fmt = "  ".join("%-*s" if i < 2 else "%*s" for i in range(len(hdr)))

    def line(cells):
        return fmt % tuple(x for pair in zip(widths, cells) for x in pair)

    log(line(hdr))
    log("-" * (sum(widths) + 2 * (len(widths) - 1)))
    notes = []
    for step, by in steps.items():
        for i, lab in enumerate(labels):
            m = by.get(lab)
            if m is None:
                continue
            cells = [step if i == 0 else "", lab, "%.1f" % m["ms"] if m["ms"] is not None else "-"]
            for k in PROBES:
                cells += probe_cells(m, k)
            log(line(cells))
            for nt in m["notes"]:
                notes.append("%s, %s: %s" % (step, lab, nt))
    if notes:
        log("notes:")
        for nt in notes:
            log("  " + nt)

    a, b = labels
    log("\nratios %s/%s (probe = the worst of the three probes):" % (a, b))
    for step, by in steps.items():
        ma, mb = by.get(a), by.get(b)
        if not ma or not mb or not ma["probes"]["PING"] and not mb["probes"]["PING"]:
            continue
        parts = []
        if ma["ms"] and mb["ms"]:
            parts.append("cmd time %.2f (%.1f / %.1f ms)" % (ma["ms"] / mb["ms"], ma["ms"], mb["ms"]))
        for what in ("max", "p99"):
            wa, wb = worst(ma, what), worst(mb, what)
            if wa is not None and wb:
                parts.append("probe %s %.3f (%.2f / %.2f ms)" % (what, wa / wb, wa, wb))
        if not parts:
            parts = ["n/a (%s)" % "; ".join("%s: %s" % (lab, nt) for lab, m in ((a, ma), (b, mb)) for nt in m["notes"]
                                            if nt.startswith(("skipped", "FAILED")))]
        log("  %-*s %s" % (sw, step, "; ".join(parts)))

    log("\ntarget: %s's probes stay under ~%.0f ms while %s's wait for the slow command; the slow command "
        "itself at most 2x slower on %s:" % (a, STALL_MS, b, a))
    for step, by in steps.items():
        ma, mb = by.get(a), by.get(b)
        if not ma or ma["ms"] is None:
            continue
        wa = worst(ma, "max")
        checks = ["probe max %s" % ("%.2f ms %s" % (wa, "ok" if wa <= STALL_MS else "OVER %.0f ms" % STALL_MS)
                                    if wa is not None else "no samples")]
        if mb and mb["ms"]:
            r = ma["ms"] / mb["ms"]
            checks.append("cmd %.2fx %s" % (r, "ok" if r <= 2.0 else "OVER 2x"))
            wb = worst(mb, "max")
            if wb is not None:
                checks.append("%s probe max %.1f ms" % (b, wb))
        log("  %-*s %s" % (sw, step, ", ".join(checks)))

    stalls = [(step, s) for step, by in steps.items() for s in (by.get(a) or {"stalls": []})["stalls"]]
    if stalls:
        log("\n%s probe round trips over %.0f ms (round, probe, start after the slow command's start, length; from "
            "/proc schedstat around it, in ms: time on a CPU and time runnable but waiting for one):" % (a, STALL_MS))
        for step, (rnd, kind, at, lat, why) in stalls[:40]:
            log("  %-*s round %d  %-4s at %+.1f ms  %.1f ms  (%s)" % (sw, step, rnd, kind, at, lat, why))
        if len(stalls) > 40:
            log("  ... and %d more" % (len(stalls) - 40))


# ----------------------------------------------------------------------------------------------------------

def mode_isolation(pair, args, failures):
    """Entry point from bench.py: A B per round, fresh servers each time; prints the table."""
    args.failures = failures
    n = args.keys
    log("\n== isolation: %d keys in db 0 and %d in db 1 (%d-byte values); probes PING, GET %s, SET %s, one "
        "process each, one command per ~%.0f ms; %d round(s), A B per round; then a hash of %d fields and a set "
        "of %d members in db 0" % (n, n, VALSIZE, key_format(n) % 0, PROBE_SET_KEY.decode(), INTERVAL_NS / 1e6,
                                   args.rounds, max(100, n - n % 100), max(100, n - n % 100)))
    rows = []
    labels = [s.label for s in pair]
    try:
        for rnd in range(1, args.rounds + 1):
            for srv in pair:
                rows += Session(srv, args, rnd).run()
    except BenchError:
        if rows:
            log("\nresults so far:")
            print_table(rows, labels, args.rounds)
        raise
    print_table(rows, labels, args.rounds)


if __name__ == "__main__" and sys.argv[1:2] == ["--probe"]:
    sys.exit(probe_main(sys.argv[2:]))
