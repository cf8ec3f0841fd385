"""MTrick: joint non-negative matrix tri-factorisation for cross-domain text.

Zhuang, Luo, Xiong, He, Xiong, Shi, "Exploiting associations between word
clusters and document classes for cross-domain text categorization", SDM 2010
(extended in Statistical Analysis and Data Mining 4(1), 2011).

The model
---------
In the paper's orientation ``X_s`` (m words x n_s documents) and ``X_t``
(m x n_t) are factorised as

    X_s ~ F_s S G_s^T,        X_t ~ F_t S G_t^T,

``F`` (m x k) the word clusters of each domain, ``G`` (n x c) the document
classes, and the association ``S`` (k x c) between word clusters and document
classes SHARED by the two domains: the words that express a concept may
change from one domain to the other (F_s != F_t), the way a concept indicates
a class does not. The objective is

    L = ||X_s - F_s S G_s^T||^2 + (alpha / n_s) ||G_s - G_0||^2
        + beta ||X_t - F_t S G_t^T||^2 + gamma ||F_t - F_s||^2

with every factor non-negative and the rows of F_s, F_t, G_s, G_t summing to
one (F: p(cluster | word), G: p(class | document)). ``G_0`` holds the source
labels (one-hot). ``alpha`` ties the source document classes to the labels
(the 1/n_s scaling is the authors' MATLAB code's), ``beta`` weighs the
target's factorisation against the source's, and ``gamma`` (default 0, not in
the SDM 2010 objective; see the README) pulls the target's word clusters
towards the source's.

The updates
-----------
The paper's multiplicative rules, in turn for F_s, G_s, F_t, G_t, S (each the
square root of the ratio of the negative to the positive part of the
gradient):

    F_s <- F_s * sqrt([X_s G_s S^T + gamma F_t] / [F_s S G_s^T G_s S^T + gamma F_s])
    G_s <- G_s * sqrt([X_s^T F_s S + a G_0] / [G_s S^T F_s^T F_s S + a G_s]),  a = alpha/n_s
    F_t <- F_t * sqrt([X_t G_t S^T + gamma F_s] / [F_t S G_t^T G_t S^T + gamma F_t])
    G_t <- G_t * sqrt([X_t^T F_t S] / [G_t S^T F_t^T F_t S])
    S   <- S * sqrt([F_s^T X_s G_s + beta F_t^T X_t G_t]
                    / [F_s^T F_s S G_s^T G_s + beta F_t^T F_t S G_t^T G_t])

The rows of F and G must stay on the simplex. The paper applies each rule
and then divides every row by its sum; that normalisation is not a descent
step, and on 20ng-sci-talk it makes the objective *increase* (by up to 0.5 %
in one sweep, and overall). Here the normalised rule gives each row's
*candidate*, and the row moves from its current value towards it by the exact
minimiser of its row objective on that segment (``theta in [0, 1]``; the block
objective of F or G is a quadratic separable over rows, so this is closed
form and vectorised). The factors stay feasible, the direction is the
paper's, and no sweep can increase the objective: ``objective_`` is
non-increasing. S has no constraint and takes the plain square-root
multiplicative step, which is monotone by the auxiliary-function argument
(Lee & Seung 2001; Ding, Li, Peng, Park 2006).

Sparse throughout
-----------------
Every product with the data is sparse x thin-dense (``X @ F``, ``X.T @ G``);
products are ordered so that no k x k Gram of the m x k word factors is
formed (``F^T ((F S) G^T G)``, ``(F S)^T (F S)``); the Frobenius terms use
``||X||^2 - 2 tr(...) + tr(Gram Gram)`` (``tltk_core.sparse_ops.
frobenius_residual``). No words x documents dense matrix is formed and no
Python loop runs over words or documents.

Initialisation (the paper's and the authors' MATLAB code's)
-----------------------------------------------------------
F_s = F_t = p(cluster | word) from PLSA with ``n_clusters`` topics on the
documents of both domains; G_s = G_0; G_t = the class probabilities of a
classifier (logistic regression) trained on the source; S uniform, times the
least-squares optimal scalar. Each
domain's matrix is scaled to sum 1 (a joint word-document distribution), as
in the MATLAB code.
"""
from __future__ import annotations

