"""CCR3 (consensus regularisation) on 20 Newsgroups sci-vs-talk: the four
three-source tasks and the twelve single-source tasks.

    TLTK_DATA=/path/to/data OMP_NUM_THREADS=1 python benchmarks/multisource_ccr3.py [--quick]

For every task, under the dataset's protocol (tf-idf rows scaled to unit length):

- pooled: the protocol's classifier (LinearSVC) and a logistic regression with
  CCR3's own prior (``C = 1/lam``, no intercept), each trained on all sources pooled;
- single sources: the LinearSVC trained on each source alone, best (chosen with the
  target labels, so an oracle reported only as a bar to clear) and mean;
- CCR3 with theta = 0 (independent logistic regressions, probabilities averaged:
  the papers' starting point) and CCR3 with its defaults;
- seconds of the CCR3 fit and its peak traced memory (tracemalloc: numpy buffers).

Nothing is tuned on the target labels: CCR3 runs with its default hyperparameters.
``--quick`` runs the three-source tasks only. No published per-task number is
available (the papers' tables are not retrievable here; see the audit), so none
is printed.
"""
from __future__ import annotations

import argparse
import time
import tracemalloc

import numpy as np
import scipy.sparse as sp
from sklearn.linear_model import LogisticRegression

from tltk_core import load_task
from tltk_ccr3 import CCR3

DOMAINS = ["crypt-guns", "electronics-mideast", "med-misc", "space-religion"]


def _fit_measured(make):
    tracemalloc.start()
    t0 = time.perf_counter()
    model = make()
    seconds = time.perf_counter() - t0
    peak = tracemalloc.get_traced_memory()[1] / 2**20
    tracemalloc.stop()
    return model, seconds, peak


def run_task(task_id):
    task = load_task("20ng-sci-talk", task_id)
    Xs = [d.X for d in task.sources]
    ys = [np.asarray(d.y) for d in task.sources]
    Xt, yt = task.target.X, np.asarray(task.target.y)
    pooled_X, pooled_y = sp.vstack(Xs).tocsr(), np.concatenate(ys)
    lam = CCR3().lam
    row = {"task": task_id}
    row["pooled_svm"] = task.protocol.classifier_estimator().fit(pooled_X, pooled_y).score(Xt, yt)
    row["pooled_lr"] = LogisticRegression(C=1 / lam, fit_intercept=False, max_iter=2000).fit(
        pooled_X, pooled_y).score(Xt, yt)
    single = [task.protocol.classifier_estimator().fit(X, y).score(Xt, yt)
              for X, y in zip(Xs, ys)]
    row["best_single"], row["mean_single"] = max(single), float(np.mean(single))
    row["ccr_theta0"] = CCR3(theta=0.0).fit(Xs, ys, Xt).score(Xt, yt)
    model, row["seconds"], row["peak_mib"] = _fit_measured(lambda: CCR3().fit(Xs, ys, Xt))
    row["ccr3"] = model.score(Xt, yt)
    row["n_iter"] = model.n_iter_
    return row


def print_table(rows, title, single_cols=True):
    print(f"\n{title}")
    head = f"{'task':55s} {'pool SVM':>8s} {'pool LR':>8s}"
    if single_cols:
        head += f" {'best 1src':>9s} {'mean 1src':>9s}"
    head += f" {'CCR th=0':>8s} {'CCR3':>7s} {'sec':>6s} {'MiB':>6s} {'iter':>5s}"
    print(head)
    for r in rows:
        line = f"{r['task']:55s} {r['pooled_svm']:8.4f} {r['pooled_lr']:8.4f}"
        if single_cols:
            line += f" {r['best_single']:9.4f} {r['mean_single']:9.4f}"
        line += (f" {r['ccr_theta0']:8.4f} {r['ccr3']:7.4f} {r['seconds']:6.1f} "
                 f"{r['peak_mib']:6.0f} {r['n_iter']:5d}")
        print(line, flush=True)
    keys = ["pooled_svm", "pooled_lr"] + (["best_single", "mean_single"] if single_cols else [])
    keys += ["ccr_theta0", "ccr3"]
    mean = {k: np.mean([r[k] for r in rows]) for k in keys}
    line = f"{'mean':55s} {mean['pooled_svm']:8.4f} {mean['pooled_lr']:8.4f}"
    if single_cols:
        line += f" {mean['best_single']:9.4f} {mean['mean_single']:9.4f}"
    line += f" {mean['ccr_theta0']:8.4f} {mean['ccr3']:7.4f}"
    print(line)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="three-source tasks only")
    args = parser.parse_args()
    print(f"CCR3 defaults: {CCR3().get_params()}")
    multi = [f"{'+'.join(d for d in DOMAINS if d != t)}:{t}" for t in DOMAINS]
    rows = [run_task(t) for t in multi]
    print_table(rows, "Three-source tasks (sources pooled for the baselines)")
    if not args.quick:
        single = [f"{s}:{t}" for s in DOMAINS for t in DOMAINS if s != t]
        rows = [run_task(t) for t in single]
        print_table(rows, "Single-source tasks (CCR3 with one source: entropy minimisation "
                    "on the target)", single_cols=False)


if __name__ == "__main__":
    main()
