"""Tests of the LWE plugin: conformance, the neighbourhood similarity and the
ensemble against hand computations, the original toolkit's defects (audit
section 2.2) as regression tests, errors, determinism and transfer on real
data (20 Newsgroups, three sources)."""
import itertools

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.exceptions import NotFittedError
from sklearn.linear_model import LogisticRegression, Perceptron
from sklearn.svm import SVC, LinearSVC
from sklearn.utils.validation import check_is_fitted

from tltk_core import InputError
from tltk_core.testing import check_light_import, data_file, make_domains, method_checks
from tltk_lwe import LWE, contingency, neighbourhood_similarity


# -- conformance -------------------------------------------------------------------
@pytest.mark.parametrize("check", method_checks(LWE), ids=lambda c: c.__name__)
def test_conformance(check):
    check()


@pytest.mark.parametrize("check", method_checks(LWE, {"delta": 0.0, "n_clusters": 4,
                                                      "svd_components": 3}),
                         ids=lambda c: c.__name__)
def test_conformance_other_settings(check):
    check()


def test_registered_and_import_is_light():
    from tltk_core import get_method

    assert get_method("lwe") is LWE
    check_light_import("tltk_lwe")


def test_info():
    info = LWE.info
    assert info.name == "lwe" and info.family == "parameter"
    assert info.settings == ("unsupervised", "multi-source") and info.sparse
    assert "Gao" in info.reference and "2008" in info.reference


# -- the neighbourhood similarity by hand ------------------------------------------------
def test_similarity_hand_computed():
    # predicted classes and clusters of six target samples
    pred = np.array([0, 0, 1, 1, 1, 0])
    clus = np.array([0, 0, 0, 1, 1, 1])
    C = contingency(pred, clus, 2, 2)
    np.testing.assert_array_equal(C, [[2, 1], [1, 2]])
    s = neighbourhood_similarity(pred, clus, C)
    # sample 0: class {0,1,5}, cluster {0,1,2}: common {0,1}, union {0,1,2,5} -> 2/4
    # sample 2: class {2,3,4}, cluster {0,1,2}: common {2}, union of 5 -> 1/5
    # sample 5: class {0,1,5}, cluster {3,4,5}: common {5}, union of 5 -> 1/5
    np.testing.assert_allclose(s, [2 / 4, 2 / 4, 1 / 5, 2 / 4, 2 / 4, 1 / 5])


def test_similarity_equals_set_definition():
    rng = np.random.RandomState(0)
    n, k, c = 40, 3, 4
    pred, clus = rng.randint(k, size=n), rng.randint(c, size=n)
    s = neighbourhood_similarity(pred, clus, contingency(pred, clus, k, c))
    for i in range(n):          # the graphs of the paper, one sample at a time
        vm = {j for j in range(n) if pred[j] == pred[i]}
        vt = {j for j in range(n) if clus[j] == clus[i]}
        assert s[i] == pytest.approx(len(vm & vt) / len(vm | vt))


class _ColumnModel(ClassifierMixin, BaseEstimator):
    """A 'classifier' whose P(y=1|x) is feature ``col`` of x (ignores training)."""

    def __init__(self, col=0):
        self.col = col

    def fit(self, X, y):
        self.classes_ = np.unique(y)
        return self

    def predict_proba(self, X):
        p = np.asarray(X[:, self.col]).ravel()
        return np.column_stack([1 - p, p])

    def predict(self, X):
        return self.classes_[self.predict_proba(X).argmax(1)]


def _tiny_target():
    # feature 0 places the samples in two clear clusters; features 1, 2 are the
    # two models' P(y=1|x)
    return np.array([[0.0, .9, .8], [0.1, .55, .0], [0.0, .7, .9],
                     [9.0, .2, .1], [9.1, .45, 1.], [9.0, .1, .2]])


