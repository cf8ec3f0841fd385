"""SDA (Glorot et al., ICML 2011) and mSDA (Chen et al., ICML 2012) against the
source-only linear baseline on the text benchmarks, task by task, resumable.

    export TLTK_DATA=/work/shared/data OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 MKL_NUM_THREADS=1
    python benchmarks/sda_vs_msda.py --all --store sda_msda.jsonl        # run / resume
    python benchmarks/sda_vs_msda.py --all --store sda_msda.jsonl --report
    python benchmarks/sda_vs_msda.py --amazon books:kitchen --ng crypt-guns:med-misc \\
        --methods source sda msda --store sda_msda.jsonl
    python benchmarks/sda_vs_msda.py --choose-scaling   # how normalize=True was chosen (Reuters)
    # issue 5 follow-up (mSDA variants; rules R, P, S in sda_msda_tables.md)
    python benchmarks/sda_vs_msda.py --reuters msda-r2000 msda-r5000 \\
        --store benchmarks/results/msda_reuters.jsonl          # Reuters only
    python benchmarks/sda_vs_msda.py --ng all --amazon --seeds 5 \\
        --methods source msda-r2000 msda-r5000 --store benchmarks/results/msda_20ng.jsonl

Variants ``msda-r2000``, ``msda-r5000``, ``msda-pcv``, ``msda-r2000-pcv``,
``msda-r5000-pcv``: the plugin defaults but for ``n_reconstruct`` and/or
``p="cv"``; ``--ng all`` / ``--amazon all`` name the 12 tasks, an empty
``--amazon`` / ``--ng`` none; ``--reuters V ...`` runs the Reuters-only
comparison that decides defaults (never 20ng-sci-talk or amazon labels).

For each task, under the dataset's protocol (``tltk_core.load_task``), the
protocol's final classifier (``task.protocol.classifier_estimator()``:
LogisticRegression(max_iter=1000) on amazon-reviews, LinearSVC on
20ng-sci-talk, whose rows are scaled to unit length) is trained

- ``source``: on the raw source features (no transfer);
- ``sda``: on tltk-sda's representation (plugin defaults, the same classifier
  passed as ``estimator``; rows scaled to unit length, ``normalize=True``);
- ``sda-unscaled``: the same fitted SDA layers, rows not scaled
  (``normalize=False``, the plugin's behaviour before issue 5's fix);
- ``msda``: on tltk-msda's representation (plugin defaults, same classifier;
  rows of ``[x, h1..h5]`` scaled to unit length, ``normalize=True``);
- ``msda-unscaled``: the same fitted mSDA layers, the paper's unscaled
  ``[x, h1..h5]`` (``normalize=False``) fed to a fresh copy of the classifier
  (measured together with ``msda``: the layers do not depend on the scaling).

amazon-reviews follows the DANN protocol (adapt on the target's unlabelled
training file, score on the target's test file, ``task.evaluation``);
20ng-sci-talk is transductive (the unlabelled target is adapted on and scored).
Every hyperparameter is the plugin default, fixed in advance; no target label
is used for anything but scoring.

Every (dataset, task, method, parameters) result is appended to the JSON-lines
``--store`` as soon as it is measured, so an interrupted run resumes where it
stopped; a method whose parameters (``get_params()``) changed is measured
again. Columns: accuracy, fit seconds (wall clock of ``fit``), and the peak
resident memory above the process's memory before the fit (MiB; RSS polled
every 20 ms, which sees numpy, scipy and torch buffers alike), plus the
1-minute load average of the machine when the fit ended (seconds depend on
load; accuracies do not). torch runs on one thread. Newer records also hold the
fit's CPU seconds (``time.process_time``; one BLAS thread, so about the wall clock
of an unloaded core) and, with ``--seeds N``, the target accuracies of the final
classifier with ``random_state`` 0..N-1 on the same fitted representation.
"""
from __future__ import annotations

import argparse
import json
import os
import threading
import time

import numpy as np

from _jsonl import read_jsonl

