#!/usr/bin/env python3
"""plot.py SCALING.json OUT.png: draws the --scaling results of bench.py (GET ops/s and p99 against clients).

Uses matplotlib (pip install matplotlib) and falls back to gnuplot (Debian package gnuplot-nox).
SCALING.json: {"labels": [A, B], "points": [{"server", "clients", "rps", "p99"}, ...]}.
Exit codes: 0 written, 3 neither matplotlib nor gnuplot is installed, 1 plotting failed.
"""
import json
import os
import shutil
import subprocess
import sys
import tempfile


def series(data):
    out = {}
    for label in data["labels"]:
        pts = sorted((p["clients"], p["rps"], p["p99"]) for p in data["points"] if p["server"] == label)
        out[label] = pts
    return out


def with_matplotlib(data, out):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(11, 4.2))
    for label, pts in series(data).items():
        if not pts:
            continue
        c = [p[0] for p in pts]
        ax1.plot(c, [p[1] / 1000 for p in pts], marker="o", label=label)
        ax2.plot(c, [p[2] for p in pts], marker="o", label=label)
    ticks = sorted({p["clients"] for p in data["points"]})
    for ax, title, ylab in ((ax1, "GET throughput", "thousand ops/s"), (ax2, "GET p99 latency", "ms")):
        ax.set_xscale("log")
        ax.set_xticks(ticks, [str(t) for t in ticks])
        ax.minorticks_off()
        ax.set_xlabel("clients (redis-benchmark -c, -P 1)")
        ax.set_ylabel(ylab)
        ax.set_title(title)
        ax.grid(True, which="both", alpha=0.3)
        ax.legend()
    ax1.set_ylim(bottom=0)
    ax2.set_yscale("log")
    fig.suptitle(data.get("title", "redis-clone scaling"), fontsize=10)
    fig.tight_layout()
    fig.savefig(out, dpi=100)


def with_gnuplot(data, out):
    tmp = tempfile.mkdtemp(prefix="bench-plot.")
    try:
        plots1, plots2 = [], []
        for i, (label, pts) in enumerate(series(data).items()):
            fn = os.path.join(tmp, "s%d.dat" % i)
            with open(fn, "w") as f:
                for c, rps, p99 in pts:
                    f.write("%d %f %f\n" % (c, rps / 1000, p99))
            plots1.append("'%s' using 1:2 with linespoints title '%s'" % (fn, label))
            plots2.append("'%s' using 1:3 with linespoints title '%s'" % (fn, label))
        script = "\n".join([
            "set terminal pngcairo size 1100,420" if "pngcairo" in terminals() else "set terminal png size 1100,420",
            "set output '%s'" % out, "set multiplot layout 1,2", "set logscale x", "set grid",
            "set key top left", "set xlabel 'clients'", "set ylabel 'thousand ops/s'", "set title 'GET throughput'", "set yrange [0:*]",
            "plot " + ", ".join(plots1), "set logscale y", "set ylabel 'ms'", "set title 'GET p99 latency'",
            "set yrange [*:*]", "plot " + ", ".join(plots2), "unset multiplot"])
        subprocess.run(["gnuplot"], input=script, text=True, check=True, timeout=60)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def terminals():
    try:
        return subprocess.run(["gnuplot", "-e", "set terminal"], capture_output=True, text=True, timeout=10).stderr
    except (OSError, subprocess.TimeoutExpired):
        return ""


def main():
    if len(sys.argv) != 3:
        sys.exit("usage: plot.py SCALING.json OUT.png")
    with open(sys.argv[1]) as f:
        data = json.load(f)
    out = sys.argv[2]
    os.makedirs(os.path.dirname(os.path.abspath(out)), exist_ok=True)
    try:
        with_matplotlib(data, out)
    except ImportError:
        if shutil.which("gnuplot") is None:
            print("neither matplotlib (pip install matplotlib) nor gnuplot (apt-get install gnuplot-nox) is installed")
            return 3
        with_gnuplot(data, out)
    print("wrote %s" % out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
