"""Consensus regularisation over multiple source domains (CCR3).

Luo, Zhuang, Xiong, Xiong, He, "Transfer learning from multiple source domains
via consensus regularization", CIKM 2008; Zhuang, Luo, Xiong, Xiong, He, Shi,
"Cross-domain learning from multiple sources: a consensus regularization
perspective", IEEE TKDE 22(12), 2010.

The model
---------
Source domain ``l = 1..m`` gets its own linear classifier ``W_l`` (d x K'),
``P_l(y | x) = softmax(x W_l + b_l)``. For two classes K' = 1 and the logit of
class 0 is fixed at 0, so ``P_l(1 | x) = sigmoid(x w_l + b_l)``: the papers'
logistic regression (labels +-1, ``P = 1 / (1 + exp(-y w'x))``). For K > 2
classes K' = K (multinomial logistic regression, the natural extension).

The classifiers are learnt *jointly* by maximising the papers' objective

    sum_l [ sum_{(x, y) in D_l} log P_l(y | x)  -  lam/2 ||W_l||^2 ]
        + theta * sum_{x in D_t} C( pbar(x) ),      pbar(x) = 1/m sum_l P_l(. | x),

the per-source log-likelihoods with a Gaussian prior N(0, I/lam) on every
weight vector (the log-posterior of each local model), plus the consensus of
the m classifiers on every unlabelled target sample ``x``. The consensus
measure ``C`` of the averaged prediction is

- ``"squared"`` (default): ``C(p) = sum_c p_c^2``, the papers' relaxed
  measure, used by their algorithm; for two classes it equals
  ``1/2 + (2 p_1 - 1)^2 / 2``, so the original code's ``alpha (2p-1)^2`` is
  ``theta = 2 alpha``;
- ``"entropy"``: ``C(p) = sum_c p_c log p_c``, the negative entropy, the
  papers' first definition.

Both are largest when all classifiers predict the same class with certainty,
so the term pulls the classifiers to agree, confidently, on the target. With
one source (m = 1) it reduces to entropy minimisation on the target of a
single classifier, as the papers note.

Optimisation: the negative objective (divided by the number of source
samples, which does not move the optimum) and its analytic gradient go to
L-BFGS-B (a quasi-Newton method; the original code used Polak-Ribiere
conjugate gradient). Like the papers, the start is each source's own
regularised logistic regression, i.e. the optimum for ``theta = 0`` (a convex
problem, solved first); the consensus term then makes the problem non-convex.
Every step is a handful of sparse-dense products ``X @ W``: no loop over
samples, sparse input is never densified.

Prediction on the target is the papers': the average of the m classifiers'
probabilities, ``pbar(x)``.
"""
from __future__ import annotations

import numpy as np
import scipy.optimize
import scipy.sparse as sp
from scipy.special import log_softmax, softmax, xlogy

from tltk_core import InputError, TransferMethod, check_param

from . import INFO

_CONSENSUS = ("squared", "entropy")
_TINY = 1e-300


def _full_logits(Z, binary):
    """Logits of all K classes from the K' free ones (class 0 fixed at 0 when binary)."""
    if binary:
        return np.concatenate([np.zeros(Z.shape[:-1] + (1,)), Z], axis=-1)
    return Z


def _free(G, binary):
    """Gradient w.r.t. the free logits from the gradient w.r.t. all K logits."""
    return G[..., 1:] if binary else G


def unpack(w, n_sources, n_features, n_classes, fit_intercept):
    """Split the flat parameter vector into weights (m, d, K') and intercepts (m, K')."""
    kp = 1 if n_classes == 2 else n_classes
    n_w = n_sources * n_features * kp
    W = w[:n_w].reshape(n_sources, n_features, kp)
    b = (w[n_w:].reshape(n_sources, kp) if fit_intercept
         else np.zeros((n_sources, kp)))
    return W, b


def _target_probabilities(W, b, Xt, binary):
    """Per-source class probabilities on ``Xt``: array (n, m, K). One product X @ W."""
    m, d, kp = W.shape
    Z = np.asarray(Xt @ W.transpose(1, 0, 2).reshape(d, m * kp)).reshape(-1, m, kp) + b
    return softmax(_full_logits(Z, binary), axis=-1)


