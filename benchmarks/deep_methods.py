"""Benchmark of the deep plugins (dann, deepcoral, dan) against their own
source-only networks, and DANN's shallow protocol against the DANN paper.

    TLTK_DATA=/work/shared/data OMP_NUM_THREADS=1 python benchmarks/deep_methods.py \
        [--datasets office-caltech-surf 20ng-sci-talk amazon-reviews] \
        [--methods dann deepcoral dan] [--shallow] [--tasks C:A A:W ...] \
        [--timing office-caltech-surf C:A] [--threads 1]

    # resumable: one JSON line per (dataset, task, seed, method) appended to STORE;
    # rerunning skips what is stored; --report prints the tables from the store
    TLTK_DATA=/work/shared/data OMP_NUM_THREADS=1 python benchmarks/deep_methods.py \
        --datasets amazon-reviews --store runs.jsonl [--seeds 0 1 2]
    python benchmarks/deep_methods.py --datasets amazon-reviews \
        --store runs.jsonl --report

    # a non-default setting of the methods (same for each; with --store the
    # method is stored as e.g. "deepcoral[coral_weight=auto]", and --report
    # needs the same --params to find it)
    ... --methods deepcoral --params coral_weight=auto --store coral.jsonl

For each dataset and task it prints: the source-only network (the method
with its transfer loss off: same network, same schedule, same seed; trained
once and shared by the methods whose networks coincide at trade-off 0), each
method, the CPU seconds of each method's fit, the load average and the peak
resident memory of the process so far. ``--timing`` times one default fit.
``--shallow`` prints DANN(architecture="shallow") on the 12 amazon-reviews
tasks beside the published numbers (Ganin et al., JMLR 2016,
5000 features): adapted on the target's unlabelled training file, scored on
its test file. Every hyperparameter is the plugin's default, fixed in
advance; no target label is used for any choice.
"""
import argparse
import json
import os
import resource
import time

import numpy as np
import torch

from tltk_core import load_task

from _jsonl import read_jsonl

DATASET_TASKS = {
    "office-caltech-surf": [f"{s}:{t}" for s in "CAWD" for t in "CAWD" if s != t],
    "20ng-sci-talk": [f"{s}:{t}" for s in ("crypt-guns", "electronics-mideast", "med-misc",
                                           "space-religion")
                      for t in ("crypt-guns", "electronics-mideast", "med-misc",
                                "space-religion") if s != t],
    "amazon-reviews": [f"{s}:{t}" for s in ("books", "dvd", "electronics", "kitchen")
                       for t in ("books", "dvd", "electronics", "kitchen") if s != t],
}


def _peak_mib():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _classes():
    from tltk_dan import DAN
    from tltk_dann import DANN
    from tltk_deepcoral import DeepCORAL

    return {"dann": DANN, "deepcoral": DeepCORAL, "dan": DAN}


def source_zscore_task(dataset, t):
    """``task`` of office-caltech-surf without target statistics in its
    preprocessing: each histogram scaled to sum 1 (as the protocol does), then
    every domain z-scored with the SOURCE domain's mean and standard deviation
    (the protocol z-scores each domain with its own, which already matches each
    feature's first two moments across domains)."""
    import scipy.sparse as sp

    task = load_task(dataset, t, preprocess=False)
    doms = list(task.sources) + [task.target] + (
        [task.evaluation] if task.evaluation is not None else [])

    def l1(X):
        X = np.asarray(X.toarray() if sp.issparse(X) else X, dtype=float)
        sums = X.sum(axis=1, keepdims=True)
        return X / np.where(sums > 0, sums, 1.0)

    src = l1(task.sources[0].X)
    mu, sd = src.mean(axis=0), src.std(axis=0)
    sd = np.where(sd > 0, sd, 1.0)
    for d in doms:
        d.X = (l1(d.X) - mu) / sd
    return task


PREPROCESS = {"protocol": load_task, "source-zscore": source_zscore_task}


