"""scripts/bench.sh --hot-path: system calls and CPU time per request on a request that needs no other client,
redis-clone against the ceiling server (shared/bench/ceiling/tpc.cpp, a bare thread-per-connection server),
side by side in the same run.

Workloads: PING (the multibulk form: the ceiling cannot parse inline commands), GET and SET of 16-byte values,
redis-benchmark -r 100000 with the keys preloaded, at -c 1 -P 1 and at -c 50 -P 16. Two phases, each A B A B
for --rounds rounds: first the runs without any tracer, which give ops/s and the server's CPU time per request;
then the same runs with the system calls counted (syscall_count.py: perf record, or strace), which give the
system calls per request by name. A tracer slows the server, so its runs give no time figures.

Targets of the performance issue, checked on redis-clone's figures (PASS/MISS; a MISS does not fail the run):
one recv and one send per batch (a batch is -P requests, what one client sends before it waits), no other
system call per request, CPU time per request at most 1.05x the ceiling's.
"""
import re

import bench
from benchlib import BenchError, log, median, warn
from syscall_count import TOTAL, CountError, choose_counter

# name, redis-benchmark test, clients, pipeline, value bytes, requests: about 2.5 s each on the ceiling here,
# so that the server's CPU time (counted in 10 ms ticks) is 50 ticks or more
WORKLOADS = [
    ("PING c1 P1", "ping_mbulk", 1, 1, 16, 200_000),
    ("GET c1 P1", "get", 1, 1, 16, 200_000),
    ("SET c1 P1", "set", 1, 1, 16, 200_000),
    ("PING c50 P16", "ping_mbulk", 50, 16, 16, 3_000_000),
    ("GET c50 P16", "get", 50, 16, 16, 3_000_000),
    ("SET c50 P16", "set", 50, 16, 16, 3_000_000),
]
COUNTED_SHARE = {"perf": 0.5, "strace": 0.1}   # of the requests, in the counted runs (strace is much slower)
RECV = ("recvfrom", "recvmsg", "recvmmsg")      # recv(2) is recvfrom on x86-64
SEND = ("sendto", "sendmsg", "sendmmsg")        # and send(2) is sendto
CPU_TARGET = 1.05        # clone's CPU per request / the ceiling's
IO_SLACK = 1.01          # recv, send per batch: each connection's last recv (EOF) and redis-benchmark's CONFIG GET
# other calls: none on a request's path, but each connection's setup and teardown make some (accept, clone3, mmap,
# setsockopt, ...: 14 on the ceiling, 20 on redis-clone), and background threads a few per second
OTHER_PER_CONN = 25
OTHER_PER_BATCH = 0.02
SHOWN_NAMES = 8          # other calls listed by name per workload, if at least SHOWN_MIN per request in either
SHOWN_MIN = 0.0001       # server; the rest are summed


def mode_hot_path(pair, args, failures):
    specs = [w for w in WORKLOADS if not args.only or re.search(args.only, w[0])]
    if not specs:
        raise BenchError("--only %r matches no workload (%s)" % (args.only, ", ".join(w[0] for w in WORKLOADS)), 2)
    scale = 0.75 if args.quick else 1.0
    counter, notes = choose_counter(args.syscall_tool, args.workdir)
    for n in notes:
        warn(n)
    a, b = pair[0].label, pair[1].label
    log("\n== hot path: redis-benchmark -r %d -d 16, keys preloaded, %d round(s), A B A B%s" % (
        bench.KEYSPACE, args.rounds, ", quick (3/4 of the requests)" if args.quick else ""))
    log("   ops/s and cpu us/req (user + system of all the server's threads, /proc/PID/stat): runs without a tracer")
    if counter:
        log("   syscalls/req: separate runs of the same workloads with 1/%d of the requests, counted by" %
            round(1 / COUNTED_SHARE[counter.tool]))
        log("   " + counter.how)
    else:
        log("   syscalls/req: NOT COUNTED (%s)" % "; ".join(notes))
    results = {name: {s.label: {"clean": [], "counted": []} for s in pair} for name, *_ in specs}
    for s in pair:
        s.start()
    bench.print_versions(pair)
    bench.preload(pair)
    try:
        run_phase(pair, specs, args, scale, results, failures, None)
        if counter is not None:
            counter_notes = count_phase(pair, specs, args, scale, results, failures, counter)
            notes.extend(counter_notes)
    except BenchError:
        log("\nresults so far:")
        print_hot_path(results, specs, a, b, counter, notes)
        raise
    bench.log_threads(pair)
    for s in pair:
        s.stop()
    log("")
    print_hot_path(results, specs, a, b, counter, notes)


