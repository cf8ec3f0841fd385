"""Benchmark of the deep plugins (dann, deepcoral, dan) against their own
source-only networks, and DANN's shallow protocol against the DANN paper.

    TLTK_DATA=/work/shared/data OMP_NUM_THREADS=1 python benchmarks/deep_methods.py \
        [--datasets office-caltech-surf 20ng-sci-talk amazon-reviews] \
        [--methods dann deepcoral dan] [--shallow] [--tasks C:A A:W ...] \
        [--timing office-caltech-surf C:A] [--threads 1]

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
import os
import resource
import time

import numpy as np
import torch

from tltk_core import load_task

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
    args = ap.parse_args(argv)
    torch.set_num_threads(args.threads)
    classes = _classes()
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