def consensus(pbar, kind):
    """Summed consensus measure of the averaged predictions ``pbar`` (n, K)."""
    if kind == "squared":
        return float(np.sum(pbar * pbar))
    return float(np.sum(xlogy(pbar, pbar)))


def ccr_objective(w, Xs, ys, Xt, n_classes, lam, theta, kind="squared",
                  fit_intercept=False):
    """Negative CCR objective and its gradient at the flat parameter vector ``w``.

    ``Xs``: list of m source matrices (dense or sparse), ``ys``: list of their
    label codes 0..K-1, ``Xt``: target matrix. Returns ``(F, grad)`` with

        F = sum_l [ -loglik_l(W_l) + lam/2 ||W_l||^2 ]  -  theta * sum_t C(pbar_t),

    the intercepts (when ``fit_intercept``) unpenalised. Vectorised: per source
    one product ``X_l @ W_l``, and one ``Xt @ [W_1 .. W_m]`` for the target.
    """
    m, d = len(Xs), Xt.shape[1]
    binary = n_classes == 2
    W, b = unpack(w, m, d, n_classes, fit_intercept)
    gW = lam * W
    gb = np.zeros_like(b)
    F = 0.5 * lam * float(np.sum(W * W))
    for l, (X, y) in enumerate(zip(Xs, ys)):
        logp = log_softmax(_full_logits(np.asarray(X @ W[l]) + b[l], binary), axis=1)
        rows = np.arange(y.shape[0])
        F -= float(logp[rows, y].sum())
        G = np.exp(logp)
        G[rows, y] -= 1.0                      # d(-log P_y)/d logits = P - onehot(y)
        G = _free(G, binary)
        gW[l] += np.asarray(X.T @ G)
        gb[l] += G.sum(axis=0)
    if theta > 0:
        P = _target_probabilities(W, b, Xt, binary)          # (n, m, K)
        pbar = P.mean(axis=1)
        if kind == "squared":
            g = 2.0 * pbar                                   # dC/dpbar
        else:
            g = np.log(np.maximum(pbar, _TINY)) + 1.0
        F -= theta * consensus(pbar, kind)
        # chain rule through pbar = mean_l P_l and the softmax Jacobian diag(p) - p p^T
        g = g[:, None, :]
        D = P * (g - np.sum(P * g, axis=-1, keepdims=True)) / m
        D = _free(D, binary)                                 # (n, m, K')
        n, kp = D.shape[0], D.shape[-1]
        gt = np.asarray(Xt.T @ D.reshape(n, m * kp)).reshape(d, m, kp).transpose(1, 0, 2)
        gW -= theta * gt
        gb -= theta * D.sum(axis=0)
    grad = np.concatenate([gW.ravel(), gb.ravel()]) if fit_intercept else gW.ravel()
    return F, grad