AMAZON = ["books:dvd", "books:electronics", "books:kitchen", "dvd:books", "dvd:electronics",
          "dvd:kitchen", "electronics:books", "electronics:dvd", "electronics:kitchen",
          "kitchen:books", "kitchen:dvd", "kitchen:electronics"]
_NG_DOMAINS = ["crypt-guns", "electronics-mideast", "med-misc", "space-religion"]
NG = [f"{s}:{t}" for s in _NG_DOMAINS for t in _NG_DOMAINS if s != t]
DEFAULT_AMAZON = ["books:kitchen", "dvd:electronics", "electronics:books", "kitchen:dvd"]
DEFAULT_NG = ["crypt-guns:med-misc", "electronics-mideast:space-religion",
              "med-misc:crypt-guns", "space-religion:electronics-mideast"]
METHODS = ("source", "sda", "sda-unscaled", "msda", "msda-unscaled")
# issue 5 follow-up: mSDA variants (plugin defaults but for these parameters)
MSDA_VARIANTS = {"msda-r2000": {"n_reconstruct": 2000},
                 "msda-r5000": {"n_reconstruct": 5000},
                 "msda-pcv": {"p": "cv"},
                 "msda-r2000-pcv": {"n_reconstruct": 2000, "p": "cv"},
                 "msda-r5000-pcv": {"n_reconstruct": 5000, "p": "cv"}}
# published: DANN paper (Ganin et al., JMLR 2016), same 5000 amazon features
DANN_RAW = dict(zip(AMAZON, [78.4, 73.3, 77.9, 72.3, 75.4, 78.3, 71.3, 73.8, 85.4, 70.9,
                             74.0, 84.3]))
DANN_MSDA = dict(zip(AMAZON, [82.9, 80.4, 84.3, 82.5, 80.9, 84.9, 77.4, 78.1, 88.1, 71.8,
                              78.9, 85.6]))


class PeakRSS:
    """Peak resident set size (MiB) above the RSS at entry, polled in a thread."""

    def __init__(self, interval=0.02):
        self.interval = interval

    @staticmethod
    def rss():
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20

    def _poll(self):
        while not self._stop.is_set():
            self.peak = max(self.peak, self.rss())
            self._stop.wait(self.interval)

    def __enter__(self):
        self.start = self.peak = self.rss()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._poll, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, self.rss())
        self.mib = self.peak - self.start


def make(method, clf):
    """The estimator of ``method`` with the protocol's classifier ``clf``."""
    import tltk_core
    from sklearn.base import clone

    if method == "source":
        return clone(clf)
    if method in MSDA_VARIANTS:
        return tltk_core.load("msda", estimator=clone(clf), **MSDA_VARIANTS[method])
    if method.endswith("-unscaled"):
        return tltk_core.load(method[:-9], estimator=clone(clf), normalize=False)
    return tltk_core.load(method, estimator=clone(clf))


def params_key(est):
    """A stable text of the estimator's parameters (a change re-measures)."""
    return json.dumps({k: repr(v) for k, v in sorted(est.get_params(deep=False).items())})


def run_one(dataset, task_name, method, task, seeds=0):
    clf = task.protocol.classifier_estimator()
    est = make(method, clf)
    Xs, ys = task.sources[0].X, np.asarray(task.sources[0].y)
    ev = task.evaluation if task.evaluation is not None else task.target
    with PeakRSS() as mem:
        t0, c0 = time.perf_counter(), time.process_time()
        if method == "source":
            est.fit(Xs, ys)
        else:
            est.fit(Xs, ys, task.target.X)
        seconds, cpu = time.perf_counter() - t0, time.process_time() - c0
    acc = float(np.mean(np.asarray(est.predict(ev.X)) == np.asarray(ev.y)))
    out = [{"dataset": dataset, "task": task_name, "method": method,
            "params": params_key(est), "accuracy": acc, "seconds": seconds,
            "cpu_seconds": cpu, "peak_mib": mem.mib, "load1": os.getloadavg()[0],
            "when": time.strftime("%Y-%m-%d %H:%M:%S")}]
    if getattr(est, "cv_scores_", None):
        out[0]["chosen_p"] = est.p_
        out[0]["cv_scores"] = {str(k): v for k, v in est.cv_scores_.items()}
    if seeds:
        out[0]["seed_accuracies"] = seeded_accuracies(est, clf, Xs, ys, ev, seeds,
                                                      raw=method == "source")
    if method in ("sda", "msda") and est.normalize:
        out.append(_unscaled(est, clf, Xs, ys, ev, seconds, mem.mib, dataset, task_name))
    return out