import hashlib

import numpy as np
import scipy.sparse as sp

from tltk_core import InputError, TransferMethod, check_param
from tltk_core.sparse_ops import frobenius_residual, ratio_at_nonzeros

from . import INFO

__all__ = ["MTrick", "mtrick_update", "mtrick_objective", "plsa_word_clusters"]

_TINY = 1e-300


# -- the mathematics (module level: used by the estimator, tests, benchmark) ------
def _mu(M, num, den):
    """``M * sqrt(num / den)``; entries whose denominator vanishes become 0."""
    out = np.zeros_like(num)
    np.divide(num, den, out=out, where=den > 0)
    np.sqrt(out, out=out)
    out *= M
    return out


def _simplex_step(M, num, den, quad):
    """The paper's step for a factor whose rows lie on the simplex, made monotone.

    The block objective is separable over rows, ``sum_rows m Q m^T - 2 n m^T``
    + const, with ``num`` the rows ``n`` (negative part of the half gradient),
    ``den = M Q`` (the positive part) and ``quad(D)`` the row-wise quadratic
    forms ``d Q d^T`` (Q is applied through thin factors, never formed when k
    is large). The candidate is the paper's update,
    ``rownorm(M * sqrt(num / den))``; every row then moves from its current
    value towards its candidate by the exact minimiser of its quadratic row
    objective on that segment, ``theta in [0, 1]``. The segment stays on the
    simplex and theta = 0 is allowed, so no row's objective -- hence the
    block's -- can increase. Vectorised over rows.
    """
    D = _mu(M, num, den)
    tot = D.sum(1, keepdims=True)
    empty = tot.ravel() <= 0
    D /= np.where(empty[:, None], 1.0, tot)
    if empty.any():
        D[empty] = 1.0 / M.shape[1]             # a row with no evidence: uniform
    D -= M                                       # direction: candidate - current
    slope = np.einsum("ij,ij->i", num, D) - np.einsum("ij,ij->i", den, D)
    curv = quad(D)
    safe = np.where(curv > 0, curv, 1.0)
    theta = np.clip(np.where(curv > 0, slope / safe, np.where(slope > 0, 1.0, 0.0)),
                    0.0, 1.0)
    D *= theta[:, None]
    D += M
    return D


def _half(C):
    """A thin ``L`` with ``L L^T = C`` for a small PSD matrix ``C``."""
    w, V = np.linalg.eigh((C + C.T) / 2)
    return V * np.sqrt(np.clip(w, 0.0, None))


