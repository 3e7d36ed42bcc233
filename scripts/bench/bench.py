#!/usr/bin/env python3
"""Side-by-side benchmark of redis-clone and a reference server (Debian's redis-server by default).

Started by scripts/bench.sh, which passes its arguments through (`scripts/bench.sh --help`). Standard library
only: benchlib.py beside this file runs the servers and talks RESP; plot.py draws the --scaling plot
(matplotlib or gnuplot).

Exit codes: 0 ok, 2 usage or a missing tool, 3 a server did not start, 4 a server died or runs failed.
"""
import argparse
import json
import os
import re
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
import time

from benchlib import (CLK_TCK, BenchError, Conn, Server, die_with_parent, cpu_ticks, encode, info_field,
                      kernel_stack_kb, load_items, load_keys, load_pipelined, log, median, ping_latencies_us,
                      proc_status, raise_nofile, stop_all, warn)

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))

# Default workloads: name, redis-benchmark test, clients, pipeline, value bytes, requests.
# Requests are sized for about 2.5 s each on Debian's redis-server on a 2-core machine.
WORKLOADS = [
    ("SET c50 P1", "set", 50, 1, 16, 200_000),
    ("GET c50 P1", "get", 50, 1, 16, 200_000),
    ("SET c50 P16", "set", 50, 16, 16, 2_000_000),
    ("GET c50 P16", "get", 50, 16, 16, 2_000_000),
    ("SET c1 P1", "set", 1, 1, 16, 40_000),
    ("GET c1 P1", "get", 1, 1, 16, 40_000),
    ("GET c500 P1", "get", 500, 1, 16, 200_000),
    ("SET d1024 c50", "set", 50, 1, 1024, 200_000),  # it leaves 1 KB values behind
    # Lists and sorted sets: redis-benchmark's LPUSH/LPOP work on one list (mylist), ZADD adds random members to
    # one sorted set (myzset); the ZRANGE rows read its first 10 members with scores (a custom command).
    ("LPUSH c50 P1", "lpush", 50, 1, 16, 200_000),
    ("LPOP c50 P1", "lpop", 50, 1, 16, 200_000),
    ("LPUSH c50 P16", "lpush", 50, 16, 16, 2_000_000),
    ("LPOP c50 P16", "lpop", 50, 16, 16, 2_000_000),
    ("ZADD c50 P1", "zadd", 50, 1, 16, 200_000),
    ("ZADD c50 P16", "zadd", 50, 16, 16, 2_000_000),
    ("ZRANGE c50 P1", "ZRANGE myzset 0 9 WITHSCORES", 50, 1, 16, 200_000),
    ("ZRANGE c50 P16", "ZRANGE myzset 0 9 WITHSCORES", 50, 16, 16, 2_000_000),
]
SCALING_CLIENTS = [1, 10, 50, 200, 1000, 5000]
KEYSPACE = 100_000          # redis-benchmark -r; its keys are key:%012d


# ----------------------------------------------------------------------------------------------------------
# redis-benchmark runs

def bench_run(srv, test, clients, pipeline, size, requests, timeout_s):
    """One redis-benchmark run: dict(rps, p50, p99, cpu_us) or dict(error=...)."""
    # A test with spaces is a command of its own (redis-benchmark ... ZRANGE myzset 0 9), not a -t name.
    custom = test.split() if " " in test else None
    argv = ["redis-benchmark", "-h", "127.0.0.1", "-p", str(srv.port), "-n", str(requests),
            "-c", str(clients), "-P", str(pipeline), "-d", str(size), "-r", str(KEYSPACE), "--csv"]
    argv += custom if custom else ["-t", test]
    what = "redis-benchmark %s -c %d -P %d -d %d" % (test if custom else "-t " + test, clients, pipeline, size)
    t0 = cpu_ticks(srv.pid)
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            preexec_fn=die_with_parent)
    deadline = time.monotonic() + timeout_s
    last_check, last_ticks = time.monotonic(), t0
    try:
        while True:    # wait for redis-benchmark, but not past the deadline, the server's death or its hang
            try:
                text = proc.communicate(timeout=0.5)[0]
                rc = proc.returncode
                break
            except subprocess.TimeoutExpired:
                hung = None
                if time.monotonic() - last_check > 10:       # no CPU used for 10 s and no answer to PING
                    ticks = cpu_ticks(srv.pid)
                    if ticks == last_ticks:
                        hung = srv.ping_once()
                    last_check, last_ticks = time.monotonic(), ticks
                if hung or not srv.alive() or time.monotonic() > deadline:
                    proc.kill()
                    text = proc.communicate()[0]
                    if hung:
                        raise BenchError("%s hung during %s: no CPU time used for 10 s and no answer to PING (%s)"
                                         % (srv.label, what, hung))
                    text, rc = text + "\ntimed out after %d s" % timeout_s, -1
                    break
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    t1 = cpu_ticks(srv.pid)
    srv.check_alive(what)
    # "SET","rps","avg","min","p50","p95","p99","max"
    title = '"%s",' % (test if custom else test.upper())
    rows = [l for l in text.splitlines() if l.startswith(title)]
    if rc != 0 or not rows:
        return {"error": "rc=%s: %s" % (rc, " ".join(text.strip().splitlines()[-2:])[:200])}
    f = rows[-1].replace('"', "").split(",")
    cpu = (t1 - t0) * 1e6 / CLK_TCK / requests if t0 is not None and t1 is not None else float("nan")
    return {"rps": float(f[1]), "p50": float(f[4]), "p99": float(f[6]), "cpu_us": cpu}