def test_ensemble_hand_computed():
    Xt = _tiny_target()
    Xs = np.array([[0.0, 0.1, 0.1], [9.0, 0.9, 0.9]])
    m = LWE(models=[_ColumnModel(1), _ColumnModel(2)], delta=0.0,
            svd_components=None).fit(Xs, [0, 1], Xt)
    clus = m.target_clusters_
    assert len(set(clus[:3])) == 1 and len(set(clus[3:])) == 1 and clus[0] != clus[3]
    # model A predicts 1,1,1,0,0,0 = the clusters: s = 1 everywhere
    # model B predicts 1,0,1,0,1,0: class 1 = {0,2,4}, class 0 = {1,3,5}
    #   sample 0: cluster {0,1,2}, class {0,2,4}: 2/4;  sample 1: {0,1,2} vs {1,3,5}: 1/5
    sB = np.array([2 / 4, 1 / 5, 2 / 4, 2 / 4, 1 / 5, 2 / 4])
    np.testing.assert_allclose(m.target_similarity_, np.column_stack([np.ones(6), sB]))
    wA, wB = 1 / (1 + sB), sB / (1 + sB)
    p1 = wA * Xt[:, 1] + wB * Xt[:, 2]
    np.testing.assert_allclose(m.target_proba_, np.column_stack([1 - p1, p1]))
    np.testing.assert_allclose(m.predict_proba(Xt), m.target_proba_)


def test_adjustment_hand_computed():
    Xt = _tiny_target()
    Xs = np.array([[0.0, 0.1, 0.1], [9.0, 0.9, 0.9]])
    m = LWE(models=[_ColumnModel(1), _ColumnModel(2)], delta=0.7,
            svd_components=None).fit(Xs, [0, 1], Xt)
    sB = np.array([2 / 4, 1 / 5, 2 / 4, 2 / 4, 1 / 5, 2 / 4])
    savg = (1 + sB) / 2                     # 0.75 or 0.6
    conf = savg >= 0.7
    np.testing.assert_array_equal(m.target_confident_, conf)
    p1 = (Xt[:, 1] + sB * Xt[:, 2]) / (1 + sB)
    want = p1.copy()
    for grp in (slice(0, 3), slice(3, 6)):   # low samples take their cluster's mean
        idx = np.arange(6)[grp]
        want[idx[~conf[idx]]] = p1[idx[conf[idx]]].mean()
    np.testing.assert_allclose(m.target_proba_[:, 1], want)


# -- audit 2.2 regressions -----------------------------------------------------------
def _four_models():
    # the original toolkit's default learners: four models whose weighted hard
    # labels, never divided by the sum of weights, gave labels outside {0, 1}
    return [SVC(kernel="linear", C=0.025), SVC(gamma=2, C=1),
            LogisticRegression(random_state=0), Perceptron(tol=1e-3, random_state=0)]


@pytest.mark.parametrize("n_classes", [2, 3])
def test_predictions_are_labels_of_the_label_set(n_classes):
    Xs, ys, Xt, _ = make_domains(n_classes=n_classes, n_source=120, n_target=90)
    names = np.array(["alpha", "beta", "gamma"])[:n_classes]
    halves = [Xs[:60], Xs[60:]], [names[ys[:60]], names[ys[60:]]]
    for delta in (0.0, 0.5, 1.0):
        m = LWE(models=_four_models(), delta=delta).fit(*halves, Xt)
        pred = m.predict(Xt)
        assert set(pred) <= set(names)
        P = m.predict_proba(Xt)
        assert P.shape == (90, n_classes)
        np.testing.assert_allclose(P.sum(1), 1.0)
        assert np.all(P >= 0)


def _orthogonal_clusters(seed=0):
    """Binary task whose target clusters cut across the class boundary.

    The label is the sign of feature 0; the target forms two far-apart blobs
    along feature 1, each holding both classes equally, so every model's
    class neighbourhood overlaps its cluster neighbourhood by about a third.
    """
    rng = np.random.RandomState(seed)
    Xs = rng.randn(200, 2) * [2.0, 1.0]
    ys = (Xs[:, 0] > 0).astype(int)
    Xt = rng.randn(200, 2) * [2.0, 0.5]
    Xt[:100, 1] += 20.0
    yt = (Xt[:, 0] > 0).astype(int)
    return Xs, ys, Xt, yt