def mtrick_update(Xs, Xt, Fs, Ft, S, Gs, Gt, G0, *, alpha, beta, gamma=0.0,
                  XsT=None, XtT=None):
    """One sweep of the updates (F_s, G_s, F_t, G_t, then S).

    ``Xs`` (n_s x m) and ``Xt`` (n_t x m) hold documents as rows (the
    transpose of the paper's X); they may be scipy.sparse or dense.
    ``XsT``/``XtT`` are their transposes (pass pre-computed CSR copies to
    save the conversion). ``alpha`` is the weight of ``||G_s - G_0||^2`` as
    it enters the objective (the estimator passes alpha / n_s). The rows of
    F and G must lie on the simplex and stay there (:func:`_simplex_step`);
    S takes the plain multiplicative step. Every product is ordered so that
    its cost is O(nnz k) or O(m k c): no k x k Gram of the m x k word factors
    is formed. Returns the new ``(Fs, Ft, S, Gs, Gt)``; the inputs are not
    modified.
    """
    XsT = Xs.T if XsT is None else XsT
    XtT = Xt.T if XtT is None else XtT

    def f_step(F, XG, G, other):
        # F: X G S^T + gamma F_other  vs  F [S (G^T G) S^T + gamma I]
        GtG = G.T @ G
        num = XG @ S.T
        den = (F @ S) @ (GtG @ S.T)
        if gamma:
            num += gamma * other
            den += gamma * F
        SL = S @ _half(GtG)                      # Q = SL SL^T (+ gamma I)

        def quad(D):
            DS = D @ SL                          # m x c
            q = np.einsum("ij,ij->i", DS, DS)
            return q + gamma * np.einsum("ij,ij->i", D, D) if gamma else q
        return _simplex_step(F, num, den, quad)

    def g_step(G, num, FS, reg):
        # G: num  vs  G [(F S)^T (F S) + reg I]
        Q = FS.T @ FS + reg * np.eye(FS.shape[1])
        return _simplex_step(G, num, G @ Q, lambda D: np.einsum("ij,ij->i", D @ Q, D))

    Fs = f_step(Fs, np.asarray(XsT @ Gs), Gs, Ft)          # sparse x thin (m x c)
    FSs = Fs @ S
    Gs = g_step(Gs, np.asarray(Xs @ Fs) @ S + alpha * G0, FSs, alpha)
    Ft = f_step(Ft, np.asarray(XtT @ Gt), Gt, Fs)
    FSt = Ft @ S
    Gt = g_step(Gt, np.asarray(Xt @ Ft) @ S, FSt, 0.0)
    # S, shared by both domains: the plain multiplicative step (monotone);
    # F^T F S G^T G computed as F^T ((F S) G^T G)
    num = Fs.T @ np.asarray(XsT @ Gs) + beta * (Ft.T @ np.asarray(XtT @ Gt))
    den = Fs.T @ (FSs @ (Gs.T @ Gs)) + beta * (Ft.T @ (FSt @ (Gt.T @ Gt)))
    S = _mu(S, num, den)
    return Fs, Ft, S, Gs, Gt


def _residual(X, G, FS, xx):
    """``||X - G (F S)^T||^2`` given ``xx = ||X||^2``: the trace identity of
    ``tltk_core.sparse_ops.frobenius_residual`` with the data norm cached."""
    cross = float(np.einsum("ij,ij->", np.asarray(X @ FS), G))
    gram = float(np.einsum("ij,ij->", G.T @ G, FS.T @ FS))
    return max(xx - 2.0 * cross + gram, 0.0)


def mtrick_objective(Xs, Xt, Fs, Ft, S, Gs, Gt, G0, *, alpha, beta, gamma=0.0,
                     norms=None):
    """The MTrick objective ``L`` (see the module docstring), never forming
    the dense words x documents product (``alpha`` as it enters ``L``).
    ``norms`` = (||Xs||^2, ||Xt||^2) if already known."""
    if norms is None:
        rs = frobenius_residual(Xs, Gs, Fs @ S)     # ||Xs - Gs S^T Fs^T||^2
        rt = frobenius_residual(Xt, Gt, Ft @ S)
    else:
        rs = _residual(Xs, Gs, Fs @ S, norms[0])
        rt = _residual(Xt, Gt, Ft @ S, norms[1])
    return float(rs + alpha * np.sum((Gs - G0) ** 2) + beta * rt
                 + gamma * np.sum((Ft - Fs) ** 2))


def plsa_word_clusters(X, n_clusters, n_iter, random_state):
    """Word clusters ``p(cluster | word)`` (m x k, rows sum 1) from PLSA.

    ``X`` is documents x words (sparse). EM for PLSA, written as the
    multiplicative form on the stored entries: with ``A = p(z|d)`` (rows sum 1)
    and ``B = p(w|z)`` (columns sum 1) and ``R = X / (A B^T)`` on X's pattern,
    ``A <- rownorm(A * (R B))`` and ``B <- colnorm(B * (R^T A))``. Then
    ``p(z|w) ~ p(w|z) p(z)`` with ``p(z) ~ sum_d n(d) p(z|d)``. Words that never
    occur get the uniform row.
    """
    X = sp.csr_matrix(X)
    n, m = X.shape
    rng = np.random.RandomState(random_state)
    A = rng.rand(n, n_clusters) + 0.1
    A /= A.sum(1, keepdims=True)
    B = rng.rand(m, n_clusters) + 0.1
    B /= B.sum(0, keepdims=True)
    for _ in range(n_iter):
        R = ratio_at_nonzeros(X, A, B)
        RB = np.asarray(R @ B)
        RtA = np.asarray(R.T @ A)
        A = A * RB
        A /= np.maximum(A.sum(1, keepdims=True), _TINY)
        B = B * RtA
        B /= np.maximum(B.sum(0, keepdims=True), _TINY)
    nd = np.asarray(X.sum(1)).ravel()
    pz = nd @ A
    F = B * pz
    s = F.sum(1, keepdims=True)
    return np.where(s > _TINY, F / np.where(s > _TINY, s, 1.0), 1.0 / n_clusters)


