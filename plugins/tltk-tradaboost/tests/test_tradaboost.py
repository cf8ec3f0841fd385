"""Tests of the TrAdaBoost plugin (Dai, Yang, Xue, Yu, ICML 2007).

The regression tests marked "audit" reproduce the defects that the original
toolkit's TrAdaBoost had (reference/original-toolkit-audit.md, section 2.1).
"""
import math
import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.base import BaseEstimator, ClassifierMixin, clone
from sklearn.datasets import load_svmlight_file
from sklearn.neighbors import KNeighborsClassifier
from sklearn.preprocessing import normalize
from sklearn.tree import DecisionTreeClassifier

from tltk_core import InputError
from tltk_core.testing import check_light_import, data_file, make_domains, method_checks
from tltk_tradaboost import TrAdaBoost
from tltk_tradaboost._tradaboost import _EPS_FLOOR, source_beta


# -- helpers ---------------------------------------------------------------

class ThresholdStub(ClassifierMixin, BaseEstimator):
    """Deterministic weak learner: class 1 iff x[:, 0] > 0 (or the reverse).

    Records every fit's sample weights and sizes in the class-level ``calls``.
    """

    calls = []

    def __init__(self, flip=False):
        self.flip = flip

    def fit(self, X, y, sample_weight=None):
        self.classes_ = np.unique(y)
        ThresholdStub.calls.append((X.shape[0], np.array(sample_weight, dtype=float)))
        return self

    def predict(self, X):
        X = X.toarray() if sp.issparse(X) else np.asarray(X)
        out = (X[:, 0] > 0).astype(int)
        return 1 - out if self.flip else out


class ConstantStub(ClassifierMixin, BaseEstimator):
    """Predicts class code ``c`` for every sample."""

    def __init__(self, c=0):
        self.c = c

    def fit(self, X, y, sample_weight=None):
        self.classes_ = np.unique(y)
        return self

    def predict(self, X):
        return np.full(X.shape[0], self.c)


def hand_case():
    """4 source + 4 labelled target (+ 2 unlabelled target) samples on one line.

    With the threshold stub (class 1 iff x0 > 0): source sample 2 (x0 = 1,
    label 0) and target sample 3 (x0 = -1, label 1) are misclassified.
    """
    x0 = np.array([1.0, -1.0, 1.0, -1.0])
    Xs = np.c_[x0, np.ones(4)]
    ys = np.array([1, 0, 0, 0])
    Xt = np.c_[np.r_[x0, 1.0, -1.0], np.ones(6)]
    yt = np.array([1, 0, 1, 1, -1, -1])
    return Xs, ys, Xt, yt


def partial(yt, fraction, seed):
    """Stratified labelled subset of the target: labels kept there, -1 elsewhere."""
    rng = np.random.RandomState(seed)
    mask = np.zeros(yt.shape[0], dtype=bool)
    for c in np.unique(yt):
        idx = np.flatnonzero(yt == c)
        mask[rng.choice(idx, size=max(1, int(round(fraction * idx.size))), replace=False)] = True
    return np.where(mask, yt, -1), mask


def load_reuters(task):
    src = data_file("reuters-dai2007", f"{task}-source.svm")
    tgt = data_file("reuters-dai2007", f"{task}-target.svm")
    d = max(load_svmlight_file(str(p))[0].shape[1] for p in (src, tgt))
    Xs, ys = load_svmlight_file(str(src), n_features=d)
    Xt, yt = load_svmlight_file(str(tgt), n_features=d)
    return normalize(Xs), ys.astype(int), normalize(Xt), yt.astype(int)


# -- conformance and plugin --------------------------------------------------

@pytest.mark.parametrize("check", method_checks(TrAdaBoost, {"n_estimators": 20}),
                         ids=lambda c: c.__name__)
def test_conformance(check):
    check()


def test_import_is_light_and_registered():
    check_light_import("tltk_tradaboost")
    from tltk_core import get_method

    assert get_method("tradaboost") is TrAdaBoost
    assert TrAdaBoost.info.settings == ("few-labels",) and TrAdaBoost.info.sparse


