"""Structural correspondence learning (SCL).

Blitzer, McDonald and Pereira, "Domain adaptation with structural
correspondence learning", EMNLP 2006; pivot selection by mutual information
with the source label: Blitzer, Dredze and Pereira, "Biographies, Bollywood,
boom-boxes and blenders", ACL 2007.

1. Pivots. A feature *occurs* in a row when its value is non-zero. Candidates
   occur in at least ``min_df`` rows of the source and in at least ``min_df``
   rows of the target; among them the ``n_pivots`` with the largest mutual
   information between occurrence and the source label are the pivots
   (SCL-MI, Blitzer et al. 2007; ties: lower feature index first). At most
   half of the features become pivots; with no candidate at all SCL adds
   nothing (a warning says so) and the method is the final classifier on x.
2. Pivot predictors. For every pivot l a linear predictor of "pivot l occurs"
   from the features -- binarised to occurrences when ``binary`` (the
   default: Blitzer et al. use binary unigram/bigram features, and theta is
   applied to the same binary inputs) -- trained on the pooled unlabelled
   rows of both domains. ``mask="pivot"`` (the papers' setting, default):
   predictor l sees every feature except pivot l itself, so the other pivots
   help predict it; ``mask="pivots"``: every predictor sees the non-pivot
   features only. With ``loss="squared"`` all m predictors are one ridge
   regression with an unpenalised intercept and m right-hand sides,

       w_l = argmin (1/n) ||Xc_(-l) w - yc_l||^2 + alpha ||w||^2,

   Xc the column-centred inputs (Xc_(-l) without column l when
   ``mask="pivot"``), yc_l the centred occurrences of pivot l. This replaces
   the papers' modified-Huber SGD by its closed-form least-squares relative:
   one factorisation serves every pivot. It is solved in whichever exact
   form is smaller: the primal (d x d matrix G = Xc^T Xc + n alpha I) or the
   dual (n x n M = Xc Xc^T + n alpha I). Removing column l from predictor
   l's inputs is a rank-one change of either matrix, applied in closed form
   (the reduced primal solution is w - G^{-1} e_l w_l / (G^{-1})_ll; in the
   dual, Sherman-Morrison on M - u u^T, u = Xc[:, l]), so the masked
   predictors cost one extra m-column solve, never m factorisations. The
   sparse input is never densified; centring is applied to the small
   matrices only. ``loss="modified_huber"`` minimises the papers' loss
   instead (all pivots jointly by L-BFGS; slower).
3. Projection. theta = the top ``n_components`` left singular vectors of the
   weight matrix W (of max(W, 0) when ``positive_weights``: only the
   positive entries of the predictors' weights, i.e. the features that
   signal a pivot's presence) (from the m x m Gram, never a d x d
   covariance). ``n_components`` is independent of the number of pivots and
   is capped at min(m, number of inputs) with a warning.
4. Representation. ``features="augment"`` (the papers' SCL): ``[x, s * theta
   b(x)]``; ``features="projected"``: ``s * theta b(x)`` alone (the ACL 2007
   paper also reports SCL without the original features). The projected
   block is real-valued while x is sparse, so it is rescaled before
   augmentation: s is set so that its mean row Euclidean norm on the
   training rows of both domains is ``scale`` times that of x (so the two
   blocks carry comparable weight for a regularised linear classifier).
   The papers fix this trade-off by hand; ``scale="cv"`` chooses it from
   ``scale_grid`` by stratified k-fold cross-validation of the final
   classifier on the labelled SOURCE rows only (never target labels); ties
   go to the smaller scale. The final classifier is trained on the source
   representation.
"""
from __future__ import annotations

import warnings

import numpy as np
import scipy.linalg
import scipy.sparse as sp

from tltk_core import InputError, TransferMethod, as_csr32, check_param, stack_rows
from tltk_core.sparse_ops import binarize, top_left_singular
from tltk_core.sparse_ops import document_frequency as _doc_freq
from tltk_core.sparse_ops import row_norms as _row_norms

from . import INFO


