"""scripts/bench.sh --durability: SET throughput with the append-only file on, and RDB save and load times.

Called by bench.py (mode_durability); not a script of its own. Both parts use the same servers as the other
modes (redis-clone and Debian's redis-server, or --server-cmd / --ref-cmd) with these flags appended, each run
in a fresh directory of its own under $BENCH_WORKDIR (the bench's temp dir, removed at the end):

AOF   --dir D --appendonly yes --appendfsync everysec|always --save ""
      Per policy: both servers started fresh, the 100000 keys preloaded (through the AOF, like every write),
      then redis-benchmark SET -r 100000 -d 16 at -c 50 -P 1 and -c 50 -P 16, A B A B for --rounds rounds: the
      default mode's table (median ops/s, ratio, p50/p99, server CPU per request). Automatic AOF rewrites stay
      at the servers' defaults (100%, 64 MB) on both and are counted from the logs. Afterwards each server is
      restarted on its AOF and must come back with all 100000 keys (the log's AOF load time is shown).

RDB   --dir D --save "" --appendonly no
      Per round and per server (A then B): a fresh server (its start, empty, is timed too), --keys keys
      key:%07d with 16-byte values (the pipelined loader, not compared), then SAVE (the command's wall time and
      the server's CPU time during it), the file's size, BGSAVE (from the command until INFO persistence shows
      rdb_bgsave_in_progress:0, with rdb_last_bgsave_status:ok and rdb_saves one higher), SIGTERM, and a
      restart on that file: from just before the process is launched until it answers PING (Redis answers
      -LOADING while it loads; redis-clone listens only once loaded), then DBSIZE must be --keys and a value
      must be right. The log's own "DB loaded from disk: X seconds" is shown beside it.

Every wait has a deadline; every server is stopped by benchlib's stop_all() and, as a backstop, by bench.sh's
trap (each start is recorded in $BENCH_PIDFILE by benchlib.Server).
"""
import os
import re
import shutil
import time

import bench
from benchlib import (CLK_TCK, START_TIMEOUT, BenchError, Conn, Server, cpu_ticks, load_keys, log, median,
                      warn)

KEYSPACE = bench.KEYSPACE           # redis-benchmark -r, and the keys preloaded before the AOF runs
# name, redis-benchmark test, clients, pipeline, value bytes, requests (about 3-6 s each on redis-server, 2 cores,
# ext4 on a virtual disk; with always, throughput is bounded by the fsyncs and varies with the disk)
AOF_SPECS = {
    "everysec": [("everysec P1", "set", 50, 1, 16, 200_000), ("everysec P16", "set", 50, 16, 16, 2_000_000)],
    "always": [("always P1", "set", 50, 1, 16, 100_000), ("always P16", "set", 50, 16, 16, 1_000_000)],
}
RDB_NAME = "RDB"                    # what --only is matched against for the RDB part
LOAD_DEADLINE = 300.0               # seconds for a server to load its file and answer PING
SAVE_DEADLINE = 300.0               # SAVE, and BGSAVE until it is done
POLL_S = 0.002                      # PING polling while a server starts
LOADED_RE = re.compile(r"DB loaded from disk: ([0-9.]+) seconds")
AOF_LOADED_RE = re.compile(r"(?:AOF loaded in|DB loaded from append only file:) ([0-9.]+) seconds")
REWRITE_TEXT = "Background append only file rewriting started"


