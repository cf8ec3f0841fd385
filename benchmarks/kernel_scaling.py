"""Cost growth of kernel TCA and JDA: exact n x n form vs the Nystroem form.

For every pooled sample count n (source + target, half each) and every
method / form, one fresh subprocess loads the data, fits once and reports:
fit seconds (wall clock), peak resident memory of the process (ru_maxrss;
includes Python, numpy and the data, so it is what the machine must have,
BLAS buffers included) and the increase of the peak over the process after
loading the data, and the target accuracy (transductive, all target samples).

Data: the ``synthetic`` dataset's "conditional" task (tltk-datasets; 20
dense features, 2 classes, class-conditional shift), ``n_samples = n / 2``
source and as many target samples, seed 0. Methods: TCA and JDA with
``kernel="rbf"`` and their defaults otherwise (30 components, 1-NN final
classifier; JDA 10 iterations), ``approximation="exact"`` and
``approximation="nystroem"`` (``n_landmarks=1000``, ``random_state=0``).

The exact form holds several n x n float64 matrices (K, K H K, temporaries:
about 4 * 8 n^2 bytes), so it is skipped when that estimate exceeds
``--max-exact-gb`` (default 8) and any run is stopped after ``--timeout``
seconds (default 300); skipped or stopped runs are reported as such.

    python benchmarks/kernel_scaling.py [--sizes 1000 2000 ...] [--plot FILE]

The log-log plot (time and peak-memory increase against n) needs matplotlib,
which is not a tltk dependency; without it the plot is skipped.
"""
from __future__ import annotations

import argparse
import json
import subprocess
import sys

SIZES = (1000, 2000, 5000, 10000, 20000, 50000)
METHODS = ("TCA", "JDA")
FORMS = ("exact", "nystroem")

CHILD = r"""
import json, resource, sys, time
import numpy as np
from tltk_core import load_task
method, form, n, landmarks = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
task = load_task("synthetic", "conditional", n_samples=n // 2, seed=0)
s, t = task.sources[0], task.target
if method == "TCA":
    from tltk_tca import TCA as cls
else:
    from tltk_jda import JDA as cls
est = cls(kernel="rbf", approximation=form, n_landmarks=landmarks, random_state=0)
rss0 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
t0 = time.perf_counter()
est.fit(s.X, s.y, t.X)
fit_s = time.perf_counter() - t0
acc = float(np.mean(est.predict(t.X) == t.y))
rss1 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps({"fit_s": fit_s, "peak_mb": rss1 / 1024, "extra_mb": (rss1 - rss0) / 1024,
                  "acc": acc, "form": est.approximation_}))
"""


def run_one(method, form, n, landmarks, timeout):
    try:
        out = subprocess.run([sys.executable, "-c", CHILD, method, form, str(n), str(landmarks)],
                             capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return {"status": f"stopped > {timeout:.0f} s"}
    if out.returncode != 0:
        return {"status": "failed: " + (out.stderr.strip().splitlines() or ["?"])[-1][:60]}
    res = json.loads(out.stdout.strip().splitlines()[-1])
    res["status"] = "ok"
    return res


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=list(SIZES))
    ap.add_argument("--methods", nargs="+", default=list(METHODS), choices=METHODS)
    ap.add_argument("--landmarks", type=int, default=1000)
    ap.add_argument("--max-exact-gb", type=float, default=8.0)
    ap.add_argument("--timeout", type=float, default=300.0)
    ap.add_argument("--plot", default=None, help="save a log-log plot here (needs matplotlib)")
    ap.add_argument("--json", default=None, help="also write the raw results here")
    args = ap.parse_args(argv)

    rows = []
    print(f"{'method':6} {'n':>6} {'form':9} {'fit s':>8} {'peak MB':>8} {'+MB':>7} "
          f"{'acc %':>6}  status", flush=True)
    for method in args.methods:
        for n in args.sizes:
            for form in FORMS:
                if form == "exact" and 4 * 8 * n * n / 1e9 > args.max_exact_gb:
                    res = {"status": f"skipped (~{4 * 8 * n * n / 1e9:.0f} GB)"}
                else:
                    res = run_one(method, form, n, args.landmarks, args.timeout)
                res.update(method=method, n=n, requested=form)
                rows.append(res)
                if res["status"] == "ok":
                    print(f"{method:6} {n:6d} {form:9} {res['fit_s']:8.2f} {res['peak_mb']:8.0f} "
                          f"{res['extra_mb']:7.0f} {100 * res['acc']:6.2f}  ok", flush=True)
                else:
                    print(f"{method:6} {n:6d} {form:9} {'-':>8} {'-':>8} {'-':>7} {'-':>6}  "
                          f"{res['status']}", flush=True)

    print("\naccuracy, Nystroem minus exact (points), where both ran:")
    for method in args.methods:
        for n in args.sizes:
            r = {x["requested"]: x for x in rows if x["method"] == method and x["n"] == n}
            if all(r.get(f, {}).get("status") == "ok" for f in FORMS):
                diff = 100 * (r["nystroem"]["acc"] - r["exact"]["acc"])
                print(f"  {method} n={n}: {diff:+.2f}")
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(rows, fh, indent=1)
    if args.plot:
        plot(rows, args.plot)


def plot(rows, path):
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("matplotlib is not installed: no plot", file=sys.stderr)
        return
    fig, axes = plt.subplots(1, 2, figsize=(11, 4.2))
    for method, colour in zip(METHODS, ("C0", "C1")):
        for form, style in zip(FORMS, ("o-", "s--")):
            ok = [r for r in rows if r["method"] == method and r["requested"] == form
                  and r["status"] == "ok"]
            if not ok:
                continue
            ns = [r["n"] for r in ok]
            label = f"{method} {form}"
            axes[0].loglog(ns, [r["fit_s"] for r in ok], style, color=colour, label=label)
            axes[1].loglog(ns, [max(r["extra_mb"], 1) for r in ok], style, color=colour,
                           label=label)
    axes[0].set(xlabel="n = source + target samples", ylabel="fit time (s)",
                title="time (rbf kernel)")
    axes[1].set(xlabel="n = source + target samples", ylabel="peak RSS increase (MB)",
                title="memory (rbf kernel)")
    for ax in axes:
        ax.grid(True, which="both", alpha=0.3)
        ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    print(f"plot saved to {path}")


if __name__ == "__main__":
    main()
