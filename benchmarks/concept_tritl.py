"""TriTL (Zhuang et al., WSDM 2013) on 20ng-sci-talk and Reuters: accuracy
against the protocol's source-only baseline, time, peak memory, and the speed
of the sparse updates against a naive dense implementation of the same sweep.

    OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 TLTK_DATA=/work/shared/data \
        python benchmarks/concept_tritl.py [--quick] [--compare] [--single]

``--compare`` also fits every task with ``doc_weighting="none"`` (the paper's
plain Frobenius objective on sum-1 documents; this plugin before issue 6) and
shows it next to the default ``doc_weighting="relative"`` (every document's
squared error divided by ``||x||^2``). ``--single``
stops after the single-source tasks (no three-source tasks, no speed test).

Baseline: ``task.protocol.classifier_estimator()`` on the features as the
protocol gives them (``load_task`` applies its preprocessing: 20ng, LinearSVC
on unit-length rows; Reuters, LogisticRegression on the weights as
distributed), trained on the source (the pooled sources for A+B+C:T), scored
on the target. For the three-source tasks the best single source's baseline is
shown too (it is chosen with target labels: a reference, not a method).
TriTL runs with the paper's defaults (20/20/10 concepts, 100 iterations),
random_state=0; nothing is tuned. "pred. minority" is the share of the
target predicted as the less predicted class (a label-free sign of collapse). Time is wall-clock of ``fit`` (PLSA
initialisation included); memory is the tracemalloc peak during ``fit``.
"""
import sys
import time
import tracemalloc

import numpy as np
import scipy.sparse as sp
from sklearn.preprocessing import normalize

from tltk_core import load_task
from tltk_tritl import TriTL
from tltk_tritl._reference import dense_sweep
from tltk_tritl._tritl import TriFactors

NG = ["crypt-guns", "electronics-mideast", "med-misc", "space-religion"]


def baseline(task, sources):
    X = sp.vstack([s.X for s in sources], format="csr")
    y = np.concatenate([s.y for s in sources])
    clf = task.protocol.classifier_estimator().fit(X, y)
    return float(np.mean(clf.predict(task.target.X) == task.target.y))


def fit_one(task, weighting):
    """Fit TriTL (defaults, seed 0) with ``doc_weighting=weighting``; accuracy,
    seconds, peak MB, monotone objective, share of the less predicted class."""
    tracemalloc.start()
    t0 = time.perf_counter()
    m = TriTL(random_state=0, doc_weighting=weighting).fit(
        [s.X for s in task.sources], [s.y for s in task.sources], task.target.X)
    secs = time.perf_counter() - t0
    peak = tracemalloc.get_traced_memory()[1] / 2**20
    tracemalloc.stop()
    pred = m.predict(task.target.X)
    o = np.asarray(m.objective_)
    return dict(acc=float(np.mean(pred == task.target.y)), secs=secs, mb=peak,
                mono=bool(np.all(np.diff(o) <= 1e-10 * o[:-1])),
                minority=float(np.bincount(pred, minlength=2).min() / len(pred)))


def run(dataset, name, compare):
    task = load_task(dataset, name)
    base = baseline(task, task.sources)
    best = max(baseline(task, [s]) for s in task.sources) if len(task.sources) > 1 else None
    row = dict(task=name, base=base, best=best, new=fit_one(task, "relative"))
    if compare:
        row["old"] = fit_one(task, "none")
    return row


def table(rows, title, multi=False):
    compare = "old" in rows[0]
    print(f"\n{title}")
    head = ("| task | source-only | " + ("best single | " if multi else "")
            + ("TriTL plain (before) | pred. minority | s | " if compare else "")
            + "TriTL | gain | pred. minority | s | peak MB | objective monotone |")
    print(head)
    print("|" + "---|" * (head.count("|") - 1))
    for r in rows:
        best = f"{r['best']:.3f} | " if multi else ""
        old = (f"{r['old']['acc']:.3f} | {r['old']['minority']:.2f} | {r['old']['secs']:.1f} | "
               if compare else "")
        a = r["new"]
        print(f"| {r['task']} | {r['base']:.3f} | {best}{old}{a['acc']:.3f} | "
              f"{100 * (a['acc'] - r['base']):+.1f} | {a['minority']:.2f} | {a['secs']:.1f} | "
              f"{a['mb']:.0f} | {'yes' if a['mono'] else 'NO'} |", flush=True)

    def mean(key, field):
        return np.mean([r[key][field] for r in rows])
    old = (f"{mean('old', 'acc'):.3f} | | {mean('old', 'secs'):.1f} | " if compare else "")
    print(f"| mean | {np.mean([r['base'] for r in rows]):.3f} | "
          + (f"{np.mean([r['best'] for r in rows]):.3f} | " if multi else "")
          + old + f"{mean('new', 'acc'):.3f} | "
          f"{100 * np.mean([r['new']['acc'] - r['base'] for r in rows]):+.1f} | | "
          f"{mean('new', 'secs'):.1f} | | |", flush=True)


def speed(task_name="crypt-guns:med-misc", sweeps=5):
    """Time the sparse sweep and the dense reference sweep on the same factors."""
    task = load_task("20ng-sci-talk", task_name)
    m = TriTL(random_state=0, n_iter=1).fit(task.sources[0].X, task.sources[0].y,
                                           task.target.X)
    docs = [normalize(task.sources[0].X, "l1"), normalize(task.target.X, "l1")]
    G = [np.eye(2)[task.sources[0].y], m.G_target_]
    args = dict(F1=m.F_identical_, S1=m.S_identical_, F2=m.F_alike_, S2=m.S_alike_,
                F3=m.F_distinct_, S3=m.S_distinct_)
    model = TriFactors(docs, G, 1, **args)
    t0 = time.perf_counter()
    for _ in range(sweeps):
        model.sweep()
    t_sparse = (time.perf_counter() - t0) / sweeps
    X = [d.T.toarray() for d in docs]
    t0 = time.perf_counter()
    state = dict(G=G, **args)
    for _ in range(sweeps):
        state = dense_sweep(X, state["G"], 1, **{k: state[k] for k in args})
    t_dense = (time.perf_counter() - t0) / sweeps
    print(f"\nspeed on {task_name} (one sweep = one iteration): sparse {1000 * t_sparse:.0f} ms, "
          f"dense {1000 * t_dense:.0f} ms, ratio {t_dense / t_sparse:.0f}x; dense X alone "
          f"{sum(x.nbytes for x in X) / 2**20:.0f} MB")


def main():
    quick = "--quick" in sys.argv
    compare = "--compare" in sys.argv
    pairs = [f"{a}:{b}" for a in NG for b in NG if a != b]
    if quick:
        pairs = pairs[:2]
    table([run("reuters", t, compare) for t in ("orgs_vs_people", "orgs_vs_places",
                                                "people_vs_places")],
          "reuters (Dai et al. splits)")
    table([run("20ng-sci-talk", p, compare) for p in pairs], "20ng-sci-talk, single source")
    if "--single" in sys.argv:
        return
    multi = ["+".join(d for d in NG if d != t) + ":" + t for t in NG]
    table([run("20ng-sci-talk", t, compare) for t in (multi[:1] if quick else multi)],
          "20ng-sci-talk, three sources (baseline: pooled sources)", multi=True)
    speed()


if __name__ == "__main__":
    main()
