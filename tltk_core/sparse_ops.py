"""Sparse × thin-dense primitives shared by the factorisation and EM methods.

Co-clustering and PLSA-style models (MTrick, TriTL, HIDC, CD-PLSA, ...) work
on a words × documents (or documents × words) matrix ``X`` that is large and
sparse, and on low-rank factors ``A`` (rows × k) and ``B`` (columns × k) that
are thin and dense. Their updates need ``A @ B.T`` only where ``X`` has an
entry (the PLSA ratio ``X / (A B^T)``) and the Frobenius objective
``||X - A B^T||^2`` — both computable without ever forming the dense
rows × columns product. These functions do that, in chunks of entries so that
memory stays O(nnz + chunk × k).
"""
from __future__ import annotations

import numpy as np
import scipy.sparse as sp

__all__ = ["low_rank_at_nonzeros", "ratio_at_nonzeros", "frobenius_residual",
           "normalize_columns", "normalize_rows"]

_CHUNK = 1 << 18   # entries per block: 262,144 × k float64 temporaries


def _csr(X):
    X = X.tocsr() if sp.issparse(X) else sp.csr_matrix(X)
    return X


def low_rank_at_nonzeros(X, A, B, chunk=_CHUNK):
    """Values of ``A @ B.T`` at the stored entries of sparse ``X``.

    Returns a 1-D array aligned with ``X.tocsr().data`` (row by row, in the
    order of ``X.indices``). ``A`` is ``X.shape[0] × k``, ``B`` is
    ``X.shape[1] × k``. Never forms the dense product.
    """
    X = _csr(X)
    A = np.asarray(A, dtype=np.float64)
    B = np.asarray(B, dtype=np.float64)
    if A.shape[0] != X.shape[0] or B.shape[0] != X.shape[1] or A.shape[1] != B.shape[1]:
        raise ValueError(f"shapes do not agree: X {X.shape}, A {A.shape}, B {B.shape}")
    rows = np.repeat(np.arange(X.shape[0], dtype=np.int64), np.diff(X.indptr))
    cols = X.indices
    out = np.empty(X.nnz, dtype=np.float64)
    for start in range(0, X.nnz, chunk):
        stop = min(start + chunk, X.nnz)
        out[start:stop] = np.einsum("ij,ij->i", A[rows[start:stop]], B[cols[start:stop]])
    return out


def ratio_at_nonzeros(X, A, B, eps=1e-300, chunk=_CHUNK):
    """The sparse matrix ``X / (A @ B.T)`` on the pattern of ``X`` (CSR).

    The E-step of PLSA-type models: with ``R`` this ratio, the M-step's
    sufficient statistics are ``R @ B`` and ``R.T @ A`` (sparse × thin), each
    multiplied element-wise by the old factor.
    """
    X = _csr(X)
    denom = low_rank_at_nonzeros(X, A, B, chunk=chunk)
    np.maximum(denom, eps, out=denom)
    return sp.csr_matrix((X.data / denom, X.indices, X.indptr), shape=X.shape)


def frobenius_residual(X, A, B):
    """``||X - A @ B.T||_F^2`` for sparse ``X`` without the dense product.

    ``||X||^2 - 2 tr(A^T X B) + tr((A^T A)(B^T B))``: one sparse × thin
    product and two k × k Gram matrices.
    """
    X = _csr(X)
    A = np.asarray(A, dtype=np.float64)
    B = np.asarray(B, dtype=np.float64)
    xx = float(X.multiply(X).sum())
    cross = float(np.einsum("ij,ij->", A, np.asarray(X @ B)))
    gram = float(np.einsum("ij,ij->", A.T @ A, B.T @ B))
    return max(xx - 2.0 * cross + gram, 0.0)


def normalize_columns(M, eps=1e-300):
    """``M`` with every column scaled to sum 1 (a column of zeros stays zero)."""
    M = np.asarray(M, dtype=np.float64)
    s = M.sum(axis=0, keepdims=True)
    return M / np.where(s > eps, s, 1.0)


def normalize_rows(M, eps=1e-300):
    """``M`` with every row scaled to sum 1 (a row of zeros stays zero)."""
    M = np.asarray(M, dtype=np.float64)
    s = M.sum(axis=1, keepdims=True)
    return M / np.where(s > eps, s, 1.0)
