"""Unsupervised model-selection scorers, the domain-aware splitter and the
scikit-learn / skada interop (tltk_core.selection, tltk_core.skada_adapter)."""
import inspect
import math
import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV, StratifiedKFold
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import MaxAbsScaler

import tltk_core
from tltk_core import InputError
from tltk_core import selection as S
from tltk_core.info import MethodInfo
from tltk_core.method import TransferMethod
from tltk_core.skada_adapter import SkadaAdapter
from tltk_core.testing import make_domains


@pytest.fixture(scope="module")
def domains():
    return make_domains(n_classes=2, n_source=60, n_target=40, n_features=6, random_state=1)


def _tca():
    return tltk_core.load("tca", n_components=3)


class _Fixed(TransferMethod):
    """A tiny method with known outputs: predicts ``label``, probabilities ``proba``."""

    info = MethodInfo(name="fixed", family="baseline", sparse=True)

    def __init__(self, label=0, proba=(0.5, 0.5)):
        self.label = label
        self.proba = proba

    def _fit(self, Xs, ys, Xt, yt):
        pass

    def _predict(self, X):
        return np.full(X.shape[0], self.label)

    def _predict_proba(self, X):
        return np.tile(np.asarray(self.proba, dtype=float), (X.shape[0], 1))


class _SourceOnly(TransferMethod):
    """No transfer with a given classifier (the source-only plugin, minus the CV)."""

    info = MethodInfo(name="none", family="baseline", sparse=True)

    def __init__(self, estimator=None):
        self.estimator = estimator

    def _fit(self, Xs, ys, Xt, yt):
        self.est_ = self._make_estimator().fit(Xs, ys)

    def _predict(self, X):
        return self.est_.predict(X)

    def _transform(self, X):
        return X


class _WithProba(_SourceOnly):
    """No transfer with the classifier's own probabilities."""

    def _predict_proba(self, X):
        return self.est_.predict_proba(X)


# -- hand-checked values -------------------------------------------------------
def test_prediction_entropy_by_hand():
    H = S.prediction_entropy([[1.0, 0.0], [0.5, 0.5], [0.25, 0.75]])
    expected = [0.0, math.log(2), -(0.25 * math.log(0.25) + 0.75 * math.log(0.75))]
    np.testing.assert_allclose(H, expected, rtol=1e-12)


def test_entropy_scorer_by_hand(domains):
    Xs, ys, Xt, _ = domains
    m = _Fixed(proba=(0.2, 0.8)).fit(Xs, ys, Xt)
    expected = 0.2 * math.log(0.2) + 0.8 * math.log(0.8)  # minus the entropy
    assert S.SCORERS["entropy"](m, Xs, ys, Xt) == pytest.approx(expected, rel=1e-12)


def test_entropy_refuses_hard_probabilities(domains):
    """A 1-NN final classifier gives 0/1 probabilities: entropy 0 for every such
    method, a tie broken by candidate order. The scorer must refuse to rank it."""
    from sklearn.neighbors import KNeighborsClassifier

    Xs, ys, Xt, _ = domains

    def hard():
        return _WithProba(estimator=KNeighborsClassifier(n_neighbors=1))

    def soft():
        return _Fixed(proba=(0.2, 0.8))

    with pytest.raises(S.NotScorable, match="all 0 or 1"):
        S.SCORERS["entropy"](hard().fit(Xs, ys, Xt), Xs, ys, Xt)
    with pytest.raises(S.NotScorable):
        S.score_candidate(hard, Xs, ys, Xt, "entropy")
    out = S.score_candidates({"hard": hard, "soft": soft}, Xs, ys, Xt, ["entropy", "iwv"])
    assert math.isnan(out["hard"]["entropy"]) and np.isfinite(out["hard"]["iwv"])
    assert out["soft"]["entropy"] == pytest.approx(0.2 * math.log(0.2) + 0.8 * math.log(0.8))


def test_information_maximisation_by_hand():
    h9 = -(0.9 * math.log(0.9) + 0.1 * math.log(0.1))
    # confident and balanced: log 2 - H(0.9)
    assert S.information_maximisation([[0.9, 0.1], [0.1, 0.9]]) == pytest.approx(
        math.log(2) - h9, rel=1e-12)
    # the same confidence, every row in one class: nothing is learnt about the input
    assert S.information_maximisation([[0.9, 0.1], [0.9, 0.1]]) == pytest.approx(0.0, abs=1e-15)
    # uniform rows: 0 as well; one-hot balanced rows: the maximum, log(n_classes)
    assert S.information_maximisation([[0.5, 0.5]] * 3) == pytest.approx(0.0, abs=1e-15)
    assert S.information_maximisation(np.eye(3)) == pytest.approx(math.log(3), rel=1e-12)
    with pytest.raises(InputError, match="2-D"):
        S.information_maximisation([0.5, 0.5])


