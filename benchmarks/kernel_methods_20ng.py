"""TCA, JDA and GFK on sparse text: 20ng-sci-talk, the 12 single-source tasks.

Issue 4, item 5: on 20ng-sci-talk (16,249 sparse tf-idf features) TCA, JDA and
GFK must run without densifying an n x d matrix and beat the linear
source-only baseline on average.

Protocol (fixed before looking at any target accuracy):

- Data: the four ``<domain>.svm`` files of ``$TLTK_DATA/20ng-sci-talk`` via
  ``tltk_core.load_task`` (sparse CSR, n_features = 16249); all target
  samples are the (unlabelled) training target and the test set
  (transductive, the dataset's protocol).
- Preprocessing, the same for the baseline and every method: each tf-idf row
  scaled to unit L2 length (unsupervised, per sample, stays sparse). Chosen
  a priori: the TCA developer's earlier finding on this corpus, and the
  standard cosine normalisation of tf-idf.
- Final classifier: the dataset protocol's ``LinearSVC()`` (scikit-learn
  defaults). Baseline = LinearSVC on the raw (normalised) source features;
  each method gets ``estimator=LinearSVC()``.
- Hyperparameters: the plugins' defaults, nothing tuned -
  TCA(n_components=30, kernel="linear", mu=0.1),
  JDA(n_components=30, kernel="linear", mu=1.0, max_iter=10, normalize=True),
  GFK(n_components=None -> d = 20).
- Measured per fit: wall seconds of ``fit`` (``time.perf_counter``) and the
  peak of Python/numpy allocations during ``fit`` (``tracemalloc``; numpy and
  scipy report their buffers to it). A dense n x d float64 copy of the pooled
  data would be ~470 MB; the sparse pooled data are ~7 MB.
- Densification check (``--check-dense``, on by default): every sparse
  ``toarray``/``todense`` during a fit is recorded, and the run fails if any
  produced an array with 16,249 columns or rows and more than one other
  dimension (i.e. an n x d or d x d matrix).

Run:  TLTK_DATA=/work/shared/data python benchmarks/kernel_methods_20ng.py
      [--tasks crypt-guns:med-misc ...] [--methods tca jda gfk] [--no-check-dense]
      [--json rows.json]
On the 2-core machine one run of all 12 tasks takes ~30 min (JDA's 10
iterations dominate); two processes with OPENBLAS_NUM_THREADS=1 on halves of
--tasks halve that.
"""
from __future__ import annotations

import argparse
import time
import tracemalloc
import warnings

import numpy as np

DATASET = "20ng-sci-talk"
DOMAINS = ("crypt-guns", "electronics-mideast", "med-misc", "space-religion")
SHORT = {"crypt-guns": "crypt", "electronics-mideast": "elec", "med-misc": "med",
         "space-religion": "space"}
N_FEATURES = 16249


def all_tasks():
    return [f"{s}:{t}" for s in DOMAINS for t in DOMAINS if s != t]


def load(task_id):
    from sklearn.preprocessing import normalize

    import tltk_core

    task = tltk_core.load_task(DATASET, task_id)
    (src,) = task.sources
    Xs = normalize(src.X.tocsr())        # unit-length rows: the a-priori preprocessing
    Xt = normalize(task.target.X.tocsr())
    return Xs, np.asarray(src.y), Xt, np.asarray(task.target.y)


def final_classifier():
    from sklearn.svm import LinearSVC

    return LinearSVC()                   # the dataset protocol's classifier, defaults


def make_method(name):
    if name == "tca":
        from tltk_tca import TCA
        return TCA(n_components=30, kernel="linear", mu=0.1, estimator=final_classifier())
    if name == "jda":
        from tltk_jda import JDA
        return JDA(n_components=30, kernel="linear", mu=1.0, max_iter=10,
                   estimator=final_classifier())
    if name == "gfk":
        from tltk_gfk import GFK
        return GFK(estimator=final_classifier())
    raise ValueError(name)


