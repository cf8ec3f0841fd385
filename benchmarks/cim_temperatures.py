"""The inverse temperature ``cim`` fits for each candidate of a task, and what it
does to the candidate's target confidence and score (no target label is read).

    TLTK_DATA=/path/to/data python benchmarks/cim_temperatures.py \\
        amazon-reviews kitchen:books ccr3,lwe,sfa,no-transfer

Per candidate: beta (< 1 flattens, > 1 sharpens), its held-out source error
(weighted by the density ratios, as in the fit), the mean confidence on the
held-out source rows, the mean target confidence before and after tempering,
and ``im`` before (raw) and after (``cim``).
"""
from __future__ import annotations

import argparse
import os
import sys
import warnings
from pathlib import Path

import numpy as np

from tltk_core import load_task
from tltk_core import selection as S

from selection_scorers import _factory


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("dataset")
    ap.add_argument("task")
    ap.add_argument("candidates", help="comma-separated methods ('no-transfer' for none)")
    args = ap.parse_args()
    os.environ.setdefault("TLTK_DATA", str(Path(__file__).resolve().parents[2] / "shared" / "data"))
    warnings.simplefilter("ignore")
    task = load_task(args.dataset, args.task)
    Xs, ys, Xt = task.sources[0].X, np.asarray(task.sources[0].y), task.target.X
    data = S._Data(Xs, ys, Xt, 0)
    cim = S.CalibratedIM()
    print("| candidate | beta | weighted held-out error | held-out confidence | "
          "target confidence raw -> tempered | im | cim |")
    print("|---|---:|---:|---:|---|---:|---:|")
    for name in args.candidates.split(","):
        fits = S._Fits(data, factory=_factory(task, None if name == "no-transfer" else name, {}))
        P, Y, W = cim.held_out(fits)
        beta = S.fit_temperature(P, Y, W)
        Pt = fits.full().predict_proba(Xt)
        Tt = S.temper(Pt, beta)
        print(f"| {name} | {beta:.2f} | {np.average(P.argmax(1) != Y, weights=W):.3f} | "
              f"{P.max(1).mean():.3f} | {Pt.max(1).mean():.3f} -> {Tt.max(1).mean():.3f} | "
              f"{S.information_maximisation(Pt):.3f} | {S.information_maximisation(Tt):.3f} |",
              flush=True)


if __name__ == "__main__":
    sys.exit(main())
