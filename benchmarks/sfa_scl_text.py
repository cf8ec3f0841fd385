"""SFA and SCL against no transfer on the text benchmarks.

For every task, under the dataset's protocol (``tltk_core.load_task``): the
protocol's final classifier trained on the raw source features (source only),
SFA (tltk-sfa, defaults) and SCL (tltk-scl, defaults), both given that same
classifier as ``estimator``. No target label is used for anything but scoring.

- amazon-reviews (12 tasks), DANN protocol: the source's labelled file trains,
  the target's unlabelled training file adapts, accuracy on the target's test
  file (``task.evaluation``); classifier LogisticRegression(max_iter=1000).
- 20ng-sci-talk (12 single-source tasks): rows scaled to unit length, target
  unlabelled and scored (transductive); classifier LinearSVC.

Columns: accuracy, fit seconds, and the peak memory (tracemalloc, Python
allocations incl. numpy/scipy buffers) of each method's fit + predict.

    TLTK_DATA=/work/shared/data OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 \\
        python benchmarks/sfa_scl_text.py [--datasets amazon-reviews 20ng-sci-talk] \\
        [--methods source sfa scl] [--tasks N]
"""
from __future__ import annotations

import argparse
import time
import tracemalloc

import numpy as np

from tltk_core import load_task
from tltk_core.registry import datasets as list_datasets

DATASETS = ("amazon-reviews", "20ng-sci-talk")


def single_source_tasks(name):
    info = {d.name: d for d in list_datasets()}[name].info
    return [t for t in info.tasks if "+" not in t.split(":")[0]]


def run_one(method, task):
    """(accuracy, fit seconds, peak MiB) of one method on one task."""
    Xs, ys = task.sources[0].X, task.sources[0].y
    Xt = task.target.X
    scored = task.evaluation if task.evaluation is not None else task.target
    clf = task.protocol.classifier_estimator()
    tracemalloc.start()
    t0 = time.perf_counter()
    if method == "source":
        est = clf.fit(Xs, ys)
    elif method == "sfa":
        from tltk_sfa import SFA
        est = SFA(estimator=clf).fit(Xs, ys, Xt)
    else:
        from tltk_scl import SCL
        est = SCL(estimator=clf).fit(Xs, ys, Xt)
    seconds = time.perf_counter() - t0
    acc = float(np.mean(est.predict(scored.X) == scored.y))
    peak = tracemalloc.get_traced_memory()[1] / 2**20
    tracemalloc.stop()
    return acc, seconds, peak


def run_dataset(name, methods, n_tasks=None):
    tasks = single_source_tasks(name)[:n_tasks]
    print(f"\n## {name}\n")
    head = "| task | " + " | ".join(f"{m} acc | {m} s | {m} MiB" for m in methods) + " |"
    print(head)
    print("|" + " --- |" * (1 + 3 * len(methods)))
    res = {m: [] for m in methods}
    for t in tasks:
        task = load_task(name, t)
        row = [t]
        for m in methods:
            acc, sec, mib = run_one(m, task)
            res[m].append((acc, sec, mib))
            row += [f"{acc:.3f}", f"{sec:.1f}", f"{mib:.0f}"]
        print("| " + " | ".join(row) + " |", flush=True)
    mean = ["**mean**"]
    for m in methods:
        a = np.array(res[m])
        mean += [f"**{a[:, 0].mean():.3f}**", f"{a[:, 1].mean():.1f}", f"{a[:, 2].max():.0f}"]
    print("| " + " | ".join(mean) + " |", flush=True)
    return res


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--datasets", nargs="+", default=list(DATASETS), choices=DATASETS)
    ap.add_argument("--methods", nargs="+", default=["source", "sfa", "scl"],
                    choices=["source", "sfa", "scl"])
    ap.add_argument("--tasks", type=int, default=None, help="only the first N tasks")
    args = ap.parse_args()
    for name in args.datasets:
        run_dataset(name, args.methods, args.tasks)


if __name__ == "__main__":
    main()
