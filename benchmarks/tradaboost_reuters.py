"""TrAdaBoost on the Reuters-21578 transfer splits of Dai et al. (ICML 2007).

Protocol: for each task (orgs_vs_people, orgs_vs_places, people_vs_places) and
each labelled fraction f, a stratified fraction f of the target documents (at
least one per class) is labelled, the rest is the test set; several seeds.
Document vectors are L2-normalised (standard for linear SVMs on tf-idf; the
raw vectors have norms ~15-20 and make liblinear fail to converge). All three
classifiers use the same weak learner (TrAdaBoost's default,
LogisticRegression(max_iter=1000); ``--learner svm`` for the paper's linear SVM):

- ``src``      the learner trained on the source only (no transfer);
- ``src+tgt``  the learner trained on the source plus the labelled target docs
               (the paper's "SVMt");
- ``TrAdaBoost`` n_estimators=100 (the paper's setting), defaults otherwise.

No hyperparameter is chosen with target test labels. Prints one row per task
and fraction (mean ± std of target test accuracy over the seeds) and a
win count of TrAdaBoost against each baseline.

    TLTK_DATA=/work/shared/data python benchmarks/tradaboost_reuters.py [--seeds 5]
"""
from __future__ import annotations

import argparse
import os
import time
import warnings
from pathlib import Path

import numpy as np
import scipy.sparse as sp
from sklearn.base import clone
from sklearn.datasets import load_svmlight_file
from sklearn.preprocessing import normalize

from tltk_tradaboost import TrAdaBoost

TASKS = ("orgs_vs_people", "orgs_vs_places", "people_vs_places")
# Dai et al. (as quoted in the data README): SVM trained on the source only.
PAPER_SVM_SOURCE_ONLY = {"orgs_vs_people": 0.737, "orgs_vs_places": 0.687,
                         "people_vs_places": 0.626}


def data_dir():
    root = os.environ.get("TLTK_DATA", str(Path.home() / ".cache" / "tltk"))
    return Path(root) / "reuters-dai2007"


def _csr32(X):
    X = sp.csr_matrix(X)
    return sp.csr_matrix((X.data, X.indices.astype(np.int32), X.indptr.astype(np.int32)),
                         shape=X.shape)


def load_task(task, folder=None):
    """Source and target of one task, aligned on one feature count, rows L2-normalised."""
    folder = Path(folder or data_dir())
    src, tgt = folder / f"{task}-source.svm", folder / f"{task}-target.svm"
    d = max(load_svmlight_file(str(p))[0].shape[1] for p in (src, tgt))
    Xs, ys = load_svmlight_file(str(src), n_features=d)
    Xt, yt = load_svmlight_file(str(tgt), n_features=d)
    return (_csr32(normalize(Xs)), ys.astype(int), _csr32(normalize(Xt)), yt.astype(int))


def labelled_mask(yt, fraction, seed):
    """Stratified choice of round(fraction * n_c) target docs per class (>= 1)."""
    rng = np.random.RandomState(seed)
    mask = np.zeros(yt.shape[0], dtype=bool)
    for c in np.unique(yt):
        idx = np.flatnonzero(yt == c)
        k = max(1, int(round(fraction * idx.size)))
        mask[rng.choice(idx, size=k, replace=False)] = True
    return mask


def run_one(Xs, ys, Xt, yt, fraction, seed, n_estimators=100, estimator=None):
    """Accuracies (src, src+tgt, TrAdaBoost) on the unlabelled target docs."""
    mask = labelled_mask(yt, fraction, seed)
    test = ~mask
    method = TrAdaBoost(n_estimators=n_estimators, estimator=estimator, random_state=seed)
    base = method.baseline_estimator()
    b1 = clone(base).fit(Xs, ys)
    b2 = clone(base).fit(sp.vstack([Xs, Xt[mask]], format="csr"), np.r_[ys, yt[mask]])
    method.fit(Xs, ys, Xt, np.where(mask, yt, -1))
    return (float(np.mean(b1.predict(Xt[test]) == yt[test])),
            float(np.mean(b2.predict(Xt[test]) == yt[test])),
            method.score(Xt[test], yt[test]))


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, default=5)
    ap.add_argument("--fractions", type=float, nargs="+", default=[0.01, 0.03, 0.05, 0.10])
    ap.add_argument("--n-estimators", type=int, default=100)
    ap.add_argument("--svm-c", type=float, default=None,
                    help="diagnostic: weak learner LinearSVC(C=...) for all three "
                         "classifiers instead of the default learner")
    ap.add_argument("--learner", choices=["default", "svm", "lr"], default="default",
                    help="weak learner for all three classifiers: TrAdaBoost's default, "
                         "LinearSVC() or LogisticRegression(max_iter=1000)")
    args = ap.parse_args(argv)
    warnings.simplefilter("ignore")
    estimator = None
    if args.svm_c is not None:
        from sklearn.svm import LinearSVC

        estimator = LinearSVC(C=args.svm_c)
    elif args.learner == "svm":
        from sklearn.svm import LinearSVC

        estimator = LinearSVC()
    elif args.learner == "lr":
        from sklearn.linear_model import LogisticRegression

        estimator = LogisticRegression(max_iter=1000)
    learner = repr(estimator if estimator is not None else
                   TrAdaBoost().baseline_estimator())
    print(f"TrAdaBoost ({learner}, N={args.n_estimators}) on reuters-dai2007, "
          f"{args.seeds} seeds; accuracy on the unlabelled target docs, mean ± std\n")
    head = (f"{'task':<17} {'frac':>5} {'m':>4} {'src':>13} {'src+tgt':>13} "
            f"{'TrAdaBoost':>13} {'wins vs src/src+tgt':>20} {'s/seed':>6}")
    print(head)
    print("-" * len(head))
    total = np.zeros(2, dtype=int)
    count = 0
    for task in TASKS:
        Xs, ys, Xt, yt = load_task(task)
        for frac in args.fractions:
            rows, t0 = [], time.perf_counter()
            for seed in range(args.seeds):
                rows.append(run_one(Xs, ys, Xt, yt, frac, seed, args.n_estimators, estimator))
            dt = (time.perf_counter() - t0) / args.seeds
            r = np.array(rows)
            wins = (r[:, 2] > r[:, 0]).sum(), (r[:, 2] > r[:, 1]).sum()
            total += wins
            count += args.seeds
            m = int(labelled_mask(yt, frac, 0).sum())
            cells = " ".join(f"{mu:.3f}±{sd:.3f}" for mu, sd in zip(r.mean(0), r.std(0)))
            print(f"{task:<17} {frac:>5.2f} {m:>4} {cells:>41} "
                  f"{f'{wins[0]}/{args.seeds}  {wins[1]}/{args.seeds}':>20} {dt:>6.1f}",
                  flush=True)
    print(f"\nTrAdaBoost better than src in {total[0]}/{count} runs, "
          f"than src+tgt in {total[1]}/{count} runs.")
    print("Dai et al., SVM source-only on these splits:",
          ", ".join(f"{k} {v:.3f}" for k, v in PAPER_SVM_SOURCE_ONLY.items()))


if __name__ == "__main__":
    main()
