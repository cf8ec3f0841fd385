"""Shifted toy tasks made on the fly: no download, any size, any seed.

Every kind starts from the same Gaussian classes (one mean per class, unit
covariance) and changes one thing between source and target:

- ``covariate``: p(x) moves, p(y|x) does not. Both domains are drawn from the
  same classes, then samples are kept with a probability that depends on
  their position along a random direction (the source favours one side, the
  target the other) — classic sample-selection bias.
- ``prior``: p(y) changes (the target's class proportions decay
  geometrically with ``shift``), p(x|y) does not.
- ``conditional``: p(x|y) changes: every class mean moves by its own random
  offset of length ``shift``.
- ``subspace``: the target is the source distribution rotated by an
  orthogonal matrix whose distance from the identity grows with ``shift``.

``sparse=True`` keeps each feature with probability ``density`` and the
positive part of the value, returning CSR matrices (text-like, non-negative).
"""
from __future__ import annotations

import numpy as np

from tltk_core import InputError
from tltk_core.data import Domain, Task

KINDS = ("covariate", "prior", "conditional", "subspace")


def _classes(rng, n_classes, n_features, separation=2.5):
    means = rng.normal(size=(n_classes, n_features))
    means /= np.linalg.norm(means, axis=1, keepdims=True)
    return separation * means


def _draw(rng, means, n, priors=None):
    k = means.shape[0]
    y = rng.choice(k, size=n, p=priors) if priors is not None else np.arange(n) % k
    if priors is None:
        rng.shuffle(y)
    return means[y] + rng.normal(size=(n, means.shape[1])), y


def _selected(rng, means, n, direction, side, shift):
    """Draw until ``n`` samples are kept with probability sigmoid(side*shift*x.u)."""
    Xs, ys, have = [], [], 0
    while have < n:
        X, y = _draw(rng, means, 2 * n)
        p = 1.0 / (1.0 + np.exp(-side * shift * 2.0 * (X @ direction)))
        keep = rng.random_sample(X.shape[0]) < p
        Xs.append(X[keep])
        ys.append(y[keep])
        have += int(keep.sum())
    return np.vstack(Xs)[:n], np.concatenate(ys)[:n]


def make_shifted(kind="covariate", n_samples=1000, n_target=None, n_features=20,
                 n_classes=2, shift=1.0, sparse=False, density=0.1, seed=0):
    """``Xs, ys, Xt, yt`` of one shifted toy task (see the module docstring)."""
    if kind not in KINDS:
        raise InputError(f"unknown synthetic kind {kind!r} (valid: {', '.join(KINDS)})")
    for name, value, low in (("n_samples", n_samples, 2 * n_classes),
                             ("n_features", n_features, 2), ("n_classes", n_classes, 2)):
        if not isinstance(value, (int, np.integer)) or isinstance(value, bool) or value < low:
            raise InputError(f"{name} must be an integer >= {low}; got {value!r}")
    n_target = n_samples if n_target is None else n_target
    if not isinstance(n_target, (int, np.integer)) or n_target < n_classes:
        raise InputError(f"n_target must be an integer >= {n_classes}; got {n_target!r}")
    if not 0.0 < float(density) <= 1.0:
        raise InputError(f"density must be in (0, 1]; got {density!r}")
    rng = np.random.RandomState(seed)
    means = _classes(rng, n_classes, n_features)
    shift = float(shift)
    if kind == "covariate":
        u = rng.normal(size=n_features)
        u /= np.linalg.norm(u)
        Xs, ys = _selected(rng, means, n_samples, u, +1.0, shift)
        Xt, yt = _selected(rng, means, n_target, u, -1.0, shift)
    elif kind == "prior":
        Xs, ys = _draw(rng, means, n_samples)
        w = np.exp(-shift * np.arange(n_classes))
        Xt, yt = _draw(rng, means, n_target, priors=w / w.sum())
    elif kind == "conditional":
        Xs, ys = _draw(rng, means, n_samples)
        offsets = rng.normal(size=means.shape)
        offsets *= shift / np.linalg.norm(offsets, axis=1, keepdims=True)
        Xt, yt = _draw(rng, means + offsets, n_target)
    else:  # subspace
        Xs, ys = _draw(rng, means, n_samples)
        Xt, yt = _draw(rng, means, n_target)
        G = rng.normal(size=(n_features, n_features))
        skew = (G - G.T) / np.sqrt(2 * n_features)
        q, r = np.linalg.qr(np.eye(n_features) + shift * skew)
        Xt = Xt @ (q * np.sign(np.diag(r)))
    if sparse:
        import scipy.sparse as sp

        def sparsify(X):
            mask = rng.random_sample(X.shape) < density
            return sp.csr_matrix(np.where(mask, np.maximum(X, 0.0), 0.0))

        Xs, Xt = sparsify(Xs), sparsify(Xt)
    return Xs, ys.astype(np.int64), Xt, yt.astype(np.int64)


def load_synthetic(info, task, sources, target, root, **options):
    Xs, ys, Xt, yt = make_shifted(task, **options)
    desc = ", ".join(f"{k}={v}" for k, v in options.items())
    return Task(name=f"{info.name}:{task}", sources=[Domain(Xs, ys, "source")],
                target=Domain(Xt, yt, "target"),
                description=f"synthetic {task} shift ({desc})", extra=dict(options))