def test_im_ranks_a_collapsed_method_last_where_entropy_ties(domains):
    """A method that gives every target sample to one class, confidently (the
    original toolkit's TrAdaBoost), ties with a confident balanced one under
    ``entropy``; ``im`` ranks it below."""
    Xs, ys, Xt, _ = domains

    class _Balanced(_Fixed):
        def _predict_proba(self, X):
            P = np.tile([0.9, 0.1], (X.shape[0], 1))
            P[1::2] = [0.1, 0.9]
            return P

    cands = {"collapsed": lambda: _Fixed(proba=(0.9, 0.1)), "balanced": lambda: _Balanced()}
    out = S.score_candidates(cands, Xs, ys, Xt, ["entropy", "im"])
    assert out["collapsed"]["entropy"] == pytest.approx(out["balanced"]["entropy"])
    assert out["collapsed"]["im"] == pytest.approx(0.0, abs=1e-12)
    assert out["balanced"]["im"] > 0.3
    m = _Balanced().fit(Xs, ys, Xt)
    P = m.predict_proba(Xt)
    assert S.SCORERS["im"](m, Xs, ys, Xt) == pytest.approx(S.information_maximisation(P))


def test_im_refuses_hard_probabilities_and_methods_without_proba(domains):
    from sklearn.neighbors import KNeighborsClassifier

    Xs, ys, Xt, _ = domains

    hard = _WithProba(estimator=KNeighborsClassifier(n_neighbors=1)).fit(Xs, ys, Xt)
    with pytest.raises(S.NotScorable, match="scorer 'im'.*all 0 or 1"):
        S.SCORERS["im"](hard, Xs, ys, Xt)
    from sklearn.svm import LinearSVC

    assert not S.applicable("im", tltk_core.load("tca", estimator=LinearSVC()))
    assert S.applicable("im", tltk_core.get_method("mtrick"))


def test_temper_by_hand():
    P = np.array([[0.8, 0.2], [0.5, 0.5]])
    np.testing.assert_allclose(S.temper(P, 1.0), P, rtol=1e-12)
    np.testing.assert_allclose(S.temper(P, 0.0), 0.5, rtol=1e-12)
    np.testing.assert_allclose(S.temper(P, 2.0)[0], [0.64 / 0.68, 0.04 / 0.68], rtol=1e-12)
    # exact zeros stay finite (clipped at 1e-12) and sharpen towards one-hot
    assert np.all(np.isfinite(S.temper([[1.0, 0.0]], 3.0)))
    with pytest.raises(InputError, match="2-D"):
        S.temper([0.5, 0.5], 1.0)
    with pytest.raises(InputError, match="beta"):
        S.temper(P, -1.0)


def test_fit_temperature_by_hand():
    """Rows with confidence q on their predicted class, right on a fraction a:
    calibrated when the tempered confidence is a, beta = log(a/(1-a))/log(q/(1-q))."""
    P = np.tile([0.9, 0.1], (4, 1))
    y = np.array([0, 0, 0, 1])                          # a = 3/4
    assert S.fit_temperature(P, y) == pytest.approx(math.log(3) / math.log(9), abs=1e-5)
    # the weights count: the wrong row weighing 3 makes a = 1/2, so beta = 0 (uniform)
    assert S.fit_temperature(P, y, [1, 1, 1, 3]) == pytest.approx(0.0, abs=1e-5)
    # a = 0.9 = q: already calibrated
    P10, y10 = np.tile([0.9, 0.1], (10, 1)), np.array([0] * 9 + [1])
    assert S.fit_temperature(P10, y10) == pytest.approx(1.0, abs=1e-5)
    # always right: sharpen as far as allowed
    assert S.fit_temperature(P, np.zeros(4, int), max_beta=7.0) == pytest.approx(7.0, abs=1e-4)
    with pytest.raises(InputError, match="column index"):
        S.fit_temperature(P, np.array([0, 0, 0, 2]))
    with pytest.raises(InputError, match="weights"):
        S.fit_temperature(P, y, [1, 1, -1, 1])
    with pytest.raises(InputError, match="at least one row"):
        S.fit_temperature(np.empty((0, 2)), np.empty(0, int))
    with pytest.raises(InputError, match="max_beta"):
        S.fit_temperature(P, y, max_beta=0)


