"""Tests of the mSDA plugin: conformance, the closed form against the exact
expectation over corruptions, the original toolkit's defects (audit section
2.8) as regression tests, and transfer on real data."""
import itertools

import numpy as np
import pytest
import scipy.sparse as sp

from tltk_core import InputError
from tltk_core.testing import check_light_import, data_file, make_domains, method_checks
from tltk_msda import MSDA, mda_weights


# -- conformance -------------------------------------------------------------
@pytest.mark.parametrize("check", method_checks(MSDA), ids=lambda c: c.__name__)
def test_conformance(check):
    check()


@pytest.mark.parametrize("check", method_checks(MSDA, {"n_reconstruct": 5, "block_size": 3,
                                                       "n_layers": 2}),
                         ids=lambda c: c.__name__)
def test_conformance_blocked(check):
    check()


@pytest.mark.parametrize("check", method_checks(MSDA, {"p": "cv", "n_layers": 2}),
                         ids=lambda c: c.__name__)
def test_conformance_p_by_source_cv(check):
    check()


def test_registered_and_import_is_light():
    from tltk_core import get_method

    assert get_method("msda") is MSDA
    check_light_import("tltk_msda")


def test_info():
    info = MSDA.info
    assert info.name == "msda" and info.family == "feature"
    assert info.settings == ("unsupervised",) and info.sparse
    assert "Chen" in info.reference and "2012" in info.reference


# -- the mathematics -----------------------------------------------------------
def _exact_expectation(Xin, Xout, p, reg):
    """M from E[Q], E[P] computed by enumerating every dropout mask (exact)."""
    n, d = Xin.shape
    q = 1 - p
    EQ = np.zeros((d + 1, d + 1))
    EP = np.zeros((d + 1, Xout.shape[1]))
    for mask in itertools.product([0, 1], repeat=d):
        prob = np.prod([q if m else p for m in mask])
        Xc = np.hstack([Xin * np.array(mask), np.ones((n, 1))])  # bias never corrupted
        EQ += prob * Xc.T @ Xc
        EP += prob * Xc.T @ Xout
    EQ[np.arange(d), np.arange(d)] += reg
    return np.linalg.solve(EQ, EP)


@pytest.mark.parametrize("p", [0.0, 0.3, 0.5, 0.9])
def test_mda_closed_form_is_the_expectation_over_corruptions(p):
    rng = np.random.RandomState(1)
    X = rng.poisson(1.5, size=(7, 4)).astype(float)
    X[:, 2] = 0.0                      # an all-zero feature: only reg keeps Q PD
    want = _exact_expectation(X, X, p, 1e-5)
    got_inv = mda_weights(X.T @ X, X.sum(0), 7, 1 - p, 1e-5)          # inverse form
    got_solve = mda_weights(X.T @ X, X.sum(0), 7, 1 - p, 1e-5, cross=X.T @ X,
                            out_sum=X.sum(0))                         # explicit solve
    np.testing.assert_allclose(got_inv, want, rtol=1e-8, atol=1e-10)
    np.testing.assert_allclose(got_solve, want, rtol=1e-8, atol=1e-10)


def test_monte_carlo_agrees():
    rng = np.random.RandomState(2)
    X = rng.poisson(2.0, size=(5, 3)).astype(float)
    p = 0.4
    Xr = np.tile(X, (20000, 1))
    keep = rng.rand(*Xr.shape) > p
    Xc = np.hstack([Xr * keep, np.ones((Xr.shape[0], 1))])
    M_mc = np.linalg.lstsq(Xc, Xr, rcond=None)[0]
    M = mda_weights(X.T @ X, X.sum(0), 5, 1 - p, 1e-9)
    np.testing.assert_allclose(M, M_mc, atol=0.05)


def test_blocked_first_layer_is_the_average_of_block_maps():
    rng = np.random.RandomState(3)
    Xs = rng.poisson(1.0, size=(9, 6)).astype(float)
    Xt = rng.poisson(1.5, size=(8, 6)).astype(float)
    ys = np.arange(9) % 2
    m = MSDA(p=0.3, n_layers=1, n_reconstruct=3, block_size=2, random_state=4)
    m.fit(sp.csr_matrix(Xs), ys, sp.csr_matrix(Xt))
    X = np.vstack([Xs, Xt])
    df = np.count_nonzero(X, axis=0)
    out = np.argsort(-df, kind="stable")[:3]
    np.testing.assert_array_equal(m.output_features_, out)
    assert m.n_blocks_ == 3
    blocks = np.array_split(np.random.RandomState(4).permutation(6), 3)
    W = np.zeros((6, 3))
    b = np.zeros(3)
    for blk in map(np.sort, blocks):
        M = _exact_expectation(X[:, blk], X[:, out], 0.3, 1e-5)
        W[blk] = M[:-1] / 3
        b += M[-1] / 3
    np.testing.assert_allclose(m.layers_[0][0], W, rtol=1e-7, atol=1e-10)
    np.testing.assert_allclose(m.layers_[0][1], b, rtol=1e-7, atol=1e-10)