def count_phase(pair, specs, args, scale, results, failures, counter):
    """The counted runs; the holder (perf) is stopped whatever happens. Returns notes for the table."""
    notes = []
    try:
        counter.open()
    except CountError as e:
        warn("counting system calls: %s" % e)
        return ["system calls not counted: %s" % e]
    try:
        run_phase(pair, specs, args, scale * COUNTED_SHARE[counter.tool], results, failures, counter, notes)
    finally:
        try:
            counter.close()
        except CountError as e:
            warn(str(e))
    return notes


def run_phase(pair, specs, args, scale, results, failures, counter, notes=None):
    phase = "counted" if counter else "clean"
    log("  %s runs%s ..." % ("counted" if counter else "untraced", " (%s)" % counter.tool if counter else ""))
    timeout_s = 600 if counter else 240
    for name, test, c, p, d, n in specs:
        n = max(1000, int(n * scale))
        for r in range(args.rounds):
            for srv in pair:
                res = one_run(srv, test, c, p, d, n, timeout_s, counter, notes)
                if "error" in res:
                    warn("%s on %s, %s round %d failed: %s" % (name, srv.label, phase, r + 1, res["error"]))
                    failures.append(name)
                    if srv.ping_once() is not None:     # a hung server would make every later run time out
                        raise BenchError("%s no longer answers PING after a failed run" % srv.label, 4)
                elif res is not None:
                    res["requests"] = n
                    results[name][srv.label][phase].append(res)


def one_run(srv, test, c, p, d, n, timeout_s, counter, notes):
    """bench.bench_run, with the server's system calls counted around it when counter is given."""
    if counter is None:
        return bench.bench_run(srv, test, c, p, d, n, timeout_s)
    try:
        counter.start(srv.pid)
    except CountError as e:
        warn("counting %s's system calls: %s" % (srv.label, e))
        notes.append("a counted run of %s was skipped: %s" % (srv.label, e))
        return None
    counts = None
    try:
        res = bench.bench_run(srv, test, c, p, d, n, timeout_s)
    finally:
        try:
            counts = counter.stop()
        except CountError as e:
            warn("counting %s's system calls: %s" % (srv.label, e))
            notes.append("the counts of one run of %s were lost: %s" % (srv.label, e))
    if "error" in res or counts is None:
        return res if "error" in res else None
    res["syscalls"] = counts
    return res


# ----------------------------------------------------------------------------------------------------------
# The table

def per_request(runs):
    """Medians over the counted runs of: recv, send, other (all calls but those) and each call, per request."""
    if not runs:
        return None
    rows = []
    for r in runs:
        k, n = r["syscalls"], r["requests"]
        recv, send = sum(k.get(x, 0) for x in RECV), sum(k.get(x, 0) for x in SEND)
        row = {"recv": recv / n, "send": send / n, "other": (k[TOTAL] - recv - send) / n}
        row.update(("=" + name, v / n) for name, v in k.items() if name != TOTAL and name not in RECV + SEND)
        rows.append(row)
    keys = set().union(*rows)
    return {key: median([row.get(key, 0.0) for row in rows]) for key in keys}


def other_allowance(runs, clients, pipeline):
    """Other calls per request that connection setup and timers explain: OTHER_PER_CONN per connection (the
    clients and redis-benchmark's CONFIG GET) and OTHER_PER_BATCH per batch."""
    n = median([r["requests"] for r in runs]) if runs else float("nan")
    return (OTHER_PER_CONN * (clients + 1) + OTHER_PER_BATCH * n / pipeline) / n


def fmt_rate(v):
    if v is None or v != v:
        return "n/a"
    if v == 0:
        return "0"
    return "%.4f" % v if v >= 0.0001 else "<0.0001"


def ratio(x, y):
    return "%.2f" % (x / y) if x == x and y == y and y > 0 else "-"


def paired_range(ra, rb, key):
    vals = sorted(x[key] / y[key] for x, y in zip(ra, rb) if y[key] > 0)
    return "%.2f-%.2f" % (vals[0], vals[-1]) if len(vals) > 1 else "-"


class Table:
    COLUMNS = ("workload", "measure", "{a}", "{b}", "{a}/{b}", "per round", "target ({a})", "verdict")
    WIDTHS = (12, 18, 9, 9, 7, 9, 27, 7)

    def __init__(self, a, b):
        hdr = [h.format(a=a, b=b) for h in self.COLUMNS]
        self.widths = [max(w, len(h)) for w, h in zip(self.WIDTHS, hdr)]
        self.fmt = "  ".join("%-*s" if i in (0, 1, 6, 7) else "%*s" for i in range(len(hdr)))
        self.row(*hdr)
        log("-" * (sum(self.widths) + 2 * (len(self.widths) - 1)))

    def row(self, *cells):
        log((self.fmt % tuple(x for pair in zip(self.widths, cells) for x in pair)).rstrip())