class TimedServer(Server):
    """A Server whose start is timed: from just before its process is launched to its first +PONG.

    benchlib.Server.start() launches the process, records its group in $BENCH_PIDFILE and calls _wait_ping();
    this one's hooks poll every 2 ms with its own deadline and note the times."""

    def __init__(self, base, workdir, deadline_s=START_TIMEOUT):
        super().__init__(base.label, base.argv, workdir, version_cmd=base.version_cmd,
                         fixed_version=base.fixed_version)
        self.deadline_s = deadline_s
        self.t_launch = self.t_pong = None
        self.attempts = 0
        self.loading_answers = 0

    def start(self, extra_args=()):
        self.attempts, self.loading_answers, self.t_pong = 0, 0, None
        self.t_launch = time.monotonic()
        try:
            return super().start(extra_args)
        except BenchError as e:       # benchlib's message names its own 30 s
            raise BenchError(str(e).replace("within %.0f s" % START_TIMEOUT, "within %.0f s" % self.deadline_s),
                             e.code)

    ping_poll_s = POLL_S

    def _ping_deadline(self):
        self.attempts += 1
        if self.attempts > 1:         # the port was taken and this is a new process: time it from here
            self.t_launch = time.monotonic()
        return self.t_launch + self.deadline_s

    def _answered_ping(self):
        self.t_pong = time.monotonic()

    def _not_ready(self, answer):
        if "LOADING" in answer:
            self.loading_answers += 1

    def start_seconds(self):
        return self.t_pong - self.t_launch

    def log_since_start(self):
        """This server's output since its last start (benchlib writes a '--- argv' line before each)."""
        try:
            with open(self.logpath, errors="replace") as f:
                text = f.read()
        except OSError:
            return ""
        return text[text.rfind("\n--- "):]


def fresh_dir(workdir, name):
    d = os.path.join(workdir, name)
    shutil.rmtree(d, ignore_errors=True)
    os.makedirs(d)
    return d


def remove_dir(workdir, d):
    """Removes d, but only a directory inside the bench's temp dir."""
    w = os.path.realpath(workdir)
    if os.path.commonpath([os.path.realpath(d), w]) == w and os.path.realpath(d) != w:
        shutil.rmtree(d, ignore_errors=True)


def call(port, *args, timeout=30.0):
    c = Conn(port, timeout=timeout)
    try:
        return c.call(*args)
    finally:
        c.close()


def info_dict(conn, section):
    r = conn.call("INFO", section)
    out = {}
    if isinstance(r, bytes) and not r.startswith(b"-"):
        for line in r.decode(errors="replace").splitlines():
            k, sep, v = line.partition(":")
            if sep:
                out[k] = v.strip()
    return out


def fs_of(path):
    """Filesystem type and source of the mount holding path (fsync's cost depends on it)."""
    best = ("", "?", "?")
    try:
        with open("/proc/self/mounts") as f:
            for line in f:
                src, mnt, typ = line.split()[:3]
                mnt = mnt.replace("\\040", " ")
                if (path == mnt or path.startswith(mnt.rstrip("/") + "/")) and len(mnt) >= len(best[0]):
                    best = (mnt, typ, src)
    except OSError:
        pass
    return "%s on %s (mounted at %s)" % (best[1], best[2], best[0] or "?")


def check_keys(srv, n, keyfmt, size, what):
    """DBSIZE must be n and the last key's value right (size None: any value; redis-benchmark's are random)."""
    c = Conn(srv.port, timeout=30)
    try:
        dbsize = c.call("DBSIZE")
        v = c.call("GET", keyfmt % (n - 1))
    finally:
        c.close()
    if dbsize != n or v is None or size is not None and v != b"%0*d" % (size, n - 1):
        raise BenchError("%s %s: DBSIZE %r (expected %d), GET %s -> %r" % (
            srv.label, what, dbsize, n, keyfmt % (n - 1), v[:40] if isinstance(v, bytes) else v))


# ----------------------------------------------------------------------------------------------------------
# AOF: SET throughput with appendfsync everysec and always

