"""Dense reference implementation of one HIDC EM step.

The same mathematics as :func:`tltk_hidc._hidc.em_step`, written with dense
documents x words matrices: the model ``M = D (W S)^T`` and the ratio
``X / M`` are formed in full. It exists to check the sparse implementation
(tests) and to measure what the sparse one saves (``benchmarks/concept_hidc.py``);
it needs O(documents x words) memory and is not used by the estimator.
"""
from __future__ import annotations

import numpy as np

from tltk_core.sparse_ops import normalize_columns

_TINY = 1e-300


def dense_em_step(X, D, W, S, kinds, log_pr):
    """One EM iteration on dense ``X`` (list of documents x words arrays).

    Arguments and results as :func:`tltk_hidc._hidc.em_step`.
    """
    n_dom = len(X)
    cW = {name: [None] * n_dom for name, _, _, _ in kinds}
    cS = {name: [None] * n_dom for name, _, _, _ in kinds}
    cD = [np.zeros_like(d) for d in D]
    ll = 0.0
    for r, x in enumerate(X):
        nz = x > 0
        for name, _, _, _ in kinds:
            w, s = W[name][r], S[name][r]
            B = w @ s
            M = np.maximum(D[r] @ B.T, _TINY)            # dense documents x words
            ll += float(np.sum(x[nz] * (np.log(M[nz]) + log_pr[r])))
            R = np.where(nz, x / M, 0.0)
            RtD = R.T @ D[r]
            cW[name][r] = w * (RtD @ s.T)
            cS[name][r] = s * (w.T @ RtD)
            cD[r] += D[r] * (R @ B)
    W_new, S_new = {}, {}
    for name, _, share_words, share_assoc in kinds:
        for counts, shared, out in ((cW[name], share_words, W_new), (cS[name], share_assoc, S_new)):
            if shared:
                p = normalize_columns(sum(counts))
                out[name] = [p] * n_dom
            else:
                out[name] = [normalize_columns(c) for c in counts]
    D_new = [c / max(c.sum(), _TINY) for c in cD]
    return D_new, W_new, S_new, ll