def test_single_block_equals_full_map_restricted_to_outputs():
    Xs, ys, Xt, _ = make_domains(n_features=8)
    full = MSDA(n_layers=1).fit(Xs, ys, Xt)
    part = MSDA(n_layers=1, n_reconstruct=4, block_size=8).fit(Xs, ys, Xt)
    out = part.output_features_
    np.testing.assert_allclose(part.layers_[0][0], full.layers_[0][0][:, out], rtol=1e-6,
                               atol=1e-9)


# -- audit 2.8 regressions --------------------------------------------------------
def test_representation_is_the_concatenation_of_all_layers():
    # audit: the original transform returned only the last hidden layer
    Xs, ys, Xt, _ = make_domains(n_features=8)
    m = MSDA(n_layers=3, normalize=False).fit(Xs, ys, Xt)
    Z = m.transform(Xt)
    assert Z.shape == (Xt.shape[0], 8 + 3 * 8)
    np.testing.assert_array_equal(Z[:, :8], Xt)
    H = Xt
    for layer, (W, b) in enumerate(m.layers_):
        H = np.tanh(H @ W + b)
        np.testing.assert_allclose(Z[:, 8 * (layer + 1): 8 * (layer + 2)], H, atol=1e-12)


def test_default_p_is_a_number_and_fits():
    # audit: p=None default crashed with a TypeError
    assert MSDA().p == 0.5 and MSDA().n_layers == 5
    Xs, ys, Xt, yt = make_domains()
    assert MSDA().fit(Xs, ys, Xt).predict(Xt).shape == yt.shape


@pytest.mark.parametrize("bad", [{"p": None}, {"p": 1.0}, {"p": -0.1}, {"p": "auto"},
                                 {"p": True}, {"n_layers": 0},
                                 {"reg": 0.0}, {"n_reconstruct": 0}, {"normalize": "yes"}])
def test_bad_hyperparameters_name_themselves(bad):
    Xs, ys, Xt, _ = make_domains()
    with pytest.raises(InputError, match=next(iter(bad))):
        MSDA(**bad).fit(Xs, ys, Xt)


@pytest.mark.parametrize("dtype", [np.int64, np.int32, np.float32])
def test_inputs_untouched_int_input_too(dtype):
    # audit: `X.dtype = "float64"` reinterpreted the caller's int64 memory
    Xs, ys, Xt, _ = make_domains()
    Xs, Xt = Xs.astype(dtype), Xt.astype(dtype)
    cs, ct = Xs.copy(), Xt.copy()
    m = MSDA(n_layers=2, normalize=False).fit(Xs, ys, Xt)
    Z = m.transform(Xt)
    m.predict(Xs)
    assert Xs.dtype == dtype and Xt.dtype == dtype
    np.testing.assert_array_equal(Xs, cs)
    np.testing.assert_array_equal(Xt, ct)
    np.testing.assert_array_equal(Z[:, :Xt.shape[1]], ct.astype(float))
    ref = MSDA(n_layers=2, normalize=False).fit(cs.astype(float), ys,
                                                ct.astype(float)).transform(ct.astype(float))
    np.testing.assert_allclose(Z, ref)


def test_sparse_and_dense_agree():
    Xs, ys, Xt, _ = make_domains(n_features=8)
    for kw in ({}, {"n_reconstruct": 5, "block_size": 3}):
        a = MSDA(n_layers=2, **kw).fit(Xs, ys, Xt)
        b = MSDA(n_layers=2, **kw).fit(sp.csr_matrix(Xs), ys, sp.csr_matrix(Xt))
        np.testing.assert_allclose(a.transform(Xt), b.transform(sp.csr_matrix(Xt)),
                                   atol=1e-10)
        np.testing.assert_array_equal(a.predict(Xt), b.predict(sp.csr_matrix(Xt)))


# -- p chosen by cross-validation on the source labels (issue 5 follow-up) ----------
def test_p_cv_is_the_best_source_cv_score_and_keeps_its_layers():
    from sklearn.dummy import DummyClassifier
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import StratifiedKFold, cross_val_score
    from tltk_msda._msda import P_GRID

    Xs, ys, Xt, yt = make_domains(n_features=12, random_state=3)
    m = MSDA(p="cv", n_layers=2).fit(Xs, ys, Xt)
    assert set(m.cv_scores_) == set(P_GRID) and m.p_ in P_GRID
    folds = StratifiedKFold(5, shuffle=True, random_state=0)
    for p in P_GRID:                       # each score is the source-only CV of that p
        Zs = MSDA(p=p, n_layers=2, estimator=DummyClassifier()).fit(
            Xs, ys, Xt).transform(Xs)
        want = cross_val_score(LogisticRegression(max_iter=1000), Zs, ys, cv=folds).mean()
        assert m.cv_scores_[p] == pytest.approx(want)
    best = max(m.cv_scores_.values())
    ties = [p for p in P_GRID if m.cv_scores_[p] == best]
    assert m.p_ == min(ties, key=lambda p: (abs(p - 0.5), p))
    ref = MSDA(p=m.p_, n_layers=2).fit(Xs, ys, Xt)         # the winner's layers are kept
    for (W, b), (W2, b2) in zip(m.layers_, ref.layers_):
        np.testing.assert_allclose(W, W2)
        np.testing.assert_allclose(b, b2)
    np.testing.assert_array_equal(m.predict(Xt), ref.predict(Xt))
    assert MSDA(p=0.3).fit(Xs, ys, Xt).cv_scores_ is None