class DenseWatch:
    """Records the shape of every sparse -> dense conversion while active."""

    def __init__(self):
        self.shapes = []

    def __enter__(self):
        import scipy.sparse as sp

        self._saved = []
        classes = {sp.csr_matrix, sp.csc_matrix, sp.coo_matrix, sp.csr_array, sp.csc_array,
                   sp.coo_array}
        for cls in classes:
            for attr in ("toarray", "todense"):
                orig = getattr(cls, attr)
                self._saved.append((cls, attr, orig, attr in cls.__dict__))
                setattr(cls, attr, self._wrap(orig))
        return self

    def _wrap(self, orig):
        shapes = self.shapes

        def wrapped(mat, *args, **kwargs):
            shapes.append(tuple(mat.shape))
            return orig(mat, *args, **kwargs)
        return wrapped

    def __exit__(self, *exc):
        for cls, attr, orig, own in self._saved:
            if own:
                setattr(cls, attr, orig)
            else:
                delattr(cls, attr)
        return False

    def big(self):
        return [s for s in self.shapes if N_FEATURES in s and min(s) > 1]


def measure(fit):
    """(seconds, peak MB) of ``fit()``."""
    tracemalloc.start()
    tracemalloc.reset_peak()
    t0 = time.perf_counter()
    fit()
    sec = time.perf_counter() - t0
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return sec, peak / 2**20


def run_task(task_id, methods, check_dense):
    Xs, ys, Xt, yt = load(task_id)
    row = {}
    base = final_classifier()
    sec, mb = measure(lambda: base.fit(Xs, ys))
    row["baseline"] = (float(np.mean(base.predict(Xt) == yt)), sec, mb)
    for name in methods:
        m = make_method(name)
        with DenseWatch() as watch:
            sec, mb = measure(lambda: m.fit(Xs, ys, Xt))
            acc = m.score(Xt, yt)
        if check_dense and watch.big():
            raise AssertionError(f"{name} densified {watch.big()} on {task_id}")
        row[name] = (acc, sec, mb)
    return row


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--tasks", nargs="*", default=all_tasks())
    p.add_argument("--methods", nargs="*", default=["tca", "jda", "gfk"])
    p.add_argument("--no-check-dense", dest="check_dense", action="store_false")
    p.add_argument("--json", help="also write the per-task rows to this JSON file")
    args = p.parse_args(argv)
    cols = ["baseline"] + args.methods
    warnings.simplefilter("ignore")      # liblinear convergence chatter
    rows = []
    head = f"{'task':<12}" + "".join(f"{c:>10}" for c in cols)
    print("target accuracy (LinearSVC final classifier; unit-length tf-idf rows)")
    print(head)
    for task_id in args.tasks:
        row = run_task(task_id, args.methods, args.check_dense)
        rows.append(row)
        s, t = task_id.split(":")
        label = f"{SHORT.get(s, s)}>{SHORT.get(t, t)}"
        print(f"{label:<12}" + "".join(f"{row[c][0]:>10.3f}" for c in cols), flush=True)
    print(f"{'mean':<12}" + "".join(f"{np.mean([r[c][0] for r in rows]):>10.3f}" for c in cols))
    print(f"{'wins/base':<12}{'':>10}" + "".join(
        f"{sum(r[c][0] > r['baseline'][0] for r in rows):>7d}/{len(rows):<2d}"
        for c in args.methods))
    print(f"{'mean fit s':<12}" + "".join(f"{np.mean([r[c][1] for r in rows]):>10.2f}"
                                         for c in cols))
    print(f"{'max fit s':<12}" + "".join(f"{np.max([r[c][1] for r in rows]):>10.2f}"
                                        for c in cols))
    print(f"{'mean peak MB':<12}" + "".join(f"{np.mean([r[c][2] for r in rows]):>10.1f}"
                                           for c in cols))
    print(f"{'max peak MB':<12}" + "".join(f"{np.max([r[c][2] for r in rows]):>10.1f}"
                                          for c in cols))
    if args.json:
        import json
        with open(args.json, "w") as f:
            json.dump(dict(zip(args.tasks, rows)), f, indent=1)
    if args.check_dense:
        print("no n x d or d x d densification in any fit (sparse toarray/todense watched)")
    return rows


if __name__ == "__main__":
    main()