def _rownorm(M):
    """Rows scaled to sum 1; an all-zero row becomes uniform."""
    s = M.sum(1, keepdims=True)
    out = M / np.where(s > 0, s, 1.0)
    out[s.ravel() <= 0] = 1.0 / M.shape[1]
    return out


def _fingerprint(X):
    """A hash of a CSR matrix's content (to recognise the fitted target)."""
    X = X.tocsr().copy()
    X.sum_duplicates()
    X.sort_indices()
    h = hashlib.sha1()
    h.update(np.asarray(X.shape, dtype=np.int64).tobytes())
    for a in (X.indptr.astype(np.int64), X.indices.astype(np.int64),
              X.data.astype(np.float64)):
        h.update(a.tobytes())
    return h.hexdigest()


def _as_nonneg_csr(X, name):
    X = sp.csr_matrix(X, dtype=np.float64)
    if X.nnz and X.data.min() < 0:
        raise InputError(f"{name} must be non-negative (MTrick factorises word x document "
                         f"weights such as counts or tf-idf); found {X.data.min():g}")
    return X


# -- the estimator ----------------------------------------------------------------
class MTrick(TransferMethod):
    """MTrick: joint non-negative matrix tri-factorisation with the association
    between word clusters and document classes shared by source and target.

    Transductive: ``fit(Xs, ys, Xt)`` learns all factors; ``predict(Xt)`` on
    the fitted target returns the argmax of ``G_t``. ``predict`` on other
    documents folds them in: ``F_t`` and ``S`` stay fixed and the documents'
    ``G`` rows are found with the same multiplicative update (``max_iter``
    steps, starting from the initial classifier's probabilities).

    Input: non-negative word weights, documents as rows (counts, tf or
    tf-idf; the unit-length rows of the tltk protocols are fine). Each
    domain's matrix is scaled to sum 1 internally, as in the authors' code;
    negative entries raise an :class:`~tltk_core.InputError`.

    Parameters
    ----------
    alpha : float, default=1.0
        Weight of ``||G_s - G_0||^2 / n_s`` (source classes tied to the labels).
        1.0 as in the authors' MATLAB demo (``TestMTrick.m``).
    beta : float, default=1.5
        Weight of the target's factorisation (1.5 in ``TestMTrick.m``).
    gamma : float, default=0.0
        Weight of ``||F_t - F_s||^2`` (target word clusters pulled towards the
        source's). 0 gives the SDM 2010 objective.
    n_clusters : int, default=50
        Number of word clusters k (50 in ``TestMTrick.m``).
    max_iter : int, default=100
        Number of sweeps of the updates (100 in ``TestMTrick.m``); also the
        number of fold-in steps for new documents.
    init_iter : int, default=20
        EM iterations of the PLSA that initialises the word clusters (the
        MATLAB code allows up to 200 and stops when the likelihood gain drops
        below 1); 20 keeps the initialisation's cost below the factorisation's
        (chosen for cost, not by accuracy). 0 starts from random word clusters.
    tol : float, default=0.0
        Stop early when the objective's relative decrease in one sweep is
        below ``tol`` (0: always run ``max_iter`` sweeps).
    init_estimator : classifier or None, default=None
        The source classifier whose target probabilities initialise ``G_t``
        (``predict_proba``, else a softmax of ``decision_function``); None is
        ``LogisticRegression(max_iter=1000)``.
    random_state : int, default=0
        Seed of the PLSA initialisation.

    Attributes
    ----------
    Fs_, Ft_ : (n_features, k) word clusters of source and target
    S_ : (k, n_classes) shared association
    Gs_, Gt_ : source / target document classes, rows normalised to sum 1
    objective_ : list of float, the objective before the first sweep and after
        every sweep (non-increasing)
    n_iter_ : number of sweeps run
    """

    info = INFO
    _estimator_param = "init_estimator"  # it initialises; no protocol replaces it

    def __init__(self, alpha=1.0, beta=1.5, gamma=0.0, n_clusters=50, max_iter=100,
                 init_iter=20, tol=0.0, init_estimator=None, random_state=0):
        self.alpha = alpha
        self.beta = beta
        self.gamma = gamma
        self.n_clusters = n_clusters
        self.max_iter = max_iter
        self.init_iter = init_iter
        self.tol = tol
        self.init_estimator = init_estimator
        self.random_state = random_state

    def _check_params(self):
        check_param(self.alpha, "alpha", kind=float, low=0.0)
        check_param(self.beta, "beta", kind=float, low=0.0, low_inclusive=False)
        check_param(self.gamma, "gamma", kind=float, low=0.0)
        check_param(self.n_clusters, "n_clusters", kind=int, low=1)
        check_param(self.max_iter, "max_iter", kind=int, low=1)
        check_param(self.init_iter, "init_iter", kind=int, low=0)
        check_param(self.tol, "tol", kind=float, low=0.0)
        check_param(self.random_state, "random_state", kind=int, low=0)
        for name in ("alpha", "beta", "gamma", "tol"):
            if not np.isfinite(getattr(self, name)):
                raise InputError(f"{name} must be finite; got {getattr(self, name)!r}")

    # -- helpers ------------------------------------------------------------
    def _init_probabilities(self, X):
        est = self.init_estimator_
        if hasattr(est, "predict_proba"):
            P = np.asarray(est.predict_proba(X), dtype=np.float64)
        else:
            D = np.asarray(est.decision_function(X), dtype=np.float64)
            if D.ndim == 1:
                D = np.column_stack([-D, D])
            D = D - D.max(1, keepdims=True)
            P = np.exp(D)
            P /= P.sum(1, keepdims=True)
        # classes the classifier saw, in code order 0..c-1
        out = np.zeros((X.shape[0], len(self.classes_)))
        out[:, np.asarray(est.classes_, dtype=int)] = P
        return np.maximum(out, 1e-12)      # strictly positive start for the MU

    def _objective(self, Xs, Xt, Fs, Ft, S, Gs, Gt, G0, a):
        return mtrick_objective(Xs, Xt, Fs, Ft, S, Gs, Gt, G0, alpha=a, beta=self.beta,
                                gamma=self.gamma, norms=self._norms)

    # -- fit ------------------------------------------------------------------
    def _fit(self, Xs, ys, Xt, yt):
        Xs = _as_nonneg_csr(Xs, "Xs")
        Xt = _as_nonneg_csr(Xt, "Xt")
        for X, name in ((Xs, "Xs"), (Xt, "Xt")):
            if X.nnz == 0 or X.sum() <= 0:
                raise InputError(f"{name} has no positive entry: nothing to factorise")
        ys = np.asarray(ys, dtype=int)
        c = len(self.classes_)
        ns = Xs.shape[0]

        # the source classifier that initialises G_t (on the input as given)
        self.init_estimator_ = self._make_estimator().fit(Xs, ys)

        # each domain scaled to a joint word-document distribution (MATLAB code)
        self.source_scale_ = 1.0 / Xs.sum()
        self.target_scale_ = 1.0 / Xt.sum()
        # the whole vocabulary takes part, as in the paper: on the simplex every
        # word's row of F carries unit mass, also for words absent from the task
        Ps = (Xs * self.source_scale_).tocsr()
        Pt = (Xt * self.target_scale_).tocsr()
        self._norms = (float(Ps.multiply(Ps).sum()), float(Pt.multiply(Pt).sum()))
        PsT, PtT = Ps.T.tocsr(), Pt.T.tocsr()

        k = self.n_clusters
        if self.init_iter > 0:
            F0 = plsa_word_clusters(sp.vstack([Ps, Pt]).tocsr(), k, self.init_iter,
                                    self.random_state)
        else:
            F0 = _rownorm(np.random.RandomState(self.random_state).rand(Ps.shape[1], k))
        G0 = np.zeros((ns, c))
        G0[np.arange(ns), ys] = 1.0
        Fs, Ft = F0.copy(), F0.copy()
        Gs = G0.copy()
        Gt = _rownorm(self._init_probabilities(Xt))
        S = np.full((k, c), 1.0 / c)
        # S's scale: the least-squares optimal multiple of the uniform S (the data
        # sum to 1, so a uniform S of 1/c is far too large); a scalar rescaling
        # of S can only lower the objective, and spares the first sweeps.
        a = self.alpha / ns
        S = S * _best_scale(Ps, Pt, Fs, Ft, S, Gs, Gt, self.beta)
        Gs = _rownorm(np.maximum(Gs, 1e-9))   # strictly positive start (MU keeps zeros)

        obj = [self._objective(Ps, Pt, Fs, Ft, S, Gs, Gt, G0, a)]
        n_iter = 0
        for _ in range(self.max_iter):
            Fs, Ft, S, Gs, Gt = mtrick_update(Ps, Pt, Fs, Ft, S, Gs, Gt, G0, alpha=a,
                                              beta=self.beta, gamma=self.gamma,
                                              XsT=PsT, XtT=PtT)
            obj.append(self._objective(Ps, Pt, Fs, Ft, S, Gs, Gt, G0, a))
            n_iter += 1
            if self.tol > 0 and obj[-2] - obj[-1] <= self.tol * abs(obj[-2]):
                break
        self.Fs_, self.Ft_, self.S_ = Fs, Ft, S
        self.Gs_, self.Gt_ = _rownorm(Gs), _rownorm(Gt)   # rows are on the simplex
        self.objective_ = obj
        self.n_iter_ = n_iter
        self.target_fingerprint_ = _fingerprint(Xt)
        # fixed quantities of the fold-in (F_t and S fixed): A = S^T F_t^T F_t S
        self._fold_gram = (Ft @ S).T @ (Ft @ S)
        return self

    # -- predict ----------------------------------------------------------------
    def _fold_in(self, X):
        """G rows of new documents with F_t and S fixed (same update as G_t)."""
        X = _as_nonneg_csr(X, "X")
        if _fingerprint(X) == self.target_fingerprint_:
            return self.Gt_
        B = np.asarray((X * self.target_scale_) @ self.Ft_) @ self.S_     # n x c
        A = self._fold_gram
        G = _rownorm(self._init_probabilities(X))
        for _ in range(self.max_iter):
            G = _simplex_step(G, B, G @ A, lambda D: np.einsum("ij,ij->i", D @ A, D))
        return G

    def _predict_proba(self, X):
        return self._fold_in(X)

    def _predict(self, X):
        return self._fold_in(X).argmax(1)


def _best_scale(Ps, Pt, Fs, Ft, S, Gs, Gt, beta):
    """The scalar t >= 0 minimising the reconstruction terms for S -> t S."""
    def cross(X, F, G):
        return float(np.einsum("ij,ij->", np.asarray(X @ (F @ S)), G))

    def quad(F, G):             # tr(S^T F^T F S G^T G), without the k x k Gram
        FS = F @ S
        return float(np.einsum("ij,ij->", FS.T @ FS, G.T @ G))
    num = cross(Ps, Fs, Gs) + beta * cross(Pt, Ft, Gt)
    den = quad(Fs, Gs) + beta * quad(Ft, Gt)
    return num / den if den > 0 and num > 0 else 1.0