def test_p_cv_uses_no_target_labels_and_needs_two_rows_per_class():
    Xs, ys, Xt, yt = make_domains(n_features=12, random_state=3)
    a = MSDA(p="cv", n_layers=1).fit(Xs, ys, Xt)
    b = MSDA(p="cv", n_layers=1).fit(Xs, ys, Xt, yt=np.where(np.arange(len(yt)) % 2, yt, -1))
    assert a.cv_scores_ == b.cv_scores_ and a.p_ == b.p_
    ys1 = ys.copy()
    ys1[ys1 == 1] = 0
    ys1[0] = 1                              # one source row of class 1
    with pytest.raises(InputError, match="ys"):
        MSDA(p="cv", n_layers=1).fit(Xs, ys1, Xt)


# -- the scale of the representation (issue 5: mSDA under LinearSVC on unit tf-idf rows) --
def _unit_tfidf_like(n=120, d=30, seed=0):
    """Small-valued, strongly correlated rows of unit length (like tf-idf text rows):
    a few topics, each a group of co-occurring words."""
    rng = np.random.RandomState(seed)
    topics = rng.rand(3, d) ** 4
    X = rng.poisson(rng.gamma(1.0, 1.0, size=(n, 3)) @ topics * 3).astype(float)
    X[X.sum(1) == 0, 0] = 1.0
    return X / np.linalg.norm(X, axis=1, keepdims=True)


def test_unnormalised_layers_grow_on_small_correlated_inputs():
    # the cause: M, fitted on corrupted rows, is applied to clean rows and scales
    # shared directions up by up to 1/q; tanh is linear at this scale, so the
    # norm grows layer after layer and the deepest layer dominates [x, h1..h5]
    X = _unit_tfidf_like()
    ys = np.arange(60) % 2
    m = MSDA(n_layers=5, normalize=False).fit(X[:60], ys, X[60:])
    Z = m.transform(X)
    norms = [np.linalg.norm(Z[:, 30 * i: 30 * (i + 1)], axis=1).mean() for i in range(6)]
    assert norms[0] == pytest.approx(1.0)
    assert all(b > a for a, b in zip(norms[1:], norms[2:])), norms
    assert norms[5] > 2 * norms[0], norms


def test_default_rows_have_unit_length_and_keep_the_block_ratios():
    # regression for issue 5: by default the classifier sees rows of unit length
    # (without this the deepest layer dominated and LinearSVC(C=1) lost on 20ng)
    X = _unit_tfidf_like()
    ys = np.arange(60) % 2
    raw = MSDA(normalize=False).fit(X[:60], ys, X[60:]).transform(X)
    m = MSDA().fit(X[:60], ys, X[60:])
    assert m.normalize is True
    Z = m.transform(X)
    np.testing.assert_allclose(np.linalg.norm(Z, axis=1), 1.0, rtol=1e-12)
    np.testing.assert_allclose(Z, raw / np.linalg.norm(raw, axis=1, keepdims=True), rtol=1e-10)
    # the classifier is trained on the normalised source rows
    from sklearn.base import clone
    est = clone(m.estimator_).fit(Z[:60], ys)
    np.testing.assert_allclose(est.coef_, m.estimator_.coef_, rtol=1e-6, atol=1e-9)
    # an empty document: x = 0 but h = tanh(b) != 0, still finite and unit length
    Z0 = m.transform(np.zeros((2, 30)))
    assert np.all(np.isfinite(Z0))
    np.testing.assert_allclose(np.linalg.norm(Z0, axis=1), 1.0, rtol=1e-12)


# -- real data ------------------------------------------------------------------------
def _amazon(name):
    from sklearn.datasets import load_svmlight_file

    X, y = load_svmlight_file(str(data_file("amazon-reviews-5000", name)), n_features=5000)
    return sp.csr_matrix(X), y.astype(int)


def test_transfer_amazon_books_to_kitchen():
    from sklearn.linear_model import LogisticRegression

    Xs, ys = _amazon("books.svm")
    Xt, _ = _amazon("kitchen.svm")
    Xe, ye = _amazon("kitchen-test.svm")
    Xe, ye = Xe[:3000], ye[:3000]          # keep the test fast
    base = LogisticRegression(max_iter=1000).fit(Xs, ys).score(Xe, ye)
    # a smaller, faster configuration than the default (r = 2000, 5 layers)
    m = MSDA(n_layers=2, n_reconstruct=1000).fit(Xs, ys, Xt)
    acc = m.score(Xe, ye)
    assert acc > base + 0.01, (acc, base)
