"""The paper's rule for Deep CORAL's λ done as two runs (a measurement, not a
plugin option): a pilot run at λ = 1, then λ = the pilot's end-of-run ratio
ℓ_class / ℓ_CORAL (means over its last tenth of iterations), and the final run
at that λ. Uses training losses only (no target label). Seed 0, office-caltech-surf,
12 tasks; resumable, one JSON line per task appended to
benchmarks/results/coral_office_pilot.jsonl (pilot and final target accuracy,
λ, end-of-run ratio of the final run, CPU s of both runs).

    cd /work/main && OMP_NUM_THREADS=1 TLTK_DATA=/work/shared/data \
        python plugins/tltk-deepcoral/scripts/two_pass_rule.py
"""
import json
import os
import pathlib
import time

import numpy as np
import torch

from tltk_core import load_task
from tltk_deepcoral import DeepCORAL

torch.set_num_threads(1)
store = str(pathlib.Path(__file__).resolve().parents[3] / "benchmarks" / "results"
            / "coral_office_pilot.jsonl")
done = {json.loads(l)["task"] for l in open(store)} if os.path.exists(store) else set()
for t in [f"{s}:{u}" for s in "CAWD" for u in "CAWD" if s != u]:
    if t in done:
        continue
    task = load_task("office-caltech-surf", t)
    Xs, ys, Xt = task.sources[0].X, task.sources[0].y, task.target.X
    c0 = time.process_time()
    p = DeepCORAL(random_state=0).fit(Xs, ys, Xt)
    h = p.history_; k = max(len(h) // 10, 1)
    cls = np.mean([x["cls"] for x in h[-k:]]); cor = np.mean([x["transfer"] for x in h[-k:]])
    lam = float(cls / cor)
    m = DeepCORAL(random_state=0, coral_weight=lam).fit(Xs, ys, Xt)
    h2 = m.history_
    cls2 = np.mean([x["cls"] for x in h2[-k:]]); cor2 = np.mean([x["transfer"] for x in h2[-k:]])
    rec = {"dataset": "office-caltech-surf", "task": t, "seed": 0, "method": "deepcoral[pilot]",
           "pilot_acc": float(p.score(Xt, task.target.y)), "acc": float(m.score(Xt, task.target.y)),
           "lambda": round(lam, 4), "pilot_end_ratio": round(float(cls / cor), 3),
           "final_end_ratio": round(float(cls2 / cor2), 3), "cpu_s": round(time.process_time() - c0, 1)}
    with open(store, "a") as fh:
        fh.write(json.dumps(rec) + "\n")
    print(json.dumps(rec), flush=True)
