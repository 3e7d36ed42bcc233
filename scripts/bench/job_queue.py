"""scripts/bench.sh --queue: a job queue, side by side. 50 producers LPUSH onto one list while 50 consumers take
from it with BRPOP (each consumer blocked until an item arrives), both with redis-benchmark, at the same time.

Reported per server (median of --rounds rounds, A B A B): items through the queue per second (items / the time
from the start until the last consumer got its last item), the producers' and consumers' p50/p99 latency as
redis-benchmark measures them, and the server's CPU time per item. Each round starts from an empty queue; the
producers push a few more items than the consumers take, so that no consumer is left waiting for its timeout.
"""
import subprocess
import time

from benchlib import BenchError, CLK_TCK, cpu_ticks, die_with_parent, info_field, log, median, warn

CLIENTS = 50
ITEMS = 400_000          # about 4 s on redis-server here
SPARE = 5_000            # extra items pushed, so that every BRPOP finds one
QUEUE = "bench:queue"


def csv_row(text, title):
    rows = [l for l in text.splitlines() if l.startswith('"%s",' % title)]
    if not rows:
        return None
    f = rows[-1].replace('"', "").split(",")
    return {"rps": float(f[1]), "p50": float(f[4]), "p99": float(f[6])}


def one_round(srv, items, timeout_s):
    base = ["redis-benchmark", "-h", "127.0.0.1", "-p", str(srv.port), "-c", str(CLIENTS), "--csv"]
    consume = ["BRPOP", QUEUE, "10"]
    produce = ["LPUSH", QUEUE, "item:__rand_int__"]
    t0 = cpu_ticks(srv.pid)
    start = time.monotonic()
    consumers = subprocess.Popen(base + ["-n", str(items)] + consume, stdout=subprocess.PIPE,
                                 stderr=subprocess.STDOUT, text=True, preexec_fn=die_with_parent)
    producers = subprocess.Popen(base + ["-n", str(items + SPARE), "-r", "100000"] + produce,
                                 stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                                 preexec_fn=die_with_parent)
    try:
        out_c = consumers.communicate(timeout=timeout_s)[0]
        elapsed = time.monotonic() - start
        out_p = producers.communicate(timeout=timeout_s)[0]
    except subprocess.TimeoutExpired:
        raise BenchError("%s: the queue workload did not finish within %d s" % (srv.label, timeout_s))
    finally:
        for p in (consumers, producers):
            if p.poll() is None:
                p.kill()
                p.wait()
    t1 = cpu_ticks(srv.pid)
    srv.check_alive("the queue workload")
    c = csv_row(out_c, " ".join(consume))
    p = csv_row(out_p, " ".join(produce))
    if c is None or p is None:
        return {"error": "no CSV from redis-benchmark: %s" % (out_c + out_p).strip()[-200:]}
    return {"ops": items / elapsed, "consumer": c, "producer": p,
            "cpu_us": (t1 - t0) * 1e6 / CLK_TCK / items if t0 is not None and t1 is not None else float("nan")}


def mode_queue(pair, args, failures):
    rounds = args.rounds
    items = max(10_000, int(ITEMS * (0.75 if args.quick else 1.0)))
    log("\n== queue: %d producers LPUSH, %d consumers BRPOP on one list, %d items, %d round(s), A B A B" % (
        CLIENTS, CLIENTS, items, rounds))
    results = {s.label: [] for s in pair}
    for s in pair:
        s.start()
    try:
        for r in range(rounds):
            for srv in pair:
                res = one_round(srv, items, 300)
                if "error" in res:
                    warn("queue on %s, round %d failed: %s" % (srv.label, r + 1, res["error"]))
                    failures.append("queue")
                    continue
                results[srv.label].append(res)
                left = info_field(srv.port, "clients", "blocked_clients")
                if left not in (None, "0"):
                    warn("%s: %s clients still blocked after a round" % (srv.label, left))
    finally:
        for s in pair:
            s.stop()
    a, b = pair[0].label, pair[1].label
    log("%-8s %12s %18s %18s %10s" % ("server", "items/s", "LPUSH p50/p99 ms", "BRPOP p50/p99 ms", "cpu us/item"))
    for label in (a, b):
        rs = results[label]
        if not rs:
            log("%-8s %12s" % (label, "n/a"))
            continue
        lat = lambda side: "%.3f/%.3f" % (median([x[side]["p50"] for x in rs]), median([x[side]["p99"] for x in rs]))
        log("%-8s %12.0f %18s %18s %10.2f" % (label, median([x["ops"] for x in rs]), lat("producer"),
                                              lat("consumer"), median([x["cpu_us"] for x in rs])))
    if results[a] and results[b]:
        ops = median([x["ops"] for x in results[a]]) / median([x["ops"] for x in results[b]])
        p99 = median([x["consumer"]["p99"] for x in results[a]]) / max(1e-9, median([x["consumer"]["p99"] for x in results[b]]))
        log("%s/%s: items/s %.2f, BRPOP p99 %.2f" % (a, b, ops, p99))
