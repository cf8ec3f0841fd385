"""mSDA on the 12 20ng-sci-talk tasks over its own random seeds.

mSDA's only randomness is the random split of the input words into blocks
when d > n_reconstruct (20ng: 16249 words, r = 2000). Its default
``random_state=0`` is one draw of that split; this script measures the
method's accuracy over several draws (nothing is chosen from it: the default
stays 0) against the protocol's source-only LinearSVC, which has no
randomness here.

    OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 MKL_NUM_THREADS=1 \\
    TLTK_DATA=/path/to/data python benchmarks/msda_seeds.py --seeds 0 1 2 3 4 \\
        --store msda_seeds.jsonl          # resumable; --report prints the table

One JSON line per (task, seed) fit: target accuracy and CPU seconds of the fit.
"""
import argparse
import json
import time
import warnings

import numpy as np

import tltk_core
from tltk_core import load_task

from _jsonl import read_jsonl

DATASET = "20ng-sci-talk"


def _tasks():
    info = next(d for d in tltk_core.datasets() if d.name == DATASET)
    return [t for t in info.info.tasks if "+" not in t]


def _fit(task_name, seed):
    task = load_task(DATASET, task_name)
    Xs, ys = task.sources[0].X, np.asarray(task.sources[0].y)
    Xt, yt = task.target.X, np.asarray(task.target.y)
    protocol = task.protocol
    if seed is None:  # the protocol's source-only classifier
        est = protocol.classifier_estimator().fit(Xs, ys)
        return float(np.mean(est.predict(Xt) == yt)), 0.0
    cls = tltk_core.get_method("msda")
    params = protocol.params_for("msda", cls._get_param_names(), {})
    t0 = time.process_time()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        m = tltk_core.load("msda", **params, random_state=seed).fit(Xs, ys, Xt)
        acc = float(np.mean(m.predict(Xt) == yt))   # target labels: scoring only
    return acc, time.process_time() - t0


def report(rows):
    src = {r["task"]: r["acc"] for r in rows if r["seed"] is None}
    fits = {(r["task"], r["seed"]): r for r in rows if r["seed"] is not None}
    seeds = sorted({s for _, s in fits})
    tasks = [t for t in _tasks() if t in src and all((t, s) in fits for s in seeds)]
    print("| task | source-only % | " + " | ".join(f"seed {s} %" for s in seeds)
          + " | mean % |")
    print("|---|---:|" + "---:|" * (len(seeds) + 1))
    for t in tasks:
        v = [100 * fits[(t, s)]["acc"] for s in seeds]
        print(f"| {t} | {100 * src[t]:.1f} | " + " | ".join(f"{x:.1f}" for x in v)
              + f" | {np.mean(v):.1f} |")
    per_seed = [np.mean([100 * fits[(t, s)]["acc"] for t in tasks]) for s in seeds]
    base = np.mean([100 * src[t] for t in tasks])
    print(f"| **mean of {len(tasks)}** | **{base:.2f}** | "
          + " | ".join(f"**{x:.2f}**" for x in per_seed) + f" | **{np.mean(per_seed):.2f}** |")
    cpu = [r["cpu_s"] for r in fits.values()]
    print(f"\nmSDA over {len(seeds)} seeds: {np.mean(per_seed):.2f} ± {np.std(per_seed):.2f} "
          f"(std of the per-seed means) against source-only {base:.2f}; "
          f"fit CPU seconds {np.min(cpu):.1f}-{np.max(cpu):.1f}")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--seeds", nargs="*", type=int, default=[0, 1, 2, 3, 4])
    ap.add_argument("--tasks", nargs="*", default=None)
    ap.add_argument("--store", default="msda_seeds.jsonl")
    ap.add_argument("--report", action="store_true")
    args = ap.parse_args()
    if not args.report:
        done = {(r["task"], r["seed"]) for r in read_jsonl(args.store)}
        for t in args.tasks or _tasks():
            for seed in [None, *args.seeds]:
                if (t, seed) in done:
                    continue
                acc, cpu = _fit(t, seed)
                rec = {"task": t, "seed": seed, "acc": acc, "cpu_s": round(cpu, 1)}
                with open(args.store, "a") as fh:
                    fh.write(json.dumps(rec) + "\n")
                print(json.dumps(rec), flush=True)
    report(read_jsonl(args.store))


if __name__ == "__main__":
    main()