def aof_policy(pair, args, policy, specs, scale, timeout_s, failures, notes):
    """Fresh servers with the AOF on, preloaded; specs A B A B. Returns the results of bench.run_series."""
    dirs = [fresh_dir(args.workdir, "aof-%s-%s" % (policy, s.label)) for s in pair]
    srvs = [TimedServer(s, d) for s, d in zip(pair, dirs)]
    flags = lambda d: ["--dir", d, "--appendonly", "yes", "--appendfsync", policy, "--save", ""]
    try:
        for s, d in zip(srvs, dirs):
            s.start(flags(d))
        bench.print_versions(srvs)
        bench.preload(srvs)
        res = bench.run_series(srvs, specs, args.rounds, scale, timeout_s, failures)
        for s, d in zip(srvs, dirs):
            c = Conn(s.port, timeout=30)
            try:
                info = info_dict(c, "persistence")
                dbsize = c.call("DBSIZE")
            finally:
                c.close()
            rewrites = s.log_since_start().count(REWRITE_TEXT)
            status = info.get("aof_last_write_status", "?")
            if status != "ok" or dbsize != KEYSPACE:
                failures.append("aof %s %s" % (policy, s.label))
            s.stop()
            # the AOF must give back every key
            s.deadline_s = LOAD_DEADLINE
            s.start(flags(d))
            check_keys(s, KEYSPACE, "key:%012d", None, "restarted on its AOF")
            m = AOF_LOADED_RE.findall(s.log_since_start())
            notes.append("%-8s %-6s AOF %.0f MB after the runs, %d automatic rewrite(s), aof_last_write_status:%s, "
                         "DBSIZE %s; restart on it: PING after %.2f s%s, all %d keys there" % (
                             policy, s.label, dir_bytes(os.path.join(d, "appendonlydir")) / 1e6, rewrites, status,
                             dbsize, s.start_seconds(), " (log: loaded in %s s)" % m[-1] if m else "", KEYSPACE))
            s.stop()
        return res
    finally:
        for s, d in zip(srvs, dirs):
            s.stop()
            remove_dir(args.workdir, d)


def dir_bytes(d):
    total = 0
    for root, _, files in os.walk(d):
        for f in files:
            try:
                total += os.path.getsize(os.path.join(root, f))
            except OSError:
                pass
    return total


# ----------------------------------------------------------------------------------------------------------
# RDB: SAVE, BGSAVE and the load at startup of --keys keys

RDB_ROWS = [  # key, label, unit, lower is better
    ("start_s", "start, no file s", "s"),
    ("save_s", "SAVE s", "s"),
    ("save_cpu_s", "SAVE cpu s", "s"),
    ("bgsave_s", "BGSAVE s (until done)", "s"),
    ("load_s", "load s (launch..PONG)", "s"),
    ("load_log_s", "load s (server's log)", "s"),
    ("load_cpu_s", "load cpu s (start..PONG)", "s"),
    ("size_mb", "file MB", "MB"),
]