class SCL(TransferMethod):
    """Structural correspondence learning (Blitzer et al., EMNLP 2006 / ACL 2007).

    Parameters
    ----------
    n_pivots : int, default=1000
        Number of pivot features (Blitzer et al. 2007 use 1000 for sentiment).
        Capped at the number of candidates and at half the features.
    n_components : int, default=50
        Dimension h of the shared projection (50 in Blitzer et al. 2007);
        capped at min(number of pivots, number of non-pivot features).
    min_df : int, default=10
        A candidate pivot occurs in at least ``min_df`` rows of each domain;
        capped at the number of rows of the smaller domain.
    alpha : float, default=0.1
        Ridge penalty of the pivot predictors (per-sample loss scale).
    scale : float or "cv", default=1.0
        Weight of the projected block relative to x (see module docstring);
        "cv" chooses it from ``scale_grid`` by cross-validation on the source.
    scale_grid : tuple of float, default=(0.5, 1.0, 2.0, 4.0)
        Candidate relative weights for ``scale="cv"``.
    cv : int, default=3
        Folds of the source cross-validation for ``scale="cv"``.
    binary : bool, default=True
        Binarise the non-pivot features (occurrence) as input of the pivot
        predictors and of the projection, as in Blitzer et al. The original
        block x of the representation is left as given.
    loss : {"squared", "modified_huber"}, default="squared"
        Loss of the pivot predictors: closed-form ridge, or the papers'
        modified Huber (L-BFGS, slow).
    positive_weights : bool, default=True
        SVD of max(W, 0) instead of W (keep only the positive predictor
        weights).
    mask : {"pivot", "pivots"}, default="pivot"
        Inputs of pivot predictor l: every feature but pivot l ("pivot", the
        papers' setting) or the non-pivot features only ("pivots").
    features : {"augment", "projected"}, default="augment"
        Final representation ``[x, s theta b(x)]`` or ``s theta b(x)`` alone.
    max_iter : int, default=100
        L-BFGS iterations for ``loss="modified_huber"``.
    estimator : classifier or None, default=None
        Final classifier trained on the source representation; None gives
        ``LogisticRegression(max_iter=1000)``. Cloned, never modified.

    Attributes
    ----------
    pivots_ : ndarray of int
        Pivot feature indices, most informative first.
    mutual_info_ : ndarray (n_features,)
        Mutual information of each feature's occurrence with the source label.
    non_pivots_ : ndarray of int
        The other features.
    inputs_ : ndarray of int
        The features the pivot predictors and theta read: all features
        (``mask="pivot"``) or ``non_pivots_`` (``mask="pivots"``).
    pivot_weights_ : ndarray (len(inputs_), len(pivots_))
        The pivot predictors W (W[pivots_[l], l] = 0 when ``mask="pivot"``).
    projection_ : ndarray (n_components_, len(inputs_))
        theta; the shared features are ``b(X[:, inputs_]) @ projection_.T``.
    singular_values_ : ndarray
        Singular values of W for the kept components.
    relative_scale_ : float
        The relative weight used (``scale``, or the one chosen by CV).
    cv_scores_ : dict or None
        Mean source cross-validation accuracy per candidate (``scale="cv"``).
    scale_ : float
        The factor s applied to the projected block.
    solver_ : str
        "primal" or "dual" (the form of the ridge solved), "lbfgs" (modified
        Huber) or "none".
    estimator_ : classifier
        The final classifier, fitted on the source representation.
    """

    info = INFO
    _classifies_features = True  # predict_proba when the final classifier has it

    def __init__(self, n_pivots=1000, n_components=50, min_df=10, alpha=0.1, scale=1.0,
                 scale_grid=(0.5, 1.0, 2.0, 4.0), cv=3, binary=True, loss="squared",
                 positive_weights=True, mask="pivot", features="augment", max_iter=100,
                 estimator=None):
        self.n_pivots = n_pivots
        self.n_components = n_components
        self.min_df = min_df
        self.alpha = alpha
        self.scale = scale
        self.scale_grid = scale_grid
        self.cv = cv
        self.binary = binary
        self.loss = loss
        self.positive_weights = positive_weights
        self.mask = mask
        self.features = features
        self.max_iter = max_iter
        self.estimator = estimator

    def _check_params(self):
        check_param(self.n_pivots, "n_pivots", kind=int, low=1)
        check_param(self.n_components, "n_components", kind=int, low=1)
        check_param(self.min_df, "min_df", kind=int, low=1)
        check_param(self.alpha, "alpha", kind=float, low=0.0, low_inclusive=False)
        if not (isinstance(self.scale, str) and self.scale == "cv"):
            if isinstance(self.scale, str):
                raise InputError(f"scale must be a number >= 0 or 'cv'; got {self.scale!r}")
            check_param(self.scale, "scale", kind=float, low=0.0)
        try:
            grid = [float(g) for g in self.scale_grid]
        except (TypeError, ValueError):
            raise InputError("scale_grid must be a sequence of numbers >= 0; got "
                             f"{self.scale_grid!r}") from None
        if not grid or min(grid) < 0 or not np.all(np.isfinite(grid)):
            raise InputError("scale_grid must be a non-empty sequence of finite numbers "
                             f">= 0; got {self.scale_grid!r}")
        check_param(self.cv, "cv", kind=int, low=2)
        check_param(self.max_iter, "max_iter", kind=int, low=1)
        if self.loss not in ("modified_huber", "squared"):
            raise InputError(f"loss must be 'modified_huber' or 'squared', got {self.loss!r}")
        if self.mask not in ("pivot", "pivots"):
            raise InputError(f"mask must be 'pivot' or 'pivots', got {self.mask!r}")
        if self.features not in ("augment", "projected"):
            raise InputError(f"features must be 'augment' or 'projected', got {self.features!r}")
        if not isinstance(self.binary, (bool, np.bool_)):
            raise InputError(f"binary must be a bool, got {self.binary!r}")
        if not isinstance(self.positive_weights, (bool, np.bool_)):
            raise InputError(f"positive_weights must be a bool, got {self.positive_weights!r}")

    # -- fitting ------------------------------------------------------------
    def _fit(self, Xs, ys, Xt, yt):
        ns = Xs.shape[0]
        d = Xs.shape[1]
        min_df = min(self.min_df, ns, Xt.shape[0])
        pivots, mi = select_pivots(Xs, ys, Xt, min(self.n_pivots, d // 2), min_df)
        self.mutual_info_ = mi
        self.pivots_ = pivots
        mask = np.ones(d, dtype=bool)
        mask[pivots] = False
        self.non_pivots_ = np.flatnonzero(mask)
        self.inputs_ = np.arange(d) if self.mask == "pivot" else self.non_pivots_
        # predictor l drops input column own[l] (its own pivot) when mask="pivot"
        own = pivots if self.mask == "pivot" else None
        if pivots.size == 0:
            warnings.warn("SCL found no pivot candidate (a feature occurring in at least "
                          f"min_df={min_df} rows of each domain); the representation is x "
                          "alone", RuntimeWarning, stacklevel=3)
        X = stack_rows(Xs, Xt)
        m, dn = pivots.size, self.inputs_.size
        h = min(self.n_components, m, dn)
        if 0 < h < self.n_components:
            warnings.warn(f"n_components={self.n_components} exceeds min(pivots={m}, "
                          f"predictor inputs={dn}); using {h}", RuntimeWarning,
                          stacklevel=3)
        if h > 0:
            Xnp = self._inputs(X)
            Y = _occurs(X[:, pivots])
            if self.loss == "squared":
                W, self.solver_ = pivot_predictors(Xnp, Y, self.alpha, own=own)
            else:
                W, self.pivot_intercepts_ = huber_pivot_predictors(Xnp, Y, self.alpha,
                                                                   self.max_iter, own=own)
                self.solver_ = "lbfgs"
            Ws = np.maximum(W, 0.0) if self.positive_weights else W
            U, s = top_left_singular(Ws, h)
            idx = np.argmax(np.abs(U), axis=0)            # deterministic signs
            U *= np.where(U[idx, np.arange(h)] < 0, -1.0, 1.0)
            self.pivot_weights_ = W
            self.projection_ = np.ascontiguousarray(U.T)
            self.singular_values_ = s
            Z = np.asarray(Xnp @ U)
            zn = np.linalg.norm(Z, axis=1).mean()
            # x as given to the classifier; the projected-only representation
            # keeps the same absolute scale (its regularisation trade-off alone)
            xn = _row_norms(X).mean()
            unit = float(xn / zn) if zn > 0 else 0.0
            self.cv_scores_ = None
            if self.scale == "cv":
                self.relative_scale_, self.cv_scores_ = self._cv_scale(
                    Xs, ys, unit * np.asarray(self._inputs(Xs) @ U))
            else:
                self.relative_scale_ = float(self.scale)
            self.scale_ = self.relative_scale_ * unit
        else:
            self.solver_ = "none"
            self.pivot_weights_ = np.zeros((dn, m))
            self.projection_ = np.zeros((0, dn))
            self.singular_values_ = np.zeros(0)
            self.scale_ = 0.0
            self.relative_scale_ = 0.0
            self.cv_scores_ = None
        self.n_components_ = h
        self.estimator_ = self._make_estimator().fit(self._transform(Xs), ys)

    def _cv_scale(self, Xs, ys, Zs):
        """(best relative scale, {scale: mean accuracy}) by source-only CV.

        Zs is the projected source block at relative weight 1; each candidate
        s is scored by stratified ``cv``-fold cross-validation (no shuffling,
        deterministic) of the final classifier on ``[x, s * Zs]``.
        """
        from sklearn.model_selection import StratifiedKFold, cross_val_score

        n_splits = int(min(self.cv, np.bincount(ys).min()))
        grid = sorted({float(g) for g in self.scale_grid})
        if n_splits < 2:
            return grid[len(grid) // 2], None
        folds = StratifiedKFold(n_splits=n_splits)
        scores = {}
        for s in grid:
            if self.features == "projected":
                F = s * Zs
            elif sp.issparse(Xs):
                F = as_csr32(sp.hstack([Xs, sp.csr_matrix(s * Zs)], format="csr"))
            else:
                F = np.hstack([np.asarray(Xs), s * Zs])
            scores[s] = float(np.mean(cross_val_score(self._make_estimator(), F, ys,
                                                      cv=folds)))
        best = max(grid, key=lambda s: (scores[s], -s))
        return best, scores

    # -- using the representation -------------------------------------------
    def _inputs(self, X):
        """The pivot predictors' input: x[:, inputs_], binarised if ``binary``."""
        Xnp = X[:, self.inputs_]
        return binarize(Xnp) if self.binary else Xnp

    def _transform(self, X):
        """``[x, scale_ * b(x[:, inputs_]) @ projection_.T]`` (sparse if X is),
        or the projected block alone when ``features="projected"``.

        b binarises (occurrence) when ``binary``, else is the identity.
        """
        Z = np.asarray(self._inputs(X) @ self.projection_.T) * self.scale_
        if self.features == "projected" and self.n_components_ > 0:
            return Z
        if sp.issparse(X):
            return as_csr32(sp.hstack([X, sp.csr_matrix(Z)], format="csr"))
        return np.hstack([np.asarray(X), Z])

    def _predict(self, X):
        return self.estimator_.predict(self._transform(X))









def _occurs(X):
    """Dense 0/1 float matrix of non-zero entries."""
    if sp.issparse(X):
        B = sp.csr_matrix(X, copy=True)
        B.eliminate_zeros()
        B.data = np.ones_like(B.data)
        return B.toarray()
    return (np.asarray(X) != 0).astype(np.float64)




def occurrence_mutual_info(Xs, ys):
    """Mutual information (nats) between each feature's occurrence and the label.

    Vectorised over features: I(B; Y) = sum_{b,c} p(b,c) log(p(b,c) / (p(b) p(c))).
    """
    ys = np.asarray(ys)
    n = ys.shape[0]
    classes = np.unique(ys)
    if sp.issparse(Xs):
        B = sp.csr_matrix(Xs, copy=True)
        B.eliminate_zeros()
        B.data = np.ones_like(B.data)
    else:
        B = (np.asarray(Xs) != 0).astype(np.float64)
    Yind = np.stack([(ys == c).astype(np.float64) for c in classes], axis=1)  # n x C
    n1c = np.asarray(B.T @ Yind)                    # d x C: occurs & class c
    nc = Yind.sum(axis=0)                           # C
    n0c = nc[None, :] - n1c
    n1 = n1c.sum(axis=1, keepdims=True)
    n0 = n - n1
    mi = np.zeros(n1c.shape[0])
    for joint, marg in ((n1c, n1), (n0c, n0)):
        with np.errstate(divide="ignore", invalid="ignore"):
            term = joint / n * np.log(joint * n / (marg * nc[None, :]))
        mi += np.where(joint > 0, term, 0.0).sum(axis=1)
    return np.maximum(mi, 0.0)


def select_pivots(Xs, ys, Xt, n_pivots, min_df):
    """(pivots, mutual_info): the ``n_pivots`` candidates with the largest MI.

    Candidates occur in >= ``min_df`` rows of each domain.
    """
    mi = occurrence_mutual_info(Xs, ys)
    cand = np.flatnonzero((_doc_freq(Xs) >= min_df) & (_doc_freq(Xt) >= min_df))
    order = cand[np.argsort(-mi[cand], kind="stable")]
    return order[:max(n_pivots, 0)], mi


def pivot_predictors(Xnp, Y, alpha, own=None):
    """Ridge weights (d' x m) of all pivot occurrences Y (n x m) from Xnp (n x d').

    Minimises (1/n)||Xc W - Yc||^2 + alpha ||W||^2 with column-centred Xc, Yc
    (an unpenalised intercept); returns (W, "primal" or "dual").

    ``own`` (length m, column indices of Xnp): predictor l is fitted without
    input column own[l] (its own pivot), and W[own[l], l] = 0. Each removal is
    a rank-one change of the shared system, applied in closed form:

    - primal, G = Xc^T Xc + n alpha I, W0 = G^{-1} Xc^T Yc, g_l = G^{-1} e_k
      (k = own[l]): w_l = W0[:, l] - g_l W0[k, l] / g_l[k] (the solution of
      the system with row and column k removed, padded with a zero at k);
    - dual, M = Xc Xc^T + n alpha I, u = Xc[:, k]: by Sherman-Morrison on
      M - u u^T, c_l = a + b (u^T a) / (1 - u^T b) with a = M^{-1} yc_l,
      b = M^{-1} u, and w_l = Xc^T c_l with entry k set to 0.
    """
    n, dn = Xnp.shape
    mu = np.asarray(Xnp.mean(axis=0)).ravel()
    Yc = Y - Y.mean(axis=0)
    ridge = n * alpha
    own = None if own is None else np.asarray(own, dtype=np.intp)
    if dn <= n:
        G = Xnp.T @ Xnp
        G = G.toarray() if sp.issparse(G) else np.array(G)
        G -= n * np.outer(mu, mu)                     # Xc^T Xc
        G.flat[:: dn + 1] += ridge
        R = np.asarray(Xnp.T @ Yc)                    # = Xc^T Yc (Yc has zero mean)
        if own is None:
            W = scipy.linalg.solve(G, R, assume_a="pos", overwrite_a=True,
                                   overwrite_b=True, check_finite=False)
            return W, "primal"
        m = own.size
        E = np.zeros((dn, m))
        E[own, np.arange(m)] = 1.0
        cho = scipy.linalg.cho_factor(G, overwrite_a=True, check_finite=False)
        W = scipy.linalg.cho_solve(cho, R, check_finite=False)
        Gk = scipy.linalg.cho_solve(cho, E, check_finite=False)
        cols = np.arange(m)
        W -= Gk * (W[own, cols] / Gk[own, cols])[None, :]
        W[own, cols] = 0.0                             # exact zero, not round-off
        return W, "primal"
    K = Xnp @ Xnp.T
    K = K.toarray() if sp.issparse(K) else np.array(K)
    r = K.mean(axis=0)
    K -= r[None, :]
    K -= r[:, None]
    K += r.mean()                                     # H K H
    K.flat[:: n + 1] += ridge
    if own is None:
        C = scipy.linalg.solve(K, Yc, assume_a="pos", overwrite_a=True, check_finite=False)
    else:
        U = Xnp[:, own]
        U = U.toarray() if sp.issparse(U) else np.array(U, dtype=np.float64)
        U -= mu[own][None, :]                         # centred own columns
        cho = scipy.linalg.cho_factor(K, overwrite_a=True, check_finite=False)
        A = scipy.linalg.cho_solve(cho, Yc, check_finite=False)
        same = U.shape == Yc.shape and np.array_equal(U, Yc)   # binary: u = yc
        B = A if same else scipy.linalg.cho_solve(cho, U, check_finite=False)
        uA = np.sum(U * A, axis=0)
        uB = uA if same else np.sum(U * B, axis=0)
        C = A + B * (uA / (1.0 - uB))[None, :]
    # W = Xc^T C = Xnp^T C - mu (1^T C), and 1^T C = 0 because H K H 1 = 0
    # (and H u = u for the centred u of the rank-one updates)
    W = np.asarray(Xnp.T @ C) - np.outer(mu, C.sum(axis=0))
    if own is not None:
        W[own, np.arange(own.size)] = 0.0
    return W, "dual"


def modified_huber(z):
    """(loss, derivative) of the modified Huber loss at margins z = y f(x).

    L(z) = max(0, 1 - z)^2 for z >= -1 and -4 z for z < -1 (Zhang, 2004; the
    pivot-predictor loss of Ando & Zhang 2005 and Blitzer et al. 2006).
    """
    z = np.asarray(z, dtype=np.float64)
    hinge = np.maximum(1.0 - z, 0.0)
    lin = z < -1.0
    loss = np.where(lin, -4.0 * z, hinge * hinge)
    grad = np.where(lin, -4.0, -2.0 * hinge)
    return loss, grad


def huber_pivot_predictors(Xnp, Y, alpha, max_iter=200, own=None):
    """Modified-Huber linear predictors of all pivot occurrences at once.

    For every column j of the 0/1 matrix Y (n x m), with y = 2 Y[:, j] - 1,
    minimises (1/n) sum_i L(y_i (x_i w_j + b_j)) + alpha ||w_j||^2 (b_j
    unpenalised). The m problems are separable, so their sum is minimised
    jointly by L-BFGS (one sparse product X W per evaluation). ``own``
    (column index per pivot): weight W[own[l], l] is held at 0, i.e.
    predictor l does not see its own pivot. Returns (W d' x m, b m).
    """
    import scipy.optimize

    n, dn = Xnp.shape
    m = Y.shape[1]
    S = 2.0 * np.asarray(Y, dtype=np.float64) - 1.0
    Xt = Xnp.T.tocsr() if sp.issparse(Xnp) else np.asarray(Xnp).T
    keep = np.ones((dn, m))
    if own is not None:
        keep[np.asarray(own, dtype=np.intp), np.arange(m)] = 0.0

    def f(theta):
        W = theta[:dn * m].reshape(dn, m) * keep
        b = theta[dn * m:]
        F = np.asarray(Xnp @ W) + b
        loss, g = modified_huber(S * F)
        G = S * g / n                                  # dLoss/dF
        gW = (np.asarray(Xt @ G) + 2.0 * alpha * W) * keep
        val = loss.sum() / n + alpha * np.sum(W * W)
        return val, np.concatenate([gW.ravel(), G.sum(axis=0)])

    res = scipy.optimize.minimize(f, np.zeros(dn * m + m), jac=True, method="L-BFGS-B",
                                  options={"maxiter": max_iter, "gtol": 1e-8})
    return res.x[:dn * m].reshape(dn, m) * keep, res.x[dn * m:]
