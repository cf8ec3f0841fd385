"""Which unsupervised scorer picks good candidates? Evidence for DEFAULT_SCORER.

For every task of office-caltech-surf and 20ng-sci-talk (12 + 12 single-source
tasks, each under its protocol: preprocessing and final classifier), a few
candidates (installed methods x a few hyperparameter values, plus "no transfer":
the protocol's classifier on the source alone) are scored by every scorer of
``tltk_core.selection`` WITHOUT target labels. Target labels are used only
afterwards, to report the accuracy of each candidate and hence of each scorer's
choice. Per task and on average: the chosen candidate's accuracy, the best
candidate's (regret = best - chosen), the median candidate's and the expected
accuracy of a random choice (the candidates' mean).

    OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 MKL_NUM_THREADS=1 \\
    TLTK_DATA=/work/shared/data python benchmarks/selection_scorers.py \\
        [--dataset office-caltech-surf|20ng-sci-talk] [--tasks S:T,...] [--store FILE]

Each finished task is appended to a JSON-lines store (default
``selection_scorers.jsonl`` in the current directory), so an interrupted run resumes
and the tables can be re-printed with ``--report``. A scorer not applicable to
a candidate (``entropy`` needs ``predict_proba``) chooses among the candidates
it can score.
"""
from __future__ import annotations

import argparse
import json
import math
import os
import sys
import time
import warnings
from pathlib import Path

import numpy as np

import tltk_core
from tltk_core import load_task
from tltk_core.selection import SCORERS, score_candidates

DATASETS = ("office-caltech-surf", "20ng-sci-talk")

# (label, method, hyperparameters) per dataset; few, to keep the run affordable
CANDIDATES = {
    "office-caltech-surf": [
        ("no-transfer", None, {}),
        ("tca-20", "tca", {"n_components": 20}),
        ("tca-100", "tca", {"n_components": 100}),
        ("jda-20", "jda", {"n_components": 20}),
        ("gfk-10", "gfk", {"n_components": 10}),
        ("gfk-30", "gfk", {"n_components": 30}),
    ],
    "20ng-sci-talk": [
        ("no-transfer", None, {}),
        ("tca-30", "tca", {"n_components": 30}),
        ("tca-100-mu1", "tca", {"n_components": 100, "mu": 1.0}),
        ("scl", "scl", {}),
        ("sfa", "sfa", {}),
    ],
}


def _factory(task, method, params):
    protocol = task.protocol
    if method is None:
        return lambda: tltk_core.load("source-only", classifier=protocol.classifier_estimator())
    cls = tltk_core.get_method(method)
    full = protocol.params_for(method, cls._get_param_names(), params)
    if "random_state" in cls._get_param_names() and "random_state" not in full:
        full["random_state"] = 0
    return lambda: tltk_core.load(method, **full)


def run_task(dataset, task_name):
    task = load_task(dataset, task_name)
    Xs, ys = task.sources[0].X, np.asarray(task.sources[0].y)
    Xt = task.target.X
    available = {e.name for e in tltk_core.methods() if e.status == "ok"}
    cands = {label: _factory(task, m, p) for label, m, p in CANDIDATES[dataset]
             if m is None or m in available}
    t0 = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        # one call: the folds and input-space weights are shared by all candidates
        fitted = {}
        scores = score_candidates(cands, Xs, ys, Xt, random_state=0, fitted=fitted)
    seconds = time.perf_counter() - t0
    rows = {}
    yt = np.asarray(task.target.y)
    for label in cands:
        # target labels: used here, after scoring, only to report accuracy
        acc = float(np.mean(fitted[label].predict(Xt) == yt))
        rows[label] = {"acc": acc, "scores": scores[label]}
        print(f"  {task_name:>32} {label:>12} acc {acc:.3f} "
              + " ".join(f"{k} {v:+.4f}" for k, v in scores[label].items()), flush=True)
    print(f"  scoring took {seconds:.0f} s", flush=True)
    return {"dataset": dataset, "task": task_name, "candidates": rows,
            "scoring_seconds": seconds}