def seeded_accuracies(est, clf, Xs, ys, ev, seeds, raw=False):
    """Target accuracies of ``clone(clf)`` with ``random_state`` = 0..seeds-1,
    trained on the raw source rows (``raw``) or on the fitted method's source
    representation (the same layers for every seed): the final classifier's own
    run-to-run noise, measured instead of drawn once."""
    from sklearn.base import clone

    if raw:
        Zs, Ze = Xs, ev.X
    else:
        Zs = est.transform(Xs)
        Ze = np.vstack([est.transform(ev.X[i:i + 2048]) for i in range(0, ev.X.shape[0], 2048)])
    y = np.asarray(ev.y)
    return [float(np.mean(clone(clf).set_params(random_state=s).fit(Zs, ys).predict(Ze) == y))
            for s in range(seeds)]


def _unscaled(est, clf, Xs, ys, ev, seconds, mib, dataset, task_name):
    """"<method>-unscaled": the same fitted layers (they do not depend on
    ``normalize``), the unscaled representation (mSDA: the paper's
    ``[x, h1..hl]``) fed to a fresh copy of the classifier. Seconds: the
    method's fit plus this classifier's fit."""
    import copy

    from sklearn.base import clone

    m = copy.copy(est)
    m.normalize = False
    t0 = time.perf_counter()
    c = clone(clf).fit(m.transform(Xs), ys)
    extra = time.perf_counter() - t0
    pred = np.concatenate([c.predict(m.transform(ev.X[i:i + 2048]))
                           for i in range(0, ev.X.shape[0], 2048)])
    return {"dataset": dataset, "task": task_name, "method": est.info.name + "-unscaled",
            "params": params_key(m), "accuracy": float(np.mean(pred == np.asarray(ev.y))),
            "seconds": seconds + extra, "peak_mib": mib, "load1": os.getloadavg()[0],
            "when": time.strftime("%Y-%m-%d %H:%M:%S"),
            "note": "layers shared with the msda row of this task"}


def read_store(path):
    return read_jsonl(path)


def current_params(method, dataset):
    """The parameter text the method would be run with now on ``dataset``."""
    from tltk_core import load_task

    task = load_task(dataset, (AMAZON if dataset == "amazon-reviews" else NG)[0])
    return params_key(make(method, task.protocol.classifier_estimator()))


