"""Office-Caltech10 SURF: NN, TCA, GFK and JDA beside Long et al. (ICCV 2013), Table 2.

Protocol of the paper: each 800-bin histogram scaled to sum 1, each domain
z-scored on its own (``tltk_core.data.histogram_zscore``), all samples of both
domains (transductive), 1-NN. TCA and JDA with 100 components (JDA 10
iterations); GFK with the plugin's default subspace dimension (20) and, as
"GFK-SDM", with d chosen by the subspace disagreement measure.

    TLTK_DATA=/path/to/data python benchmarks/office_caltech_table.py

Prints target accuracy (%) per task for tltk and the published column, the
means, and the seconds each method took over the 12 tasks.
"""
import os
import sys
import time
from pathlib import Path

import numpy as np
from scipy.io import loadmat

from tltk_core.data import histogram_zscore

FILES = {"C": "Caltech10_SURF_L10.mat", "A": "amazon_SURF_L10.mat",
         "W": "webcam_SURF_L10.mat", "D": "dslr_SURF_L10.mat"}
TASKS = ["CA", "CW", "CD", "AC", "AW", "AD", "WC", "WA", "WD", "DC", "DA", "DW"]
# Long et al., ICCV 2013, Table 2 (SURF features), in TASKS order
PUBLISHED = {
    "NN": [23.7, 25.8, 25.5, 26.0, 29.8, 25.5, 19.9, 23.0, 59.2, 26.3, 28.5, 63.4],
    "TCA": [38.2, 38.6, 41.4, 37.8, 37.6, 33.1, 29.3, 30.1, 87.3, 31.7, 32.2, 86.1],
    "GFK": [41.0, 40.7, 38.9, 40.3, 39.0, 36.3, 30.7, 29.8, 80.9, 30.3, 32.1, 75.6],
    "JDA": [44.8, 41.7, 45.2, 39.4, 38.0, 39.5, 31.2, 32.8, 89.2, 31.5, 33.1, 89.5],
}


def methods():
    from sklearn.neighbors import KNeighborsClassifier
    from tltk_gfk import GFK
    from tltk_jda import JDA
    from tltk_tca import TCA

    return {
        "NN": lambda Xs, ys, Xt: KNeighborsClassifier(1).fit(Xs, ys).predict(Xt),
        "TCA": lambda Xs, ys, Xt: TCA(n_components=100).fit(Xs, ys, Xt).predict(Xt),
        "GFK": lambda Xs, ys, Xt: GFK().fit(Xs, ys, Xt).predict(Xt),
        "GFK-SDM": lambda Xs, ys, Xt: GFK(n_components="auto").fit(Xs, ys, Xt).predict(Xt),
        "JDA": lambda Xs, ys, Xt: JDA(n_components=100).fit(Xs, ys, Xt).predict(Xt),
    }


def main():
    home = Path(os.environ.get("TLTK_DATA", Path(__file__).resolve().parents[2] / "shared"
                               / "data")) / "office-caltech-surf"
    if not home.is_dir():
        sys.exit(f"Office-Caltech SURF files not found in {home} (set TLTK_DATA)")
    data = {}
    for k, f in FILES.items():
        mat = loadmat(home / f)
        data[k] = histogram_zscore(mat["fts"]), mat["labels"].ravel().astype(int)
    acc, secs = {}, {}
    for name, run in methods().items():
        t0 = time.perf_counter()
        acc[name] = [100 * np.mean(run(data[t[0]][0], data[t[0]][1], data[t[1]][0])
                                   == data[t[1]][1]) for t in TASKS]
        secs[name] = time.perf_counter() - t0
    cols = []
    for name in acc:
        cols.append((name, acc[name]))
        pub = PUBLISHED.get(name.split("-")[0] if name != "GFK-SDM" else "")
        if pub:
            cols.append((f"{name} pub", pub))
    print("task   " + "".join(f"{c:>9}" for c, _ in cols))
    for i, t in enumerate(TASKS):
        print(f"{t[0]}->{t[1]}   " + "".join(f"{v[i]:9.1f}" for _, v in cols))
    print("mean   " + "".join(f"{np.mean(v):9.1f}" for _, v in cols))
    print("seconds (12 tasks): " + ", ".join(f"{k} {v:.1f}" for k, v in secs.items()))


if __name__ == "__main__":
    main()