class _LogRegProba(_WithProba):
    """No transfer with a logistic regression whose probabilities are raised to
    ``power`` and renormalised: the same predictions, sharper confidence."""

    def __init__(self, power=1.0):
        self.power = power
        super().__init__(estimator=LogisticRegression(C=0.1))

    def _predict_proba(self, X):
        return S.temper(super()._predict_proba(X), self.power)


def test_cim_matches_its_definition_by_hand(domains):
    """cim = im of the full fit's target probabilities tempered by the beta fitted
    on the importance-weighted held-out folds of iwv, recomputed here step by step."""
    Xs, ys, Xt, _ = domains
    data = S._Data(Xs, ys, Xt, 0)
    w = data.input_weights(3)
    P, Y, W = [], [], []
    for tr, va in data.folds(3):
        m = _LogRegProba().fit(Xs[tr], ys[tr], Xt)
        P.append(m.predict_proba(Xs[va]))
        Y.append(ys[va])
        W.append(w[va])
    beta = S.fit_temperature(np.vstack(P), np.concatenate(Y), np.concatenate(W))
    full = _LogRegProba().fit(Xs, ys, Xt)
    expected = S.information_maximisation(S.temper(full.predict_proba(Xt), beta))
    assert S.SCORERS["cim"](full, Xs, ys, Xt) == pytest.approx(expected, rel=1e-9)
    assert S.score_candidate(_LogRegProba, Xs, ys, Xt, "cim") == pytest.approx(expected, rel=1e-9)
    assert 0 < beta < S.MAX_BETA


def test_cim_does_not_reward_a_sharpened_confidence(domains):
    """The same classifier with its probabilities raised to the 4th power: im
    prefers the over-confident copy, cim sees one method (the calibration undoes
    the power) and scores both alike."""
    Xs, ys, Xt, _ = domains
    cands = {"plain": lambda: _LogRegProba(1.0), "sharp": lambda: _LogRegProba(4.0)}
    out = S.score_candidates(cands, Xs, ys, Xt, ["im", "cim"])
    assert out["sharp"]["im"] > out["plain"]["im"] + 0.05
    assert out["sharp"]["cim"] == pytest.approx(out["plain"]["cim"], abs=1e-4)


def test_cim_refuses_hard_probabilities(domains):
    from sklearn.neighbors import KNeighborsClassifier

    Xs, ys, Xt, _ = domains

    hard = _WithProba(estimator=KNeighborsClassifier(n_neighbors=1)).fit(Xs, ys, Xt)
    with pytest.raises(S.NotScorable, match="scorer 'cim'.*all 0 or 1"):
        S.SCORERS["cim"](hard, Xs, ys, Xt)
    assert "y" not in inspect.signature(S.CalibratedIM.__call__).parameters
    with pytest.raises(InputError, match="n_splits"):
        S.CalibratedIM(n_splits=1)


def test_snd_three_points_by_hand():
    Z = np.array([[2.0, 0.0], [1.0, 0.0], [0.0, 3.0]])  # rows 0 and 1 point the same way
    T = 0.5
    # row 0: cosine 1 with row 1, 0 with row 2 -> softmax(1/T, 0/T); row 1 the same;
    # row 2: cosine 0 with both -> uniform over two
    p = math.exp(1 / T) / (math.exp(1 / T) + 1)
    h01 = -(p * math.log(p) + (1 - p) * math.log(1 - p))
    expected = (2 * h01 + math.log(2)) / 3
    assert S.soft_neighborhood_density(Z, T) == pytest.approx(expected, rel=1e-12)
    assert S.soft_neighborhood_density(sp.csr_matrix(Z), T) == pytest.approx(expected, rel=1e-12)


def test_snd_scorer_uses_probabilities(domains):
    Xs, ys, Xt, _ = domains
    m = _Fixed(proba=(0.3, 0.7)).fit(Xs, ys, Xt)
    # identical probability rows: every neighbour equally similar -> log(n - 1)
    assert S.SCORERS["snd"](m, Xs, ys, Xt) == pytest.approx(math.log(Xt.shape[0] - 1))


def test_importance_weighted_error_and_dev_risk_by_hand():
    assert S.importance_weighted_error([1, 0, 1], [2.0, 1.0, 0.5]) == pytest.approx(2.5 / 3)
    loss = np.array([1.0, 0.0, 1.0, 0.0])
    w = np.array([2.0, 1.0, 0.5, 0.5])
    L = w * loss  # [2, 0, .5, 0]
    mL, mw = L.mean(), w.mean()
    cov = ((L - mL) * (w - mw)).sum() / 3
    var = ((w - mw) ** 2).sum() / 3
    eta = -cov / var
    assert S.dev_risk(loss, w) == pytest.approx(mL + eta * mw - eta)
    # constant weights: no correction, the plain mean loss
    assert S.dev_risk(loss, np.ones(4)) == pytest.approx(0.5)