def test_default_learner_is_linear_and_is_the_baseline():
    from sklearn.linear_model import LogisticRegression

    m = TrAdaBoost()
    assert m.n_estimators == 100
    assert isinstance(m.baseline_estimator(), LogisticRegression)
    custom = TrAdaBoost(estimator=DecisionTreeClassifier(max_depth=2))
    assert isinstance(custom.baseline_estimator(), DecisionTreeClassifier)


# -- audit (3): the paper's beta ---------------------------------------------

def test_audit_source_beta_is_the_papers_formula():
    # beta = 1 / (1 + sqrt(2 ln n / N)); by hand for n = 1000, N = 100:
    # ln 1000 = 6.907755, 2 * 6.907755 / 100 = 0.1381551, sqrt = 0.3716922
    assert source_beta(1000, 100) == pytest.approx(1 / 1.3716922, abs=1e-6)
    assert source_beta(1000, 100) == pytest.approx(0.7290265, abs=1e-6)
    # not the original toolkit's 1 / (1 + sqrt(2 ln(n / N))) = 0.3224...
    assert abs(source_beta(1000, 100) - 1 / (1 + math.sqrt(2 * math.log(10)))) > 0.3
    # n < N: the original gave NaN (log of a number < 1); the paper's formula does not
    assert 0 < source_beta(10, 100) < 1
    Xs, ys, Xt, yt = hand_case()
    m = TrAdaBoost(n_estimators=7, estimator=ThresholdStub()).fit(Xs, ys, Xt, yt)
    assert m.beta_ == pytest.approx(1 / (1 + math.sqrt(2 * math.log(4) / 7)))


# -- audit (2): roles not swapped, hand-checked round 1 ------------------------

def test_audit_round_one_weights_by_hand():
    Xs, ys, Xt, yt = hand_case()
    ThresholdStub.calls.clear()
    m = TrAdaBoost(n_estimators=1, estimator=ThresholdStub()).fit(Xs, ys, Xt, yt)
    beta = 1 / (1 + math.sqrt(2 * math.log(4) / 1))  # n = 4 source samples, N = 1
    # round 1: uniform weights 1/8; target error = (1/8) / (4/8) = 1/4; beta_1 = 1/3
    assert m.errors_[0] == pytest.approx(0.25)
    assert m.betas_[0] == pytest.approx(1 / 3)
    # misclassified SOURCE sample 2 is multiplied by beta (< 1),
    # misclassified TARGET sample 3 by 1 / beta_1 = 3; the others are unchanged
    expected = np.array([1, 1, beta, 1, 1, 1, 1, 3]) / 8
    np.testing.assert_allclose(m.sample_weights_, expected / expected.sum())
    # the learner saw the 4 source + 4 labelled target samples (not the unlabelled
    # two), with weights rescaled to mean 1
    n_seen, w_seen = ThresholdStub.calls[0]
    assert n_seen == 8
    np.testing.assert_allclose(w_seen, np.ones(8))
    assert (m.n_source_, m.n_target_labelled_) == (4, 4)


def test_round_two_gets_normalised_weights_with_mean_one():
    Xs, ys, Xt, yt = hand_case()
    ThresholdStub.calls.clear()
    TrAdaBoost(n_estimators=2, estimator=ThresholdStub()).fit(Xs, ys, Xt, yt)
    beta = 1 / (1 + math.sqrt(2 * math.log(4) / 2))
    w = np.array([1, 1, beta, 1, 1, 1, 1, 3])
    np.testing.assert_allclose(ThresholdStub.calls[1][1], 8 * w / w.sum())


# -- final hypothesis ----------------------------------------------------------

