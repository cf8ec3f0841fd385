"""Sparse × thin-dense primitives shared by the factorisation and EM methods.

Co-clustering and PLSA-style models (MTrick, TriTL, HIDC, CD-PLSA, ...) work
on a words × documents (or documents × words) matrix ``X`` that is large and
sparse, and on low-rank factors ``A`` (rows × k) and ``B`` (columns × k) that
are thin and dense. Their updates need ``A @ B.T`` only where ``X`` has an
entry (the PLSA ratio ``X / (A B^T)``) and the Frobenius objective
``||X - A B^T||^2`` — both computable without ever forming the dense
rows × columns product. These functions do that, in chunks of entries so that
memory stays O(nnz + chunk × k).

Speed: evaluating ``A @ B.T`` at the nonzeros is two gathers (``A[rows]``,
``B[cols]``) and a row-wise dot product, so it is bound by memory traffic.
:func:`low_rank_at_nonzeros` therefore gathers with ``take`` (much faster than
generic fancy indexing for thin 2-D arrays), works in cache-sized chunks
(4096 entries), keeps float32 factors in float32 (half the traffic), and for
a rank of 1 or 2 gathers each component as a 1-D array instead (measured on
20ng: slightly faster at rank 2, slower than the chunked ``einsum`` from
rank 4 on). An EM loop
that evaluates the same ``X`` many times computes :func:`nonzero_rows` once
and passes it as ``rows=``.

:func:`plsa` is probabilistic latent semantic analysis (Hofmann, 1999) by EM
on a sparse documents × words matrix, built on these primitives; several
concept methods start their word clusters from it.

Hofmann, T. (1999). Probabilistic latent semantic indexing. SIGIR '99,
pp. 50-57. doi:10.1145/312624.312649
"""
from __future__ import annotations

from typing import NamedTuple

import numpy as np
import scipy.sparse as sp

__all__ = ["binarize", "row_norms", "unit_rows_", "document_frequency", "top_left_singular",
           "nonzero_rows", "low_rank_at_nonzeros", "ratio_at_nonzeros", "frobenius_residual",
           "normalize_columns", "normalize_rows", "plsa", "PLSAResult"]

_CHUNK = 4096      # entries per block: the two gathered k-column blocks stay in cache
_SMALL_RANK = 2    # up to this rank, 1-D gathers per component beat the chunked einsum


def _csr(X):
    if sp.issparse(X) and X.format == "csr":
        return X
    return X.tocsr() if sp.issparse(X) else sp.csr_matrix(X)


def nonzero_rows(X):
    """Row index of every stored entry of ``X`` (aligned with ``X.tocsr().data``).

    Compute it once and pass it as ``rows=`` to :func:`low_rank_at_nonzeros`
    or :func:`ratio_at_nonzeros` when the same matrix is evaluated many times
    (every iteration of an EM loop).
    """
    X = _csr(X)
    return np.repeat(np.arange(X.shape[0], dtype=np.intp), np.diff(X.indptr))


def low_rank_at_nonzeros(X, A, B, chunk=_CHUNK, *, rows=None):
    """Values of ``A @ B.T`` at the stored entries of sparse ``X``.

    Returns a 1-D array aligned with ``X.tocsr().data`` (row by row, in the
    order of ``X.indices``). ``A`` is ``X.shape[0] × k``, ``B`` is
    ``X.shape[1] × k``. Never forms the dense product. The result is float32
    when both factors are float32 (half the memory traffic), float64
    otherwise. ``rows`` may be :func:`nonzero_rows` of ``X``, computed once
    by the caller; ``chunk`` is the number of entries per block (a
    rank-k block of both factors should fit in the CPU cache).
    """
    X = _csr(X)
    A = np.asarray(A)
    B = np.asarray(B)
    if (A.ndim != 2 or B.ndim != 2 or A.shape[0] != X.shape[0] or B.shape[0] != X.shape[1]
            or A.shape[1] != B.shape[1]):
        raise ValueError(f"shapes do not agree: X {X.shape}, A {A.shape}, B {B.shape}")
    dtype = np.float32 if A.dtype == np.float32 and B.dtype == np.float32 else np.float64
    if rows is None:
        rows = nonzero_rows(X)
    elif len(rows) != X.nnz:
        raise ValueError(f"rows has {len(rows)} entries, X has {X.nnz} stored entries")
    rows = np.asarray(rows, dtype=np.intp)
    cols = X.indices.astype(np.intp, copy=False)
    k = A.shape[1]
    if k <= _SMALL_RANK:
        At = np.ascontiguousarray(A.T, dtype=dtype)
        Bt = np.ascontiguousarray(B.T, dtype=dtype)
    else:
        A = np.ascontiguousarray(A, dtype=dtype)
        B = np.ascontiguousarray(B, dtype=dtype)
    out = np.zeros(X.nnz, dtype=dtype)
    chunk = max(int(chunk), 1)
    for start in range(0, X.nnz if k else 0, chunk):
        stop = min(start + chunk, X.nnz)
        r, c, o = rows[start:stop], cols[start:stop], out[start:stop]
        if k > _SMALL_RANK:
            np.einsum("ij,ij->i", A.take(r, axis=0), B.take(c, axis=0), out=o)
            continue
        np.multiply(At[0].take(r), Bt[0].take(c), out=o)
        for j in range(1, k):
            o += At[j].take(r) * Bt[j].take(c)
    return out