def print_hot_path(results, specs, a, b, counter, notes):
    table = Table(a, b)
    overhead = {a: [], b: []}
    futex_seen = False
    for name, _test, c, p, _d, _n in specs:
        by = results[name]
        cpu_a, cpu_b = print_times(table, name, by[a]["clean"], by[b]["clean"], b)
        for label, clean in ((a, cpu_a), (b, cpu_b)):
            runs = by[label]["counted"]
            if runs and clean > 0:
                overhead[label].append(median([x["cpu_us"] for x in runs]) / clean)
        sa, sb = per_request(by[a]["counted"]), per_request(by[b]["counted"])
        if counter is None or (sa is None and sb is None):
            table.row("", "syscalls/req", "n/a", "n/a", "", "", "not counted", "n/a")
            continue
        print_syscalls(table, sa, sb, other_allowance(by[a]["counted"], c, p), p)
        futex_seen = futex_seen or (sa is not None and sa.get("=futex", 0) > 0)
    print_notes(counter, overhead, futex_seen, notes)


def print_times(table, name, ca, cb, b):
    """ops/s and cpu us/req rows of one workload; returns the two CPU medians."""
    ops_a, ops_b = median([x["rps"] for x in ca]), median([x["rps"] for x in cb])
    cpu_a, cpu_b = median([x["cpu_us"] for x in ca]), median([x["cpu_us"] for x in cb])
    verdict = ("PASS" if cpu_a <= CPU_TARGET * cpu_b else "MISS") if ca and cb else "n/a"
    table.row(name, "ops/s", "%.0f" % ops_a if ca else "n/a", "%.0f" % ops_b if cb else "n/a", ratio(ops_a, ops_b),
              paired_range(ca, cb, "rps"), "", "")
    table.row("", "cpu us/req", "%.2f" % cpu_a if ca else "n/a", "%.2f" % cpu_b if cb else "n/a",
              ratio(cpu_a, cpu_b), paired_range(ca, cb, "cpu_us"), "<= %.2fx %s" % (CPU_TARGET, b), verdict)
    return cpu_a, cpu_b


def print_syscalls(table, sa, sb, allowed, p):
    """recv, send and other calls per request of one workload (sa: clone's, sb: the reference's), and the other
    calls by name."""
    def get(s, k):
        return s.get(k, 0.0) if s else float("nan")

    def most(k):
        return max(s.get(k, 0.0) for s in (sa, sb) if s)

    for key in ("recv", "send"):
        verdict = ("PASS" if get(sa, key) * p <= IO_SLACK else "MISS") if sa else "n/a"
        table.row("", key + "/req", fmt_rate(get(sa, key)), fmt_rate(get(sb, key)), ratio(get(sa, key), get(sb, key)),
                  "", "1 per batch = %s/req" % fmt_rate(1 / p), verdict)
    verdict = ("PASS" if get(sa, "other") <= allowed else "MISS") if sa else "n/a"
    table.row("", "other calls/req", fmt_rate(get(sa, "other")), fmt_rate(get(sb, "other")), "", "",
              "0, i.e. <= %s/req (*)" % fmt_rate(allowed), verdict)
    names = sorted({k for s in (sa, sb) if s for k in s if k.startswith("=")}, key=lambda k: -most(k))
    shown = [k for k in names[:SHOWN_NAMES] if most(k) >= SHOWN_MIN]
    for k in shown:
        table.row("", "  " + k[1:], fmt_rate(get(sa, k)), fmt_rate(get(sb, k)), "", "", "", "")
    rest = names[len(shown):]
    if rest:
        table.row("", "  %d other names" % len(rest), fmt_rate(sum(get(sa, k) for k in rest) if sa else None),
                  fmt_rate(sum(get(sb, k) for k in rest) if sb else None), "", "", "", "")


def print_notes(counter, overhead, futex_seen, notes):
    log("")
    log("A batch is -P requests (what one client sends before it waits for the replies). recv = recvfrom, recvmsg;")
    log("send = sendto, sendmsg; other = every other system call of any thread of the server during the run.")
    log("(*) none on a request's path; allowed: %d per connection for its setup and teardown (accept, clone3, mmap,"
        % OTHER_PER_CONN)
    log("    setsockopt, ...), counting redis-benchmark's CONFIG GET connection, and 1 per %.0f batches (timers)."
        % (1 / OTHER_PER_BATCH))
    if futex_seen:
        log("futex: a futex per request means a lock was contended or a thread was woken on the request's path.")
    if counter is not None:
        factors = ", ".join("%s %.2fx" % (k, median(v)) for k, v in overhead.items() if v)
        log("syscalls: %d counted run(s) with %s." % (counter.runs, counter.tool) +
            (" Under it, cpu us/req was %s of the untraced runs (medians over the workloads): those runs give no "
             "time figures." % factors if factors else ""))
    for n in notes:
        log("note: %s" % n)