def rdb_once(base, args, rnd, n, failures):
    """One server, one round: fill, SAVE, BGSAVE, restart on the file. Returns a dict of the measurements."""
    d = fresh_dir(args.workdir, "rdb-%d-%s" % (rnd, base.label))
    srv = TimedServer(base, d)
    flags = ["--dir", d, "--save", "", "--appendonly", "no"]
    row = {"server": base.label, "round": rnd}
    try:
        srv.start(flags)
        row["start_s"] = srv.start_seconds()
        if rnd == 1:
            bench.print_versions([srv])
        row["fill_s"] = load_keys(srv.port, n, "key:%07d", 16)
        srv.check_alive("loading %d keys" % n)
        check_keys(srv, n, "key:%07d", 16, "after loading")
        time.sleep(0.5)

        c = Conn(srv.port, timeout=SAVE_DEADLINE)
        try:
            fname = c.call("CONFIG", "GET", "dbfilename")
            fname = fname[1].decode() if isinstance(fname, list) and len(fname) == 2 else "dump.rdb"
            path = os.path.join(d, fname)
            # SAVE: the command's wall time, and the server's CPU time meanwhile
            k0, t0 = cpu_ticks(srv.pid), time.monotonic()
            r = c.call("SAVE")
            t1, k1 = time.monotonic(), cpu_ticks(srv.pid)
            if r != b"+OK":
                raise BenchError("%s: SAVE answered %r" % (srv.label, r))
            row["save_s"], row["save_cpu_s"] = t1 - t0, (k1 - k0) / CLK_TCK
            try:
                row["size_bytes"] = os.path.getsize(path)
                row["size_mb"] = row["size_bytes"] / 1e6
            except OSError as e:
                raise BenchError("%s: SAVE answered +OK but %s: %s" % (srv.label, path, e))
            # BGSAVE: until the child is done
            saves0 = int(info_dict(c, "persistence").get("rdb_saves", "-1"))
            t0 = time.monotonic()
            r = c.call("BGSAVE")
            t_reply = time.monotonic()
            if r != b"+Background saving started":
                raise BenchError("%s: BGSAVE answered %r" % (srv.label, r))
            deadline = t0 + SAVE_DEADLINE
            while True:
                info = info_dict(c, "persistence")
                t1 = time.monotonic()
                if info.get("rdb_bgsave_in_progress") == "0":
                    break
                if t1 > deadline:
                    raise BenchError("%s: BGSAVE still in progress after %.0f s" % (srv.label, SAVE_DEADLINE))
                time.sleep(0.01)
            row["bgsave_s"], row["bgsave_reply_ms"] = t1 - t0, (t_reply - t0) * 1e3
            saves1 = int(info.get("rdb_saves", "-1"))
            if info.get("rdb_last_bgsave_status") != "ok" or (saves0 >= 0 and saves1 != saves0 + 1):
                warn("%s: after BGSAVE rdb_last_bgsave_status:%s, rdb_saves %d -> %d" % (
                    srv.label, info.get("rdb_last_bgsave_status"), saves0, saves1))
                failures.append("rdb BGSAVE " + srv.label)
                row.pop("bgsave_s")
        finally:
            c.close()
        row["size2_bytes"] = os.path.getsize(path)
        srv.check_alive("SAVE and BGSAVE")
        srv.stop()

        # the load: a new process on that file
        srv.deadline_s = LOAD_DEADLINE
        srv.start(flags)
        row["load_s"] = srv.start_seconds()
        k = cpu_ticks(srv.pid)
        row["load_cpu_s"] = k / CLK_TCK if k is not None else float("nan")
        row["loading_answers"] = srv.loading_answers
        check_keys(srv, n, "key:%07d", 16, "restarted on its RDB file")
        m = LOADED_RE.findall(srv.log_since_start())
        if m:
            row["load_log_s"] = float(m[-1])
        if srv.attempts > 1:
            warn("%s: the restart needed %d attempts (port taken): its load time is measured from the last" % (
                srv.label, srv.attempts))
        srv.stop()
        return row
    finally:
        srv.stop()
        remove_dir(args.workdir, d)


def print_rdb_table(rows, labels, n):
    a, b = labels
    log("\nRDB, %d keys key:%%07d with 16-byte values: medians over %d round(s); %s/%s is the time (or size) "
        "ratio: LOWER is better for %s" % (n, max(r["round"] for r in rows), a, b, a))
    hdr = ("step", a, b, "%s/%s" % (a, b), "per round")
    fmt = "%-25s %9s %9s %11s %11s"
    log(fmt % hdr)
    log("-" * len(fmt % hdr))
    by_round = {}
    for r in rows:
        by_round.setdefault(r["round"], {})[r["server"]] = r
    for key, name, _ in RDB_ROWS:
        va = [r[key] for r in rows if r["server"] == a and key in r]
        vb = [r[key] for r in rows if r["server"] == b and key in r]
        ma, mb = median(va), median(vb)
        paired = sorted(x[a][key] / x[b][key] for x in by_round.values()
                        if a in x and b in x and key in x[a] and key in x[b] and x[b][key] > 0)
        cell = lambda v: "%.3f" % v if v == v else "n/a"
        log(fmt % (name, cell(ma), cell(mb), "%.2f" % (ma / mb) if ma == ma and mb == mb and mb > 0 else "n/a",
                   "%.2f-%.2f" % (paired[0], paired[-1]) if len(paired) > 1 else "-"))
    for lab in labels:
        rs = [r for r in rows if r["server"] == lab]
        if rs:
            log("  %-6s filling %d keys (pipelined, not compared) %.1f s; BGSAVE reply (the fork) %.1f ms; PING "
                "answered -LOADING %d time(s) during the load; file %d bytes after SAVE, %d after BGSAVE" % (
                    lab, n, median([r["fill_s"] for r in rs]),
                    median([r.get("bgsave_reply_ms", float("nan")) for r in rs]),
                    median([r["loading_answers"] for r in rs]), rs[-1]["size_bytes"], rs[-1]["size2_bytes"]))