def ratio_at_nonzeros(X, A, B, eps=1e-300, chunk=_CHUNK, *, rows=None):
    """The sparse matrix ``X / (A @ B.T)`` on the pattern of ``X`` (CSR).

    The E-step of PLSA-type models: with ``R`` this ratio, the M-step's
    sufficient statistics are ``R @ B`` and ``R.T @ A`` (sparse × thin), each
    multiplied element-wise by the old factor. The denominator is clipped
    below at ``eps`` (at least the smallest normal number of its dtype);
    ``rows`` is as in :func:`low_rank_at_nonzeros`.
    """
    X = _csr(X)
    denom = low_rank_at_nonzeros(X, A, B, chunk=chunk, rows=rows)
    np.maximum(denom, max(eps, float(np.finfo(denom.dtype).tiny)), out=denom)
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


class PLSAResult(NamedTuple):
    """What :func:`plsa` returns (unpacks as ``W, T, loglik``)."""

    word_topic: np.ndarray   #: p(w|z), words × topics, columns sum to 1
    doc_topic: np.ndarray    #: p(z|d), documents × topics, rows sum to 1
    loglik: list             #: log-likelihood before each EM step, then the final one


def plsa(X, n_topics, n_iter=100, tol=1e-5, random_state=None, dtype=np.float64,
         init_offset=1e-3, init=None, chunk=_CHUNK):
    """PLSA (Hofmann, 1999) of a non-negative documents × words matrix by EM.

    Model ``P(w|d) = sum_z P(w|z) P(z|d)``; EM maximises
    ``sum_{d,w} X[d,w] log P(w|d)`` (``X`` holds counts or any non-negative
    weights such as tf-idf). Each step evaluates the model at the stored
    entries of ``X`` only (:func:`low_rank_at_nonzeros`), forms the ratio
    ``R = X / (P_dz P_wz^T)`` on that pattern and updates, from the old
    factors, ``P_wz ∝ P_wz * (R^T P_dz)`` (columns normalised) and
    ``P_dz ∝ P_dz * (R P_wz)`` (rows normalised): O(nnz × n_topics) per
    step, no dense documents × words array.

    Parameters
    ----------
    X : sparse or dense (n_documents, n_words), non-negative
    n_topics : int >= 1
    n_iter : int >= 0, maximum number of EM steps
    tol : float >= 0, stop when the relative change of the log-likelihood
        between two steps is at most ``tol``; 0 runs exactly ``n_iter`` steps
    random_state : int, RandomState or None; the start is
        ``normalize_rows(U(n_documents, n_topics) + init_offset)`` then
        ``normalize_columns(U(n_words, n_topics) + init_offset)``, drawn in
        that order
    dtype : np.float64 or np.float32, the precision of the EM (float32 is
        about twice as fast; float64 gives an exactly monotone likelihood)
    init_offset : float >= 0, added to the uniform draws (larger: a flatter start)
    init : optional ``(P_dz, P_wz)`` starting factors instead of the random
        start (``random_state`` and ``init_offset`` are then unused)
    chunk : entries per block, as in :func:`low_rank_at_nonzeros`

    Returns
    -------
    PLSAResult ``(word_topic, doc_topic, loglik)``: float64 ``P_wz`` and
    ``P_dz``; a document with no words gets the uniform ``P(z|d) = 1/n_topics``.
    """
    from sklearn.utils import check_random_state

    dtype = np.dtype(dtype)
    if dtype not in (np.float32, np.float64):
        raise ValueError(f"dtype must be float32 or float64, got {dtype}")
    if int(n_topics) != n_topics or n_topics < 1:
        raise ValueError(f"n_topics must be a positive integer, got {n_topics!r}")
    if int(n_iter) != n_iter or n_iter < 0:
        raise ValueError(f"n_iter must be a non-negative integer, got {n_iter!r}")
    if not tol >= 0:
        raise ValueError(f"tol must be >= 0, got {tol!r}")
    X = sp.csr_matrix(X, dtype=dtype)
    if X.nnz and X.data.min() < 0:
        raise ValueError("X must be non-negative")
    n_docs, n_words = X.shape
    if init is None:
        if not init_offset >= 0:
            raise ValueError(f"init_offset must be >= 0, got {init_offset!r}")
        rng = check_random_state(random_state)
        T = normalize_rows(rng.random_sample((n_docs, n_topics)) + init_offset)
        W = normalize_columns(rng.random_sample((n_words, n_topics)) + init_offset)
    else:
        T, W = (np.asarray(f, dtype=np.float64) for f in init)
        if T.shape != (n_docs, n_topics) or W.shape != (n_words, n_topics):
            raise ValueError(f"init shapes {T.shape}, {W.shape} do not match "
                             f"({n_docs}, {n_topics}), ({n_words}, {n_topics})")
    T, W = T.astype(dtype), W.astype(dtype)
    tiny = np.finfo(dtype).tiny
    rows = nonzero_rows(X)
    weights = X.data.astype(np.float64)

    def evaluate(T, W):
        vals = np.maximum(low_rank_at_nonzeros(X, T, W, chunk, rows=rows), tiny)
        return vals, float(weights @ np.log(vals.astype(np.float64)))

    loglik = []
    for _ in range(n_iter):
        vals, ll = evaluate(T, W)
        loglik.append(ll)
        R = sp.csr_matrix((X.data / vals, X.indices, X.indptr), shape=X.shape)
        W_new = W * np.asarray(R.T @ T)
        W_new /= np.maximum(W_new.sum(axis=0, keepdims=True), tiny)
        T = T * np.asarray(R @ W)
        T /= np.maximum(T.sum(axis=1, keepdims=True), tiny)
        W = W_new
        if tol > 0 and len(loglik) > 1 and abs(loglik[-1] - loglik[-2]) <= tol * abs(loglik[-2]):
            break
    loglik.append(evaluate(T, W)[1])
    T = T.astype(np.float64)
    T[np.asarray(X.sum(axis=1)).ravel() <= 0] = 1.0 / n_topics
    return PLSAResult(W.astype(np.float64), T, loglik)