def report(store, plan, methods):
    """Markdown tables (one per dataset) of the newest stored result of each cell."""
    rows = read_store(store)
    out = []
    for dataset, tasks in plan:
        keys = {m: current_params(m, dataset) for m in methods}
        cell = {}
        for r in rows:
            if r["dataset"] == dataset and r["method"] in keys and r["params"] == keys[r["method"]]:
                cell[(r["task"], r["method"])] = r
        head = ["task"] + [f"{m} %" for m in methods]
        if dataset == "amazon-reviews":
            head += ["DANN raw (pub.)", "DANN on mSDA (pub.)"]
        for m in methods:
            if m != "source":
                head += [f"{m} s", f"{m} MiB"]
        head += ["load"]
        out += [f"\n### {dataset}\n", "| " + " | ".join(head) + " |",
                "|" + "---|" + "---:|" * (len(head) - 1)]
        acc = {m: [] for m in methods}
        sec = {m: [] for m in methods}
        mib = {m: [] for m in methods}
        for t in tasks:
            line = [t]
            for m in methods:
                r = cell.get((t, m))
                line.append("—" if r is None else f"{100 * r['accuracy']:.1f}")
                if r is not None:
                    acc[m].append(r["accuracy"])
                    sec[m].append(r["seconds"])
                    mib[m].append(r["peak_mib"])
            if dataset == "amazon-reviews":
                line += [f"{DANN_RAW[t]:.1f}", f"{DANN_MSDA[t]:.1f}"]
            loads = []
            for m in methods:
                r = cell.get((t, m))
                if m != "source":
                    line += (["—", "—"] if r is None
                             else [f"{r['seconds']:.1f}", f"{r['peak_mib']:.0f}"])
                if r is not None:
                    loads.append(r["load1"])
            line.append(f"{max(loads):.1f}" if loads else "—")
            out.append("| " + " | ".join(line) + " |")
        line = ["**mean**"]
        for m in methods:
            n = len(acc[m])
            line.append(f"**{100 * np.mean(acc[m]):.1f}** ({n})" if n else "—")
        if dataset == "amazon-reviews":
            line += [f"{np.mean([DANN_RAW[t] for t in tasks]):.1f}",
                     f"{np.mean([DANN_MSDA[t] for t in tasks]):.1f}"]
        for m in methods:
            if m != "source":
                line += ([f"{np.mean(sec[m]):.1f}", f"{np.max(mib[m]):.0f} (max)"]
                         if sec[m] else ["—", "—"])
        line.append("")
        out.append("| " + " | ".join(line) + " |")
        both = [t for t in tasks if all((t, m) in cell for m in methods)]
        for m in methods:
            if m != "source" and "source" in methods and both:
                wins = sum(cell[(t, m)]["accuracy"] > cell[(t, "source")]["accuracy"]
                           for t in both)
                out.append(f"\n{m}: beats source-only on {wins}/{len(both)} tasks; "
                           f"mean gain {100 * np.mean([cell[(t, m)]['accuracy'] - cell[(t, 'source')]['accuracy'] for t in both]):+.1f} points")
        for m in methods:
            cpu = [cell[(t, m)]["cpu_seconds"] for t in tasks
                   if "cpu_seconds" in cell.get((t, m), {})]
            if cpu and m != "source":
                out.append(f"\n{m}: fit CPU seconds (one thread; load-independent, unlike "
                           f"the wall-clock column) mean {np.mean(cpu):.1f}, "
                           f"max {np.max(cpu):.1f} over {len(cpu)} tasks")
        out += _seed_table(cell, tasks, methods)
    return "\n".join(out)


def _seed_table(cell, tasks, methods):
    """Per-task mean over classifier seeds (records with ``seed_accuracies``),
    and the dataset mean as mean +- std over seeds."""
    ms = [m for m in methods if any("seed_accuracies" in cell.get((t, m), {}) for t in tasks)]
    if not ms:
        return []
    n = min(len(cell[(t, m)]["seed_accuracies"]) for t in tasks for m in ms
            if "seed_accuracies" in cell.get((t, m), {}))
    out = [f"\nFinal classifier with random_state = 0..{n - 1} (same layers for every "
           "seed): per-task mean over seeds (min–max).\n",
           "| task | " + " | ".join(f"{m} %" for m in ms) + " |",
           "|---|" + "---:|" * len(ms)]
    acc = {m: {} for m in ms}
    for t in tasks:
        line = [t]
        for m in ms:
            r = cell.get((t, m), {})
            a = np.asarray(r.get("seed_accuracies", [])[:n]) * 100
            if len(a):
                acc[m][t] = a
                line.append(f"{a.mean():.1f} ({a.min():.1f}–{a.max():.1f})")
            else:
                line.append("—")
        out.append("| " + " | ".join(line) + " |")
    line = ["**mean** (± std over seeds)"]
    for m in ms:
        if acc[m]:
            per_seed = np.mean(np.vstack(list(acc[m].values())), axis=0)
            line.append(f"**{per_seed.mean():.2f}** ± {per_seed.std():.2f} ({len(acc[m])})")
        else:
            line.append("—")
    out.append("| " + " | ".join(line) + " |")
    if "source" in ms:
        for m in ms:
            both = [t for t in tasks if t in acc[m] and t in acc["source"]]
            if m == "source" or not both:
                continue
            d = np.vstack([acc[m][t] - acc["source"][t] for t in both])   # tasks x seeds
            wins = sum(d[i].mean() > 0 for i in range(len(both)))
            out.append(f"\n{m} vs source (seeded): seed-mean beats source on {wins}/"
                       f"{len(both)} tasks; mean gain {d.mean():+.2f} points, per seed "
                       f"{' '.join(f'{v:+.2f}' for v in d.mean(axis=0))}")
    return out


