"""SDA (Glorot et al., ICML 2011) against the source-only linear baseline, and
its training time against tltk's mSDA (Chen et al., ICML 2012) on the same task.

    TLTK_DATA=/work/shared/data OMP_NUM_THREADS=1 python benchmarks/sda_vs_msda.py \
        [--amazon books:kitchen dvd:electronics ...] [--ng crypt-guns:med-misc ...] \
        [--no-msda]

For each task: the source-only classifier (LogisticRegression(max_iter=1000)
on amazon-reviews, the protocol's LinearSVC on 20ng-sci-talk), SDA with its
defaults and the same final classifier, the seconds of the SDA fit, the peak
resident memory of the process so far, and (unless --no-msda) mSDA with its
defaults (``tltk_core.load("msda")``), fitted in the same process on the same
task, with its seconds and the ratio SDA seconds / mSDA seconds — the mSDA
paper's point is that the closed form is orders of magnitude faster.

amazon-reviews follows the DANN protocol: adapt on the target's unlabelled
training file, score on ``task.evaluation``. Every hyperparameter is the
plugin default, fixed in advance; no target label is used for any choice.
torch runs on one thread (the machine is shared).
"""
import argparse
import resource
import time

import numpy as np
import torch

import tltk_core
from tltk_core import load_task

AMAZON = ["books:kitchen", "dvd:electronics", "electronics:books", "kitchen:dvd"]
NG = ["crypt-guns:med-misc", "electronics-mideast:space-religion", "med-misc:crypt-guns",
      "space-religion:electronics-mideast"]


def _peak_mib():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def run(dataset, name, with_msda):
    task = load_task(dataset, name)
    Xs, ys = task.sources[0].X, np.asarray(task.sources[0].y)
    ev = task.evaluation if task.evaluation is not None else task.target
    Xe, ye = ev.X, np.asarray(ev.y)
    if dataset == "amazon-reviews":
        from sklearn.linear_model import LogisticRegression
        clf = LogisticRegression(max_iter=1000)
    else:
        clf = task.protocol.classifier_estimator()
    base = float(np.mean(clf.fit(Xs, ys).predict(Xe) == ye))
    from sklearn.base import clone
    sda = tltk_core.load("sda", estimator=clone(clf))
    t0 = time.perf_counter()
    sda.fit(Xs, ys, task.target.X)
    t_sda = time.perf_counter() - t0
    acc = sda.score(Xe, ye)
    row = [base, acc, t_sda, _peak_mib()]
    if with_msda:
        msda = tltk_core.load("msda")
        t0 = time.perf_counter()
        msda.fit(Xs, ys, task.target.X)
        t_msda = time.perf_counter() - t0
        row += [msda.score(Xe, ye), t_msda, t_sda / t_msda]
    return row


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--amazon", nargs="*", default=AMAZON)
    ap.add_argument("--ng", nargs="*", default=NG)
    ap.add_argument("--no-msda", action="store_true")
    args = ap.parse_args()
    torch.set_num_threads(1)
    with_msda = not args.no_msda
    head = f"{'dataset':15s} {'task':36s} {'source-only':>11s} {'SDA':>6s} {'SDA s':>7s} " \
           f"{'peak MiB':>9s}"
    if with_msda:
        head += f" {'mSDA':>6s} {'mSDA s':>7s} {'SDA/mSDA':>9s}"
    print(head, flush=True)
    for dataset, tasks in (("amazon-reviews", args.amazon), ("20ng-sci-talk", args.ng)):
        rows = []
        for t in tasks:
            r = run(dataset, t, with_msda)
            rows.append(r)
            line = f"{dataset:15s} {t:36s} {100 * r[0]:11.1f} {100 * r[1]:6.1f} {r[2]:7.1f} " \
                   f"{r[3]:9.0f}"
            if with_msda:
                line += f" {100 * r[4]:6.1f} {r[5]:7.1f} {r[6]:9.1f}"
            print(line, flush=True)
        if rows:
            m = np.mean(rows, axis=0)
            line = f"{dataset:15s} {'mean':36s} {100 * m[0]:11.1f} {100 * m[1]:6.1f} " \
                   f"{m[2]:7.1f} {'':9s}"
            if with_msda:
                line += f" {100 * m[4]:6.1f} {m[5]:7.1f} {m[2] / m[5]:9.1f}"
            print(line, flush=True)


if __name__ == "__main__":
    main()