class CCR3(TransferMethod):
    """Consensus regularisation (CCR3): one logistic regression per source domain,
    learnt jointly so that their averaged prediction on the target is confident.

    Parameters
    ----------
    theta : float, default 0.25
        Weight of the consensus term, summed over target samples. The papers'
        trade-off: the original code swept alpha = 0, 0.05, ..., 0.25 on
        ``alpha (2p-1)^2``, i.e. ``theta = 2 alpha`` in 0..0.5. 0 gives
        independent logistic regressions. The default was chosen by
        leave-one-source-out validation on source domains (README).
    lam : float, default 0.1
        Precision of the Gaussian prior on each classifier's weights (L2
        penalty ``lam/2 ||w||^2`` per source, summed over samples like the
        log-likelihood), the same as ``LogisticRegression(C=1/lam)``. It
        assumes rows of about unit length (the original ``gamma=150`` on raw
        20-Newsgroups tf-idf rows is about 0.03 at unit length).
    consensus : {"squared", "entropy"}, default "squared"
        The consensus measure: the papers' relaxed ``sum_c pbar_c^2`` or the
        negative entropy of the averaged prediction.
    fit_intercept : bool, default False
        Add an unpenalised intercept to each classifier (the papers' model has
        none: ``P = 1 / (1 + exp(-y w'x))``).
    max_iter : int, default 500
        Maximum L-BFGS-B iterations, for the theta = 0 start and for the joint
        problem each.
    tol : float, default 1e-7
        L-BFGS-B stops when the largest gradient component (of the objective
        divided by the number of source samples) falls below ``tol``.

    Attributes
    ----------
    coef_ : ndarray (m, n_features, K')
        One weight matrix per source; K' = 1 for two classes.
    intercept_ : ndarray (m, K')
    n_sources_ : int
    objective_ : float
        The final negative objective (not divided).
    n_iter_ : int
        L-BFGS-B iterations of the joint problem.
    """

    info = INFO

    def __init__(self, theta=0.25, lam=0.1, consensus="squared", fit_intercept=False,
                 max_iter=500, tol=1e-7):
        self.theta = theta
        self.lam = lam
        self.consensus = consensus
        self.fit_intercept = fit_intercept
        self.max_iter = max_iter
        self.tol = tol

    def _check_params(self):
        check_param(self.theta, "theta", kind=float, low=0.0)
        check_param(self.lam, "lam", kind=float, low=0.0, low_inclusive=False)
        check_param(self.consensus, "consensus", choices=_CONSENSUS)
        check_param(self.fit_intercept, "fit_intercept", kind=bool)
        check_param(self.max_iter, "max_iter", kind=int, low=1)
        check_param(self.tol, "tol", kind=float, low=0.0, low_inclusive=False)
        for name in ("theta", "lam", "tol"):
            if not np.isfinite(getattr(self, name)):
                raise InputError(f"{name} must be finite; got {getattr(self, name)!r}")

    def _default_estimator(self):
        """The no-transfer baseline: the same L2 logistic regression without consensus."""
        from sklearn.linear_model import LogisticRegression

        return LogisticRegression(C=1.0 / self.lam, fit_intercept=self.fit_intercept,
                                  max_iter=1000)

    def _minimise(self, w0, args, theta):
        scale = float(sum(X.shape[0] for X in args[0]))

        def fun(w):
            F, g = ccr_objective(w, *args[:3], args[3], self.lam, theta, self.consensus,
                                 self.fit_intercept)
            return F / scale, g / scale

        res = scipy.optimize.minimize(fun, w0, jac=True, method="L-BFGS-B",
                                      options={"maxiter": self.max_iter, "gtol": self.tol,
                                               "ftol": 1e-12})
        if not res.success:
            from tltk_core.baselines import warn_not_converged

            warn_not_converged("CCR3's L-BFGS-B", f"{res.nit} iterations: {res.message}")
        return res.x, res.fun * scale, res.nit

    def _fit(self, Xs, ys, Xt, yt):
        k = len(self.classes_)
        kp = 1 if k == 2 else k
        m, d = len(Xs), self.n_features_in_
        Xs = [X if sp.issparse(X) else np.asarray(X) for X in Xs]
        ys = [np.asarray(y, dtype=np.intp) for y in ys]
        args = (Xs, ys, Xt, k)
        n_par = m * d * kp + (m * kp if self.fit_intercept else 0)
        w, _, _ = self._minimise(np.zeros(n_par), args, 0.0)     # independent LRs
        nit = 0
        if self.theta > 0:
            w, _, nit = self._minimise(w, args, float(self.theta))
        F, _ = ccr_objective(w, Xs, ys, Xt, k, self.lam, self.theta, self.consensus,
                             self.fit_intercept)
        W, b = unpack(w, m, d, k, self.fit_intercept)
        self.coef_, self.intercept_ = W.copy(), b.copy()
        self.n_sources_ = m
        self.objective_ = float(F)
        self.n_iter_ = int(nit)
        return self

    def source_proba(self, X):
        """Class probabilities of each source's classifier: array (n, m, K)."""
        X = self._check_X(X)
        return _target_probabilities(self.coef_, self.intercept_, X, len(self.classes_) == 2)

    def _predict_proba(self, X):
        P = _target_probabilities(self.coef_, self.intercept_, X, len(self.classes_) == 2)
        return P.mean(axis=1)

    def _decision_function(self, X):
        logp = np.log(np.maximum(self._predict_proba(X), _TINY))
        return logp[:, 1] - logp[:, 0] if logp.shape[1] == 2 else logp

    def _predict(self, X):
        return np.argmax(self._predict_proba(X), axis=1)
