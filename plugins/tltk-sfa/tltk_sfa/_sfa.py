"""Spectral feature alignment (SFA).

Pan, Ni, Sun, Yang and Chen, "Cross-domain sentiment classification via
spectral feature alignment", WWW 2010.

A feature *occurs* in a row when its value is non-zero; the graph is built on
these occurrences (binarised X) of the pooled unlabelled rows of both domains.

1. Domain-independent (DI) features. The paper measures how domain-specific a
   feature is by its mutual information with the domain label D, summed over
   the feature's non-zero values only (Pan et al., section 4.1)::

       I(X^i; D) = sum_{d in {S, T}} p(x^i != 0, d) log( p(x^i != 0, d) / (p(x^i != 0) p(d)) )

   and requires DI features to be frequent in both domains. Here: the
   ``ceil(frequency_pool * l)`` features with the largest document rate in
   their *rarer* domain (min of the source and target rates; at least
   ``min_df`` rows in each domain) form the frequent pool, and the ``l``
   members of the pool with the lowest I(X^i; D) are the DI features (ties:
   the more frequent, then the lower index). The other features are
   domain-specific (DS). ``frequency_pool=1`` is selection by frequency alone.
2. The bipartite DS-DI graph. M (m x l, m DS and l DI features) counts the
   rows in which a DS feature and a DI feature occur together:
   ``M = B_DS^T B_DI`` for the binarised pooled rows B -- one sparse product.
3. Spectral clustering. A = [[0, M], [M^T, 0]], D its degree matrix, and
   L = D^{-1/2} A D^{-1/2}. With D1, D2 the degrees of the DS and DI nodes
   (row and column sums of M), L = [[0, N], [N^T, 0]] with
   N = D1^{-1/2} M D2^{-1/2}; its eigenvalues are +-sigma_k (the singular
   values of N) with unit eigenvectors [u_k; v_k] / sqrt(2). The top-K
   eigenvectors of L restricted to the DS rows are therefore U = U_N / sqrt(2),
   U_N the top-K left singular vectors of N (a sparse truncated SVD). A node
   of degree 0 (a DS feature never co-occurring with a DI one) gets a zero row.
4. Representation ``[x, gamma * c * x_DS U]`` (the paper's augmented
   features, gamma its trade-off). The paper's gamma presumes one fixed
   feature scale; with ``normalize`` (default) c makes the mean row norm of
   ``c * x_DS U`` over the training rows equal that of x, so that gamma is a
   relative weight on any input scale (c = 1 without). The final linear
   classifier is trained on the augmented source rows.
"""
from __future__ import annotations

import math
import warnings

import numpy as np
import scipy.sparse as sp

from tltk_core import InputError, TransferMethod, as_csr32, check_param, stack_rows
from tltk_core.sparse_ops import binarize, top_left_singular
from tltk_core.sparse_ops import document_frequency as _doc_freq
from tltk_core.sparse_ops import row_norms as _row_norms

from . import INFO


