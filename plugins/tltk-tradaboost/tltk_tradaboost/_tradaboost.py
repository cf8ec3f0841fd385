"""TrAdaBoost: boosting for transfer learning (Dai, Yang, Xue, Yu, ICML 2007).

Algorithm 2 of the paper ("TrAdaBoost"), with the notation used below:

- training set = the ``n`` labelled source samples ("diff-distribution" data,
  indices ``0..n-1``) followed by the ``m`` labelled target samples
  ("same-distribution" data, indices ``n..n+m-1``); unlabelled target samples
  are not used;
- ``beta = 1 / (1 + sqrt(2 ln n / N))`` with ``N`` = ``n_estimators``;
- round ``t``: normalise the weights ``p = w / sum(w)``, train the weak learner
  ``h_t`` with ``sample_weight = p`` (rescaled to mean 1, which leaves the
  learner's regularisation where it is when trained unweighted), compute its
  weighted error on the labelled *target* only
  ``eps_t = sum_{i>=n} p_i [h_t(x_i) != y_i] / sum_{i>=n} p_i``,
  ``beta_t = eps_t / (1 - eps_t)``; then a misclassified source sample's
  weight is multiplied by ``beta`` (< 1) and a misclassified target sample's
  weight by ``1 / beta_t`` (> 1);
- final hypothesis: rounds ``ceil(N/2)..N`` vote; the paper predicts 1 iff
  ``prod_t beta_t^{-h_t(x)} >= prod_t beta_t^{-1/2}``. Taking logarithms, this is
  ``sum_t a_t h_t(x) >= (1/2) sum_t a_t`` with ``a_t = ln(1/beta_t)``, i.e. a
  weighted vote in which class 1 wins ties. We implement it as the weighted
  plurality vote ``argmax_c sum_t a_t [h_t(x) = c]`` (ties to the highest class
  code), which is the paper's rule for two classes and extends it to more.

Departures where the paper leaves a case undefined (documented in the class):

- ``eps_t = 0`` (the learner gets every labelled target sample right, common
  with unpruned trees or a linear SVM on text): ``eps_t`` is floored at
  ``_EPS_FLOOR`` so that ``beta_t`` is positive and the round gets a large but
  finite vote; boosting goes on. The original toolkit stopped here and voted
  with an empty ensemble, predicting one class for every sample.
- ``eps_t >= 1/2`` (the paper assumes ``eps_t < 1/2``, which its error bound
  needs): boosting stops there, as AdaBoost does (Freund & Schapire, 1997),
  and the final vote uses rounds ``ceil(T/2)..T`` of the ``T`` rounds done
  before. Without this rule, the target weights can grow until every later
  learner is at chance on the target, the voting half of the rounds then has
  no vote, and the ensemble predicts a single class. In the first round
  (nothing to fall back on) ``eps_1`` is clamped to 1/2 instead (``beta_1 = 1``:
  target weights unchanged, zero vote) and boosting goes on; if no voting
  round has a positive vote, the voting rounds vote with equal weights so that
  the prediction is defined.
"""
from __future__ import annotations

import math

import numpy as np
from sklearn.utils import check_random_state
from sklearn.utils.validation import has_fit_parameter

from tltk_core import InputError, TransferMethod, check_param, stack_rows

from . import INFO

# Smallest target error used to compute beta_t: a round with no target error
# gets vote ln((1 - 1e-10) / 1e-10) ~ 23, i.e. it outvotes imperfect rounds
# (as AdaBoost would trust a perfect learner) while the vote stays finite and
# several perfect rounds share it equally.
_EPS_FLOOR = 1e-10


def source_beta(n_source, n_estimators):
    """The paper's source weight factor ``1 / (1 + sqrt(2 ln n / N))``."""
    return 1.0 / (1.0 + math.sqrt(2.0 * math.log(n_source) / n_estimators))


def _set_random_state(estimator, seed):
    """Give every ``random_state`` parameter of ``estimator`` (nested too) ``seed``."""
    keys = [k for k in estimator.get_params(deep=True)
            if k == "random_state" or k.endswith("__random_state")]
    if keys:
        estimator.set_params(**{k: seed for k in keys})