def choose(rows, scorer):
    """The candidate ``scorer`` picks (ties: first in candidate order); None if it
    can score no candidate."""
    best, best_s = None, -math.inf
    for label, r in rows.items():
        s = r["scores"].get(scorer, float("nan"))
        if s is not None and not math.isnan(s) and s > best_s:
            best, best_s = label, s
    return best


def _nanmean(values):
    v = np.asarray(values, dtype=float)
    return float(np.mean(v[~np.isnan(v)])) if (~np.isnan(v)).any() else float("nan")


def report(records):
    scorers = list(SCORERS)
    for dataset in DATASETS:
        recs = [r for r in records if r["dataset"] == dataset]
        if not recs:
            continue
        print(f"\n## {dataset}: target accuracy (%) of each scorer's choice\n")
        head = ["task", "best", "median", "random", "no-transfer"] + scorers
        print("| " + " | ".join(head) + " |")
        print("|" + "---|" * len(head))
        cols = {h: [] for h in head[1:]}
        for r in recs:
            rows = r["candidates"]
            accs = np.array([v["acc"] for v in rows.values()]) * 100
            vals = {"best": accs.max(), "median": float(np.median(accs)),
                    "random": accs.mean(), "no-transfer": rows["no-transfer"]["acc"] * 100}
            picks = {}
            for s in scorers:
                c = choose(rows, s)
                vals[s] = float("nan") if c is None else rows[c]["acc"] * 100
                picks[s] = c
            for h in head[1:]:
                cols[h].append(vals[h])
            print("| " + r["task"] + " | " + " | ".join(
                f"{vals[h]:.1f}" + (f" ({picks[h]})" if h in picks else "") for h in head[1:])
                + " |")
        means = {h: _nanmean(v) for h, v in cols.items()}
        print("| **mean** | " + " | ".join(f"**{means[h]:.1f}**" for h in head[1:]) + " |")
        best = np.array(cols["best"])
        med = np.array(cols["median"])
        print("\nper scorer: mean regret (best - chosen), tasks above the median candidate, "
              "tasks where it picked the best")
        for s in scorers:
            ch = np.array(cols[s])
            print(f"  {s:>8}: regret {_nanmean(best - ch):5.2f}  above median "
                  f"{int(np.sum(ch > med))}/{len(ch)}  best {int(np.sum(ch >= best - 1e-9))}"
                  f"/{len(ch)}")
    if len({r['dataset'] for r in records}) > 1:
        print("\n## all tasks: mean regret per scorer (points)")
        for s in scorers:
            reg = []
            for r in records:
                rows = r["candidates"]
                c = choose(rows, s)
                if c is not None:
                    reg.append(100 * (max(v["acc"] for v in rows.values()) - rows[c]["acc"]))
            print(f"  {s:>8}: {_nanmean(reg):5.2f} over {len(reg)} tasks")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--dataset", choices=DATASETS, action="append")
    ap.add_argument("--tasks", help="comma-separated task names (default: the 12 pairs)")
    ap.add_argument("--store", default="selection_scorers.jsonl",
                    help="JSON-lines result store (default: in the current directory)")
    ap.add_argument("--report", action="store_true", help="only print the tables")
    args = ap.parse_args()
    if "TLTK_DATA" not in os.environ:
        os.environ["TLTK_DATA"] = str(Path(__file__).resolve().parents[2] / "shared" / "data")
    store = Path(args.store)
    records = [json.loads(line) for line in store.read_text().splitlines()] \
        if store.exists() else []
    done = {(r["dataset"], r["task"]) for r in records}
    if not args.report:
        for dataset in args.dataset or DATASETS:
            info = next(d for d in tltk_core.datasets() if d.name == dataset)
            tasks = args.tasks.split(",") if args.tasks else [t for t in info.info.tasks
                                                                if "+" not in t]
            for t in tasks:
                if (dataset, t) in done:
                    continue
                print(f"{dataset} {t}", flush=True)
                t0 = time.perf_counter()
                rec = run_task(dataset, t)
                rec["seconds"] = time.perf_counter() - t0
                with store.open("a") as f:
                    f.write(json.dumps(rec) + "\n")
                records.append(rec)
    report(records)


if __name__ == "__main__":
    sys.exit(main())