def test_fallback_triggers_in_a_binary_problem():
    # audit: the purity threshold 0.5 can never fail for two classes, so the
    # original's fallback branch never ran
    Xs, ys, Xt, yt = _orthogonal_clusters()
    m = LWE(models=[LogisticRegression(), LinearSVC()], delta=0.5).fit(Xs, ys, Xt)
    savg = m.target_similarity_.mean(1)
    assert savg.max() < 0.5 and np.all(~m.target_confident_)
    # no confident sample anywhere: uniform weights (model averaging)
    P = np.mean([mm.predict_proba(Xt) if hasattr(mm, "predict_proba") else
                 np.column_stack([1 / (1 + np.exp(mm.decision_function(Xt))),
                                  1 / (1 + np.exp(-mm.decision_function(Xt)))])
                 for mm in m.models_], axis=0)
    np.testing.assert_allclose(m.target_proba_, P)
    assert m.score(Xt, yt) > 0.9
    # delta = 0 switches the adjustment off
    m0 = LWE(models=[LogisticRegression(), LinearSVC()], delta=0.0).fit(Xs, ys, Xt)
    assert m0.target_confident_.all()


def test_fallback_propagates_cluster_labels():
    # a well clustered target where half of each cluster is mislabelled by a
    # model: its similarity drops and the cluster's confident samples decide
    Xt = _tiny_target()
    Xs = np.array([[0.0, 0.1, 0.1], [9.0, 0.9, 0.9]])
    m = LWE(models=[_ColumnModel(1), _ColumnModel(2)], delta=0.7,
            svd_components=None).fit(Xs, [0, 1], Xt)
    assert not m.target_confident_.all() and m.target_confident_.any()
    np.testing.assert_array_equal(m.predict(Xt), [1, 1, 1, 0, 0, 0])
    # without the adjustment the weighted models get samples 1 and 4 wrong
    m0 = LWE(models=[_ColumnModel(1), _ColumnModel(2)], delta=0.0,
             svd_components=None).fit(Xs, [0, 1], Xt)
    np.testing.assert_array_equal(m0.predict(Xt), [1, 0, 1, 0, 1, 0])


def test_user_models_are_not_fitted_in_place():
    models = _four_models()
    before = [repr(mm.get_params()) for mm in models]
    Xs, ys, Xt, _ = make_domains()
    m = LWE(models=models).fit([Xs[:40], Xs[40:]], [ys[:40], ys[40:]], Xt)
    for mm, b in zip(models, before):
        with pytest.raises(NotFittedError):
            check_is_fitted(mm)
        assert repr(mm.get_params()) == b
    assert len(m.models_) == 8 and all(a is not b for a in m.models_ for b in models)
    np.testing.assert_array_equal(m.model_sources_, [0] * 4 + [1] * 4)


def test_weights_are_vectorised_and_need_no_pairwise_graph():
    # audit: O(n^2) pure-Python weighting. The weights come from k x c tables,
    # so 20000 samples are cheap and agree with the set definition on a subset.
    rng = np.random.RandomState(1)
    n = 20000
    pred, clus = rng.randint(2, size=n), rng.randint(2, size=n)
    C = contingency(pred, clus, 2, 2)
    s = neighbourhood_similarity(pred, clus, C)
    for i in rng.choice(n, 5, replace=False):
        vm, vt = pred == pred[i], clus == clus[i]
        assert s[i] == pytest.approx((vm & vt).sum() / (vm | vt).sum())


# -- multi-source, prediction on new samples ----------------------------------------------
def test_models_times_sources():
    Xs, ys, Xt, _ = make_domains(n_source=150)
    parts = [slice(0, 50), slice(50, 100), slice(100, 150)]
    m = LWE().fit([Xs[p] for p in parts], [ys[p] for p in parts], Xt)
    assert len(m.models_) == 9 and m.target_similarity_.shape == (Xt.shape[0], 9)
    one = LWE().fit([Xs], [ys], Xt)             # one source: learners still differ
    assert len(one.models_) == 3


def test_predict_new_samples_uses_the_fitted_clusters():
    Xs, ys, Xt, _ = make_domains(n_target=120)
    Ss, St = sp.csr_matrix(Xs), sp.csr_matrix(Xt)
    m = LWE(svd_components=4).fit(Ss, ys, St[:100])
    # the fitted target is predicted as in the transductive fit
    np.testing.assert_allclose(m.predict_proba(St[:100]), m.target_proba_)
    # new documents: clustered by the fitted k-means; a copy of a fitted
    # document gets exactly that document's prediction
    new = sp.vstack([St[100:], St[:5]]).tocsr()
    P = m.predict_proba(new)
    np.testing.assert_allclose(P[-5:], m.target_proba_[:5])
    assert P.shape == (25, 2) and np.allclose(P.sum(1), 1.0)