def test_vote_equals_the_papers_product_rule():
    Xs, ys, Xt, yt = make_domains(n_source=120, n_target=80, shift=1.0, random_state=3)
    ytp, _ = partial(yt, 0.3, 0)
    N = 9
    m = TrAdaBoost(n_estimators=N, estimator=DecisionTreeClassifier(max_depth=1),
                   random_state=0).fit(Xs, ys, Xt, ytp)
    start = math.ceil(N / 2) - 1  # rounds ceil(N/2)..N, 1-based
    assert np.all(m.estimator_weights_[:start] == 0)
    voting = range(start, N)
    assert np.all(m.betas_[start:] < 1), "stumps should be better than chance here"
    H = np.array([m.estimators_[t].predict(Xt) for t in voting])  # (rounds, samples)
    b = m.betas_[start:, None]
    lhs = np.prod(b ** (-H), axis=0)
    rhs = np.prod(b ** -0.5)
    paper = (lhs >= rhs).astype(int)
    assert 0 < paper.mean() < 1
    np.testing.assert_array_equal(m.predict(Xt), paper)
    P = m.predict_proba(Xt)
    np.testing.assert_allclose(P.sum(axis=1), 1)
    np.testing.assert_array_equal(P.argmax(axis=1), paper)


def test_tie_goes_to_class_one_as_in_the_paper():
    # two voting learners with the same beta_t that disagree: the paper's
    # prod beta_t^{-h_t} = beta^{-1} >= prod beta_t^{-1/2} = beta^{-1}: class 1
    m = TrAdaBoost(n_estimators=2)
    m.classes_ = np.array(["a", "b"])
    m.n_features_in_ = 2
    m.estimators_ = [ConstantStub(0).fit(None, [0, 1]), ConstantStub(1).fit(None, [0, 1])]
    m.estimator_weights_ = np.array([1.5, 1.5])
    assert list(m.predict(np.zeros((3, 2)))) == ["b", "b", "b"]
    np.testing.assert_allclose(m.predict_proba(np.zeros((1, 2))), [[0.5, 0.5]])


# -- epsilon handling -----------------------------------------------------------

def test_perfect_learner_keeps_boosting_with_a_finite_vote():
    Xs, ys, Xt, yt = hand_case()
    yt = np.array([1, 0, 1, 0, -1, -1])  # the stub is right on every target label
    m = TrAdaBoost(n_estimators=4, estimator=ThresholdStub()).fit(Xs, ys, Xt, yt)
    assert len(m.estimators_) == 4
    np.testing.assert_array_equal(m.errors_, 0)
    assert np.all(np.isfinite(m.estimator_weights_))
    assert np.all(m.estimator_weights_[1:] == pytest.approx(math.log((1 - _EPS_FLOOR) / _EPS_FLOOR)))
    np.testing.assert_array_equal(m.predict(Xt), [1, 0, 1, 0, 1, 0])


def test_learner_worse_than_chance_stops_boosting():
    Xs, ys, Xt, yt = hand_case()
    yt = np.array([1, 0, 1, 0, -1, -1])
    m = TrAdaBoost(n_estimators=3, estimator=ThresholdStub(flip=True)).fit(Xs, ys, Xt, yt)
    # round 1 is wrong on every target label: clamped (beta_1 = 1), boosting goes
    # on; round 2 is no better than chance either, so boosting stops there
    assert m.n_rounds_ == 1 and len(m.estimators_) == 1
    np.testing.assert_array_equal(m.errors_, [1.0])
    np.testing.assert_array_equal(m.betas_, [1.0])
    # target weights unchanged (beta_1 = 1); the misclassified source samples
    # (0, 1, 3: the flipped stub gets only source sample 2 right) shrink once
    w = m.sample_weights_ / m.sample_weights_[4]
    np.testing.assert_allclose(w[4:], 1)
    assert w[2] == pytest.approx(1)
    beta = 1 / (1 + math.sqrt(2 * math.log(4) / 3))
    np.testing.assert_allclose(w[[0, 1, 3]], beta)
    # the only voting learner has no weight: it votes with weight 1 instead
    np.testing.assert_array_equal(m.estimator_weights_, [1])
    np.testing.assert_allclose(m.predict_proba(Xt).sum(axis=1), 1)
    np.testing.assert_array_equal(m.predict(Xt), [0, 1, 0, 1, 0, 1])