def ramped(cls):
    """``cls`` with its transfer loss multiplied by DANN's schedule
    2/(1+exp(-10p)) - 1 (0 at the start, ~1 from mid-run), as Long et al.'s JAN
    (ICML 2017) does for its MMD loss; an experiment (``--ramp``, section 12 of
    deep_methods.md), not a plugin option. DANN already ramps its reversal."""
    from tltk_core.deep import dann_lambda

    def _transfer(self, net, width, n_classes, trade_off):
        loss, extra = cls._transfer(self, net, width, n_classes, trade_off)

        def ramped_loss(fs, ls, ft, lt, p):
            return dann_lambda(p) * loss(fs, ls, ft, lt, p)

        if hasattr(loss, "observe"):       # Deep CORAL's "auto" weight
            ramped_loss.observe = loss.observe
        return ramped_loss, extra

    return type(cls.__name__ + "Ramped", (cls,), {"_transfer": _transfer})


def _eval_set(task):
    ev = task.evaluation if task.evaluation is not None else task.target
    return ev.X, np.asarray(ev.y)


def run_task(cls, task, params):
    Xs, ys = task.sources[0].X, np.asarray(task.sources[0].y)
    Xe, ye = _eval_set(task)
    m = cls(random_state=0, **params)
    t0, c0 = time.perf_counter(), time.process_time()
    m.fit(Xs, ys, task.target.X)
    sec = (time.perf_counter() - t0, time.process_time() - c0)
    acc = float(np.mean(m.predict(Xe) == ye))
    base = m.baseline_estimator().fit(Xs, ys)
    base_acc = float(np.mean(base.predict(Xe) == ye))
    return base_acc, acc, sec


def table(name, cls, dataset, tasks, params, published=None):
    print(f"\n{name} on {dataset}  (params {params or 'defaults'})")
    head = f"{'task':32s} {'source-only':>11s} {'method':>7s}"
    head += f" {'paper':>6s}" if published else ""
    print(head + f" {'wall s':>7s} {'cpu s':>6s} {'load':>5s} {'peak MiB':>9s}", flush=True)
    rows = []
    for t in tasks:
        task = load_task(dataset, t)
        b, a, s = run_task(cls, task, params)
        rows.append((b, a, published.get(t) if published else None))
        line = f"{t:32s} {100 * b:11.1f} {100 * a:7.1f}"
        line += f" {published[t]:6.1f}" if published else ""
        print(line + f" {s[0]:7.1f} {s[1]:6.1f} {os.getloadavg()[0]:5.1f} {_peak_mib():9.0f}",
              flush=True)
    B, A = np.mean([r[0] for r in rows]), np.mean([r[1] for r in rows])
    line = f"{'mean':32s} {100 * B:11.1f} {100 * A:7.1f}"
    if published:
        line += f" {np.mean([r[2] for r in rows]):6.1f}"
    print(line, flush=True)
    return rows


def _settings_key(cls):
    """The source-only network of a method: its training settings with the
    transfer switched off. Methods with equal keys share one baseline."""
    m = cls(random_state=0)
    return repr(sorted(m._settings().items()))


def joint_table(dataset, tasks, names, classes):
    """One row per task: the source-only network (trained once for all methods
    whose networks and schedules coincide at trade-off 0), then each method."""
    groups = {}
    for n in names:
        groups.setdefault(_settings_key(classes[n]), []).append(n)
    print(f"\n{dataset}: source-only network shared by {list(groups.values())}")
    cols = [f"src-only[{'/'.join(g)}]" if len(groups) > 1 else "source-only"
            for g in groups.values()] + names
    print(f"{'task':32s} " + " ".join(f"{c:>12s}" for c in cols)
          + "   cpu s per method (" + "/".join(names) + ")   load  peak MiB", flush=True)
    rows = []
    for t in tasks:
        task = load_task(dataset, t)
        Xs, ys = task.sources[0].X, np.asarray(task.sources[0].y)
        Xe, ye = _eval_set(task)
        accs, cpus = [], []
        for g in groups.values():
            base = classes[g[0]](random_state=0).baseline_estimator().fit(Xs, ys)
            accs.append(float(np.mean(base.predict(Xe) == ye)))
        for n in names:
            m = classes[n](random_state=0)
            c0 = time.process_time()
            m.fit(Xs, ys, task.target.X)
            cpus.append(time.process_time() - c0)
            accs.append(float(np.mean(m.predict(Xe) == ye)))
        rows.append(accs)
        print(f"{t:32s} " + " ".join(f"{100 * a:12.1f}" for a in accs) + "   "
              + "/".join(f"{c:.0f}" for c in cpus)
              + f"   {os.getloadavg()[0]:5.1f} {_peak_mib():8.0f}", flush=True)
    mean = np.mean(rows, axis=0)
    print(f"{'mean':32s} " + " ".join(f"{100 * a:12.1f}" for a in mean), flush=True)
    return rows