# ----------------------------------------------------------------------------------------------------------

def mode_durability(pair, args, failures):
    """Entry point from bench.py: the AOF part, then the RDB part; prints both tables at the end."""
    specs = {p: [w for w in ws if not args.only or re.search(args.only, w[0])] for p, ws in AOF_SPECS.items()}
    do_rdb = not args.only or re.search(args.only, RDB_NAME)
    if not any(specs.values()) and not do_rdb:
        raise BenchError("--only %r matches nothing (%s, %s)" % (
            args.only, ", ".join(w[0] for ws in AOF_SPECS.values() for w in ws), RDB_NAME), 2)
    scale = 0.75 if args.quick else 1.0
    timeout_s = 120 if args.quick else 240
    labels = [s.label for s in pair]
    log("\n== durability: %d round(s)%s; each server in its own fresh directory under %s" % (
        args.rounds, ", quick (3/4 of the requests)" if args.quick else "", args.workdir))
    log("   filesystem there: %s" % fs_of(os.path.realpath(args.workdir)))

    aof_res, notes, rdb_rows = {}, [], []
    try:
        for policy, ws in specs.items():
            if not ws:
                continue
            log("\n== AOF, appendfsync %s: + --dir DIR --appendonly yes --appendfsync %s --save ''; "
                "SET -r %d -d 16, keys preloaded; A B A B; load average %s" % (
                    policy, policy, KEYSPACE, bench.load_avg()))
            aof_res.update(aof_policy(pair, args, policy, ws, scale, timeout_s, failures, notes))
        if do_rdb:
            n = args.keys
            log("\n== RDB: + --dir DIR --save '' --appendonly no; %d keys; SAVE, BGSAVE, restart on the file; "
                "A then B per round; load average %s" % (n, bench.load_avg()))
            for rnd in range(1, args.rounds + 1):
                for base in pair:
                    row = rdb_once(base, args, rnd, n, failures)
                    rdb_rows.append(row)
                    log("  round %d %-6s SAVE %.3f s, BGSAVE %s s, %.1f MB, load %.3f s (log %s)" % (
                        rnd, base.label, row["save_s"], "%.3f" % row["bgsave_s"] if "bgsave_s" in row else "FAILED",
                        row["size_mb"], row["load_s"], row.get("load_log_s", "n/a")))
    except BenchError:
        if aof_res or rdb_rows:
            log("\nresults so far:")
            print_results(aof_res, notes, rdb_rows, labels, args)
        raise
    print_results(aof_res, notes, rdb_rows, labels, args)


def print_results(aof_res, notes, rdb_rows, labels, args):
    if aof_res:
        log("\nAOF: SET -c 50 -r %d -d 16 at -P 1 and -P 16 with appendonly yes (row = appendfsync and pipeline); "
            "%s/%s ops/s: HIGHER is better for %s" % (KEYSPACE, labels[0], labels[1], labels[0]))
        bench.print_table(aof_res, labels[0], labels[1])
        for nt in notes:
            log("  " + nt)
    if rdb_rows:
        print_rdb_table(rdb_rows, labels, args.keys)
    log("  load average now %s" % bench.load_avg())
