"""SCL against the linear source-only baseline on Amazon reviews and 20ng-sci-talk.

For every task: LogisticRegression(max_iter=1000) trained on the source alone
(the baseline, and SCL's default final classifier) and SCL with its defaults
(tltk-scl), both scored the same way. Data through ``tltk_core.load_task``:

- amazon-reviews, DANN protocol: the source's labelled file, the target's
  training file WITHOUT labels for adaptation, accuracy on ``task.evaluation``
  (the target's test file). 12 tasks.
- 20ng-sci-talk: the 12 single-source tasks, the target unlabelled and scored
  (transductive), raw tf-idf as distributed (the protocol's LinearSVC and row
  scaling are not applied: both columns use the same linear classifier).

No target label is used for anything but scoring. Columns: accuracy of each,
fit seconds of SCL (incl. its final classifier) and its peak traced memory.
Runs on one thread:

    OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 TLTK_DATA=/work/shared/data \\
        python benchmarks/scl_amazon.py [--datasets amazon-reviews 20ng-sci-talk] \\
        [-p positive_weights=True ...]
"""
from __future__ import annotations

import argparse
import ast
import itertools
import time
import tracemalloc
import warnings

import numpy as np

AMAZON = ("B", "D", "E", "K")
NG = ("crypt-guns", "electronics-mideast", "med-misc", "space-religion")


def task_names(dataset):
    doms = AMAZON if dataset == "amazon-reviews" else NG
    return [f"{s}:{t}" for s, t in itertools.permutations(doms, 2)]


def run(dataset, params):
    from sklearn.linear_model import LogisticRegression

    from tltk_core import load_task
    from tltk_scl import SCL

    print(f"\n## {dataset}  (SCL params: {params or 'defaults'})\n")
    print("| task | source-only LR | SCL | gain | SCL fit s | SCL peak MiB |")
    print("| --- | --- | --- | --- | --- | --- |")
    base_acc, scl_acc, secs = [], [], []
    for name in task_names(dataset):
        task = load_task(dataset, name)
        Xs, ys = task.sources[0].X, task.sources[0].y
        Xt = task.target.X
        ev = task.evaluation if task.evaluation is not None else task.target
        base = float(LogisticRegression(max_iter=1000).fit(Xs, ys).score(ev.X, ev.y))
        tracemalloc.start()
        t0 = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            model = SCL(**params).fit(Xs, ys, Xt)
        fit_s = time.perf_counter() - t0
        peak = tracemalloc.get_traced_memory()[1] / 2**20
        tracemalloc.stop()
        acc = float(model.score(ev.X, ev.y))
        base_acc.append(base)
        scl_acc.append(acc)
        secs.append(fit_s)
        print(f"| {name} | {base:.3f} | {acc:.3f} | {100 * (acc - base):+.1f} | {fit_s:.1f} | "
              f"{peak:.0f} |", flush=True)
    print(f"| **mean** | **{np.mean(base_acc):.3f}** | **{np.mean(scl_acc):.3f}** | "
          f"{100 * (np.mean(scl_acc) - np.mean(base_acc)):+.1f} | {np.mean(secs):.1f} | |",
          flush=True)
    return base_acc, scl_acc


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--datasets", nargs="+", default=["amazon-reviews", "20ng-sci-talk"])
    ap.add_argument("-p", action="append", default=[], metavar="NAME=VALUE",
                    help="an SCL hyperparameter (Python literal value)")
    args = ap.parse_args()
    params = {}
    for item in args.p:
        key, _, value = item.partition("=")
        try:
            params[key] = ast.literal_eval(value)
        except (ValueError, SyntaxError):
            params[key] = value
    for dataset in args.datasets:
        run(dataset, params)


if __name__ == "__main__":
    main()