def test_density_ratio_recovers_a_gaussian_shift():
    rng = np.random.RandomState(0)
    xs = rng.normal(0.0, 1.0, size=(3000, 1))
    xt = rng.normal(1.0, 1.0, size=(3000, 1))
    grid = np.linspace(-1, 2, 7)[:, None]
    w = S.density_ratio(xs, xt, grid, random_state=0)
    true = np.exp(grid.ravel() - 0.5)  # N(1,1) / N(0,1)
    np.testing.assert_allclose(np.log(w), np.log(true), atol=0.15)
    # sparse input gives the same
    ws = S.density_ratio(sp.csr_matrix(xs), sp.csr_matrix(xt), sp.csr_matrix(grid),
                         random_state=0)
    np.testing.assert_allclose(np.log(ws), np.log(true), atol=0.25)


def test_two_sample_error_separable_alike_and_imbalanced():
    rng = np.random.RandomState(0)
    a = rng.normal(0.0, 1.0, size=(200, 3))
    # far apart: the classifier separates every row -> error 0
    assert S.two_sample_error(a, a + 20.0) == 0.0
    # one sample split in two: nothing to tell apart -> about 0.5 (never above)
    e = S.two_sample_error(a[:100], a[100:])
    assert 0.35 < e <= 0.5
    # 1 − 2e is half the proxy A-distance: a shift of one standard deviation
    # along one axis (Bayes error Φ(−0.5) ≈ 0.31) lies in between
    b = rng.normal(0.0, 1.0, size=(2000, 3))
    c = rng.normal(0.0, 1.0, size=(2000, 3)) + np.array([1.0, 0.0, 0.0])
    assert S.two_sample_error(b, c) == pytest.approx(0.3085, abs=0.03)
    # balanced: 50 rows against 2000 is judged as 50 against 50 would be
    assert S.two_sample_error(b[:50], c) == pytest.approx(0.3085, abs=0.08)
    # sparse rows give the same answer for the separable case
    assert S.two_sample_error(sp.csr_matrix(a), sp.csr_matrix(a + 20.0)) == 0.0
    with pytest.raises(InputError, match="at least 2 rows"):
        S.two_sample_error(a[:1], a)


def test_iwv_with_known_weights(domains, monkeypatch):
    Xs, ys, Xt, _ = domains
    factory = lambda: _SourceOnly(estimator=LogisticRegression())  # noqa: E731
    # fold errors by hand, with the folds the scorer documents (stratified, shuffled)
    folds = StratifiedKFold(3, shuffle=True, random_state=0).split(Xs, ys.astype(str))
    errs = [np.mean(LogisticRegression().fit(Xs[tr], ys[tr]).predict(Xs[va]) != ys[va])
            for tr, va in folds]
    for c in (1.0, 2.5):
        monkeypatch.setattr(S, "density_ratio", lambda zs, zt, ze, **k: np.full(ze.shape[0], c))
        got = S.score_candidate(factory, Xs, ys, Xt, "iwv")
        assert got == pytest.approx(-c * np.mean(errs))


def test_reverse_with_a_constant_method_is_the_class_share(domains):
    Xs, _, Xt, _ = domains
    ys = np.array(["a", "a", "b"] * 20)
    # the forward model labels every target row "a"; the reverse model can only say "a"
    got = S.score_candidate(lambda: _Fixed(label=0), Xs, ys, Xt, "reverse")
    assert got == pytest.approx(2 / 3)


def test_dev_with_constant_weights_is_the_cv_error(domains, monkeypatch):
    Xs, ys, Xt, _ = domains
    monkeypatch.setattr(S, "density_ratio", lambda zs, zt, ze, **k: np.ones(ze.shape[0]))
    monkeypatch.setattr(S, "choose_domain_C", lambda *a, **k: 1.0)
    factory = lambda: _SourceOnly(estimator=LogisticRegression())  # noqa: E731
    folds = StratifiedKFold(3, shuffle=True, random_state=0).split(Xs, ys.astype(str))
    wrong = np.concatenate([LogisticRegression().fit(Xs[tr], ys[tr]).predict(Xs[va]) != ys[va]
                            for tr, va in folds])
    assert S.score_candidate(factory, Xs, ys, Xt, "dev") == pytest.approx(-wrong.mean())


