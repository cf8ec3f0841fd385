"""How long `tltk list` takes with every installed plugin, against bare Python.

Run:  python benchmarks/list_speed.py [--runs 15]

Prints the median wall time of `tltk list` (a fresh interpreter each run), of
`python -c pass` and of `python -c "import sklearn.base"` in the same process,
and which heavy modules listing imported. The target (issue 2) is under 0.5 s
for `tltk list` with every plugin installed.
"""
import argparse
import statistics
import subprocess
import sys
import time

LIST = [sys.executable, "-c", "from tltk_core.cli import main; main(['list'])"]
HEAVY = ("sklearn", "scipy", "torch", "pandas", "matplotlib")


def timed(cmd, runs):
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        subprocess.run(cmd, check=True, capture_output=True)
        times.append(time.perf_counter() - t0)
    return statistics.median(times), min(times)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=15)
    args = ap.parse_args()
    rows = [
        ("python -c pass", [sys.executable, "-c", "pass"]),
        ("tltk list", LIST),
        ("python -c 'import sklearn.base'", [sys.executable, "-c", "import sklearn.base"]),
    ]
    for _ in range(2):  # warm the file cache
        subprocess.run(LIST, capture_output=True)
    results = [(name, *timed(cmd, args.runs)) for name, cmd in rows]
    base = results[0][1]
    print(f"{'command':34s} {'median s':>9s} {'min s':>7s} {'x python':>9s}")
    for name, med, mn in results:
        print(f"{name:34s} {med:9.3f} {mn:7.3f} {med / base:9.1f}")
    probe = ("import sys\nfrom tltk_core.registry import methods\nms = methods()\n"
             f"print(len(ms), [m for m in {HEAVY!r} if m in sys.modules])")
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True).stdout
    n, heavy = out.strip().split(" ", 1)
    print(f"\nmethods listed: {n}; heavy modules imported while listing: {heavy}")


if __name__ == "__main__":
    main()