def run_series(pair, specs, rounds, scale, timeout_s, failures):
    """specs: [(name, test, c, P, d, n)]. Runs A B A B ... per workload; returns {name: {label: [results]}}.
    If a server dies, the table of what was measured so far is printed before the error is passed on."""
    results = {}
    try:
        run_specs(pair, specs, rounds, scale, timeout_s, failures, results)
    except BenchError:
        if any(v for by in results.values() for v in by.values()):
            log("\nresults so far:")
            print_table(results, pair[0].label, pair[1].label)
        raise
    return results


def run_specs(pair, specs, rounds, scale, timeout_s, failures, results):
    for name, test, c, p, d, n in specs:
        n = max(1000, int(n * scale))
        results[name] = {s.label: [] for s in pair}
        for r in range(rounds):
            for srv in pair:
                res = bench_run(srv, test, c, p, d, n, timeout_s)
                if "error" in res:
                    warn("%s on %s, round %d failed: %s" % (name, srv.label, r + 1, res["error"]))
                    failures.append(name)
                    if srv.ping_once() is not None:     # a hung server would make every later run time out
                        raise BenchError("%s no longer answers PING after a failed run" % srv.label, 4)
                else:
                    results[name][srv.label].append(res)


def print_table(results, a, b):
    """Medians per workload: ops/s, A/B of the median ops/s (and the range of the per-round ratios), latency,
    and the server's CPU time (user + system, all threads) per request, A/B."""
    hdr = ("workload", a + " ops/s", b + " ops/s", "%s/%s" % (a, b), "per round", a + " p50/p99 ms",
           b + " p50/p99 ms", "cpu us/req", "cpu %s/%s" % (a, b))
    widths = [13, 11, 11, 8, 9, 11, 11, 11, 8]
    widths = [max(w, len(h)) for w, h in zip(widths, hdr)]
    fmt = "  ".join("%-*s" if i == 0 else "%*s" for i in range(len(hdr)))

    def row(cells):
        return fmt % tuple(x for pair in zip(widths, cells) for x in pair)

    log(row(hdr))
    log("-" * (sum(widths) + 2 * (len(widths) - 1)))
    for name, by in results.items():
        ra, rb = by.get(a, []), by.get(b, [])
        ops_a, ops_b = median([x["rps"] for x in ra]), median([x["rps"] for x in rb])
        cpu_a, cpu_b = median([x["cpu_us"] for x in ra]), median([x["cpu_us"] for x in rb])
        paired = sorted(x["rps"] / y["rps"] for x, y in zip(ra, rb) if y["rps"] > 0)
        lat = lambda rs: "%.3f/%.3f" % (median([x["p50"] for x in rs]), median([x["p99"] for x in rs])) if rs else "n/a"
        ratio = lambda x, y: "%.2f" % (x / y) if x == x and y == y and y > 0 else "n/a"
        log(row((name, "%.0f" % ops_a if ra else "n/a", "%.0f" % ops_b if rb else "n/a", ratio(ops_a, ops_b),
                 "%.2f-%.2f" % (paired[0], paired[-1]) if len(paired) > 1 else "-", lat(ra), lat(rb),
                 "%.2f/%.2f" % (cpu_a, cpu_b) if ra or rb else "n/a", ratio(cpu_a, cpu_b))))


# ----------------------------------------------------------------------------------------------------------
# Modes

def preload(pair):
    for srv in pair:
        secs = load_keys(srv.port, KEYSPACE, "key:%012d", 16)
        c = Conn(srv.port)
        try:
            got = c.call("GET", "key:%012d" % 4242)
        finally:
            c.close()
        if got != b"%016d" % 4242:
            raise BenchError("%s: after preloading, GET key:%012d returned %r" % (srv.label, 4242, got))
        log("  preloaded %d keys key:%%012d (16-byte values) into %s in %.1f s" % (KEYSPACE, srv.label, secs))


def run_workloads(pair, specs, args, scale, timeout_s, failures):
    """Fresh servers, the 100000 keys preloaded, then specs A B A B; prints the table and returns the results."""
    for s in pair:
        s.start()
    print_versions(pair)
    preload(pair)
    res = run_series(pair, specs, args.rounds, scale, timeout_s, failures)
    log_threads(pair)
    for s in pair:
        s.stop()
    log("")
    print_table(res, pair[0].label, pair[1].label)
    return res