class DriftingStub(ClassifierMixin, BaseEstimator):
    """Right on every target label in rounds 1-4, wrong on all of them after."""

    rounds = []

    def fit(self, X, y, sample_weight=None):
        self.classes_ = np.unique(y)
        DriftingStub.rounds.append(1)
        self.good_ = len(DriftingStub.rounds) <= 4
        return self

    def predict(self, X):
        X = X.toarray() if sp.issparse(X) else np.asarray(X)
        out = (X[:, 0] > 0).astype(int)
        return out if self.good_ else 1 - out


def test_target_error_reaching_one_half_stops_and_votes_with_the_rounds_done():
    # the failure seen on Reuters: the target error climbs to 1/2 and, without the
    # stopping rule, the voting half of the rounds has no vote and one class wins
    Xs, ys, Xt, yt = hand_case()
    yt = np.array([1, 0, 1, 0, -1, -1])
    DriftingStub.rounds = []
    m = TrAdaBoost(n_estimators=10, estimator=DriftingStub()).fit(Xs, ys, Xt, yt)
    assert m.n_rounds_ == 4 and len(DriftingStub.rounds) == 5
    assert np.all(m.estimator_weights_[:1] == 0) and np.all(m.estimator_weights_[1:] > 0)
    np.testing.assert_array_equal(m.predict(Xt), [1, 0, 1, 0, 1, 0])


# -- audit (1): the unpruned tree no longer degenerates -------------------------

UNPRUNED = DecisionTreeClassifier(max_features="log2", splitter="random")


def test_audit_unpruned_tree_does_not_predict_one_class_synthetic():
    Xs, ys, Xt, yt = make_domains(n_source=200, n_target=200, n_features=20, shift=0.8,
                                  random_state=1)
    ytp, mask = partial(yt, 0.1, 0)
    m = TrAdaBoost(n_estimators=30, estimator=UNPRUNED, random_state=0).fit(Xs, ys, Xt, ytp)
    assert m.errors_[0] == 0  # the situation that broke the original
    pred = m.predict(Xt[~mask])
    assert set(pred) == {0, 1}
    majority = max(np.mean(yt[~mask] == c) for c in (0, 1))
    assert np.mean(pred == yt[~mask]) > majority + 0.1


def test_audit_unpruned_tree_does_not_predict_one_class_reuters():
    Xs, ys, Xt, yt = load_reuters("orgs_vs_people")
    ytp, mask = partial(yt, 0.05, 0)
    m = TrAdaBoost(n_estimators=20, estimator=UNPRUNED, random_state=0).fit(Xs, ys, Xt, ytp)
    pred = m.predict(Xt[~mask])
    assert set(pred) == {0, 1}
    majority = max(np.mean(yt[~mask] == c) for c in (0, 1))
    acc = np.mean(pred == yt[~mask])
    assert acc > majority + 0.1, (acc, majority)


# -- audit (4): labels -----------------------------------------------------------

@pytest.mark.parametrize("labels", [np.array([1, 2]), np.array(["orgs", "people"])],
                         ids=["1-2", "strings"])
def test_audit_labels_need_not_be_01(labels):
    Xs, ys, Xt, yt = make_domains(random_state=2)
    ytp, mask = partial(yt, 0.2, 0)
    unknown = None if labels.dtype.kind == "U" else np.nan
    yt_given = np.array([labels[c] if c >= 0 else unknown for c in ytp], dtype=object)
    m = TrAdaBoost(n_estimators=20, random_state=0).fit(Xs, labels[ys], Xt, yt_given)
    pred = m.predict(Xt)
    assert set(pred) <= set(labels)
    ref = TrAdaBoost(n_estimators=20, random_state=0).fit(Xs, ys, Xt, ytp)
    np.testing.assert_array_equal(pred, labels[ref.predict(Xt)])
    assert m.score(Xt[~mask], labels[yt[~mask]]) > 0.7


def test_multiclass_weighted_plurality():
    Xs, ys, Xt, yt = make_domains(n_classes=3, n_source=150, n_target=90, random_state=4)
    ytp, mask = partial(yt, 0.2, 0)
    m = TrAdaBoost(n_estimators=20, random_state=0).fit(Xs, ys, Xt, ytp)
    P = m.predict_proba(Xt)
    assert P.shape == (90, 3)
    np.testing.assert_allclose(P.sum(axis=1), 1)
    assert m.score(Xt[~mask], yt[~mask]) > 0.6


