"""Pictures of adaptation: source and target in two dimensions, before and after.

Used by ``tltk run NAME --plot FILE.png`` for methods with ``transform``. Each
panel projects the source and target rows together onto their first two
principal axes (truncated SVD for sparse input, which never densifies it):
the left panel the input features, the right panel the method's
representation. Colour is the class, the marker the domain, so a student sees
whether adaptation brought the domains together and kept the classes apart.
matplotlib is an optional extra (``pip install 'tltk-core[plot]'``).
"""
from __future__ import annotations

import numpy as np

from .errors import InputError

MAX_POINTS = 800  # per domain: enough to see the structure, few enough to see points


def _pyplot():
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        raise InputError("--plot needs matplotlib: pip install 'tltk-core[plot]'") from None
    return plt


def _subsample(n, rng):
    return np.sort(rng.choice(n, MAX_POINTS, replace=False)) if n > MAX_POINTS else np.arange(n)


def project_2d(Xs, Xt):
    """Both domains on the first two principal axes of their union."""
    import scipy.sparse as sp
    from sklearn.decomposition import PCA, TruncatedSVD

    if sp.issparse(Xs) or sp.issparse(Xt):
        Z = sp.vstack([sp.csr_matrix(Xs), sp.csr_matrix(Xt)]).tocsr()
        Z2 = TruncatedSVD(2, random_state=0).fit_transform(Z)
    else:
        Z = np.vstack([np.asarray(Xs), np.asarray(Xt)])
        k = min(2, Z.shape[1])
        Z2 = PCA(k, random_state=0).fit_transform(Z)
        if k < 2:
            Z2 = np.column_stack([Z2, np.zeros(len(Z2))])
    return Z2[:Xs.shape[0]], Z2[Xs.shape[0]:]


def plot_adaptation(est, Xs, ys, Xt, yt, path, title="", seed=0):
    """Two panels (input | learnt representation), classes by colour, domains by marker."""
    plt = _pyplot()
    rng = np.random.RandomState(seed)
    i_s, i_t = _subsample(Xs.shape[0], rng), _subsample(Xt.shape[0], rng)
    Xs, ys, Xt = Xs[i_s], np.asarray(ys)[i_s], Xt[i_t]
    yt = None if yt is None else np.asarray(yt)[i_t]
    before = project_2d(Xs, Xt)
    after = project_2d(est.transform(Xs), est.transform(Xt))
    classes = list(dict.fromkeys(np.concatenate([ys] + ([yt] if yt is not None else []))))
    cmap = plt.get_cmap("tab10" if len(classes) <= 10 else "tab20")
    colour = {c: cmap(i % cmap.N) for i, c in enumerate(classes)}
    fig, axes = plt.subplots(1, 2, figsize=(11, 4.8))
    for ax, (Zs, Zt), name in zip(axes, (before, after), ("input features",
                                                           "after adaptation")):
        ax.scatter(Zs[:, 0], Zs[:, 1], c=[colour[c] for c in ys], marker="o", s=14,
                   alpha=0.55, linewidths=0)
        tc = ["0.35"] * len(Zt) if yt is None else [colour[c] for c in yt]
        ax.scatter(Zt[:, 0], Zt[:, 1], c=tc, marker="x", s=16, alpha=0.8, linewidths=0.9)
        ax.set_title(name)
        ax.set_xticks([])
        ax.set_yticks([])
    from matplotlib.lines import Line2D

    handles = [Line2D([], [], marker="o", ls="", color="0.3", label="source"),
               Line2D([], [], marker="x", ls="", color="0.3", label="target")]
    shown = classes[:10]
    handles += [Line2D([], [], marker="s", ls="", color=colour[c], label=str(c)) for c in shown]
    fig.legend(handles=handles, loc="center right", frameon=False, title="domain / class")
    fig.suptitle(title + ("" if yt is not None else "  (target unlabelled: grey)"))
    fig.tight_layout(rect=(0, 0, 0.86, 0.95))
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
