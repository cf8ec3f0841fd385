"""CD-PLSA (Zhuang et al., CIKM 2010) on the text benchmarks, and its sparse EM
against a dense implementation of the same EM.

    TLTK_DATA=/work/shared/data OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 \
        python benchmarks/concept_cdplsa.py [--tasks 20ng|reuters|multi|all] [--dense-iter 5]

Prints, per task: the source-only baseline of the dataset's protocol (LinearSVC
on unit-length rows, trained on the source — on the pooled sources for the
three-source tasks), CD-PLSA with its default hyperparameters (64 word
concepts, 100 EM iterations, random_state=0; nothing tuned), the seconds of
one fit and its peak memory (tracemalloc: numpy and scipy allocations).
Then one EM iteration of the sparse implementation against the same
iteration written with dense documents × words matrices, on one 20ng task, in
the same process.
"""
import argparse
import itertools
import os
import time
import tracemalloc

import numpy as np
import scipy.sparse as sp

from tltk_core import load_task
from tltk_cdplsa import CDPLSA, em_step

DOMAINS = ["crypt-guns", "electronics-mideast", "med-misc", "space-religion"]


def tasks(which):
    out = []
    if which in ("20ng", "all"):
        out += [("20ng-sci-talk", f"{s}:{t}") for s, t in itertools.permutations(DOMAINS, 2)]
    if which in ("reuters", "all"):
        out += [("reuters", t) for t in ("orgs_vs_people", "orgs_vs_places",
                                         "people_vs_places")]
    if which in ("multi", "all"):
        out += [("20ng-sci-talk", "+".join(d for d in DOMAINS if d != t) + f":{t}")
                for t in DOMAINS]
    return out


def run(dataset, name):
    task = load_task(dataset, name)
    Xs = [d.X for d in task.sources]
    ys = [d.y for d in task.sources]
    Xt, yt = task.target.X, task.target.y
    base = task.protocol.classifier_estimator().fit(sp.vstack(Xs, format="csr"),
                                                     np.concatenate(ys)).score(Xt, yt)
    tracemalloc.start()
    t0 = time.perf_counter()
    m = CDPLSA(random_state=0).fit(Xs if len(Xs) > 1 else Xs[0],
                                    ys if len(ys) > 1 else ys[0], Xt)
    secs = time.perf_counter() - t0
    peak = tracemalloc.get_traced_memory()[1] / 2**20
    tracemalloc.stop()
    acc = m.score(Xt, yt)
    ll = np.asarray(m.log_likelihood_)
    mono = float(np.min(np.diff(ll)) / abs(ll[0]))
    return base, acc, secs, peak, mono, len(m.plsa_log_likelihood_) - 1


def dense_em_step(Xs, F, S, G, free):
    """The same EM iteration as ``em_step`` with dense documents × words
    matrices: the model and the ratio X / model formed in full."""
    S_stat = np.zeros_like(S)
    F_new, G_new, ll = [], [], 0.0
    for X, Fc, Gc, upd in zip(Xs, F, G, free):
        FS = Fc @ S
        P = np.maximum(Gc @ FS.T, 1e-300)            # documents × words, dense
        nz = X > 0
        ll += float(np.sum(X[nz] * np.log(P[nz])))
        R = X / P
        RtG = R.T @ Gc
        Fn = Fc * (RtG @ S.T)
        F_new.append(Fn / Fn.sum(0, keepdims=True))
        S_stat += Fc.T @ RtG
        if upd:
            Gn = Gc * (R @ FS)
            G_new.append(Gn / Gn.sum(0, keepdims=True))
        else:
            G_new.append(Gc)
    S_stat *= S
    return F_new, S_stat / S_stat.sum(), G_new, ll