# -- bag-of-words helpers shared by the feature methods (SCL, SFA) ------------------
def binarize(X):
    """Occurrences: 1.0 where ``X`` is non-zero, else 0 (a copy; sparse stays sparse)."""
    if sp.issparse(X):
        B = sp.csr_matrix(X, dtype=np.float64, copy=True)
        B.eliminate_zeros()
        B.data[:] = 1.0
        return B
    return (np.asarray(X) != 0).astype(np.float64)


def row_norms(X):
    """Euclidean norm of every row (sparse or dense)."""
    if sp.issparse(X):
        return np.sqrt(np.asarray(X.multiply(X).sum(axis=1)).ravel())
    return np.linalg.norm(np.asarray(X), axis=1)


def unit_rows_(Z):
    """Scale every row of the dense float array ``Z`` to unit Euclidean length,
    in place (an all-zero row stays zero), and return ``Z``. For arrays the
    caller has just built (e.g. a learnt representation), never for input."""
    norm = np.sqrt(np.einsum("ij,ij->i", Z, Z))
    norm[norm == 0] = 1.0
    Z /= norm[:, None]
    return Z


def document_frequency(X):
    """Number of rows in which each column is non-zero (sparse or dense)."""
    if sp.issparse(X):
        B = sp.csc_matrix(X, copy=True)
        B.eliminate_zeros()
        return np.diff(B.indptr)
    return np.count_nonzero(X, axis=0)


def top_left_singular(N, k, gram_limit=3000):
    """``(U, s)``: the top-``k`` left singular vectors and values of ``N`` (sparse or dense).

    When the smaller side ``r = min(N.shape)`` is at most ``gram_limit`` (SCL's
    pivot-weight matrix, SFA's co-occurrence graph), the ``r x r`` Gram of that
    side is formed by one product and only its top-``k`` eigenpairs are taken by
    LAPACK: ``s = sqrt(eigenvalues)`` and ``U`` is either the eigenvectors (Gram
    ``N N^T``) or ``N V / s`` (Gram ``N^T N``; columns of zero singular value
    are zero). Otherwise a truncated sparse SVD (ARPACK, deterministic start).
    ``s`` is decreasing.
    """
    import math

    import scipy.linalg

    m, n = N.shape
    r = min(m, n)
    if r <= gram_limit or k >= r - 1:
        G = (N @ N.T) if m <= n else (N.T @ N)
        G = G.toarray() if sp.issparse(G) else np.asarray(G)
        w, V = scipy.linalg.eigh(G, subset_by_index=[r - k, r - 1], check_finite=False)
        w, V = np.maximum(w[::-1], 0.0), V[:, ::-1]
        s = np.sqrt(w)
        if m <= n:
            return V, s
        tol = s[0] * r * np.finfo(np.float64).eps if s.size else 0.0
        inv = np.where(s > tol, 1.0 / np.where(s > tol, s, 1.0), 0.0)
        return np.asarray(N @ V) * inv, s
    from scipy.sparse.linalg import svds

    v0 = np.full(r, 1.0 / math.sqrt(r))
    U, s, _ = svds(N, k=k, v0=v0, solver="arpack")
    order = np.argsort(-s, kind="stable")
    return U[:, order], s[order]

