"""LWE (locally weighted ensemble, Gao et al. KDD 2008) on 20ng-sci-talk.

Part 1, the four three-source tasks ``A+B+C:T``; per task:

- pooled   : the protocol's classifier (LinearSVC) trained on the three sources pooled;
- best/mean single : the same classifier trained on each source alone; "best" is
  picked by *target* accuracy and is therefore an optimistic reference only - it is
  never used to choose anything of LWE;
- LWE      : ``LWE()`` with its defaults (logistic regression, linear SVM by SGD
  and perceptron on each source = 9 models; k-means with 2 clusters on 100 LSA
  components of the unit-length target rows; delta = 0.5), transductive on the
  whole target;
- seconds and peak traced memory (``tracemalloc``, numpy/scipy buffers included)
  of ``LWE.fit``.

Part 2, the 12 single-source tasks ``S:T``: the protocol's source-only LinearSVC
against LWE with one source (its three learners differ; the weights still come
from the target's clusters).

Nothing is tuned on target labels: the defaults were fixed before this run (how
the clustering representation, delta and the learners were chosen is in
plugins/tltk-lwe/README.md, "Deviations and choices").
No published number exists for these splits (the paper used its own 20NG splits).

Run:  TLTK_DATA=/work/shared/data OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 \
      python benchmarks/multisource_lwe.py [--single] [--json rows.json]
(about 1 min for part 1 and 1 min for part 2 on the 2-core machine).
"""
from __future__ import annotations

import argparse
import json
import time
import tracemalloc
import warnings

import numpy as np
import scipy.sparse as sp

DATASET = "20ng-sci-talk"
DOMAINS = ("crypt-guns", "electronics-mideast", "med-misc", "space-religion")
SHORT = {"crypt-guns": "crypt", "electronics-mideast": "elec", "med-misc": "med",
         "space-religion": "space"}


def acc(model, X, y):
    return float(np.mean(model.predict(X) == y))


def run_lwe(Xs, ys, Xt, yt):
    from tltk_lwe import LWE

    tracemalloc.start()
    t0 = time.perf_counter()
    m = LWE().fit(Xs, ys, Xt)
    secs = time.perf_counter() - t0
    peak = tracemalloc.get_traced_memory()[1] / 2 ** 20
    tracemalloc.stop()
    return m.score(Xt, yt), secs, peak, float(m.target_confident_.mean())


def multi_source():
    from tltk_core import load_task

    rows = []
    print(f"{'task':<24} {'pooled':>7} {'best1':>7} {'mean1':>7} {'LWE':>7} "
          f"{'conf':>5} {'sec':>6} {'MB':>6}")
    for target in DOMAINS:
        sources = [d for d in DOMAINS if d != target]
        task = load_task(DATASET, "+".join(sources) + ":" + target)
        Xs = [s.X for s in task.sources]
        ys = [s.y for s in task.sources]
        Xt, yt = task.target.X, task.target.y
        make = task.protocol.classifier_estimator
        pooled = acc(make().fit(sp.vstack(Xs).tocsr(), np.concatenate(ys)), Xt, yt)
        singles = [acc(make().fit(X, y), Xt, yt) for X, y in zip(Xs, ys)]
        lwe, secs, mb, conf = run_lwe(Xs, ys, Xt, yt)
        name = "+".join(SHORT[s] for s in sources) + ":" + SHORT[target]
        rows.append(dict(task=name, pooled=pooled, best_single=max(singles),
                         mean_single=float(np.mean(singles)), lwe=lwe, confident=conf,
                         seconds=secs, peak_mb=mb))
        print(f"{name:<24} {pooled:7.3f} {max(singles):7.3f} {np.mean(singles):7.3f} "
              f"{lwe:7.3f} {conf:5.2f} {secs:6.1f} {mb:6.0f}", flush=True)
    mean = {k: np.mean([r[k] for r in rows]) for k in
            ("pooled", "best_single", "mean_single", "lwe", "seconds", "peak_mb")}
    print(f"{'mean':<24} {mean['pooled']:7.3f} {mean['best_single']:7.3f} "
          f"{mean['mean_single']:7.3f} {mean['lwe']:7.3f} {'':>5} "
          f"{mean['seconds']:6.1f} {mean['peak_mb']:6.0f}")
    return rows


def single_source():
    from tltk_core import load_task

    rows = []
    print(f"\n{'task':<14} {'source-only':>11} {'LWE':>7} {'conf':>5} {'sec':>6} {'MB':>6}")
    for s in DOMAINS:
        for t in DOMAINS:
            if s == t:
                continue
            task = load_task(DATASET, f"{s}:{t}")
            X, y = task.sources[0].X, task.sources[0].y
            Xt, yt = task.target.X, task.target.y
            base = acc(task.protocol.classifier_estimator().fit(X, y), Xt, yt)
            lwe, secs, mb, conf = run_lwe([X], [y], Xt, yt)
            name = f"{SHORT[s]}:{SHORT[t]}"
            rows.append(dict(task=name, source_only=base, lwe=lwe, confident=conf,
                             seconds=secs, peak_mb=mb))
            print(f"{name:<14} {base:11.3f} {lwe:7.3f} {conf:5.2f} {secs:6.1f} {mb:6.0f}",
                  flush=True)
    print(f"{'mean':<14} {np.mean([r['source_only'] for r in rows]):11.3f} "
          f"{np.mean([r['lwe'] for r in rows]):7.3f}")
    return rows


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--single", action="store_true",
                    help="also run the 12 single-source tasks")
    ap.add_argument("--json", help="write the rows to this file")
    args = ap.parse_args()
    warnings.simplefilter("ignore")   # liblinear convergence notes
    out = {"multi_source": multi_source()}
    if args.single:
        out["single_source"] = single_source()
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(out, fh, indent=1)


if __name__ == "__main__":
    main()