# -- errors ----------------------------------------------------------------------------------
@pytest.mark.parametrize("params, name", [
    ({"delta": 1.5}, "delta"), ({"delta": -0.1}, "delta"), ({"delta": "0.5"}, "delta"),
    ({"n_clusters": 1}, "n_clusters"), ({"n_clusters": 2.5}, "n_clusters"),
    ({"svd_components": 0}, "svd_components"), ({"random_state": "seed"}, "random_state"),
    ({"models": []}, "models"), ({"models": "svm"}, "models"),
    ({"models": [LogisticRegression]}, "models[0]"),
    ({"models": [LogisticRegression(), object()]}, "models[1]"),
    ({"n_clusters": 500}, "n_clusters"),
])
def test_bad_hyperparameters(params, name):
    Xs, ys, Xt, _ = make_domains()
    with pytest.raises(InputError, match=name.replace("[", r"\[").replace("]", r"\]")):
        LWE(**params).fit(Xs, ys, Xt)


def test_bad_multi_source_input_names_the_source():
    Xs, ys, Xt, _ = make_domains()
    with pytest.raises(InputError, match=r"ys\[1\]"):
        LWE().fit([Xs[:40], Xs[40:]], [ys[:40], np.zeros(40)], Xt)
    with pytest.raises(InputError, match=r"Xs\[1\]"):
        LWE().fit([Xs[:40], Xs[40:, :-1]], [ys[:40], ys[40:]], Xt)


def test_deterministic_and_inputs_untouched():
    Xs, ys, Xt, _ = make_domains(n_features=30, n_source=100, n_target=80)
    Ss = [sp.csr_matrix(Xs[:50]), sp.csr_matrix(Xs[50:])]
    St = sp.csr_matrix(Xt)
    copies = [S.data.copy() for S in Ss] + [St.data.copy()]
    runs = [LWE(svd_components=5, random_state=3).fit(Ss, [ys[:50], ys[50:]], St)
            for _ in range(2)]
    np.testing.assert_array_equal(runs[0].target_proba_, runs[1].target_proba_)
    np.testing.assert_array_equal(runs[0].target_clusters_, runs[1].target_clusters_)
    for S, c in zip(Ss + [St], copies):
        np.testing.assert_array_equal(S.data, c)


# -- real data -------------------------------------------------------------------------------
def test_beats_pooled_source_only_on_20ng_three_sources():
    data_file("20ng-sci-talk", "space-religion.svm")          # skips without data
    from tltk_core import load_task

    task = load_task("20ng-sci-talk", "crypt-guns+electronics-mideast+med-misc:space-religion")
    Xs = [s.X for s in task.sources]
    ys = [s.y for s in task.sources]
    Xt, yt = task.target.X, task.target.y
    pooled = task.protocol.classifier_estimator().fit(sp.vstack(Xs).tocsr(),
                                                      np.concatenate(ys))
    base = np.mean(pooled.predict(Xt) == yt)
    m = LWE().fit(Xs, ys, Xt)
    acc = m.score(Xt, yt)
    assert acc > base + 0.02, (acc, base)
    assert m.target_confident_.any() and not m.target_confident_.all()
    assert set(np.unique(m.predict(Xt))) <= set(np.unique(yt))


def test_all_settings_enumerated_are_exercised():
    # every combination of the adjustment switch and cluster count runs on sparse input
    Xs, ys, Xt, _ = make_domains(n_features=12)
    for delta, c in itertools.product((0.0, 0.5, 1.0), (None, 3)):
        m = LWE(delta=delta, n_clusters=c, svd_components=4).fit(
            sp.csr_matrix(Xs), ys, sp.csr_matrix(Xt))
        assert m.kmeans_.n_clusters == (c or 2)
        assert m.predict(sp.csr_matrix(Xt)).shape == (Xt.shape[0],)