REUTERS = ["orgs_vs_people", "orgs_vs_places", "people_vs_places"]


def choose_scaling():
    """How ``normalize`` was chosen: on the three Reuters tasks only.

    For each Reuters task, with its rows as distributed and scaled to unit
    length (the 20ng-sci-talk protocol), mSDA and SDA are fitted once
    (defaults, ``normalize=False``); a LinearSVC and a
    LogisticRegression(max_iter=1000) are trained on the raw source rows, on
    the unscaled representation and on its rows scaled to unit length, and
    scored on the target. Prints the mean target accuracy of each cell.
    """
    import copy
    import warnings

    import scipy.sparse as sp
    import tltk_core
    from sklearn.linear_model import LogisticRegression
    from sklearn.svm import LinearSVC

    from tltk_core import load_task

    def unit(X):
        n = np.sqrt(np.asarray(X.multiply(X).sum(1)).ravel())
        n[n == 0] = 1.0
        return sp.csr_matrix(sp.diags(1.0 / n) @ X)

    res = {}
    warnings.simplefilter("ignore")
    for rows in ("as distributed", "unit length"):
        for t in REUTERS:
            task = load_task("reuters", t)
            Xs, ys = task.sources[0].X, np.asarray(task.sources[0].y)
            Xt, yt = task.target.X, np.asarray(task.target.y)
            if rows == "unit length":
                Xs, Xt = unit(Xs), unit(Xt)
            for clf_name, make_clf in (("LinearSVC", LinearSVC),
                                       ("LogisticRegression",
                                        lambda: LogisticRegression(max_iter=1000))):
                acc = np.mean(make_clf().fit(Xs, ys).predict(Xt) == yt)
                res.setdefault((rows, clf_name, "raw x"), []).append(acc)
            for method in ("msda", "sda"):
                est = tltk_core.load(method, normalize=False,
                                     estimator=LogisticRegression(max_iter=5))
                est.fit(Xs, ys, Xt)
                for norm in (False, True):
                    m = copy.copy(est)
                    m.normalize = norm
                    Zs, Zt = m.transform(Xs), m.transform(Xt)
                    for clf_name, make_clf in (("LinearSVC", LinearSVC),
                                               ("LogisticRegression",
                                                lambda: LogisticRegression(max_iter=1000))):
                        acc = np.mean(make_clf().fit(Zs, ys).predict(Zt) == yt)
                        key = (rows, clf_name, f"{method} {'unit rows' if norm else 'unscaled'}")
                        res.setdefault(key, []).append(acc)
            print(f"reuters {t} ({rows}) done", flush=True)
    cols = ["raw x", "msda unscaled", "msda unit rows", "sda unscaled", "sda unit rows"]
    print("\n| Reuters rows | classifier | " + " | ".join(cols) + " |")
    print("|---|---|" + "---:|" * len(cols))
    for rows in ("unit length", "as distributed"):
        for clf_name in ("LinearSVC", "LogisticRegression"):
            print(f"| {rows} | {clf_name} | "
                  + " | ".join(f"{100 * np.mean(res[(rows, clf_name, c)]):.1f}" for c in cols)
                  + " |")