def speed(n_iter):
    task = load_task("20ng-sci-talk", "crypt-guns:med-misc")
    Xs = [task.sources[0].X.tocsr(), task.target.X.tocsr()]
    ys = task.sources[0].y
    rng = np.random.RandomState(0)
    K, C, V = 64, 2, Xs[0].shape[1]
    F = [rng.rand(V, K) for _ in Xs]
    F = [f / f.sum(0) for f in F]
    S = rng.rand(K, C)
    S /= S.sum()
    G = [np.eye(C)[ys] / np.bincount(ys), rng.rand(Xs[1].shape[0], C)]
    G[1] /= G[1].sum(0)
    free = [False, True]

    def timed(step, data):
        tracemalloc.start()
        t0 = time.perf_counter()
        out = F, S, G
        for _ in range(n_iter):
            *out, ll = step(data, *out, free)
        secs = (time.perf_counter() - t0) / n_iter
        peak = tracemalloc.get_traced_memory()[1] / 2**20
        tracemalloc.stop()
        return out, ll, secs, peak

    sparse_out, ll_s, t_s, m_s = timed(em_step, Xs)
    dense = [X.toarray() for X in Xs]
    dense_out, ll_d, t_d, m_d = timed(dense_em_step, dense)
    err = max(np.abs(a - b).max() for a, b in zip(sparse_out[2], dense_out[2]))
    print(f"\nOne EM iteration on 20ng crypt-guns:med-misc (K=64, {n_iter} iterations "
          f"averaged; documents × words {sum(X.shape[0] for X in Xs)} × {V}, "
          f"nnz {sum(X.nnz for X in Xs)}):")
    print(f"  sparse: {t_s * 1e3:8.1f} ms/iteration, peak {m_s:7.1f} MiB")
    print(f"  dense : {t_d * 1e3:8.1f} ms/iteration, peak {m_d:7.1f} MiB  "
          f"(input densified outside the timing: {sum(d.nbytes for d in dense) / 2**20:.0f} MiB)")
    print(f"  speed-up {t_d / t_s:.1f}x, memory {m_d / m_s:.1f}x; max |P(d|z) sparse - dense| "
          f"= {err:.1e}; log-likelihoods {ll_s:.6e} / {ll_d:.6e}")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--tasks", default="all", choices=["20ng", "reuters", "multi", "all", "none"])
    ap.add_argument("--dense-iter", type=int, default=5)
    args = ap.parse_args()
    rows = []
    if args.tasks != "none":
        print(f"{'dataset':14s} {'task':58s} {'baseline':>8s} {'CD-PLSA':>8s} {'gain':>6s} "
              f"{'sec':>6s} {'MiB':>6s} {'min dLL/|LL|':>12s} {'plsa it':>7s}")
        for dataset, name in tasks(args.tasks):
            base, acc, secs, peak, mono, pit = run(dataset, name)
            rows.append((dataset, name, base, acc))
            print(f"{dataset:14s} {name:58s} {base:8.3f} {acc:8.3f} {100 * (acc - base):+6.1f} "
                  f"{secs:6.1f} {peak:6.0f} {mono:12.1e} {pit:7d}", flush=True)
        groups = {"20ng single-source": lambda d, n: d.startswith("20ng") and "+" not in n,
                  "20ng three-source": lambda d, n: "+" in n,
                  "reuters": lambda d, n: d == "reuters"}
        for label, keep in groups.items():
            sel = [(b, a) for d, n, b, a in rows if keep(d, n)]
            if sel:
                b, a = np.mean(sel, axis=0)
                wins = sum(a_ > b_ for b_, a_ in sel)
                print(f"mean {label:25s} baseline {b:.3f}  CD-PLSA {a:.3f}  "
                      f"gain {100 * (a - b):+.1f} points  (CD-PLSA better on {wins}/{len(sel)})")
    if args.dense_iter > 0:
        speed(args.dense_iter)
    print(f"\nload average at the end (1/5/15 min, {os.cpu_count()} CPUs): "
          + " ".join(f"{x:.1f}" for x in os.getloadavg()) + " — seconds scale with it")


if __name__ == "__main__":
    main()