# -- real methods, sparse input, determinism -----------------------------------
def test_all_scorers_on_real_methods_dense_and_sparse(domains):
    Xs, ys, Xt, _ = domains
    labels = np.array(["sci", "talk"])[ys]  # string labels
    cands = {"tca": _tca, "none": lambda: _SourceOnly(),
             "mtrick": lambda: tltk_core.load("mtrick", n_clusters=4, max_iter=10, init_iter=5)}
    for X1, X2 in ((Xs, Xt), (sp.csr_matrix(Xs), sp.csr_matrix(Xt))):
        if sp.issparse(X1):  # sparse: the two cheap candidates suffice
            cands = {k: v for k, v in cands.items() if k != "mtrick"}
        out = S.score_candidates(cands, X1, labels, X2, random_state=3)
        assert set(out) == set(cands)
        for name, row in out.items():
            assert set(row) == set(S.SCORERS)
            for s, v in row.items():
                if s in ("entropy", "im", "cim") and name != "mtrick":
                    assert math.isnan(v)  # tca and source-only have no predict_proba
                else:
                    assert np.isfinite(v), (name, s)
        assert 0.0 <= out["tca"]["reverse"] <= 1.0
        if "mtrick" in out:
            assert out["mtrick"]["entropy"] <= 0.0
            assert 0.0 <= out["mtrick"]["im"] <= math.log(2)


def test_deterministic_under_random_state(domains):
    Xs, ys, Xt, _ = domains
    cands = {"tca": _tca, "jda": lambda: tltk_core.load("jda", n_components=3, max_iter=2)}
    a = S.score_candidates(cands, Xs, ys, Xt, ["iwv", "dev", "snd"], random_state=7)
    b = S.score_candidates(cands, Xs, ys, Xt, ["iwv", "dev", "snd"], random_state=7)
    assert a == b


def test_scorer_call_on_a_fitted_method_matches_score_candidate(domains):
    Xs, ys, Xt, _ = domains
    m = _tca().fit(Xs, ys, Xt)
    for name in ("snd", "iwv"):
        assert S.get_scorer(name)(m, Xs, ys, Xt, random_state=0) == pytest.approx(
            S.score_candidate(_tca, Xs, ys, Xt, name, random_state=0))


def test_inputs_not_modified(domains):
    Xs, ys, Xt, _ = domains
    copies = [Xs.copy(), ys.copy(), Xt.copy()]
    S.score_candidates({"tca": _tca}, Xs, ys, Xt)
    for a, b in zip((Xs, ys, Xt), copies):
        np.testing.assert_array_equal(a, b)


# -- the API cannot take target labels -----------------------------------------
def test_no_function_accepts_target_labels(domains):
    Xs, ys, Xt, yt = domains
    funcs = [S.score_candidate, S.score_candidates] + [type(s).__call__ for s in
                                                       S.SCORERS.values()]
    for f in funcs:
        names = set(inspect.signature(f).parameters)
        assert not names & {"yt", "y_target", "target_labels", "y"}, (f, names)
        assert not any(p.kind == p.VAR_KEYWORD
                       for p in inspect.signature(f).parameters.values()), f
    with pytest.raises(TypeError):
        S.score_candidate(_tca, Xs, ys, Xt, "snd", yt=yt)


# -- applicability and errors --------------------------------------------------
def test_applicable():
    tca = tltk_core.get_method("tca")
    mtrick = tltk_core.get_method("mtrick")
    trada = tltk_core.get_method("tradaboost")  # needs labelled target samples
    from sklearn.svm import LinearSVC

    # a feature method class "may" have probabilities (its final classifier
    # decides); an instance says exactly
    assert S.applicable("entropy", tca)
    assert not S.applicable("entropy", tltk_core.load("tca", estimator=LinearSVC()))
    assert S.applicable("entropy", tltk_core.load("tca", estimator=LogisticRegression()))
    assert not S.applicable("entropy", _SourceOnly)
    assert S.applicable("entropy", mtrick)
    assert S.applicable("snd", tca)  # through transform
    assert all(S.applicable(s, tca) for s in ("iwv", "dev", "reverse"))
    assert not any(S.applicable(s, trada) for s in S.SCORERS)
    assert S.applicable(S.SCORERS["snd"], tltk_core.load("tca"))  # an instance works too
    assert S.DEFAULT_SCORER in S.SCORERS