def test_sparse_and_dense_input_agree():
    Xs, ys, Xt, yt = make_domains(random_state=5)
    ytp, _ = partial(yt, 0.2, 0)
    est = DecisionTreeClassifier(max_depth=2)
    d = TrAdaBoost(n_estimators=10, estimator=est, random_state=0).fit(Xs, ys, Xt, ytp)
    s = TrAdaBoost(n_estimators=10, estimator=est, random_state=0).fit(
        sp.csr_matrix(Xs), ys, sp.csr_matrix(Xt), ytp)
    np.testing.assert_allclose(d.errors_, s.errors_)
    np.testing.assert_array_equal(d.predict(Xt), s.predict(sp.csr_matrix(Xt)))


def test_random_state_reaches_the_learners():
    Xs, ys, Xt, yt = make_domains(random_state=6)
    ytp, _ = partial(yt, 0.2, 0)
    m = TrAdaBoost(n_estimators=5, estimator=UNPRUNED, random_state=0).fit(Xs, ys, Xt, ytp)
    seeds = [e.random_state for e in m.estimators_]
    assert all(isinstance(s, int) for s in seeds) and len(set(seeds)) == 5
    untouched = TrAdaBoost(n_estimators=2, estimator=DecisionTreeClassifier(random_state=7))
    assert {e.random_state for e in untouched.fit(Xs, ys, Xt, ytp).estimators_} == {7}


# -- hyperparameters and errors ----------------------------------------------------

@pytest.mark.parametrize("params, name", [
    ({"n_estimators": 0}, "n_estimators"),
    ({"n_estimators": 2.5}, "n_estimators"),
    ({"estimator": KNeighborsClassifier()}, "estimator"),
    ({"estimator": "svm"}, "estimator"),
    ({"random_state": "seed"}, "random_state"),
])
def test_bad_hyperparameters_name_the_parameter(params, name):
    Xs, ys, Xt, yt = make_domains()
    ytp, _ = partial(yt, 0.2, 0)
    with pytest.raises(InputError, match=name):
        TrAdaBoost(**params).fit(Xs, ys, Xt, ytp)


def test_needs_some_target_labels():
    Xs, ys, Xt, _ = make_domains()
    with pytest.raises(InputError, match="yt"):
        TrAdaBoost().fit(Xs, ys, Xt)
    with pytest.raises(InputError, match="yt"):
        TrAdaBoost().fit(Xs, ys, Xt, np.full(Xt.shape[0], -1))


# -- transfer on real data ------------------------------------------------------------

@pytest.mark.parametrize("task", ["orgs_vs_people", "orgs_vs_places", "people_vs_places"])
def test_transfer_beats_both_baselines_on_reuters(task):
    """Dai et al.'s comparison: the same learner trained on the source alone and on the
    source plus the labelled target documents (5 % of the target, stratified),
    accuracy on the other target documents, mean over three seeds; defaults only.
    Documents are L2-normalised (as in the benchmark)."""
    Xs, ys, Xt, yt = load_reuters(task)
    accs = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for seed in range(3):
            ytp, mask = partial(yt, 0.05, seed)
            method = TrAdaBoost(random_state=seed)
            base = method.baseline_estimator()
            src = clone(base).fit(Xs, ys)
            both = clone(base).fit(sp.vstack([Xs, Xt[mask]]), np.r_[ys, yt[mask]])
            method.fit(Xs, ys, Xt, ytp)
            test = ~mask
            accs.append([np.mean(src.predict(Xt[test]) == yt[test]),
                         np.mean(both.predict(Xt[test]) == yt[test]),
                         method.score(Xt[test], yt[test])])
    src_acc, both_acc, tr_acc = np.mean(accs, axis=0)
    assert tr_acc > src_acc, accs
    assert tr_acc > both_acc, accs