def _load_store(path):
    return read_jsonl(path)


def _key(r):
    return (r["dataset"], r["task"], r["seed"], r["method"])


def _clipped(history, max_grad_norm):
    if max_grad_norm is None:
        return 0.0
    return float(np.mean([h["grad_norm"] > max_grad_norm for h in history]))


def parse_params(items):
    """``["key=value", ...]`` → dict; a value is read as JSON when it parses
    (numbers, true/false, null, lists), else kept as a string ("auto")."""
    out = {}
    for item in items or ():
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise SystemExit(f"--params takes key=value; got {item!r}")
        try:
            out[key] = json.loads(value)
        except ValueError:
            out[key] = value
    return out


def method_label(name, params):
    """The stored method name: the plain name for the defaults, else
    ``name[k=v,...]``."""
    if not params:
        return name
    return name + "[" + ",".join(f"{k}={v}" for k, v in sorted(params.items())) + "]"


def stored_runs(dataset, tasks, names, classes, seeds, store, params=None,
                preprocess="protocol"):
    """Resumable benchmark: for each task and seed, the source-only network
    (once per group of methods whose networks coincide at trade-off 0, stored
    under the method name ``source-only``) and each method, one fit each; every
    fit appends one JSON line to ``store`` (accuracy on the scored set, CPU and
    wall seconds of the fit, load average, peak RSS of the process, share of
    clipped steps); fits already in the store are skipped. ``params`` (a
    dict) is passed to every method and to the source-only network's
    constructor (whose transfer weight is then set to 0)."""
    params = params or {}
    ctor = {k: v for k, v in params.items() if k != "ramp"}   # --ramp: not a parameter
    if params.get("ramp"):
        classes = {n: ramped(c) for n, c in classes.items()}
    done = {_key(r) for r in _load_store(store)}
    groups = {}
    for n in names:
        groups.setdefault(_settings_key(classes[n]), []).append(n)
    if len(groups) != 1:
        raise SystemExit("--store needs methods that share one source-only network")
    ref = classes[names[0]]
    for seed in seeds:
        for t in tasks:
            todo = [n for n in ["source-only", *names]
                    if (dataset, t, seed, n if n == "source-only" else method_label(n, params))
                    not in done]
            if not todo:
                continue
            task = PREPROCESS[preprocess](dataset, t)
            Xs, ys = task.sources[0].X, np.asarray(task.sources[0].y)
            Xe, ye = _eval_set(task)
            for n in todo:
                t0, c0 = time.perf_counter(), time.process_time()
                if n == "source-only":
                    est = ref(random_state=seed, **ctor).baseline_estimator().fit(Xs, ys)
                    fitted = est.estimator_
                else:
                    est = fitted = classes[n](random_state=seed, **ctor)
                    est.fit(Xs, ys, task.target.X)
                wall, cpu = time.perf_counter() - t0, time.process_time() - c0
                st = fitted._settings()
                label = n if n == "source-only" else method_label(n, params)
                rec = {"dataset": dataset, "task": t, "seed": seed, "method": label,
                       "acc": float(np.mean(est.predict(Xe) == ye)), "cpu_s": round(cpu, 2),
                       "wall_s": round(wall, 2), "load": round(os.getloadavg()[0], 2),
                       "peak_mib": round(_peak_mib()), "n_iter": fitted.n_iter_,
                       "clipped": round(_clipped(fitted.history_, st.get("max_grad_norm")), 4)}
                if params:
                    rec["params"] = params
                if getattr(fitted, "trade_off_selection_", None):   # a validated trade-off
                    rec["chosen"] = float(fitted._trade_off())
                    rec["selection"] = fitted.trade_off_selection_
                if preprocess != "protocol":
                    rec["preprocess"] = preprocess
                if "coral_weight" in fitted.history_[-1]:   # Deep CORAL's "auto" weight at the end
                    rec["coral_weight_end"] = round(fitted.history_[-1]["coral_weight"], 4)
                with open(store, "a") as fh:
                    fh.write(json.dumps(rec) + "\n")
                print(json.dumps(rec), flush=True)