def test_feature_methods_have_their_classifiers_probabilities(domains):
    """A feature method (TCA, JDA, GFK, SCL, SFA, mSDA) offers predict_proba
    exactly when its final classifier does: the classifier's probabilities on
    the learnt representation, columns in the order of ``classes_`` (string
    labels too), so that confidence scorers can rank it."""
    from sklearn.svm import LinearSVC

    Xs, ys, Xt, _ = domains
    labels = np.array(["talk", "sci"])[ys]  # classes_ sorted: sci, talk
    for name in ("tca", "jda", "gfk", "scl", "sfa", "msda"):
        cls = tltk_core.get_method(name)
        m = tltk_core.load(name, estimator=LogisticRegression())
        assert hasattr(m, "predict_proba"), name  # before fit: from the classifier
        m.fit(Xs, labels, Xt)
        P = m.predict_proba(Xt)
        expected = m.estimator_.predict_proba(m.transform(Xt))
        np.testing.assert_allclose(P, expected, rtol=1e-12, err_msg=name)
        assert list(m.classes_) == ["sci", "talk"]
        np.testing.assert_array_equal(m.classes_[P.argmax(1)], m.predict(Xt))
        svc = tltk_core.load(name, estimator=LinearSVC()).fit(Xs, labels, Xt)
        assert not hasattr(svc, "predict_proba"), name
        assert cls._classifies_features
    # entropy and im now rank a feature method with a probabilistic classifier
    cands = {"tca-logistic": lambda: tltk_core.load("tca", n_components=3,
                                                    estimator=LogisticRegression()),
             "tca-svm": lambda: tltk_core.load("tca", n_components=3, estimator=LinearSVC())}
    out = S.score_candidates(cands, Xs, ys, Xt, ["entropy", "im", "iwv"])
    assert np.isfinite(out["tca-logistic"]["entropy"]) and np.isfinite(out["tca-logistic"]["im"])
    assert math.isnan(out["tca-svm"]["entropy"]) and math.isnan(out["tca-svm"]["im"])
    assert np.isfinite(out["tca-svm"]["iwv"])


def test_get_scorer_errors():
    with pytest.raises(InputError, match="unknown scorer 'nope'.*iwv.*dev.*reverse"):
        S.get_scorer("nope")
    with pytest.raises(InputError, match="unknown scorer"):
        S.get_scorer(3)
    assert S.get_scorer(S.SCORERS["dev"]) is S.SCORERS["dev"]


def test_input_errors(domains):
    Xs, ys, Xt, _ = domains
    with pytest.raises(InputError, match="ys must be 1-D"):
        S.score_candidate(_tca, Xs, ys[:-1], Xt, "snd")
    with pytest.raises(InputError, match="single class"):
        S.score_candidate(_tca, Xs, np.zeros_like(ys), Xt, "snd")
    with pytest.raises(InputError, match="Xt"):
        S.score_candidate(_tca, Xs, ys, Xt[:, :3], "snd")
    with pytest.raises(InputError, match="random_state"):
        S.score_candidate(_tca, Xs, ys, Xt, "snd", random_state=None)
    with pytest.raises(InputError, match="callable"):
        S.score_candidates({"x": "tca"}, Xs, ys, Xt)
    from sklearn.svm import LinearSVC

    with pytest.raises(InputError, match="needs predict_proba, which method 'tca' lacks "
                                         r"\(its final classifier LinearSVC has none\)"):
        S.score_candidate(lambda: tltk_core.load("tca", estimator=LinearSVC()), Xs, ys, Xt,
                          "entropy")
    with pytest.raises(S.NotScorable, match="all 0 or 1"):  # the default 1-NN
        S.score_candidate(_tca, Xs, ys, Xt, "entropy")
    with pytest.raises(InputError, match="fitted"):
        S.SCORERS["snd"](_tca(), Xs, ys, Xt)
    with pytest.raises(InputError, match="n_splits"):
        S.IWV(n_splits=1)
    with pytest.raises(InputError, match="temperature"):
        S.SND(temperature=0)
    with pytest.raises(InputError, match="missing labels"):
        S.score_candidate(_tca, Xs, np.where(ys == 0, np.nan, 1.0), Xt, "snd")


# -- DomainAwareSplit ----------------------------------------------------------
def test_domain_aware_split_never_validates_on_target():
    rng = np.random.RandomState(0)
    n_s, n_t = 30, 20
    X = rng.rand(n_s + n_t, 3)
    sd = np.r_[np.ones(n_s, int), -np.ones(n_t, int)]
    perm = rng.permutation(n_s + n_t)  # target rows interleaved
    X, sd = X[perm], sd[perm]
    y = np.where(sd < 0, -1, rng.randint(0, 2, n_s + n_t))
    target = np.flatnonzero(sd < 0)
    for kwargs in ({"sample_domain": sd}, {"groups": sd}, {"y": y}):
        seen = []
        cv = S.DomainAwareSplit(n_splits=3, random_state=0)
        splits = list(cv.split(X, **kwargs))
        assert len(splits) == cv.get_n_splits() == 3
        for tr, va in splits:
            assert not np.isin(va, target).any()
            assert np.isin(target, tr).all()
            assert not np.intersect1d(tr, va).size
            seen.append(va)
        np.testing.assert_array_equal(np.sort(np.concatenate(seen)), np.flatnonzero(sd >= 0))
    with pytest.raises(InputError, match="sample_domain"):
        list(S.DomainAwareSplit().split(X))