class SFA(TransferMethod):
    """Spectral feature alignment (Pan et al., WWW 2010).

    Parameters
    ----------
    n_domain_independent : int, default=500
        l, the number of domain-independent features (500 in the original
        toolkit; the paper's experiments use a few hundred). Capped at half
        the features, so that domain-specific features remain.
    n_components : int, default=100
        K, the number of eigenvectors (clusters) kept (K=100 in the paper).
        The spectrum of the bipartite graph has at most min(m, l) positive
        eigenvalues: a larger K is clipped to min(m, l) with a
        RuntimeWarning.
    gamma : float, default=0.6
        Trade-off of the aligned features in ``[x, gamma * x_DS U]`` (0.6 in
        the paper).
    normalize : bool, default=True
        Before gamma, scale x_DS U by c so that its mean row norm over the
        training rows (both domains) equals that of x: gamma is then the
        weight of the aligned block relative to x whatever the scale of the
        input (counts, tf-idf, unit rows). False applies gamma to x_DS U as
        is (c = 1), the paper's formula taken literally.
    frequency_pool : float, default=2.0
        The DI features are the ``l`` lowest-MI members of the
        ``ceil(frequency_pool * l)`` features most frequent in both domains
        (>= 1; 1 = by frequency alone).
    min_df : int, default=2
        A DI candidate occurs in at least ``min_df`` rows of each domain
        (capped at the number of rows of the smaller domain).
    binary : bool, default=False
        Binarise x_DS before the projection x_DS U. The x block is always
        left as given; the graph always uses occurrences.
    estimator : classifier or None, default=None
        Final classifier trained on the augmented source; None gives
        ``LogisticRegression(max_iter=1000)`` (a linear classifier, as in the
        paper). Cloned, never modified.

    Attributes
    ----------
    domain_independent_ : ndarray of int
        DI feature indices, lowest domain MI first.
    domain_specific_ : ndarray of int
        DS feature indices (increasing).
    domain_mutual_info_ : ndarray (n_features,)
        I(X^i; D) of every feature (the paper's criterion, nats).
    cooccurrence_ : scipy.sparse CSR (m, l)
        M, DS x DI co-occurrence counts over the pooled rows.
    projection_ : ndarray (m, n_components_)
        U, the DS rows of the top eigenvectors of D^{-1/2} A D^{-1/2}.
    eigenvalues_ : ndarray (n_components_,)
        Their eigenvalues (largest first).
    n_components_ : int
        K actually used.
    block_scale_ : float
        c, the factor applied (with gamma) to x_DS U.
    estimator_ : classifier
        The final classifier, fitted on the augmented source.
    """

    info = INFO
    _classifies_features = True  # predict_proba when the final classifier has it

    def __init__(self, n_domain_independent=500, n_components=100, gamma=0.6,
                 normalize=True, frequency_pool=2.0, min_df=2, binary=False,
                 estimator=None):
        self.n_domain_independent = n_domain_independent
        self.n_components = n_components
        self.gamma = gamma
        self.normalize = normalize
        self.frequency_pool = frequency_pool
        self.min_df = min_df
        self.binary = binary
        self.estimator = estimator

    def _check_params(self):
        check_param(self.n_domain_independent, "n_domain_independent", kind=int, low=1)
        check_param(self.n_components, "n_components", kind=int, low=1)
        check_param(self.gamma, "gamma", kind=float, low=0.0)
        check_param(self.frequency_pool, "frequency_pool", kind=float, low=1.0)
        check_param(self.min_df, "min_df", kind=int, low=1)
        for name in ("binary", "normalize"):
            value = getattr(self, name)
            if not isinstance(value, (bool, np.bool_)):
                raise InputError(f"{name} must be a bool, got {value!r}")

    # -- fitting ------------------------------------------------------------
    def _fit(self, Xs, ys, Xt, yt):
        d = Xs.shape[1]
        l_max = max(d // 2, 1) if d > 1 else 0
        l = min(self.n_domain_independent, l_max)
        min_df = min(self.min_df, Xs.shape[0], Xt.shape[0])
        di, mi = select_domain_independent(Xs, Xt, l, self.frequency_pool, min_df)
        self.domain_mutual_info_ = mi
        self.domain_independent_ = di
        mask = np.ones(d, dtype=bool)
        mask[di] = False
        self.domain_specific_ = np.flatnonzero(mask)
        m = self.domain_specific_.size
        if di.size == 0:
            warnings.warn("SFA found no domain-independent feature (none occurs in at "
                          f"least min_df={min_df} rows of each domain); the representation "
                          "is x alone", RuntimeWarning, stacklevel=3)
        B = binarize(stack_rows(Xs, Xt))
        M = cooccurrence(B, self.domain_specific_, di)
        self.cooccurrence_ = M
        k_max = min(m, di.size)
        K = min(self.n_components, k_max)
        if 0 < K < self.n_components:
            warnings.warn(f"n_components={self.n_components} exceeds min(domain-specific "
                          f"features={m}, domain-independent features={di.size}), the "
                          f"number of positive eigenvalues of the bipartite graph; using {K}",
                          RuntimeWarning, stacklevel=3)
        if K > 0:
            U, ev = spectral_alignment(M, K)
        else:
            U, ev = np.zeros((m, 0)), np.zeros(0)
        self.projection_ = U
        self.eigenvalues_ = ev
        self.n_components_ = U.shape[1]
        self.block_scale_ = 1.0
        if self.normalize and self.n_components_ > 0:
            X = stack_rows(Xs, Xt)
            zn = np.linalg.norm(self.aligned_features(X), axis=1).mean()
            xn = _row_norms(X).mean()
            self.block_scale_ = float(xn / zn) if zn > 0 else 0.0
        self.estimator_ = self._make_estimator().fit(self._transform(Xs), ys)

    # -- using the representation -------------------------------------------
    def aligned_features(self, X):
        """``x_DS U`` (dense, one row per sample): the spectral features, unscaled."""
        Xds = X[:, self.domain_specific_]
        if self.binary:
            Xds = binarize(Xds)
        return np.asarray(Xds @ self.projection_)

    def _transform(self, X):
        """``[x, gamma * c * x_DS U]`` (sparse if X is), c = ``block_scale_``."""
        Z = (self.gamma * self.block_scale_) * self.aligned_features(X)
        if sp.issparse(X):
            return as_csr32(sp.hstack([X, sp.csr_matrix(Z)], format="csr"))
        return np.hstack([np.asarray(X), Z])

    def _predict(self, X):
        return self.estimator_.predict(self._transform(X))

    def _decision_function(self, X):
        return self.estimator_.decision_function(self._transform(X))


# -- the steps, as functions (tested on their own) ------------------------------






def domain_mutual_info(Xs, Xt):
    """The paper's I(X^i; D) per feature: MI with the domain over non-zero values.

    ``sum_d p(x != 0, d) log(p(x != 0, d) / (p(x != 0) p(d)))`` with the rows of
    Xs (d = source) and Xt (d = target) pooled; natural log. Zero for a
    feature that never occurs.
    """
    ns, nt = Xs.shape[0], Xt.shape[0]
    n = ns + nt
    counts = np.stack([_doc_freq(Xs), _doc_freq(Xt)], axis=1).astype(np.float64)  # d x 2
    pd_ = np.array([ns, nt], dtype=np.float64) / n
    joint = counts / n
    occ = joint.sum(axis=1, keepdims=True)
    with np.errstate(divide="ignore", invalid="ignore"):
        terms = joint * np.log(joint / (occ * pd_[None, :]))
    return np.where(joint > 0, terms, 0.0).sum(axis=1)


def select_domain_independent(Xs, Xt, l, frequency_pool=2.0, min_df=1):
    """(di, mi): the ``l`` DI features and the domain MI of every feature.

    Pool: the ``ceil(frequency_pool * l)`` features with the highest document
    rate in their rarer domain, among those occurring in >= ``min_df`` rows of
    each domain. DI: the ``l`` pool members with the lowest MI (ties: the more
    frequent, then the lower index), lowest first.
    """
    mi = domain_mutual_info(Xs, Xt)
    dfs, dft = _doc_freq(Xs), _doc_freq(Xt)
    rate = np.minimum(dfs / Xs.shape[0], dft / Xt.shape[0])
    cand = np.flatnonzero((dfs >= min_df) & (dft >= min_df))
    if l <= 0 or cand.size == 0:
        return np.zeros(0, dtype=np.intp), mi
    pool_size = min(int(math.ceil(frequency_pool * l)), cand.size)
    pool = cand[np.lexsort((cand, -rate[cand]))][:pool_size]      # most frequent first
    order = np.lexsort((pool, -rate[pool], mi[pool]))              # lowest MI first
    return pool[order][:l].astype(np.intp), mi


def cooccurrence(B, ds, di):
    """M = B[:, ds]^T B[:, di] (sparse CSR, m x l): rows where both occur.

    B is the binarised pooled data; one sparse product, no loop over rows.
    """
    B = sp.csr_matrix(B, dtype=np.float64)
    M = (B[:, ds].T.tocsr() @ B[:, di]).tocsr()
    return M


def spectral_alignment(M, K):
    """(U, eigenvalues): the DS rows of the top-K eigenvectors of D^{-1/2} A D^{-1/2}.

    A = [[0, M], [M^T, 0]]. Computed as U = U_N / sqrt(2), U_N the top-K left
    singular vectors of N = D1^{-1/2} M D2^{-1/2} (D1, D2 the row and column
    sums of M; zero degree -> zero row). Eigenvalues = the singular values of
    N (see :func:`top_left_singular`; K is capped at min(m, l)). Each column's
    sign makes its largest |entry| positive, so the result is deterministic.
    """
    M = sp.csr_matrix(M, dtype=np.float64)
    m, l = M.shape
    K = int(min(K, m, l))
    d1 = np.asarray(M.sum(axis=1)).ravel()
    d2 = np.asarray(M.sum(axis=0)).ravel()
    with np.errstate(divide="ignore"):
        s1 = np.where(d1 > 0, 1.0 / np.sqrt(d1), 0.0)
        s2 = np.where(d2 > 0, 1.0 / np.sqrt(d2), 0.0)
    N = (sp.diags(s1) @ M @ sp.diags(s2)).tocsr()
    if N.nnz > 0.1 * m * l:        # co-occurrence graphs are dense-ish: BLAS is faster
        N = N.toarray()
    if K == 0:
        return np.zeros((m, 0)), np.zeros(0)
    Uk, s = top_left_singular(N, K)
    idx = np.argmax(np.abs(Uk), axis=0)
    Uk = Uk * np.where(Uk[idx, np.arange(K)] < 0, -1.0, 1.0)
    return Uk / math.sqrt(2.0), s

