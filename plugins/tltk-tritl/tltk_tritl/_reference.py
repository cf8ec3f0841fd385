"""A deliberately naive dense implementation of TriTL's sweep, for the tests
(the sparse sweep must give the same numbers) and for the speed benchmark.

It forms the dense words x documents matrices X_r and reconstructions
W_r = F_r S_r G_r^T and computes every quantity from them directly, the
way the formulas read — O(m n) memory per domain. Do not use it for work.
"""
from __future__ import annotations

import numpy as np


def _sr(num, den):
    out = np.ones_like(num)
    np.divide(num, den, out=out, where=den > 0)
    return np.sqrt(out)


def _norm(cand, old, axis):
    s = cand.sum(axis=axis, keepdims=True)
    return np.where(s > 0, cand / np.where(s > 0, s, 1.0), old)


def dense_objective(X, G, F1, S1, F2, S2, F3, S3, weights=None):
    """``sum_r sum_j w_rj ||x_rj - F_r S_r g_rj||^2`` with the dense products
    (``w = 1`` when ``weights`` is None)."""
    total = 0.0
    for r in range(len(X)):
        E2 = (X[r] - (F1 @ S1 + F2[r] @ S2 + F3[r] @ S3[r]) @ G[r].T) ** 2   # m x n
        w = np.ones(X[r].shape[1]) if weights is None else weights[r]
        total += float(np.sum(E2 * w[None, :]))
    return total


def dense_sweep(X, G, n_fixed, F1, S1, F2, S2, F3, S3, line_search=False, weights=None):
    """One sweep (same block order as ``TriFactors.sweep``) on dense words x
    documents matrices ``X[r]``; returns the new factors as a dict. With
    ``weights``, the F and S rules use ``X W G`` and ``W_hat W G`` (``W`` the
    diagonal of document weights), as the weighted objective's gradient reads."""
    R = range(len(X))
    G = [g.copy() for g in G]
    F2, F3, S3 = list(F2), list(F3), list(S3)
    Wd = [np.diag(np.ones(x.shape[1]) if weights is None else weights[r])
          for r, x in enumerate(X)]

    def W(r):
        return (F1 @ S1 + F2[r] @ S2 + F3[r] @ S3[r]) @ G[r].T

    def f_block(F, pairs):
        if F.shape[1] == 0:
            return F
        Ws = {r: W(r) for r, _ in pairs}
        num = sum(X[r] @ Wd[r] @ G[r] @ S.T for r, S in pairs)
        den = sum(Ws[r] @ Wd[r] @ G[r] @ S.T for r, S in pairs)
        D = _norm(F * _sr(num, den), F, 0) - F
        if not line_search:
            return F + D
        dW = {r: D @ S @ G[r].T for r, S in pairs}
        b = sum(np.sum((X[r] - Ws[r]) @ Wd[r] * dW[r]) for r, _ in pairs)
        a = sum(np.sum(dW[r] ** 2 @ Wd[r]) for r, _ in pairs)
        return F + (np.clip(b / a, 0, 1) if a > 0 else 0.0) * D

    def s_block(S, pairs):
        if S.shape[0] == 0:
            return S
        num = sum(F.T @ X[r] @ Wd[r] @ G[r] for r, F in pairs)
        den = sum(F.T @ W(r) @ Wd[r] @ G[r] for r, F in pairs)
        return S * _sr(num, den)

    F1 = f_block(F1, [(r, S1) for r in R])
    for r in R:
        F2[r] = f_block(F2[r], [(r, S2)])
    for r in R:
        F3[r] = f_block(F3[r], [(r, S3[r])])
    S1 = s_block(S1, [(r, F1) for r in R])
    S2 = s_block(S2, [(r, F2[r]) for r in R])
    for r in R:
        S3[r] = s_block(S3[r], [(r, F3[r])])
    for r in range(n_fixed, len(X)):
        H = F1 @ S1 + F2[r] @ S2 + F3[r] @ S3[r]
        Wr = H @ G[r].T
        cand = _norm(G[r] * _sr(Wd[r] @ X[r].T @ H, Wd[r] @ Wr.T @ H), G[r], 1)
        if line_search:
            dW = H @ (cand - G[r]).T                          # m x n
            b = np.sum((X[r] - Wr) * dW, axis=0) @ Wd[r]
            a = np.sum(dW ** 2, axis=0) @ Wd[r]
            theta = np.clip(np.divide(b, a, out=np.zeros_like(b), where=a > 0), 0, 1)
            cand = G[r] + theta[:, None] * (cand - G[r])
        G[r] = cand
    return dict(G=G, F1=F1, S1=S1, F2=F2, S2=S2, F3=F3, S3=S3)
