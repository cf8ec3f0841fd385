"""Label-free diagnostics of DAN on amazon-reviews: why does it lose to its
source-only network on electronics/kitchen -> books/dvd?

    cd /work/main && OMP_NUM_THREADS=1 TLTK_DATA=/work/shared/data nice -n 10 \
        /work/venv/bin/python plugins/tltk-dan/benchmarks/dan_amazon_diagnostics.py \
        [--tasks electronics:books books:electronics] [--seed 0] \
        [--variants source-only uniform learned] [--out diag.jsonl]

For each task and variant (the source-only network = DAN with mmd_weight 0;
DAN with uniform kernel weights; DAN with learned β) it prints only
quantities that need no target label: the inputs' row length (sum of counts)
and nonzeros per row in each domain; the source training accuracy and the
source / transfer loss over the last tenth of training; the share of the
positive class among the labelled source rows and among the predictions on
the target's unlabelled training file; per hidden layer the mean activation
norm in each domain and the share of dead units; the MMD² (uniform 33
kernels, biased estimate on 1000 + 1000 rows) between the domains'
representations of each adapted layer after training; for learned β the
β-weighted mean log2 bandwidth multiplier of the last β-step per layer and
the number of fallbacks to uniform. The scored test accuracy is printed last
and marked; it chooses nothing.
"""
import argparse
import json
import time

import numpy as np
import torch

from tltk_core import load_task
from tltk_core.deep import DAN_MULTIPLIERS, batch_tensor, mk_mmd
from tltk_dan import DAN

VARIANTS = {"source-only": dict(mmd_weight=0.0), "uniform": dict(kernel_weights="uniform"),
            "learned": dict(kernel_weights="learned")}


def _rows(X):
    s = np.asarray(X.sum(1)).ravel()
    nnz = np.diff(X.indptr) if hasattr(X, "indptr") else (X != 0).sum(1)
    return float(s.mean()), float(np.mean(nnz))


def layer_outputs(net, X, n, rng):
    """Every hidden layer's output and the logits for n random rows of X."""
    rows = np.sort(rng.choice(X.shape[0], size=min(n, X.shape[0]), replace=False))
    net.eval()
    with torch.no_grad():
        xb = batch_tensor(X, rows, "cpu", net.accepts_sparse)
        _, logits = net(xb)
        hidden = [h.clone() for h in net.backbone.hidden_outputs]
    return hidden + [logits]


def diagnose(task_name, seed, variant, **extra):
    task = load_task("amazon-reviews", task_name)
    Xs, ys = task.sources[0].X, np.asarray(task.sources[0].y)
    Xt = task.target.X
    t0 = time.process_time()
    m = DAN(random_state=seed, **VARIANTS[variant], **extra).fit(Xs, ys, Xt)
    cpu = time.process_time() - t0
    h = m.history_
    tail = h[-max(len(h) // 10, 1):]
    rng = np.random.default_rng(0)
    Ls = layer_outputs(m.network_, Xs, 1000, rng)
    Lt = layer_outputs(m.network_, Xt, 1000, rng)
    rec = {
        "task": task_name, "seed": seed, "variant": variant, **extra, "cpu_s": round(cpu, 1),
        "rowsum_src_tgt": [round(v, 1) for v in (_rows(Xs)[0], _rows(Xt)[0])],
        "nnz_src_tgt": [round(v, 1) for v in (_rows(Xs)[1], _rows(Xt)[1])],
        "source_train_acc": round(float(np.mean(m.predict(Xs) == ys)), 4),
        "source_loss_last10": round(float(np.mean([x["cls"] for x in tail])), 4),
        "transfer_last10": round(float(np.mean([x["transfer"] for x in tail])), 5),
        "pos_share_source_labels": round(float(np.mean(ys == m.classes_[1])), 4),
        "pos_share_target_pred": round(float(np.mean(m.predict(Xt) == m.classes_[1])), 4),
        "pos_share_source_pred": round(float(np.mean(m.predict(Xs) == m.classes_[1])), 4),
        "act_norm_src_tgt": [[round(float(a.norm(dim=1).mean()), 3),
                              round(float(b.norm(dim=1).mean()), 3)] for a, b in zip(Ls, Lt)],
        "dead_units": [round(float(((torch.cat([a, b]) > 0).sum(0) == 0).float().mean()), 3)
                       for a, b in zip(Ls[:-1], Lt[:-1])],
        "mmd_uniform_biased": [round(float(mk_mmd(a, b, estimator="biased")), 5)
                               for a, b in zip(Ls, Lt)],
    }
    if variant == "learned" and m.beta_history_:
        logm = np.log2(DAN_MULTIPLIERS)
        rec["beta_mean_log2_mult"] = [round(float(b @ logm), 2) for b in m.kernel_weights_]
        rec["beta_fallbacks"] = [int(sum(x["fallback"][j] for x in m.beta_history_))
                                 for j in range(len(m.kernel_weights_))]
        rec["beta_steps"] = len(m.beta_history_)
    ev = task.evaluation
    rec["SCORED_test_acc_(not_used_for_choices)"] = round(float(m.score(ev.X, ev.y)), 4)
    return rec


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--tasks", nargs="*", default=["electronics:books"])
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--variants", nargs="*", default=list(VARIANTS))
    ap.add_argument("--mmd-weight", type=float, default=None,
                    help="override λ for the DAN variants (diagnostic only)")
    ap.add_argument("--n-adapted", type=int, default=None)
    ap.add_argument("--out", default=None, help="append JSON lines here")
    args = ap.parse_args(argv)
    torch.set_num_threads(1)
    for t in args.tasks:
        for v in args.variants:
            extra = {}
            if v != "source-only" and args.mmd_weight is not None:
                extra["mmd_weight"] = args.mmd_weight
            if v != "source-only" and args.n_adapted is not None:
                extra["n_adapted"] = args.n_adapted
            rec = diagnose(t, args.seed, v, **extra)
            line = json.dumps(rec)
            print(line, flush=True)
            if args.out:
                with open(args.out, "a") as fh:
                    fh.write(line + "\n")


if __name__ == "__main__":
    main()
