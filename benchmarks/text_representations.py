"""Text representations for domain adaptation: mSDA and SCL against no transfer.

For every task: the same final classifier (LogisticRegression(max_iter=1000),
the methods' default) trained on the raw source features (source only), on the
mSDA representation (tltk-msda, defaults) and on the SCL representation
(tltk-scl, defaults). Hyperparameters are the defaults, fixed a priori; no
target label is used for anything but scoring.

- amazon-reviews-5000, DANN protocol: source ``<s>.svm`` labelled, target
  ``<t>.svm`` unlabelled (representation learning), accuracy on ``<t>-test.svm``.
- 20ng-sci-talk: source file labelled, target file unlabelled and scored
  (transductive), n_features=16249.

Then the mSDA speed comparison: the sparse, blocked tltk implementation against
the obvious dense one (densify, full (d+1) x (d+1) scatter, W = P Q^{-1} by a
linear solve) in the same process, on a 20ng task; the dense one is timed on
the d most frequent features for growing d and extrapolated as d^3.

    TLTK_DATA=/work/shared/data python benchmarks/text_representations.py \
        [--datasets amazon 20ng] [--methods source msda scl] [--no-speed]
"""
from __future__ import annotations

import argparse
import itertools
import os
import time
from pathlib import Path

import numpy as np
import scipy.sparse as sp
from sklearn.datasets import load_svmlight_file
from sklearn.linear_model import LogisticRegression

AMAZON = ("books", "dvd", "electronics", "kitchen")
NG = ("crypt-guns", "electronics-mideast", "med-misc", "space-religion")
# DANN paper (Ganin et al., JMLR 2016), same 5000 features: shallow DANN on raw
# features and DANN on mSDA features, B->D, B->E, B->K, D->B, ... order.
DANN_RAW = dict(zip(itertools.permutations("BDEK", 2), (78.4, 73.3, 77.9, 72.3, 75.4, 78.3,
                                                        71.3, 73.8, 85.4, 70.9, 74.0, 84.3)))
DANN_MSDA = dict(zip(itertools.permutations("BDEK", 2), (82.9, 80.4, 84.3, 82.5, 80.9, 84.9,
                                                         77.4, 78.1, 88.1, 71.8, 78.9, 85.6)))


def data_home():
    return Path(os.environ.get("TLTK_DATA", "/work/shared/data"))


def load(path, n_features):
    X, y = load_svmlight_file(str(path), n_features=n_features)
    X = sp.csr_matrix(X)
    X = sp.csr_matrix((X.data, X.indices.astype(np.int32), X.indptr.astype(np.int32)),
                      shape=X.shape)
    return X, y.astype(np.int64)


def tasks(dataset):
    if dataset == "amazon":
        root = data_home() / "amazon-reviews-5000"
        for s, t in itertools.permutations(AMAZON, 2):
            Xs, ys = load(root / f"{s}.svm", 5000)
            Xt, _ = load(root / f"{t}.svm", 5000)
            Xe, ye = load(root / f"{t}-test.svm", 5000)
            yield f"{s[0].upper()}->{t[0].upper()}", Xs, ys, Xt, Xe, ye
    else:
        root = data_home() / "20ng-sci-talk"
        for s, t in itertools.permutations(NG, 2):
            Xs, ys = load(root / f"{s}.svm", 16249)
            Xt, yt = load(root / f"{t}.svm", 16249)
            yield f"{s}->{t}", Xs, ys, Xt, Xt, yt


def make(method):
    if method == "msda":
        from tltk_msda import MSDA
        return MSDA()
    from tltk_scl import SCL
    return SCL()


