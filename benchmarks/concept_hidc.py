"""HIDC (Zhuang et al., IJCAI 2013) against the source-only baseline.

Run:
    TLTK_DATA=/work/shared/data OMP_NUM_THREADS=1 python benchmarks/concept_hidc.py

Tables: the 12 single-source tasks of 20ng-sci-talk, the three reuters tasks
and the four three-source 20ng-sci-talk tasks (A+B+C:T; the baseline pools the
sources). Per task: the protocol's source-only classifier
(``task.protocol.classifier_estimator()``, LinearSVC on unit-length rows,
trained on the source, scored on the target), HIDC with its defaults
(20/20/10 concepts, 100 EM iterations), fit + predict seconds (wall and CPU)
and the peak of Python-allocated memory during the fit (tracemalloc, which
sees NumPy/SciPy buffers). The paper's numbers are on other task
constructions (it builds tasks with distinct concepts), so none is printed.

Last, the speed ratio: one EM iteration of the sparse implementation against
the same EM written with dense documents x words matrices
(``tltk_hidc._reference.dense_em_step``), timed in this process on one task.
``--quick`` runs 30 EM iterations instead of 100.
"""
import argparse
import time
import tracemalloc

import numpy as np
import scipy.sparse as sp

from tltk_core import load_task
from tltk_hidc import HIDC

DOMAINS = ["crypt-guns", "electronics-mideast", "med-misc", "space-religion"]


def run(dataset, task_name, params):
    task = load_task(dataset, task_name)
    Xs = [s.X for s in task.sources]
    ys = [s.y for s in task.sources]
    Xt, yt = task.target.X, task.target.y
    base = task.protocol.classifier_estimator().fit(sp.vstack(Xs, format="csr"),
                                                    np.concatenate(ys)).score(Xt, yt)
    tracemalloc.start()
    t0, c0 = time.perf_counter(), time.process_time()
    m = HIDC(**params).fit(Xs, ys, Xt)
    acc = m.score(Xt, yt)
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    peak = tracemalloc.get_traced_memory()[1] / 2**20
    tracemalloc.stop()
    ll = np.diff(m.log_likelihood_)
    return base, acc, wall, cpu, peak, ll.min() >= -1e-9 * abs(m.log_likelihood_[-1])


def table(title, dataset, tasks, params):
    print(f"\n## {title}\n")
    print("| task | source-only | HIDC | gain | seconds (wall / CPU) | peak MiB | L monotone |")
    print("| --- | --- | --- | --- | --- | --- | --- |")
    rows = []
    for t in tasks:
        base, acc, wall, cpu, peak, mono = run(dataset, t, params)
        rows.append((base, acc))
        print(f"| {t} | {base:.3f} | {acc:.3f} | {acc - base:+.3f} | {wall:.1f} / {cpu:.1f} "
              f"| {peak:.0f} | {'yes' if mono else 'NO'} |", flush=True)
    b, a = np.mean(rows, axis=0)
    print(f"| **mean** | {b:.3f} | {a:.3f} | {a - b:+.3f} | | | |", flush=True)


def speed_ratio(dataset, task_name, reps=3):
    from tltk_core.sparse_ops import nonzero_rows
    from tltk_hidc._hidc import KINDS, em_step
    from tltk_hidc._reference import dense_em_step

    task = load_task(dataset, task_name)
    X = [task.sources[0].X, task.target.X]
    rng = np.random.RandomState(0)
    C, sizes = 2, {"identical": 20, "alike": 20, "distinct": 10}
    kinds = [(n, sizes[n], sw, sa) for n, sw, sa in KINDS]
    V = X[0].shape[1]
    D = [rng.rand(x.shape[0], C) for x in X]
    D = [d / d.sum() for d in D]
    W = {n: [rng.rand(V, k)] * 2 for n, k, _, _ in kinds}
    S = {n: [rng.rand(k, C)] * 2 for n, k, _, _ in kinds}
    log_pr = np.log([0.5, 0.5])
    rows = [nonzero_rows(x) for x in X]

    def timed(fn, data):
        fn(data, D, W, S, kinds, log_pr)
        c0 = time.process_time()
        for _ in range(reps):
            out = fn(data, D, W, S, kinds, log_pr)
        return (time.process_time() - c0) / reps, out

    tracemalloc.start()
    t_sparse, a = timed(lambda *args: em_step(*args, rows=rows), X)
    peak_sparse = tracemalloc.get_traced_memory()[1] / 2**20
    tracemalloc.stop()
    Xd = [x.toarray() for x in X]
    tracemalloc.start()
    t_dense, b = timed(dense_em_step, Xd)
    peak_dense = tracemalloc.get_traced_memory()[1] / 2**20
    tracemalloc.stop()
    same = np.allclose(a[0][1], b[0][1], rtol=1e-8) and abs(a[3] - b[3]) <= 1e-8 * abs(b[3])
    n = sum(x.shape[0] for x in X)
    print(f"\n## One EM iteration, {dataset} {task_name} ({n} documents x {V} words, "
          f"{sum(x.nnz for x in X)} nonzeros), CPU seconds\n")
    print("| implementation | s / iteration | peak MiB (incl. dense X) |")
    print("| --- | --- | --- |")
    print(f"| sparse (tltk-hidc) | {t_sparse:.3f} | {peak_sparse:.0f} |")
    print(f"| dense reference | {t_dense:.3f} | {peak_dense:.0f} |")
    print(f"\nspeed-up {t_dense / t_sparse:.1f}x; same result: {same}")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="30 EM iterations instead of 100")
    ap.add_argument("--only", choices=["single", "reuters", "multi", "speed"], default=None)
    args = ap.parse_args()
    params = {"n_iter": 30} if args.quick else {}
    single = [f"{s}:{t}" for s in DOMAINS for t in DOMAINS if s != t]
    multi = ["+".join(d for d in DOMAINS if d != t) + f":{t}" for t in DOMAINS]
    if args.only in (None, "single"):
        table("20ng-sci-talk, single source", "20ng-sci-talk", single, params)
    if args.only in (None, "reuters"):
        table("reuters (Dai et al. 2007 splits)", "reuters",
              ["orgs_vs_people", "orgs_vs_places", "people_vs_places"], params)
    if args.only in (None, "multi"):
        table("20ng-sci-talk, three sources (baseline pools them)", "20ng-sci-talk", multi,
              params)
    if args.only in (None, "speed"):
        speed_ratio("20ng-sci-talk", "crypt-guns:med-misc")


if __name__ == "__main__":
    main()