def report(dataset, tasks, names, store):
    """Tables from the store: per task (seed 0 when present) accuracy, CPU s,
    wall s, load and peak MiB of each fit; then, per method, the mean over the
    tasks for each stored seed and the mean ± std over seeds of that mean."""
    runs = {_key(r): r for r in _load_store(store) if r["dataset"] == dataset}
    cols = ["source-only", *names]
    seeds = sorted({k[2] for k in runs})
    for seed in seeds:
        print(f"\n{dataset}, seed {seed}: accuracy %, then cpu s / wall s / load / peak MiB "
              "per fit")
        print("| task | " + " | ".join(cols) + " | " + " | ".join(
            f"{c} cpu/wall/load/MiB" for c in cols) + " |")
        for t in tasks:
            rs = [runs.get((dataset, t, seed, c)) for c in cols]
            if not any(rs):
                continue
            acc = " | ".join("—" if r is None else f"{100 * r['acc']:.1f}" for r in rs)
            res = " | ".join("—" if r is None else
                             f"{r['cpu_s']:.0f}/{r['wall_s']:.0f}/{r['load']:.1f}/{r['peak_mib']}"
                             for r in rs)
            print(f"| {t} | {acc} | {res} |")
        means = []
        for c in cols:
            v = [runs[(dataset, t, seed, c)]["acc"] for t in tasks if (dataset, t, seed, c) in runs]
            means.append(f"{100 * np.mean(v):.1f} ({len(v)})" if v else "—")
        print("| **mean (tasks)** | " + " | ".join(means) + " |")
    complete = [s for s in seeds
                if all((dataset, t, s, c) in runs for t in tasks for c in cols)]
    if complete:
        print(f"\n{dataset}: 12-task mean per seed (complete seeds {complete}), mean ± std "
              "over seeds, tasks where the method beats source-only (mean over seeds)")
        per = {c: [100 * np.mean([runs[(dataset, t, s, c)]["acc"] for t in tasks])
                   for s in complete] for c in cols}
        for c in cols:
            wins = ""
            if c != "source-only":
                d = [np.mean([runs[(dataset, t, s, c)]["acc"] - runs[(dataset, t, s,
                              "source-only")]["acc"] for s in complete]) for t in tasks]
                wins = (f"  beats source-only on {sum(x > 0 for x in d)}/{len(tasks)} tasks, "
                        f"ties {sum(x == 0 for x in d)}; per-seed difference of the means "
                        + " ".join(f"{a - b:+.1f}" for a, b in zip(per[c], per["source-only"])))
            print(f"{c:12s} " + " ".join(f"{v:.1f}" for v in per[c])
                  + f"   mean {np.mean(per[c]):.1f} ± {np.std(per[c], ddof=1) if len(complete) > 1 else 0:.1f}"
                  + wins)
    for c in names:   # a trade-off chosen inside fit: how often each value won
        chosen = [runs[k]["chosen"] for k in runs if k[3] == c and "chosen" in runs[k]]
        if chosen:
            vals, counts = np.unique(chosen, return_counts=True)
            print(f"{c}: chosen trade-off over {len(chosen)} fits: "
                  + ", ".join(f"{v:g} ×{n}" for v, n in zip(vals, counts)))