# -- scikit-learn and skada interop --------------------------------------------
def _stacked(domains, labels=None):
    Xs, ys, Xt, yt = domains
    if labels is not None:
        ys, yt = labels[ys], labels[yt]
    X = np.vstack([Xs, Xt])
    y = np.r_[ys, np.full(Xt.shape[0], -1, dtype=np.asarray(ys).dtype)
              if labels is None else np.asarray(yt)]
    sd = np.r_[np.ones(Xs.shape[0], int), -np.ones(Xt.shape[0], int)]
    return X, y, sd


def test_adapter_matches_the_method(domains):
    Xs, ys, Xt, _ = domains
    X, y, sd = _stacked(domains)
    ad = SkadaAdapter(_tca()).fit(X, y, sample_domain=sd)
    ref = _tca().fit(Xs, ys, Xt)
    np.testing.assert_array_equal(ad.predict(Xt), ref.predict(Xt))
    # without sample_domain the masked labels (-1) mark the target, as in skada
    np.testing.assert_array_equal(SkadaAdapter(_tca()).fit(X, y).predict(Xt), ref.predict(Xt))
    # the adapter has predict_proba exactly when the method does (TCA's 1-NN has it)
    np.testing.assert_array_equal(ad.predict_proba(Xt), ref.predict_proba(Xt))
    from sklearn.svm import LinearSVC

    svc = SkadaAdapter(tltk_core.load("tca", n_components=3, estimator=LinearSVC()))
    assert not hasattr(svc.fit(X, y, sample_domain=sd), "predict_proba")
    assert SkadaAdapter(tltk_core.load("mtrick", n_clusters=4, max_iter=5, init_iter=5)) \
        .fit(X, y, sample_domain=sd).predict_proba(Xt).shape == (Xt.shape[0], 2)
    assert ad.get_params()["method__n_components"] == 3
    with pytest.raises(InputError, match="no target rows"):
        SkadaAdapter(_tca()).fit(Xs, ys)
    with pytest.raises(InputError, match="several target domains"):
        SkadaAdapter(_tca()).fit(X, y, sample_domain=np.where(sd < 0, -1 - (np.arange(len(sd))
                                                                           % 2), 1))


def test_adapter_string_labels_ignore_target_labels(domains):
    Xs, ys, Xt, yt = domains
    X, y, sd = _stacked(domains, labels=np.array(["sci", "talk"]))
    a = SkadaAdapter(_tca()).fit(X, y, sample_domain=sd).predict(Xt)
    y_scrambled = y.copy()
    y_scrambled[sd < 0] = "sci"  # target labels are never read
    b = SkadaAdapter(_tca()).fit(X, y_scrambled, sample_domain=sd).predict(Xt)
    np.testing.assert_array_equal(a, b)
    assert set(a) <= {"sci", "talk"}


def test_sklearn_pipeline_and_gridsearch(domains):
    X, y, sd = _stacked(domains)
    pipe = Pipeline([("scale", MaxAbsScaler()), ("da", SkadaAdapter(_tca()))])
    pipe.fit(X, y, da__sample_domain=sd)
    assert pipe.predict(X[sd < 0]).shape == ((sd < 0).sum(),)
    gs = GridSearchCV(pipe, {"da__method__n_components": [2, 3], "da__method__mu": [0.1, 1.0]},
                      cv=S.DomainAwareSplit(n_splits=3, random_state=0))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        gs.fit(X, y, groups=sd, da__sample_domain=sd)
    assert gs.best_params_["da__method__n_components"] in (2, 3)
    assert np.isfinite(gs.cv_results_["mean_test_score"]).all()
    assert gs.predict(X[sd < 0]).shape == ((sd < 0).sum(),)


def test_skada_pipeline():
    skada = pytest.importorskip("skada")
    from skada.datasets import make_shifted_datasets
    from sklearn.preprocessing import StandardScaler

    X, y, sd = make_shifted_datasets(
        n_samples_source=20, n_samples_target=20, shift="covariate_shift", noise=0.3,
        random_state=0)
    pipe = skada.make_da_pipeline(StandardScaler(), SkadaAdapter(tltk_core.load("tca",
                                                                               n_components=2)))
    pipe.fit(X, y, sample_domain=sd)
    Xt = X[sd < 0]
    pred = pipe.predict(Xt, sample_domain=sd[sd < 0])
    assert pred.shape == (Xt.shape[0],)
    assert set(np.unique(pred)) <= set(np.unique(y[sd >= 0]))
    # target labels masked by skada never reach the method: the same fit either way
    y_masked = y.copy()
    y_masked[sd < 0] = -1
    pred2 = skada.make_da_pipeline(StandardScaler(), SkadaAdapter(tltk_core.load(
        "tca", n_components=2))).fit(X, y_masked, sample_domain=sd).predict(
        Xt, sample_domain=sd[sd < 0])
    np.testing.assert_array_equal(pred, pred2)