def mode_default(pair, args, failures):
    specs = [w for w in WORKLOADS if not args.only or re.search(args.only, w[0])]
    if not specs:
        raise BenchError("--only %r matches no workload (%s)" % (args.only, ", ".join(w[0] for w in WORKLOADS)), 2)
    log("\n== throughput: redis-benchmark -r %d, %d round(s), A B A B%s" % (
        KEYSPACE, args.rounds, ", quick (3/4 of the requests)" if args.quick else ""))
    run_workloads(pair, specs, args, 0.75 if args.quick else 1.0, 120 if args.quick else 240, failures)


def mode_scaling(pair, args, failures):
    specs = [("GET c%d" % c, "get", c, 1, 16, 40_000 if c == 1 else 200_000) for c in SCALING_CLIENTS]
    specs = [s for s in specs if not args.only or re.search(args.only, s[0])]
    if not specs:
        raise BenchError("--only %r matches no client count (GET c1 ... GET c5000)" % args.only, 2)
    log("\n== scaling: GET -P 1 -d 16 -r %d at %s clients, %d round(s), A B A B%s" % (
        KEYSPACE, ",".join(map(str, SCALING_CLIENTS)), args.rounds, ", quick (1/2 of the requests)" if args.quick else ""))
    res = run_workloads(pair, specs, args, 0.5 if args.quick else 1.0, 120 if args.quick else 300, failures)
    # plot: ops/s and p99 against clients
    data = {"labels": [s.label for s in pair], "points": [],
            "title": "GET -P 1 -d 16, %s: %s vs %s, %d cores, %d round(s)" % (
                time.strftime("%Y-%m-%d"), pair[0].version_seen, pair[1].version_seen, os.cpu_count(), args.rounds)}
    for name, by in res.items():
        clients = int(name.split("c", 1)[1])
        for s in pair:
            rs = by.get(s.label, [])
            if rs:
                data["points"].append({"server": s.label, "clients": clients,
                                       "rps": median([x["rps"] for x in rs]), "p99": median([x["p99"] for x in rs])})
    jpath = os.path.join(args.workdir, "scaling.json")
    with open(jpath, "w") as f:
        json.dump(data, f)
    out = os.path.abspath(args.plot)
    try:
        p = subprocess.run([sys.executable, os.path.join(HERE, "plot.py"), jpath, out], capture_output=True,
                           text=True, timeout=120)
        msg = (p.stdout + p.stderr).strip()
        if p.returncode == 0:
            log("plot: %s" % (msg or out))
        else:
            warn("no plot: %s" % msg)
    except subprocess.TimeoutExpired:
        warn("no plot: plot.py took longer than 120 s")


def mode_memory(pair, args, failures):
    variants = [("16 B", 16, None), ("16 B + TTL", 16, 86_400), ("100 B", 100, None)]
    variants = [v for v in variants if not args.only or re.search(args.only, v[0])]
    if args.only and not variants and not any(re.search(args.only, x[0]) for x in AGGREGATES):
        raise BenchError("--only %r matches no --memory row (16 B, 16 B + TTL, 100 B, %s)" % (
            args.only, ", ".join(x[0] for x in AGGREGATES)), 2)
    if variants:
        memory_strings(pair, args, failures, variants)
    memory_aggregates(pair, args, failures)


def start_for_memory(srv):
    """A fresh server (its version logged the first time), settled: (RSS in KB, INFO used_memory) before loading."""
    srv.start()
    if not getattr(srv, "version_seen", None):
        srv.version_seen = srv.version()
        log("  %s: %s" % (srv.label, srv.version_seen))
    time.sleep(0.5)
    return proc_status(srv.pid)["rss_kb"], info_field(srv.port, "memory", "used_memory")