def timing(dataset, t, names, classes):
    """One full default fit per method: wall and CPU seconds, load average,
    peak memory, and the source classification loss per tenth of the run (the
    curve that would justify a shorter schedule)."""
    task = load_task(dataset, t)
    Xs, ys = task.sources[0].X, np.asarray(task.sources[0].y)
    for n in names:
        m = classes[n](random_state=0)
        t0, c0 = time.perf_counter(), time.process_time()
        m.fit(Xs, ys, task.target.X)
        wall, cpu = time.perf_counter() - t0, time.process_time() - c0
        h = m.history_
        k = max(len(h) // 10, 1)
        curve = " ".join(f"{np.mean([x['cls'] for x in h[i:i + k]]):.3f}"
                         for i in range(0, len(h), k))
        print(f"{n} {dataset} {t}: {len(h)} iterations, wall {wall:.1f} s, cpu {cpu:.1f} s, "
              f"load {os.getloadavg()[0]:.1f}, peak {_peak_mib():.0f} MiB\n"
              f"  source loss per tenth: {curve}", flush=True)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--datasets", nargs="*", default=list(DATASET_TASKS))
    ap.add_argument("--methods", nargs="*", default=["dann", "deepcoral", "dan"])
    ap.add_argument("--tasks", nargs="*", default=None)
    ap.add_argument("--shallow", action="store_true", help="only the DANN shallow protocol")
    ap.add_argument("--timing", nargs=2, metavar=("DATASET", "TASK"),
                    help="only time one default fit of each method on one task")
    ap.add_argument("--threads", type=int, default=1, help="torch threads (1 or 2)")
    ap.add_argument("--store", help="JSON-lines file: append one line per fit, skip stored fits")
    ap.add_argument("--seeds", nargs="*", type=int, default=[0], help="seeds (with --store)")
    ap.add_argument("--report", action="store_true", help="print the tables from --store")
    ap.add_argument("--preprocess", choices=sorted(PREPROCESS), default="protocol",
                    help="with --store: the dataset's protocol (default), or 'source-zscore' "
                         "(office-caltech-surf: z-scored with source statistics only; use "
                         "a store of its own)")
    ap.add_argument("--params", nargs="*", default=[], metavar="KEY=VALUE",
                    help="non-default constructor parameters of the methods (with --store)")
    ap.add_argument("--ramp", action="store_true",
                    help="with --store: DAN and Deep CORAL with their transfer loss ramped by "
                         "DANN's schedule (stored as name[ramp=True])")
    args = ap.parse_args(argv)
    params = parse_params(args.params)
    if args.ramp:
        if not args.store:
            raise SystemExit("--ramp is supported with --store (and --report)")
        params["ramp"] = True
    if params and not (args.store or args.report):
        raise SystemExit("--params is supported with --store (and --report)")
    torch.set_num_threads(args.threads)
    if args.report:
        for ds in args.datasets:
            report(ds, args.tasks or DATASET_TASKS[ds],
                   [method_label(n, params) for n in args.methods], args.store)
        return
    classes = _classes()
    if args.store:
        for ds in args.datasets:
            stored_runs(ds, args.tasks or DATASET_TASKS[ds], args.methods, classes, args.seeds,
                        args.store, params, args.preprocess)
        return
    if args.timing:
        timing(*args.timing, args.methods, classes)
        return
    if args.shallow:
        task0 = load_task("amazon-reviews", "books:dvd")
        published = {t: task0.protocol.reference("dann", t).accuracy
                     for t in DATASET_TASKS["amazon-reviews"]}
        tasks = args.tasks or DATASET_TASKS["amazon-reviews"]
        table("DANN shallow protocol (JMLR 2016)", classes["dann"], "amazon-reviews", tasks,
              {"architecture": "shallow"}, published)
        return
    for ds in args.datasets:
        joint_table(ds, args.tasks or DATASET_TASKS[ds], args.methods, classes)


if __name__ == "__main__":
    main()