# -- EnsV: a pooled scorer -----------------------------------------------------
def test_ensemble_agreement_by_hand():
    one_hot = np.eye(2)
    a = one_hot[[0, 0, 1, 1]]          # candidate a predicts 0 0 1 1
    b = one_hot[[0, 1, 1, 1]]          # b: 0 1 1 1
    c = np.array([[0.9, 0.1], [0.6, 0.4], [0.2, 0.8], [0.7, 0.3]])  # c: 0 0 1 0
    # ensemble mean rows: [.97,.03] [.53,.47] [.07,.93] [.23,.77] -> pseudo 0 0 1 1
    np.testing.assert_allclose(S.ensemble_agreement([a, b, c]), [1.0, 0.75, 0.75])
    # two identical voters outvote a third: the pseudo-labels are theirs
    np.testing.assert_allclose(S.ensemble_agreement([b, b, one_hot[[0, 0, 1, 0]]]),
                               [1.0, 1.0, 0.5])
    # ties go to the first class: two opposite one-hot voters
    np.testing.assert_allclose(S.ensemble_agreement([one_hot[[0, 1]], one_hot[[1, 0]]]),
                               [0.5, 0.5])
    with pytest.raises(InputError, match="same shape"):
        S.ensemble_agreement([a, a[:3]])
    with pytest.raises(InputError, match="at least one"):
        S.ensemble_agreement([])


def test_class_votes_one_hot_or_probabilities(domains):
    Xs, ys, Xt, _ = domains
    labels = np.array(["sci", "talk"])[ys]
    m = _SourceOnly().fit(Xs, labels, Xt)
    V = S.class_votes(m, Xt, np.array(["sci", "talk"]))
    assert set(np.unique(V)) <= {0.0, 1.0} and np.all(V.sum(axis=1) == 1)
    np.testing.assert_array_equal(np.array(["sci", "talk"])[V.argmax(axis=1)], m.predict(Xt))
    f = _Fixed(label=1, proba=(0.3, 0.7)).fit(Xs, ys, Xt)
    np.testing.assert_allclose(S.class_votes(f, Xt, np.array([0, 1])), [[0.3, 0.7]] * len(Xt))


def test_ensv_ranks_candidates_by_agreement_with_the_majority(domains):
    Xs, ys, Xt, _ = domains
    cands = {"zero_a": lambda: _Fixed(0, (0.8, 0.2)), "zero_b": lambda: _Fixed(0, (0.6, 0.4)),
             "one": lambda: _Fixed(1, (0.1, 0.9))}
    out = S.score_candidates(cands, Xs, ys, Xt, ["ensv"])
    # mean probabilities (.5, .5): the tie goes to class 0, so both zeros agree everywhere
    assert [out[c]["ensv"] for c in cands] == [1.0, 1.0, 0.0]
    # candidates scored in separate calls give the same scores once combined
    pooled = {}
    for name, f in cands.items():
        S.score_candidates({name: f}, Xs, ys, Xt, ["ensv"], pooled_outputs=pooled)
    combined = S.get_scorer("ensv").combine([pooled[c]["ensv"] for c in cands])
    assert list(combined) == [out[c]["ensv"] for c in cands]


def test_ensv_on_real_methods_prefers_the_consensus(domains):
    Xs, ys, Xt, _ = domains
    cands = {"tca": _tca, "none": lambda: _SourceOnly(),
             "wrong": lambda: _Fixed(1, (0.0, 1.0))}
    out = S.score_candidates(cands, Xs, ys, Xt, ["ensv"])
    assert out["wrong"]["ensv"] < min(out["tca"]["ensv"], out["none"]["ensv"])
    assert all(0.0 <= v["ensv"] <= 1.0 for v in out.values())


def test_ensv_refuses_a_single_method(domains):
    Xs, ys, Xt, _ = domains
    m = _tca().fit(Xs, ys, Xt)
    with pytest.raises(InputError, match="set of candidates"):
        S.get_scorer("ensv")(m, Xs, ys, Xt)
    with pytest.raises(InputError, match="at least two"):
        S.score_candidate(_tca, Xs, ys, Xt, "ensv")