def reuters_variants(variants, store, seeds=5):
    """Rules R and P of the issue-5 follow-up: mSDA variants on the three Reuters
    tasks only (never 20ng-sci-talk or amazon labels), in the four settings that
    chose ``normalize``: Reuters rows as distributed / scaled to unit length x
    LinearSVC / LogisticRegression(max_iter=1000). LinearSVC cells are the mean
    over ``random_state`` 0..seeds-1 of the final classifier (same layers).
    Layers that do not depend on the classifier (fixed p) are fitted once per
    task and rows setting; ``p="cv"`` is fitted with each classifier (its choice
    uses it). Resumable JSON-lines ``store``; prints the mean table."""
    import warnings

    import scipy.sparse as sp
    import tltk_core
    from sklearn.base import clone
    from sklearn.linear_model import LogisticRegression
    from sklearn.svm import LinearSVC

    from tltk_core import load_task

    def unit(X):
        n = np.sqrt(np.asarray(X.multiply(X).sum(1)).ravel())
        n[n == 0] = 1.0
        return sp.csr_matrix(sp.diags(1.0 / n) @ X)

    clfs = {"LinearSVC": LinearSVC(), "LogisticRegression": LogisticRegression(max_iter=1000)}
    warnings.simplefilter("ignore")
    done = {(r["task"], r["rows"], r["classifier"], r["variant"]) for r in read_jsonl(store)}

    def score(est, Xs, ys, Xt, yt, clf_name, raw=False):
        Zs, Zt = (Xs, Xt) if raw else (est.transform(Xs), est.transform(Xt))
        n = seeds if clf_name == "LinearSVC" else 1
        return [float(np.mean(clone(clfs[clf_name]).set_params(random_state=s)
                              .fit(Zs, ys).predict(Zt) == yt)) for s in range(n)]

    def save(rec):
        with open(store, "a") as fh:
            fh.write(json.dumps(rec) + "\n")
        print(rec["task"], rec["rows"], rec["classifier"], rec["variant"],
              f"{100 * np.mean(rec['accs']):.1f}", f"{rec['seconds']:.1f} s", flush=True)

    for t in REUTERS:
        task = load_task("reuters", t)
        for rows in ("as distributed", "unit length"):
            Xs, ys = task.sources[0].X, np.asarray(task.sources[0].y)
            Xt, yt = task.target.X, np.asarray(task.target.y)
            if rows == "unit length":
                Xs, Xt = unit(Xs), unit(Xt)
            for v in ["source"] + list(variants):
                todo = [c for c in clfs if (t, rows, c, v) not in done]
                if not todo:
                    continue
                base = {"task": t, "rows": rows, "variant": v,
                        "when": time.strftime("%Y-%m-%d %H:%M:%S"),
                        "params": json.dumps(MSDA_VARIANTS.get(v, {}))}
                if v == "source":
                    for c in todo:
                        save(dict(base, classifier=c, seconds=0.0,
                                  accs=score(None, Xs, ys, Xt, yt, c, raw=True)))
                    continue
                params = dict(MSDA_VARIANTS.get(v, {}))
                if params.get("p") == "cv":
                    for c in todo:
                        t0 = time.perf_counter()
                        est = tltk_core.load("msda", estimator=clone(clfs[c]), **params)
                        est.fit(Xs, ys, Xt)
                        sec = time.perf_counter() - t0
                        save(dict(base, classifier=c, seconds=sec, chosen_p=est.p_,
                                  accs=score(est, Xs, ys, Xt, yt, c)))
                    continue
                t0 = time.perf_counter()
                est = tltk_core.load("msda", estimator=LogisticRegression(max_iter=5),
                                     **params).fit(Xs, ys, Xt)
                sec = time.perf_counter() - t0
                for c in todo:
                    save(dict(base, classifier=c, seconds=sec,
                              accs=score(est, Xs, ys, Xt, yt, c)))
    recs = {}
    for r in read_jsonl(store):
        recs[(r["task"], r["rows"], r["classifier"], r["variant"])] = r
    vs = ["source"] + list(variants)
    print("\n| Reuters rows | classifier | " + " | ".join(vs) + " |")
    print("|---|---|" + "---:|" * len(vs))
    overall = {v: [] for v in vs}
    for rows in ("unit length", "as distributed"):
        for c in clfs:
            cells = []
            for v in vs:
                a = [np.mean(recs[(t, rows, c, v)]["accs"]) for t in REUTERS
                     if (t, rows, c, v) in recs]
                overall[v].append(np.mean(a) if len(a) == len(REUTERS) else np.nan)
                cells.append(f"{100 * np.mean(a):.1f}" if len(a) == len(REUTERS) else "—")
            print(f"| {rows} | {c} | " + " | ".join(cells) + " |")
    print("| **mean of the four** | | "
          + " | ".join(f"**{100 * np.mean(overall[v]):.2f}**" for v in vs) + " |")
    for v in vs:
        ps = [r.get("chosen_p") for r in recs.values() if r["variant"] == v and "chosen_p" in r]
        sec = [r["seconds"] for r in recs.values() if r["variant"] == v]
        if v != "source":
            print(f"{v}: mean fit {np.mean(sec):.1f} s" + (f"; chosen p {ps}" if ps else ""))


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--all", action="store_true",
                    help="all 12 amazon-reviews and 12 20ng-sci-talk single-source tasks")
    ap.add_argument("--amazon", nargs="*", default=None)
    ap.add_argument("--ng", nargs="*", default=None)
    ap.add_argument("--methods", nargs="+", default=list(METHODS),
                    choices=METHODS + tuple(MSDA_VARIANTS))
    ap.add_argument("--seeds", type=int, default=0,
                    help="also score the final classifier with random_state 0..N-1 "
                         "(LinearSVC's noise; stored as seed_accuracies)")
    ap.add_argument("--store", default="sda_msda.jsonl", help="JSON-lines results (appended)")
    ap.add_argument("--report", action="store_true", help="print the tables, run nothing")
    ap.add_argument("--choose-scaling", action="store_true",
                    help="the Reuters experiment that chose normalize=True, then exit")
    ap.add_argument("--reuters", nargs="+", default=None, choices=tuple(MSDA_VARIANTS) + ("msda",),
                    help="rules R / P: these mSDA variants on the 3 Reuters tasks (4 "
                         "settings), store --store, then exit")
    args = ap.parse_args()
    if args.reuters:
        import torch

        torch.set_num_threads(1)
        reuters_variants([v for v in args.reuters], args.store, seeds=args.seeds or 5)
        return
    if args.choose_scaling:
        import torch

        torch.set_num_threads(1)
        choose_scaling()
        return
    amazon = AMAZON if args.all else (args.amazon if args.amazon is not None else DEFAULT_AMAZON)
    ng = NG if args.all else (args.ng if args.ng is not None else DEFAULT_NG)
    amazon = AMAZON if amazon == ["all"] else amazon     # "--amazon all": the 12 tasks
    ng = NG if ng == ["all"] else ng
    plan = [(d, ts) for d, ts in (("amazon-reviews", amazon), ("20ng-sci-talk", ng)) if ts]

    import torch

    from tltk_core import load_task

    torch.set_num_threads(1)
    if not args.report:
        done = {(r["dataset"], r["task"], r["method"], r["params"])
                for r in read_store(args.store)}
        keys = {(d, m): current_params(m, d) for d, _ in plan for m in args.methods}
        for dataset, tasks in plan:
            for t in tasks:
                todo = [m for m in args.methods if (dataset, t, m, keys[(dataset, m)]) not in done]
                if not todo:
                    continue
                task = load_task(dataset, t)
                for m in todo:
                    if m.endswith("-unscaled") and m[:-9] in todo:
                        continue                     # measured with the sda / msda row
                    runs = m[:-9] if m.endswith("-unscaled") else m
                    for r in run_one(dataset, t, runs, task, args.seeds):
                        with open(args.store, "a") as f:
                            f.write(json.dumps(r) + "\n")
                        print(f"{dataset:15s} {t:36s} {r['method']:13s} "
                              f"acc {100 * r['accuracy']:5.1f}  {r['seconds']:7.1f} s  "
                              f"{r['peak_mib']:7.0f} MiB  load {r['load1']:.1f}", flush=True)
    print(report(args.store, plan, args.methods))


if __name__ == "__main__":
    main()