class TrAdaBoost(TransferMethod):
    """TrAdaBoost (Dai et al., ICML 2007): boosting across domains.

    Trains on the labelled source plus the labelled target samples (``yt``,
    -1/NaN where unknown). Each round re-weights the training samples: source
    samples the weak learner misclassifies are down-weighted by the fixed
    factor ``beta = 1/(1 + sqrt(2 ln n / N))`` (they look unlike the target),
    target samples it misclassifies are up-weighted as in AdaBoost. The
    learners of the second half of the rounds vote with weights
    ``ln(1/beta_t)``.

    Parameters
    ----------
    n_estimators : int, default 100
        Number of boosting rounds ``N`` (Dai et al. report their experiments
        with 100 iterations).
    estimator : classifier or None, default None
        Weak learner; its ``fit`` must accept ``sample_weight``. None means
        ``LogisticRegression(max_iter=1000)``: a linear classifier like the
        paper's SVM, chosen over ``LinearSVC`` for two reasons seen on the
        training data alone: liblinear's SVM needs ~45 s per round on the
        dense, z-scored Office-Caltech features (100 rounds: over an hour,
        against 0.2 s per round here), and on text it separates the source
        plus labelled target documents, so the target error is 0 from round
        2 on and the boosting degenerates into a fixed re-weighting. Pass
        ``estimator=LinearSVC()`` for the paper's learner.
    random_state : int, RandomState or None, default None
        When not None, each round's learner gets its own seed drawn from it
        (set on every ``random_state`` parameter of the learner). None leaves
        the learner's own ``random_state`` as given.

    Attributes
    ----------
    estimators_ : list of the fitted weak learners, one per round done.
    estimator_weights_ : ndarray (N,), each round's weight in the final vote
        (0 for the first ``ceil(N/2) - 1`` rounds, ``ln(1/beta_t)`` after).
    errors_ : ndarray (N,), weighted error of each round on the labelled
        target samples (before clipping).
    betas_ : ndarray (N,), ``beta_t`` of each round (after clipping the error
        into ``[1e-10, 1/2]``).
    beta_ : float, the source weight factor ``beta``.
    sample_weights_ : ndarray (n + m,), the normalised weights after the last
        round (source samples first, then the labelled target samples).
    n_source_ , n_target_labelled_ : int, sizes ``n`` and ``m``.
    n_rounds_ : int, rounds done (``n_estimators`` unless boosting stopped).

    Notes
    -----
    Departures from the paper, where it leaves a case undefined: a round with
    zero target error has its error floored at 1e-10 (large, finite vote;
    boosting continues); a round after the first with error >= 1/2 stops the
    boosting (as in AdaBoost) and the vote uses the second half of the rounds
    done (``n_rounds_``); a first round with error >= 1/2 has it clamped to 1/2
    (target weights unchanged, zero vote); if all voting rounds have zero
    vote they vote with equal weights. Several classes: the final vote is a
    weighted plurality vote, identical to the paper's rule for two classes
    (ties go to the higher class, as in the paper's ``>=``).
    """

    info = INFO

    def __init__(self, n_estimators=100, estimator=None, random_state=None):
        self.n_estimators = n_estimators
        self.estimator = estimator
        self.random_state = random_state

    def _default_estimator(self):
        from sklearn.linear_model import LogisticRegression

        return LogisticRegression(max_iter=1000)

    def _check_params(self):
        check_param(self.n_estimators, "n_estimators", kind=int, low=1)
        est = self._make_estimator()
        if not has_fit_parameter(est, "sample_weight"):
            raise InputError(f"estimator {type(est).__name__} does not accept sample_weight "
                             "in fit; TrAdaBoost needs a weak learner that does")
        try:
            check_random_state(self.random_state)
        except ValueError:
            raise InputError(f"random_state must be None, an integer or a "
                             f"numpy RandomState; got {self.random_state!r}") from None

    def _fit(self, Xs, ys, Xt, yt):
        known = np.flatnonzero(yt >= 0)
        Xl, yl = Xt[known], yt[known]
        X = stack_rows(Xs, Xl)
        y = np.concatenate([ys, yl])
        n, m = Xs.shape[0], Xl.shape[0]
        N = int(self.n_estimators)
        beta = source_beta(n, N)
        rng = check_random_state(self.random_state) if self.random_state is not None else None

        w = np.ones(n + m)
        estimators, errors, betas = [], np.empty(N), np.empty(N)
        for t in range(N):
            p = w / w.sum()
            est = self._make_estimator()
            if rng is not None:
                _set_random_state(est, int(rng.randint(np.iinfo(np.int32).max)))
            est.fit(X, y, sample_weight=p * (n + m))  # mean-1 weights
            miss = np.asarray(est.predict(X)) != y
            pt = p[n:]
            eps = float(pt[miss[n:]].sum() / pt.sum())
            if eps >= 0.5 and t > 0:
                break  # no better than chance on the target: stop, as AdaBoost does
            eps_c = min(max(eps, _EPS_FLOOR), 0.5)
            beta_t = eps_c / (1.0 - eps_c)
            w = p.copy()
            w[:n][miss[:n]] *= beta
            w[n:][miss[n:]] /= beta_t
            estimators.append(est)
            errors[t], betas[t] = eps, beta_t

        T = len(estimators)  # N, or fewer when a round was no better than chance
        errors, betas = errors[:T], betas[:T]
        start = math.ceil(T / 2) - 1  # rounds ceil(T/2)..T, 1-based
        weights = np.zeros(T)
        weights[start:] = np.log(1.0 / betas[start:])
        if not np.any(weights[start:] > 0):
            weights[start:] = 1.0  # every voting learner was no better than chance
        self.estimators_ = estimators
        self.estimator_weights_ = weights
        self.errors_ = errors
        self.betas_ = betas
        self.beta_ = beta
        self.sample_weights_ = w / w.sum()
        self.n_source_ = n
        self.n_target_labelled_ = m
        self.n_rounds_ = T
        return self

    def _votes(self, X):
        """Weighted votes, shape (n_samples, n_classes)."""
        votes = np.zeros((X.shape[0], len(self.classes_)))
        rows = np.arange(X.shape[0])
        for est, a in zip(self.estimators_, self.estimator_weights_):
            if a > 0:
                votes[rows, np.asarray(est.predict(X), dtype=np.intp)] += a
        return votes

    def _predict(self, X):
        votes = self._votes(X)
        # ties go to the highest class code: class 1 for two classes, as in the paper
        return votes.shape[1] - 1 - np.argmax(votes[:, ::-1], axis=1)

    def _predict_proba(self, X):
        votes = self._votes(X)
        return votes / votes.sum(axis=1, keepdims=True)