def run_dataset(dataset, methods):
    print(f"\n## {dataset}\n")
    head = "| task | " + " | ".join(f"{m} acc | {m} fit s" for m in methods)
    if dataset == "amazon":
        head += " | DANN raw (pub.) | DANN on mSDA (pub.)"
    print(head + " |")
    print("|" + " --- |" * (1 + 2 * len(methods) + (2 if dataset == "amazon" else 0)))
    acc = {m: [] for m in methods}
    for name, Xs, ys, Xt, Xe, ye in tasks(dataset):
        row = [name]
        for m in methods:
            t0 = time.perf_counter()
            if m == "source":
                est = LogisticRegression(max_iter=1000).fit(Xs, ys)
            else:
                est = make(m).fit(Xs, ys, Xt)
            fit_s = time.perf_counter() - t0
            a = float(np.mean(est.predict(Xe) == ye))
            acc[m].append(a)
            row += [f"{a:.3f}", f"{fit_s:.1f}"]
        if dataset == "amazon":
            key = tuple(name.split("->"))
            row += [f"{DANN_RAW[key] / 100:.3f}", f"{DANN_MSDA[key] / 100:.3f}"]
        print("| " + " | ".join(row) + " |", flush=True)
    mean = ["**mean**"]
    for m in methods:
        mean += [f"**{np.mean(acc[m]):.3f}**", ""]
    if dataset == "amazon":
        mean += ["0.763", "0.813"]
    print("| " + " | ".join(mean) + " |", flush=True)
    return acc


# -- the obvious dense mSDA, for the speed comparison ---------------------------
def dense_msda(X, p=0.5, n_layers=5, reg=1e-5):
    """Densify, form the full (d+1) x (d+1) scatter, W = P Q^{-1} by a solve."""
    H = X.toarray() if sp.issparse(X) else np.asarray(X, dtype=np.float64)
    out = [H]
    for _ in range(n_layers):
        n, d = H.shape
        Xb = np.hstack([H, np.ones((n, 1))])
        S = Xb.T @ Xb
        q = np.full(d + 1, 1.0 - p)
        q[-1] = 1.0
        Q = S * np.outer(q, q)
        np.fill_diagonal(Q, q * np.diag(S))
        Q[np.arange(d), np.arange(d)] += reg
        P = S[:, :d] * q[:, None]
        M = np.linalg.solve(Q, P)
        H = np.tanh(Xb @ M)
        out.append(H)
    return np.hstack(out)


def speed(n_layers=5):
    from tltk_msda import MSDA

    root = data_home() / "20ng-sci-talk"
    Xs, ys = load(root / "crypt-guns.svm", 16249)
    Xt, _ = load(root / "electronics-mideast.svm", 16249)
    X = sp.vstack([Xs, Xt], format="csr")
    n, d = X.shape
    print(f"\n## mSDA speed, 20ng crypt-guns -> electronics-mideast "
          f"(n = {n} rows of both domains, d = {d}, {n_layers} layers, p = 0.5)\n")
    print("| implementation | features | fit s |")
    print("| --- | --- | --- |")
    for r in (2000, 5000):
        t0 = time.perf_counter()
        MSDA(n_layers=n_layers, n_reconstruct=r).fit(Xs, ys, Xt)
        print(f"| tltk MSDA, n_reconstruct={r} (incl. final classifier) | {d} -> {r} | "
              f"{time.perf_counter() - t0:.1f} |", flush=True)
    df = np.diff(X.tocsc().indptr)
    order = np.argsort(-df, kind="stable")
    times = {}
    for dd in (1000, 2000, 3000):
        Xd = X[:, order[:dd]]
        t0 = time.perf_counter()
        dense_msda(Xd, n_layers=n_layers)
        times[dd] = time.perf_counter() - t0
        print(f"| dense reference, {dd} most frequent features | {dd} | {times[dd]:.1f} |",
              flush=True)
    est = times[3000] * (d / 3000) ** 3
    print(f"| dense reference, all features (extrapolated x (d/3000)^3; the d x d "
          f"scatter alone is {d * d * 8 / 2**30:.1f} GiB) | {d} | ~{est:.0f} |")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--datasets", nargs="+", default=["amazon", "20ng"])
    ap.add_argument("--methods", nargs="+", default=["source", "msda", "scl"])
    ap.add_argument("--no-speed", action="store_true")
    args = ap.parse_args()
    for ds in args.datasets:
        run_dataset(ds, args.methods)
    if not args.no_speed:
        speed()


if __name__ == "__main__":
    main()
