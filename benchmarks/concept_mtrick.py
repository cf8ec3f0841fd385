"""MTrick (Zhuang et al., SDM 2010) on 20ng-sci-talk (12 single-source tasks) and
reuters (3 tasks), against the protocol's source-only baseline, plus the speed
of the sparse implementation against a dense one of the same updates.

    TLTK_DATA=/work/shared/data OMP_NUM_THREADS=1 python benchmarks/concept_mtrick.py
    (--quick: 3 tasks of 20ng, 1 of reuters; --no-dense: skip the dense timing;
     --speed-only: only the sparse-vs-dense timing; --dense-20ng: time the dense
     updates on 20ng-sci-talk crypt-guns:med-misc too, ~750 MiB and minutes)

Baseline: ``task.protocol.classifier_estimator()`` (LinearSVC on the unit-length
rows for 20ng; logistic regression for reuters) trained on the source, scored
on the target. MTrick: default hyperparameters (alpha=1, beta=1.5, 50 word
clusters, 100 sweeps, the authors' MATLAB demo values), the same input.
Seconds are CPU seconds of the fit (``time.process_time``, single-threaded
BLAS), peak memory the tracemalloc peak of the fit (numpy/scipy buffers).
No published per-task MTrick number exists for these exact files.
"""
import sys
import time
import tracemalloc

import numpy as np
import scipy.sparse as sp

from tltk_core import load_task
from tltk_mtrick import MTrick
from tltk_mtrick._mtrick import _rownorm, mtrick_update


def run_task(dataset, task):
    t = load_task(dataset, task)
    Xs, ys = t.sources[0].X, t.sources[0].y
    Xt, yt = t.target.X, t.target.y
    base = t.protocol.classifier_estimator().fit(Xs, ys).score(Xt, yt)
    tracemalloc.start()
    t0 = time.process_time()
    m = MTrick().fit(Xs, ys, Xt)
    sec = time.process_time() - t0
    peak = tracemalloc.get_traced_memory()[1] / 2**20
    tracemalloc.stop()
    acc = m.score(Xt, yt)
    o = np.asarray(m.objective_)
    mono = bool(np.all(np.diff(o) <= 1e-9 * np.abs(o[:-1])))
    return base, acc, sec, peak, mono


def table(dataset, tasks):
    print(f"\n{dataset}: source-only baseline vs MTrick (target accuracy, %)")
    print(f"{'task':40s} {'baseline':>8s} {'MTrick':>7s} {'gain':>6s} {'cpu s':>6s} "
          f"{'peak MiB':>8s} {'obj monotone':>12s}")
    rows = []
    for task in tasks:
        base, acc, sec, peak, mono = run_task(dataset, task)
        rows.append((base, acc))
        print(f"{task:40s} {100 * base:8.1f} {100 * acc:7.1f} {100 * (acc - base):+6.1f} "
              f"{sec:6.1f} {peak:8.0f} {str(mono):>12s}", flush=True)
    b, a = np.mean(rows, axis=0)
    print(f"{'mean':40s} {100 * b:8.1f} {100 * a:7.1f} {100 * (a - b):+6.1f}")


def dense_sweeps(Xs, Xt, Fs, Ft, S, Gs, Gt, G0, a, beta, n_iter):
    """The same updates on dense words x documents matrices (paper orientation),
    with the objective from the dense residual, as a plain implementation would."""
    Xs, Xt = Xs.T.toarray(), Xt.T.toarray()            # m x n, dense
    for _ in range(n_iter):
        Fs, Ft, S, Gs, Gt = mtrick_update(Xs.T, Xt.T, Fs, Ft, S, Gs, Gt, G0, alpha=a,
                                          beta=beta, XsT=Xs, XtT=Xt)
        np.sum((Xs - Fs @ S @ Gs.T) ** 2) + beta * np.sum((Xt - Ft @ S @ Gt.T) ** 2)
    return Fs, Ft, S, Gs, Gt


def speed(dataset, task, n_iter=100):
    t = load_task(dataset, task)
    Xs, ys, Xt = t.sources[0].X, t.sources[0].y, t.target.X
    t0 = time.process_time()
    m = MTrick(max_iter=n_iter, init_iter=0).fit(Xs, ys, Xt)
    sparse_sec = time.process_time() - t0
    # dense: same start (random F, LR-initialised G_t), same number of sweeps
    k, c = m.S_.shape
    Ps, Pt = Xs * m.source_scale_, Xt * m.target_scale_
    rng = np.random.RandomState(0)
    F0 = _rownorm(rng.rand(Xs.shape[1], k))
    G0 = np.eye(c)[ys]
    Gt = _rownorm(m._init_probabilities(Xt))
    S = np.full((k, c), 1e-3)
    tracemalloc.start()
    t0 = time.process_time()
    dense_sweeps(sp.csr_matrix(Ps), sp.csr_matrix(Pt), F0, F0.copy(), S,
                 _rownorm(np.maximum(G0, 1e-9)), Gt, G0, 1.0 / Xs.shape[0], 1.5, n_iter)
    dense_sec = time.process_time() - t0
    peak = tracemalloc.get_traced_memory()[1] / 2**20
    tracemalloc.stop()
    print(f"\nspeed on {dataset} {task}, {n_iter} sweeps (CPU s): sparse fit "
          f"{sparse_sec:.1f} (incl. LR init) | dense updates {dense_sec:.1f} "
          f"(peak {peak:.0f} MiB) | dense/sparse {dense_sec / sparse_sec:.1f}x")


if __name__ == "__main__":
    quick = "--quick" in sys.argv
    ng = ["crypt-guns:electronics-mideast", "crypt-guns:med-misc", "crypt-guns:space-religion",
          "electronics-mideast:crypt-guns", "electronics-mideast:med-misc",
          "electronics-mideast:space-religion", "med-misc:crypt-guns",
          "med-misc:electronics-mideast", "med-misc:space-religion",
          "space-religion:crypt-guns", "space-religion:electronics-mideast",
          "space-religion:med-misc"]
    reu = ["orgs_vs_people", "orgs_vs_places", "people_vs_places"]
    if quick:
        ng, reu = ng[:3], reu[:1]
    if "--speed-only" not in sys.argv:
        table("20ng-sci-talk", ng)
        table("reuters", reu)
    if "--no-dense" not in sys.argv:
        speed("reuters", "orgs_vs_people")
        if "--dense-20ng" in sys.argv:
            speed("20ng-sci-talk", "crypt-guns:med-misc")
