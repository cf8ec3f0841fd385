"""tltk TCA against skada 0.6.0's TransferComponentAnalysisAdapter.

Task: 20ng-sci-talk, med-misc -> space-religion by default (1761 + 1612 = 3373
documents). Both domains' tf-idf rows are scaled to unit length, then reduced
to 300 LSA dimensions by a TruncatedSVD fitted on source + target features
together, WITHOUT labels (transductive, as in the unsupervised protocol).
Both methods get the same LSA features, the same linear kernel, the same
number of components and the same final classifier (LinearSVC). Each method's
fit + predict on the target is timed ``--repeats`` times in this one process;
the table gives medians, the time ratio and the target accuracies beside the
source-only classifier.

Regularisation: tltk solves the paper's problem
K H K w = lambda (K M K + mu I) w; skada's adapter takes the eigenvectors of
(I + mu_skada K M K)^-1 K H K, i.e. the same problem with mu_skada = 1 / mu.
skada is run both at that equivalent value and at its own default (0.1).

How to run (skada lives in its own venv; it does not need torch):

    python3 -m venv /work/benchvenv
    /work/benchvenv/bin/pip install numpy scipy scikit-learn skada==0.6.0 \
        pluggy click importlib-metadata
    /work/benchvenv/bin/pip install --no-deps -e /work/main -e /work/main/plugins/tltk-tca
    TLTK_DATA=/work/shared/data /work/benchvenv/bin/python benchmarks/tca_vs_skada.py

Options: --source/--target (domain file stems), --n-components (30),
--mu (0.1), --repeats (5 for tltk; skada gets --skada-repeats, 3).
"""
from __future__ import annotations

import argparse
import os
import statistics
import time
import warnings
from pathlib import Path

import numpy as np


def load_domain(folder, name):
    from sklearn.datasets import load_svmlight_file
    from sklearn.preprocessing import normalize

    X, y = load_svmlight_file(str(Path(folder) / f"{name}.svm"), n_features=16249,
                              zero_based=True)
    X = normalize(X.tocsr())
    X.indices = X.indices.astype(np.int32)
    X.indptr = X.indptr.astype(np.int32)
    return X, y.astype(int)


def timed(fn, repeats):
    times, out = [], None
    for _ in range(repeats):
        t0 = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times), times, out


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", default=os.environ.get("TLTK_DATA", "/work/shared/data"))
    ap.add_argument("--source", default="med-misc")
    ap.add_argument("--target", default="space-religion")
    ap.add_argument("--n-components", type=int, default=30)
    ap.add_argument("--mu", type=float, default=0.1)
    ap.add_argument("--lsa", type=int, default=300)
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--skada-repeats", type=int, default=3)
    args = ap.parse_args()

    import scipy.sparse as sp
    import skada
    from skada import TransferComponentAnalysisAdapter, make_da_pipeline
    from sklearn.decomposition import TruncatedSVD
    from sklearn.svm import LinearSVC
    from threadpoolctl import threadpool_info

    from tltk_tca import TCA

    folder = Path(args.data) / "20ng-sci-talk"
    Xs_raw, ys = load_domain(folder, args.source)
    Xt_raw, yt = load_domain(folder, args.target)
    ns, nt = Xs_raw.shape[0], Xt_raw.shape[0]
    svd = TruncatedSVD(n_components=args.lsa, random_state=0)
    Z = svd.fit_transform(sp.vstack([Xs_raw, Xt_raw]))   # no labels used
    Xs, Xt = np.ascontiguousarray(Z[:ns]), np.ascontiguousarray(Z[ns:])
    k = args.n_components

    def classifier():
        return LinearSVC()

    rows = []
    warnings.filterwarnings("ignore", category=UserWarning)  # skada's masking notes

    # source only
    t, _, pred = timed(lambda: classifier().fit(Xs, ys).predict(Xt), args.repeats)
    rows.append(("source only (LinearSVC)", t, np.mean(pred == yt)))

    # tltk
    def run_tltk():
        m = TCA(n_components=k, mu=args.mu, kernel="linear", estimator=classifier())
        return m.fit(Xs, ys, Xt).predict(Xt), m.solver_

    t_tltk, _, (pred, solver) = timed(run_tltk, args.repeats)
    rows.append((f"tltk TCA (linear, {solver}, mu={args.mu:g})", t_tltk, np.mean(pred == yt)))

    # skada
    X_all = np.vstack([Xs, Xt])
    y_all = np.concatenate([ys, np.full(nt, -1)])           # target labels masked
    sd_all = np.concatenate([np.ones(ns, dtype=int), -2 * np.ones(nt, dtype=int)])
    sd_t = -2 * np.ones(nt, dtype=int)
    skada_times = {}
    for mu_sk, note in ((1.0 / args.mu, "equivalent"), (0.1, "skada default")):
        def run_skada(mu_sk=mu_sk):
            pipe = make_da_pipeline(
                TransferComponentAnalysisAdapter(kernel="linear", n_components=k, mu=mu_sk),
                classifier())
            pipe.fit(X_all, y_all, sample_domain=sd_all)
            return pipe.predict(Xt, sample_domain=sd_t)

        t_sk, _, pred = timed(run_skada, args.skada_repeats)
        skada_times[note] = t_sk
        rows.append((f"skada {skada.__version__} TCA (linear, mu={mu_sk:g}, {note})", t_sk,
                     np.mean(pred == yt)))

    blas = ", ".join(sorted({f"{i['internal_api']} {i['num_threads']} threads"
                             for i in threadpool_info() if i.get("user_api") == "blas"}))
    print(f"20ng-sci-talk {args.source} -> {args.target}: ns={ns}, nt={nt}, "
          f"LSA {args.lsa} dims (unit-length tf-idf rows, SVD fitted on source+target "
          f"without labels), {k} components, final classifier LinearSVC, {blas}")
    print(f"medians of {args.repeats} (tltk, source only) / {args.skada_repeats} (skada) "
          "runs of fit + predict, one process\n")
    w = max(len(r[0]) for r in rows)
    print(f"{'method':<{w}}  {'time (s)':>9}  {'target acc':>10}")
    for name, t, acc in rows:
        print(f"{name:<{w}}  {t:9.3f}  {acc:10.3f}")
    print()
    for note, t_sk in skada_times.items():
        print(f"time ratio tltk / skada ({note} mu): 1/{t_sk / t_tltk:.0f} "
              f"({t_tltk / t_sk:.4f})")


if __name__ == "__main__":
    main()
