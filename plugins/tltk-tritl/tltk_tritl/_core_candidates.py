"""General helpers that belong in ``tltk_core`` (the lead moves them there).

``plsa`` is the probabilistic latent semantic analysis (Hofmann, 1999) that
several concept methods use to initialise their word clusters (TriTL, HIDC,
CD-PLSA): EM on a sparse documents x words matrix through
``tltk_core.sparse_ops.ratio_at_nonzeros``, so no dense documents x words
matrix is ever formed.
"""
from __future__ import annotations

import numpy as np
import scipy.sparse as sp
from sklearn.utils import check_random_state

from tltk_core.sparse_ops import normalize_columns, normalize_rows, ratio_at_nonzeros

__all__ = ["plsa"]


def plsa(X, n_topics, n_iter=20, random_state=None):
    """PLSA of a non-negative documents x words matrix by EM.

    Model ``X[d, w] ∝ p(d) sum_z p(z|d) p(w|z)``. Each EM step computes the
    ratio ``R = X / (P_dz P_wz^T)`` on the stored entries of ``X`` (sparse),
    then ``P_wz ∝ P_wz * (R^T P_dz)`` (columns normalised: p(w|z)) and
    ``P_dz ∝ P_dz * (R P_wz)`` (rows normalised: p(z|d)). Cost per step:
    O(nnz x n_topics); memory O(nnz + (documents + words) x n_topics).

    Parameters
    ----------
    X : sparse or dense (n_documents, n_words), non-negative
    n_topics : int
    n_iter : int, EM steps (0 returns the random initialisation)
    random_state : int, RandomState or None (the random initialisation)

    Returns
    -------
    P_dz : (n_documents, n_topics), rows sum to 1 (zero rows stay uniform)
    P_wz : (n_words, n_topics), columns sum to 1
    """
    X = sp.csr_matrix(X, dtype=np.float64)
    rng = check_random_state(random_state)
    n, m = X.shape
    P_dz = normalize_rows(rng.rand(n, n_topics) + 0.1)
    P_wz = normalize_columns(rng.rand(m, n_topics) + 0.1)
    for _ in range(n_iter):
        R = ratio_at_nonzeros(X, P_dz, P_wz)
        new_wz = P_wz * np.asarray(R.T @ P_dz)
        new_dz = P_dz * np.asarray(R @ P_wz)
        P_wz = normalize_columns(new_wz)
        rows = new_dz.sum(axis=1) > 0      # an empty document keeps its p(z|d)
        P_dz[rows] = normalize_rows(new_dz[rows])
    return P_dz, P_wz
