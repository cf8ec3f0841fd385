"""Which unsupervised scorer picks good candidates? Evidence for DEFAULT_SCORER.

For every task of office-caltech-surf and 20ng-sci-talk (12 + 12 single-source
tasks, each under its protocol: preprocessing and final classifier), a few
candidates (installed methods x a few hyperparameter values, plus "no transfer":
the protocol's classifier on the source alone) are scored by every scorer of
``tltk_core.selection`` WITHOUT target labels. Target labels are used only
afterwards, to report the accuracy of each candidate and hence of each scorer's
choice. Per task and on average: the chosen candidate's accuracy, the best
candidate's (regret = best - chosen), the median candidate's and the expected
accuracy of a random choice (the candidates' mean). reuters and amazon-reviews
(``HELD_OUT``) were held-out checks of earlier rules (accuracy on the
protocol's test set where it has one); reuters21578 (``FRESH``) is the dataset no
scorer had seen when the rule that made ``cim`` the default was written: its 3
transductive tasks run in both directions (``reversed:<task>`` swaps source and
target), and the report gives its regrets apart from the others'.

    OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 MKL_NUM_THREADS=1 \\
    TLTK_DATA=/work/shared/data python benchmarks/selection_scorers.py \\
        [--dataset office-caltech-surf|20ng-sci-talk|reuters|amazon-reviews|reuters21578]
        [--tasks S:T,...] [--store FILE] [--scorers a,b]
        [--candidates few|all] [--methods a,b,...]

``--candidates few`` (default) is a handful of feature methods x hyperparameters;
``--candidates all`` is every installed method that works without target labels,
each with its defaults under the protocol (``--methods`` narrows it). Each
finished candidate is appended to a JSON-lines store (default
``selection_scorers.jsonl`` in the current directory), so an interrupted run
resumes, two processes can share the tasks (``--tasks``, one store each) and
the tables can be re-printed from several stores with ``--report``. A scorer not applicable to
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
from tltk_core.selection import SCORERS, get_scorer, score_candidates

from _jsonl import read_jsonl

DATASETS = ("office-caltech-surf", "20ng-sci-talk")
#: datasets that played no part in choosing the default scorer: a held-out check
HELD_OUT = ("reuters", "amazon-reviews")
#: datasets no scorer had been run on when the 'cim' rule was written: each of
#: their transductive tasks runs in both directions ("reversed:<task>" swaps
#: source and target)
FRESH = ("reuters21578",)
REVERSED = "reversed:"

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


def all_candidates(methods=None):
    """No transfer + every installed method usable without target labels, defaults."""
    out = [("no-transfer", None, {})]
    for e in sorted(tltk_core.methods(), key=lambda e: e.name):
        if e.status != "ok" or e.name == "source-only" or e.info.needs_target_labels:
            continue
        if methods is None or e.name in methods:
            out.append((e.name, e.name, {}))
    return out


def _factory(task, method, params):
    protocol = task.protocol
    if method is None:
        return lambda: tltk_core.load("source-only", classifier=protocol.classifier_estimator())
    cls = tltk_core.get_method(method)
    full = protocol.params_for(method, cls._get_param_names(), params)
    if "random_state" in cls._get_param_names() and "random_state" not in full:
        full["random_state"] = 0
    return lambda: tltk_core.load(method, **full)


def run_task(dataset, task_name, candidates, done, store, scorers=None):
    """Score every candidate not in ``done`` and append one line per candidate.

    A pooled scorer (``ensv``) needs every candidate of the task: its line holds
    the candidate's target votes (``votes``), and the report ranks the
    candidates of each task together."""
    scorer_objs = [get_scorer(x) for x in (scorers or SCORERS)]
    task = load_task(dataset, task_name.removeprefix(REVERSED))
    source, target = task.sources[0], task.target
    if task_name.startswith(REVERSED):
        if task.evaluation is not None or len(task.sources) != 1:
            raise SystemExit(f"{task_name}: only a single-source transductive task can be "
                             f"reversed")
        source, target = target, source
    Xs, ys = source.X, np.asarray(source.y)
    Xt = target.X
    # accuracy is measured where the protocol measures it: the separate test
    # set when there is one (amazon-reviews), else the target itself
    scored_on = task.evaluation if task.evaluation is not None else target
    yt = np.asarray(scored_on.y)
    available = {e.name for e in tltk_core.methods() if e.status == "ok"}
    for label, m, p in candidates:
        if (dataset, task_name, label) in done or not (m is None or m in available):
            continue
        t0 = time.perf_counter()
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                fitted, pooled = {}, {}
                scores = score_candidates({label: _factory(task, m, p)}, Xs, ys, Xt,
                                          scorer_objs, random_state=0, fitted=fitted,
                                          pooled_outputs=pooled)[label]
        except Exception as exc:  # e.g. a method that refuses this input: not a candidate
            print(f"  {task_name:>32} {label:>12} FAILED: {type(exc).__name__}: {exc}",
                  flush=True)
            with store.open("a") as f:
                f.write(json.dumps({"dataset": dataset, "task": task_name, "candidate": label,
                                    "failed": f"{type(exc).__name__}: {exc}"}) + "\n")
            continue
        seconds = time.perf_counter() - t0
        # target labels: used here, after scoring, only to report accuracy
        acc = float(np.mean(fitted[label].predict(scored_on.X) == yt))
        votes = pooled.get(label, {})
        scores = {k: v for k, v in scores.items() if k not in votes}
        rec = {"dataset": dataset, "task": task_name, "candidate": label, "method": m,
               "params": p, "acc": acc, "scores": scores, "seconds": seconds}
        if votes:  # rounded: 4 decimals move no arg-max that matters
            rec["votes"] = {k: np.round(v, 4).tolist() for k, v in votes.items()}
        with store.open("a") as f:
            f.write(json.dumps(rec) + "\n")
        print(f"  {task_name:>32} {label:>12} acc {acc:.3f} "
              + " ".join(f"{k} {v:+.4f}" for k, v in scores.items())
              + f"  ({seconds:.0f} s)", flush=True)


def _by_task(lines):
    """Store lines (one per candidate; older stores: one per task) -> task records."""
    tasks = {}
    for r in lines:
        key = (r["dataset"], r["task"])
        rec = tasks.setdefault(key, {"dataset": r["dataset"], "task": r["task"],
                                     "candidates": {}})
        if "candidates" in r:
            rec["candidates"].update(r["candidates"])
        elif "failed" in r:
            rec.setdefault("failed", {})[r["candidate"]] = r["failed"]
        elif r["candidate"] in rec["candidates"]:
            # the same candidate from another store (e.g. a run of the pooled
            # scorers only): its scores and votes join the first line's; the
            # first line's accuracy is kept (refits of unseeded classifiers
            # differ by a few tenths), the largest difference is reported
            c = rec["candidates"][r["candidate"]]
            c["scores"].update(r["scores"])
            c.setdefault("votes", {}).update(r.get("votes", {}))
            c["acc_diff"] = max(c.get("acc_diff", 0.0), abs(c["acc"] - r["acc"]))
        else:
            rec["candidates"][r["candidate"]] = {"acc": r["acc"], "scores": dict(r["scores"]),
                                                 "seconds": r.get("seconds"),
                                                 "votes": dict(r.get("votes", {}))}
    return list(tasks.values())


def pool_scores(records):
    """Fill in each pooled scorer's scores per task, from the stored votes of
    the task's candidates (after --exclude, so an excluded candidate neither
    votes nor is chosen)."""
    for rec in records:
        rows = rec["candidates"]
        names = {k for v in rows.values() for k in v.get("votes", {})}
        for name in names:
            voters = [c for c, v in rows.items() if name in v.get("votes", {})]
            scores = get_scorer(name).combine([np.asarray(rows[c]["votes"][name])
                                               for c in voters])
            for c, sc in zip(voters, scores):
                rows[c]["scores"][name] = float(sc)


def im_from_votes(records):
    """``im`` for candidates stored before it existed, from their stored
    ``ensv`` votes: those are the candidate's target ``predict_proba`` rows
    (rounded to 4 decimals) when it has them, else one-hot predictions, which
    are all 0/1 and so refused, as the ``im`` scorer refuses them. Returns the
    number of candidates filled in."""
    from tltk_core.selection import information_maximisation

    n = 0
    for rec in records:
        for row in rec["candidates"].values():
            V = row.get("votes", {}).get("ensv")
            if "im" in row["scores"] or V is None:
                continue
            V = np.asarray(V, dtype=float)
            row["scores"]["im"] = (float("nan") if np.all((V == 0.0) | (V == 1.0))
                                   else information_maximisation(V))
            n += 1
    return n


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
    for dataset in DATASETS + HELD_OUT + FRESH:
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
        _candidate_table(recs, scorers)
    chosen_on = [r for r in records if r["dataset"] in DATASETS]
    if len({r['dataset'] for r in chosen_on}) > 1:
        print("\n## office-caltech-surf and 20ng-sci-talk: mean regret per scorer (points)")
        _regrets(chosen_on, scorers)
    seen = [r for r in records if r["dataset"] not in FRESH]
    if len({r["dataset"] for r in seen}) > len({r["dataset"] for r in chosen_on}) > 0:
        print("\n## every task of " + ", ".join(sorted({r["dataset"] for r in seen}))
              + ": mean regret per scorer (points)")
        _regrets(seen, scorers)
    fresh = [r for r in records if r["dataset"] in FRESH]
    if fresh:
        print("\n## fresh: " + ", ".join(sorted({r["dataset"] for r in fresh}))
              + ": mean regret per scorer (points)")
        _regrets(fresh, scorers)


def _regrets(records, scorers):
    for s in scorers:
        reg = []
        for r in records:
            rows = r["candidates"]
            c = choose(rows, s)
            if c is not None:
                reg.append(100 * (max(v["acc"] for v in rows.values()) - rows[c]["acc"]))
        print(f"  {s:>8}: {_nanmean(reg):5.2f} over {len(reg)} tasks")


def _candidate_table(recs, scorers):
    """Per candidate: mean target accuracy, mean score rank, how often each scorer chose it."""
    labels = sorted({c for r in recs for c in r["candidates"]})
    print(f"\ncandidates ({len(labels)}; tasks with every candidate: "
          f"{sum(len(r['candidates']) == len(labels) for r in recs)}/{len(recs)}): mean "
          "target accuracy % and how many tasks each scorer chose it on\n")
    print("| candidate | tasks | mean acc % | mean fit+score s | "
          + " | ".join(scorers) + " |")
    print("|---|---:|---:|---:|" + "---:|" * len(scorers))
    picks = {s: [choose(r["candidates"], s) for r in recs] for s in scorers}
    for c in labels:
        accs = [100 * r["candidates"][c]["acc"] for r in recs if c in r["candidates"]]
        secs = [r["candidates"][c].get("seconds") for r in recs if c in r["candidates"]]
        secs = [x for x in secs if x is not None]
        sec = f"{np.mean(secs):.0f}" if secs else "-"
        print(f"| {c} | {len(accs)} | {np.mean(accs):.1f} | {sec} | "
              + " | ".join(str(picks[s].count(c)) for s in scorers) + " |")
    failed = {}
    for r in recs:
        for c, why in r.get("failed", {}).items():
            failed.setdefault(c, (0, why))
            failed[c] = (failed[c][0] + 1, why)
    for c, (n, why) in sorted(failed.items()):
        print(f"\nnot a candidate on {n} task(s): {c} ({why})")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--dataset", choices=DATASETS + HELD_OUT + FRESH, action="append")
    ap.add_argument("--tasks", help="comma-separated task names (default: the 12 pairs)")
    ap.add_argument("--candidates", choices=("few", "all"), default="few",
                    help="a few methods x hyperparameters, or every installed method")
    ap.add_argument("--methods", help="with --candidates all: only these (comma-separated)")
    ap.add_argument("--store", action="append",
                    help="JSON-lines result store (default selection_scorers.jsonl); "
                         "repeat with --report to merge several")
    ap.add_argument("--report", action="store_true", help="only print the tables")
    ap.add_argument("--scorers", default=None,
                    help="comma-separated scorers to run (default: all); e.g. 'ensv,entropy' "
                         "needs only the full fit of each candidate")
    ap.add_argument("--exclude", default="",
                    help="with --report: candidates left out of every task (comma-separated), "
                         "e.g. one measured on only some tasks")
    args = ap.parse_args()
    if "TLTK_DATA" not in os.environ:
        os.environ["TLTK_DATA"] = str(Path(__file__).resolve().parents[2] / "shared" / "data")
    stores = [Path(s) for s in (args.store or ["selection_scorers.jsonl"])]
    lines = read_jsonl(*stores)
    if not args.report:
        done = {(r["dataset"], r["task"], c) for r in _by_task(lines)
                for c in list(r["candidates"]) + list(r.get("failed", ()))}
        methods = set(args.methods.split(",")) if args.methods else None
        for dataset in args.dataset or DATASETS:
            cands = (all_candidates(methods) if args.candidates == "all" or dataset not in CANDIDATES
                     else CANDIDATES[dataset])
            info = next(d for d in tltk_core.datasets() if d.name == dataset)
            tasks = args.tasks.split(",") if args.tasks else [t for t in info.info.tasks
                                                                if "+" not in t]
            if dataset in FRESH and not args.tasks:
                tasks += [REVERSED + t for t in tasks]
            for t in tasks:
                print(f"{dataset} {t}", flush=True)
                run_task(dataset, t, cands, done, stores[0],
                         args.scorers.split(",") if args.scorers else None)
        lines = read_jsonl(*stores)
    excluded = {c for c in args.exclude.split(",") if c}
    records = _by_task(lines)
    for r in records:
        for c in excluded:
            r["candidates"].pop(c, None)
    pool_scores(records)
    n_im = im_from_votes(records)
    if n_im:
        print(f"(im computed from the stored ensv votes for {n_im} candidates that "
              f"predate it)")
    diffs = [v["acc_diff"] for r in records for v in r["candidates"].values() if "acc_diff" in v]
    if diffs:
        print(f"(merged stores: {len(diffs)} candidates measured twice; largest accuracy "
              f"difference between the two fits {100 * max(diffs):.2f} points)")
    report(records)


if __name__ == "__main__":
    sys.exit(main())