def memory_strings(pair, args, failures, variants):
    n = args.keys
    log("\n== memory: %d keys key:%%07d, pipelined SETs; fresh servers per variant; RSS = VmRSS of the server;"
        % n)
    log("   per key = (after - before) / keys; used_memory from INFO memory")
    rows = []
    for vname, size, ttl in variants:
        for srv in pair:
            rss0, um0 = start_for_memory(srv)
            row = {"variant": vname, "server": srv.label}
            try:
                row["load_s"] = load_keys(srv.port, n, "key:%07d", size, ttl)
            except BenchError as e:
                srv.check_alive("loading %d keys" % n)
                warn(str(e))
                failures.append("memory " + vname)
                srv.stop()
                continue
            srv.check_alive("loading %d keys" % n)
            c = Conn(srv.port)
            bad = []
            try:
                for i in (0, n // 2, n - 1):
                    v = c.call("GET", "key:%07d" % i)
                    if v != b"%0*d" % (size, i):
                        bad.append("GET key:%07d -> %r" % (i, v[:40] if isinstance(v, bytes) else v))
                if ttl:
                    t = c.call("TTL", "key:%07d" % (n - 1))
                    if not isinstance(t, int) or not 0 < t <= ttl:
                        bad.append("TTL key:%07d -> %r" % (n - 1, t))
                dbsize = c.call("DBSIZE")
            finally:
                c.close()
            time.sleep(1.0)
            rss1 = proc_status(srv.pid)["rss_kb"]
            um1 = info_field(srv.port, "memory", "used_memory")
            row.update(rss0_mb=rss0 / 1024, rss1_mb=rss1 / 1024, rss_per_key=(rss1 - rss0) * 1024 / n,
                       um_per_key=(int(um1) - int(um0)) / n if um0 and um1 else None, dbsize=dbsize, bad=bad)
            if bad or dbsize != n:
                failures.append("memory " + vname)
            rows.append(row)
            srv.stop()
    log("")
    hdr = "%-12s %-8s %9s %9s %11s %17s %8s %9s" % ("values", "server", "RSS0 MiB", "RSS1 MiB", "RSS B/key",
                                                    "used_memory B/key", "load s", "DBSIZE")
    log(hdr)
    log("-" * len(hdr))
    for r in rows:
        log("%-12s %-8s %9.1f %9.1f %11.1f %17s %8.2f %9s" % (
            r["variant"], r["server"], r["rss0_mb"], r["rss1_mb"], r["rss_per_key"],
            "%.1f" % r["um_per_key"] if r["um_per_key"] is not None else "n/a", r["load_s"], r["dbsize"]))
        for b in r["bad"]:
            log("   %s: WRONG: %s" % (r["server"], b))
        if r["dbsize"] != n:
            log("   %s: WRONG: DBSIZE %r, expected %d" % (r["server"], r["dbsize"], n))
    a, b = pair[0].label, pair[1].label
    per_key = {(r["variant"], r["server"]): r["rss_per_key"] for r in rows}
    ratios = ["%s %.2f" % (v, per_key[v, a] / per_key[v, b]) for v, _, _ in variants
              if (v, a) in per_key and per_key.get((v, b), 0) > 0]
    if ratios:
        log("RSS per key %s/%s: %s" % (a, b, ", ".join(ratios)))


# Aggregate rows of --memory: name, what one element is, and the elements for --keys N.
#   big hash:  one hash of N fields field:%07d -> 8-digit values, HSET of 100 fields per command
#   big set:   one set of N members member:%07d, SADD of 100 members per command
#   small hashes: N/10 hashes hash:%07d of 10 fields field0..field9 -> value0..value9, one HSET each
AGGREGATES = [("hash", "field", lambda n: n), ("set", "member", lambda n: n),
              ("small hashes", "hash", lambda n: n // 10)]
SMALL_FIELDS = 10


def agg_load(srv, name, count):
    if name == "hash":
        return load_items(srv.port, "bighash", count, lambda i: (b"field:%07d" % i, b"%08d" % i), 100)
    if name == "set":
        return load_items(srv.port, "bigset", count, lambda i: (b"member:%07d" % i,), 100, "SADD")
    tail = encode(["HSET", "k"] + [x for f in range(SMALL_FIELDS) for x in ("field%d" % f, "value%d" % f)])
    tail = tail[tail.index(b"$1\r\nk\r\n") + 7:]        # the fields and values, after the key
    head = b"*%d\r\n$4\r\nHSET\r\n" % (2 + 2 * SMALL_FIELDS)

    def command(i):
        k = b"hash:%07d" % i
        return b"%s$%d\r\n%s\r\n%s" % (head, len(k), k, tail)
    return load_pipelined(srv.port, count, command, b":%d\r\n" % SMALL_FIELDS, "%d small hashes" % count, 10_000)


def agg_check(c, name, count):
    """Reads a few values back: (count seen, OBJECT ENCODING, DBSIZE, [what was wrong])."""
    bad = []
    picks = sorted({0, count // 2, count - 1})
    if name == "hash":
        for i in picks:
            v = c.call("HGET", "bighash", "field:%07d" % i)
            if v != b"%08d" % i:
                bad.append("HGET bighash field:%07d -> %r" % (i, v))
        got, enc = c.call("HLEN", "bighash"), c.call("OBJECT", "ENCODING", "bighash")
    elif name == "set":
        for i in picks:
            v = c.call("SISMEMBER", "bigset", "member:%07d" % i)
            if v != 1:
                bad.append("SISMEMBER bigset member:%07d -> %r" % (i, v))
        v = c.call("SISMEMBER", "bigset", "member:%07d" % count)
        if v != 0:
            bad.append("SISMEMBER bigset member:%07d (never added) -> %r" % (count, v))
        got, enc = c.call("SCARD", "bigset"), c.call("OBJECT", "ENCODING", "bigset")
    else:
        want = [x.encode() for f in range(SMALL_FIELDS) for x in ("field%d" % f, "value%d" % f)]
        for i in picks:
            v = c.call("HGETALL", "hash:%07d" % i)
            if not isinstance(v, list) or sorted(zip(v[0::2], v[1::2])) != sorted(zip(want[0::2], want[1::2])):
                bad.append("HGETALL hash:%07d -> %r" % (i, v if not isinstance(v, list) else v[:6]))
        v = c.call("HGET", "hash:%07d" % (count - 1), "field9")
        if v != b"value9":
            bad.append("HGET hash:%07d field9 -> %r" % (count - 1, v))
        mid = "hash:%07d" % (count // 2)
        got, enc = c.call("HLEN", mid), c.call("OBJECT", "ENCODING", mid)
    dbsize = c.call("DBSIZE")
    enc = enc.decode(errors="replace") if isinstance(enc, bytes) else repr(enc)
    return got, enc, dbsize, bad


def memory_aggregates(pair, args, failures):
    n = args.keys
    specs = [x for x in AGGREGATES if not args.only or re.search(args.only, x[0])]
    if not specs:
        return
    log("\n== memory of hashes and sets (fresh servers per row; pipelined, 100 items per HSET/SADD):")
    log("   hash: 1 hash of %d fields field:%%07d -> 8-byte values; set: 1 set of %d members member:%%07d;" % (n, n))
    log("   small hashes: %d hashes hash:%%07d of %d fields field0..field9 -> value0..value9; per element = "
        "(after - before) / elements" % (n // 10, SMALL_FIELDS))
    rows = []
    for name, unit, elems in specs:
        count = elems(n) if name == "small hashes" else elems(n) - elems(n) % 100   # 100 items per command
        if count < 100:
            warn("--keys %d: too few for the %s row, skipped" % (n, name))
            continue
        for srv in pair:
            rss0, um0 = start_for_memory(srv)
            row = {"variant": name, "unit": unit, "count": count, "server": srv.label}
            try:
                row["load_s"] = agg_load(srv, name, count)
            except BenchError as e:
                srv.check_alive("loading the %s row" % name)
                warn(str(e))
                failures.append("memory " + name)
                srv.stop()
                continue
            srv.check_alive("loading the %s row" % name)
            c = Conn(srv.port)
            try:
                got, enc, dbsize, bad = agg_check(c, name, count)
            finally:
                c.close()
            want_enc = "listpack" if name == "small hashes" else "hashtable"
            want_got, want_db = (SMALL_FIELDS, count) if name == "small hashes" else (count, 1)
            if got != want_got:
                bad.append("%s %r, expected %d" % ("HLEN" if name != "set" else "SCARD", got, want_got))
            if dbsize != want_db:
                bad.append("DBSIZE %r, expected %d" % (dbsize, want_db))
            if enc != want_enc:
                bad.append("OBJECT ENCODING %s, expected %s" % (enc, want_enc))
            time.sleep(1.0)
            rss1 = proc_status(srv.pid)["rss_kb"]
            um1 = info_field(srv.port, "memory", "used_memory")
            row.update(rss0_mb=rss0 / 1024, rss1_mb=rss1 / 1024, rss_per=(rss1 - rss0) * 1024 / count,
                       um_per=(int(um1) - int(um0)) / count if um0 and um1 else None, got=got, enc=enc,
                       dbsize=dbsize, bad=bad)
            if bad:
                failures.append("memory " + name)
            rows.append(row)
            srv.stop()
    print_aggregates(rows, pair[0].label, pair[1].label)


def print_aggregates(rows, a, b):
    log("")
    fmt = "%-13s %-7s %-15s %9s %9s %11s %18s %7s %-19s %s"
    hdr = fmt % ("value", "server", "elements", "RSS0 MiB", "RSS1 MiB", "RSS B/elem", "used_memory B/elem",
                 "load s", "HLEN/SCARD, DBSIZE", "OBJECT ENCODING")
    log(hdr)
    log("-" * len(hdr))
    for r in rows:
        units = "hashes" if r["unit"] == "hash" else r["unit"] + "s"
        log(fmt % (r["variant"], r["server"], "%d %s" % (r["count"], units),
                   "%.1f" % r["rss0_mb"], "%.1f" % r["rss1_mb"], "%.1f" % r["rss_per"],
                   "%.1f" % r["um_per"] if r["um_per"] is not None else "n/a", "%.2f" % r["load_s"],
                   "%s, %s" % (r["got"], r["dbsize"]), r["enc"]))
        for x in r["bad"]:
            log("   %s: WRONG: %s" % (r["server"], x))
    by = {(r["variant"], r["server"]): r for r in rows}
    log("\ntarget (hashes and sets issue): %s's bytes per element at most %s's (RSS; used_memory for "
        "information):" % (a, b))
    for name, unit, _ in AGGREGATES:
        ra, rb = by.get((name, a)), by.get((name, b))
        if not ra or not rb or rb["rss_per"] <= 0:
            continue
        ratio = ra["rss_per"] / rb["rss_per"]
        um = "%.2f" % (ra["um_per"] / rb["um_per"]) if ra["um_per"] and rb["um_per"] else "n/a"
        log("  %-13s RSS per %s %.1f / %.1f B = %.2f  %s   (used_memory %s)" % (
            name, unit, ra["rss_per"], rb["rss_per"], ratio, "PASS" if ratio <= 1.0 else "MISS", um))


def mode_conns(pair, args, failures):
    n = args.conns
    raise_nofile(n + 200)
    log("\n== connections: %d idle clients (each answered one PING), then PING latency on one more client" % n)
    log("   RSS/conn from VmRSS; kstack/conn = system-wide KernelStack delta / N (thread stacks VmRSS misses)")
    rows = []
    for srv in pair:
        srv.start([x.replace("{maxclients}", str(n + 100)) for x in srv.maxclients_args])
        log("  %s: %s" % (srv.label, srv.version()))
        if not srv.maxclients_args:
            check_maxclients(srv, n + 1)
        extra = Conn(srv.port)
        held = []
        row = {"server": srv.label}
        try:
            row["idle_p50"], row["idle_p99"] = ping_latencies_us(extra)
            time.sleep(0.3)
            st0, ks0 = proc_status(srv.pid), kernel_stack_kb()
            t0 = time.monotonic()
            deadline = t0 + 300
            for i in range(n):
                if time.monotonic() > deadline:
                    raise BenchError("only %d of %d connections opened within 300 s" % (i, n))
                try:
                    c = Conn(srv.port, timeout=10)
                    held.append(c)
                    r = c.call("PING")
                except OSError as e:
                    raise BenchError("connection %d of %d: %s" % (i + 1, n, e))
                if r != b"+PONG":
                    raise BenchError("connection %d of %d: PING answered %r" % (i + 1, n, r))
            row["open_s"] = time.monotonic() - t0
            time.sleep(1.0)
            st1, ks1 = proc_status(srv.pid), kernel_stack_kb()
            row.update(rss_per_conn=(st1["rss_kb"] - st0["rss_kb"]) * 1024 / n, kstack_per_conn=(ks1 - ks0) * 1024 / n,
                       threads="%d->%d" % (st0["threads"], st1["threads"]), rss1_mb=st1["rss_kb"] / 1024)
            row["held_p50"], row["held_p99"] = ping_latencies_us(extra)
            rows.append(row)
        except BenchError as e:
            srv.check_alive("opening %d connections" % n)
            warn("%s: %s" % (srv.label, e))
            failures.append("conns " + srv.label)
        finally:
            for c in held:
                c.close()
            extra.close()
        srv.check_alive("the connection test")
        srv.stop()
    log("")
    fmt = "%-8s %7s %9s %11s %14s %13s %7s %22s %22s"
    hdr = fmt % ("server", "conns", "RSS MiB", "RSS B/conn", "kstack B/conn", "threads", "open s",
                 "PING p50/p99 us, idle", "PING p50/p99 us, held")
    log(hdr)
    log("-" * len(hdr))
    for r in rows:
        log(fmt % (r["server"], n, "%.1f" % r["rss1_mb"], "%.0f" % r["rss_per_conn"], "%.0f" % r["kstack_per_conn"],
                   r["threads"], "%.2f" % r["open_s"], "%.0f/%.0f" % (r["idle_p50"], r["idle_p99"]),
                   "%.0f/%.0f" % (r["held_p50"], r["held_p99"])))
    if len(rows) == 2 and rows[1]["rss_per_conn"] > 0 and rows[1]["held_p99"] > 0:
        log("%s/%s: RSS per connection %.2f, PING p99 while held %.2f" % (
            rows[0]["server"], rows[1]["server"], rows[0]["rss_per_conn"] / rows[1]["rss_per_conn"],
            rows[0]["held_p99"] / rows[1]["held_p99"]))


def check_maxclients(srv, need):
    """Without a command-line flag for it, try CONFIG SET maxclients; warn if the limit stays below need."""
    c = Conn(srv.port)
    try:
        r = c.call("CONFIG", "SET", "maxclients", str(need + 99))
        cur = c.call("CONFIG", "GET", "maxclients")
    finally:
        c.close()
    limit = int(cur[1]) if isinstance(cur, list) and len(cur) == 2 and cur[1].isdigit() else None
    if limit is not None and limit < need:
        warn("%s: maxclients is %d, but this test needs %d clients (CONFIG SET maxclients: %s)" % (
            srv.label, limit, need, r.decode(errors="replace") if isinstance(r, bytes) else r))


def print_versions(pair):
    for s in pair:
        s.version_seen = s.version()
        log("  %-8s %s  (port %d, pid %d)" % (s.label, s.version_seen, s.port, s.pid))


def log_threads(pair):
    log("  threads now: " + ", ".join("%s %s" % (s.label, (proc_status(s.pid) or {}).get("threads", "?"))
                                      for s in pair))


# ----------------------------------------------------------------------------------------------------------

def parse_args(argv):
    p = argparse.ArgumentParser(prog="scripts/bench.sh", description=(
        "redis-clone against Debian's redis-server (or --ceiling), side by side on this machine."))
    m = p.add_mutually_exclusive_group()
    m.add_argument("--scaling", action="store_true", help="GET ops/s and p99 at 1..5000 clients, and a PNG plot")
    m.add_argument("--memory", action="store_true",
                   help="bytes per key at --keys keys (16 B, 16 B + TTL, 100 B); bytes per field of one hash and "
                        "per member of one set of --keys elements, per hash of --keys/10 hashes of 10 fields, "
                        "with the hashes and sets issue's target (PASS/MISS)")
    m.add_argument("--conns", type=int, metavar="N", help="N idle clients: RSS per connection, PING while held")
    m.add_argument("--isolation", action="store_true",
                   help="PING/GET/SET probe latency during KEYS *, FLUSHDB, MGET, DEL of 100 MB, BGSAVE, then "
                        "HGETALL, SMEMBERS, SUNIONSTORE and DEL of a hash and a set of --keys elements (--keys "
                        "keys in db 0 and db 1; default 1 round)")
    m.add_argument("--durability", action="store_true",
                   help="SET ops/s with appendfsync everysec and always; SAVE, BGSAVE and load time of --keys keys")
    m.add_argument("--queue", action="store_true",
                   help="50 producers LPUSH, 50 consumers BRPOP on one list: items/s and p99 side by side")
    m.add_argument("--hot-path", action="store_true",
                   help="system calls (by name) and CPU time per request for PING, GET and SET at -c 1 -P 1 and "
                        "-c 50 -P 16, redis-clone against the ceiling server (or --ref-cmd), with the performance "
                        "issue's targets and PASS/MISS")
    p.add_argument("--quick", action="store_true", help="one round, 3/4 of the requests (about a minute)")
    p.add_argument("--rounds", type=int, help="rounds per workload (default 3; 1 with --quick or --isolation)")
    p.add_argument("--only", metavar="REGEX", help="only workloads whose name matches (e.g. 'GET c50'; with "
                                                    "--memory the rows: '16 B', 'hash', 'set', 'small hashes')")
    p.add_argument("--server-cmd", metavar="CMD",
                   help="command of the server under test instead of redis-clone; {port} is replaced")
    p.add_argument("--ref-cmd", metavar="CMD",
                   help="command of the reference server instead of redis-server; {port} is replaced")
    p.add_argument("--ceiling", action="store_true",
                   help="reference = the bare thread-per-connection server in shared/bench/ceiling (default mode, "
                        "--scaling; implied by --hot-path)")
    p.add_argument("--syscall-tool", choices=("auto", "perf", "strace", "none"), default="auto",
                   help="how --hot-path counts system calls (default auto: perf record if perf works here, else "
                        "strace; none: no counts)")
    p.add_argument("--keys", type=int, default=1_000_000,
                   help="keys for --memory (and fields/members of its hash and set, --keys/10 small hashes), "
                        "per database for --isolation and the elements of its hash and set (default 1000000)")
    p.add_argument("--plot", default=os.path.join(ROOT, "docs", "bench-scaling.png"),
                   help="PNG written by --scaling (default docs/bench-scaling.png)")
    args = p.parse_args(argv)
    if args.rounds is None:
        args.rounds = 1 if args.quick or args.isolation else 3
    if args.rounds < 1 or args.keys < 1 or (args.conns is not None and args.conns < 1):
        p.error("--rounds, --keys and --conns must be at least 1")
    if args.hot_path and not args.ref_cmd:
        args.ceiling = True        # its reference is the ceiling server, unless --ref-cmd names another
    if args.ceiling and (args.memory or args.conns or args.isolation or args.durability or args.ref_cmd):
        p.error("--ceiling only knows SET/GET/PING: use it with the default workloads, --scaling or --hot-path, "
                "and without --ref-cmd")
    if args.only:
        try:
            re.compile(args.only)
        except re.error as e:
            p.error("--only: %s" % e)
    return args


def build_pair(args):
    clone_bin = os.environ.get("REDIS_CLONE_BIN") or os.path.join(ROOT, "build", "redis-clone")
    if args.server_cmd:
        a = Server("clone", shlex.split(args.server_cmd), args.workdir)
    else:
        if not os.access(clone_bin, os.X_OK):
            raise BenchError("%s not found: build it (make build), or set REDIS_CLONE_BIN or --server-cmd" % clone_bin, 2)
        # the same persistence settings as redis-server below: no snapshots, no AOF
        a = Server("clone", [clone_bin, "--listenAddr", "127.0.0.1:{port}", "--save", "", "--appendonly", "no"],
                   args.workdir,
                   version_cmd=[clone_bin, "--version"])

    if args.ceiling:
        cdir = os.environ.get("BENCH_CEILING_DIR") or os.path.join(os.path.dirname(ROOT), "shared", "bench", "ceiling")
        exe = os.path.join(args.workdir, "tpc")
        log("building %s/tpc.cpp ..." % cdir)
        try:
            out = subprocess.run(["bash", os.path.join(cdir, "build.sh"), exe], capture_output=True, text=True,
                                 timeout=300)
        except (OSError, subprocess.TimeoutExpired) as e:
            raise BenchError("building the ceiling server: %s" % e, 2)
        if out.returncode != 0:
            raise BenchError("building the ceiling server failed:\n%s" % (out.stdout + out.stderr)[-2000:], 2)
        b = Server("ceiling", [exe, "{port}"], args.workdir,
                   fixed_version="tpc.cpp (bare thread-per-connection server, SET/GET/PING only)")
    elif args.ref_cmd:
        b = Server("ref", shlex.split(args.ref_cmd), args.workdir)
    else:
        b = Server("redis", ["redis-server", "--port", "{port}", "--bind", "127.0.0.1", "--save", "",
                             "--appendonly", "no", "--daemonize", "no", "--dir", args.workdir], args.workdir,
                   maxclients_args=["--maxclients", "{maxclients}"])
    return [a, b]


def main(argv):
    args = parse_args(argv)
    missing = []
    if shutil.which("redis-benchmark") is None and not (args.memory or args.conns or args.isolation):
        missing.append("redis-benchmark (Debian package redis-tools)")
    if not args.ceiling and not args.ref_cmd and shutil.which("redis-server") is None:
        missing.append("redis-server (Debian package redis-server)")
    if missing:
        print("ERROR: not found: %s" % ", ".join(missing), file=sys.stderr)
        return 2

    def on_signal(signum, frame):
        for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            signal.signal(sig, signal.SIG_IGN)     # let the cleanup below finish
        raise BenchError("interrupted by signal %d" % signum, 128 + signum)
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, on_signal)

    own_workdir = not os.environ.get("BENCH_WORKDIR")      # bench.sh makes it and removes it
    args.workdir = os.environ.get("BENCH_WORKDIR") or tempfile.mkdtemp(prefix="redis-clone-bench.")
    t_start = time.monotonic()
    failures = []
    try:
        raise_nofile(max(SCALING_CLIENTS) + 1000)   # before any server starts: they inherit it
        pair = build_pair(args)
        log("redis-clone bench  %s" % time.strftime("%Y-%m-%d %H:%M:%S %Z"))
        log("  cores: %d (usable: %d), memory %.1f GiB, load average %s" % (
            os.cpu_count(), len(os.sched_getaffinity(0)),
            os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2 ** 30, load_avg()))
        busy = cpu_busy(1.0)
        log("  CPU busy before the start (1 s, all cores): %.0f%%" % busy)
        if busy > 25:
            warn("other work keeps %.0f%% of the CPUs busy: expect noisy ops/s and latency (cpu us/req is the "
                 "steadier column)" % busy)
        for s in pair:
            log("  %-7s = %s" % (s.label, shlex.join(s.argv).replace("'{port}'", "{port}")))
        if not (args.memory or args.conns or args.isolation):
            rb = subprocess.run(["redis-benchmark", "--version"], capture_output=True, text=True, timeout=10)
            log("  client: %s" % rb.stdout.strip())
        if args.scaling:
            mode_scaling(pair, args, failures)
        elif args.memory:
            mode_memory(pair, args, failures)
        elif args.conns:
            mode_conns(pair, args, failures)
        elif args.isolation:
            from isolation import mode_isolation
            mode_isolation(pair, args, failures)
        elif args.durability:
            from durability import mode_durability
            mode_durability(pair, args, failures)
        elif args.queue:
            from job_queue import mode_queue
            mode_queue(pair, args, failures)
        elif args.hot_path:
            from hot_path import mode_hot_path
            mode_hot_path(pair, args, failures)
        else:
            mode_default(pair, args, failures)
    except BenchError as e:
        print("ERROR: %s" % e, file=sys.stderr, flush=True)
        return e.code
    finally:
        stop_all()
        if own_workdir:
            shutil.rmtree(args.workdir, ignore_errors=True)
        log("\nelapsed %.0f s, load average now %s" % (time.monotonic() - t_start, load_avg()))
    if failures:
        print("FAILED: %d run(s): %s" % (len(failures), ", ".join(sorted(set(failures)))), file=sys.stderr)
        return 4
    return 0


def cpu_busy(seconds):
    """Percentage of all CPUs' time not idle over the next `seconds` (from /proc/stat)."""
    def sample():
        with open("/proc/stat") as f:
            v = [int(x) for x in f.readline().split()[1:]]
        return sum(v), v[3] + v[4]          # total, idle + iowait
    t0, i0 = sample()
    time.sleep(seconds)
    t1, i1 = sample()
    return 100.0 * (1 - (i1 - i0) / max(1, t1 - t0))


def load_avg():
    with open("/proc/loadavg") as f:
        return " ".join(f.read().split()[:3])


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
