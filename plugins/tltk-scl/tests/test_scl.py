"""Tests of the SCL plugin: conformance, pivots and pivot predictors checked
by hand, the original toolkit's defects (audit section 2.6) as regression
tests, and transfer on real data."""
import warnings

import numpy as np
import pytest
import scipy.sparse as sp

from tltk_core import InputError
from tltk_core.testing import check_light_import, data_file, make_domains, method_checks
from tltk_scl import SCL, pivot_predictors, select_pivots


@pytest.mark.parametrize("check", method_checks(SCL), ids=lambda c: c.__name__)
def test_conformance(check):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)   # capped n_components
        check()


def test_registered_and_import_is_light():
    from tltk_core import get_method

    assert get_method("scl") is SCL
    check_light_import("tltk_scl")


def test_info():
    info = SCL.info
    assert info.name == "scl" and info.family == "feature" and info.sparse
    assert "Blitzer" in info.reference and "2006" in info.reference and "2007" in info.reference


# -- pivots by hand --------------------------------------------------------------
def _tiny_corpus():
    # 6 source docs (labels 0 0 0 1 1 1), 4 target docs, 6 words
    Xs = np.array([[1, 0, 2, 1, 0, 1],
                   [1, 0, 1, 0, 0, 1],
                   [1, 1, 0, 1, 0, 0],
                   [0, 1, 1, 0, 0, 1],
                   [0, 1, 0, 1, 3, 0],
                   [0, 1, 1, 0, 0, 1]], dtype=float)
    ys = np.array([0, 0, 0, 1, 1, 1])
    Xt = np.array([[1, 1, 0, 0, 0, 0],
                   [0, 1, 1, 0, 0, 1],
                   [1, 0, 0, 1, 0, 0],
                   [0, 0, 1, 0, 0, 0]], dtype=float)
    return Xs, ys, Xt


def test_pivots_by_hand():
    Xs, ys, Xt = _tiny_corpus()
    # word 0 occurs in docs {0,1,2} = class 0 exactly: MI = log 2
    # word 1 occurs in {2,3,4,5}: p(occ|0)=1/3, p(occ|1)=1
    # word 2 occurs in {0,1,3,5}: 2 per class: MI = 0
    # word 3 occurs in {0,2,4}: 2 vs 1
    # word 4 occurs in source doc 4 only and never in the target: no candidate
    # word 5 occurs in {0,1,3,5}: MI = 0
    pivots, mi = select_pivots(Xs, ys, Xt, n_pivots=3, min_df=1)
    np.testing.assert_allclose(mi[0], np.log(2))
    h = lambda *p: -sum(x * np.log(x) for x in p if x > 0)
    np.testing.assert_allclose(mi[1], h(4 / 6, 2 / 6) - 0.5 * h(1 / 3, 2 / 3))
    np.testing.assert_allclose(mi[3], h(3 / 6, 3 / 6) - 0.5 * h(1 / 3, 2 / 3) * 2)
    np.testing.assert_allclose(mi[[2, 5]], 0, atol=1e-15)
    assert mi[4] > 0
    np.testing.assert_array_equal(pivots, [0, 1, 3])   # word 4 excluded, MI order
    # min_df=2 in each domain: words 3 and 5 occur once in the target
    pivots, _ = select_pivots(Xs, ys, Xt, n_pivots=3, min_df=2)
    np.testing.assert_array_equal(pivots, [0, 1, 2])
    # ties (MI = 0 for words 2 and 5) go to the lower index
    pivots, _ = select_pivots(Xs, ys, Xt, n_pivots=5, min_df=1)
    np.testing.assert_array_equal(pivots, [0, 1, 3, 2, 5])
    sparse = select_pivots(sp.csr_matrix(Xs), ys, sp.csr_matrix(Xt), 3, 1)[0]
    np.testing.assert_array_equal(sparse, [0, 1, 3])


@pytest.mark.parametrize("shape", [(30, 5), (12, 40)])   # primal, dual
def test_pivot_predictors_equal_per_pivot_ridge(shape):
    from sklearn.linear_model import Ridge

    rng = np.random.RandomState(0)
    n, dn = shape
    Xnp = sp.random(n, dn, density=0.3, random_state=rng, format="csr") * 3
    Y = (rng.rand(n, 4) > 0.5).astype(float)
    W, solver = pivot_predictors(Xnp, Y, alpha=0.2)
    assert solver == ("primal" if dn <= n else "dual")
    for j in range(Y.shape[1]):  # explicit solve, one pivot at a time
        r = Ridge(alpha=0.2 * n, fit_intercept=True, solver="cholesky")
        r.fit(Xnp.toarray(), Y[:, j])
        np.testing.assert_allclose(W[:, j], r.coef_, rtol=1e-6, atol=1e-9)


# -- audit 2.6 regressions ----------------------------------------------------------
def _domains(d=40, seed=0):
    Xs, ys, Xt, yt = make_domains(n_features=d, n_source=120, n_target=100, random_state=seed)
    return Xs, ys, Xt, yt


def test_pivot_predictors_do_not_see_the_pivots():
    # audit: the original trained each predictor on X including the pivot itself
    Xs, ys, Xt, _ = _domains()
    # squared loss on the raw values: the closed-form ridge is checked exactly
    m = SCL(n_pivots=10, n_components=4, min_df=1, binary=False, loss="squared",
            mask="pivots").fit(Xs, ys, Xt)
    assert np.intersect1d(m.pivots_, m.non_pivots_).size == 0
    np.testing.assert_array_equal(m.inputs_, m.non_pivots_)
    assert m.pivot_weights_.shape == (40 - 10, 10)
    # and the weights are those of the non-pivot inputs only
    X = np.vstack([Xs, Xt])
    W, _ = pivot_predictors(X[:, m.non_pivots_], (X[:, m.pivots_] != 0).astype(float), 0.1)
    np.testing.assert_allclose(m.pivot_weights_, W)
    # default mask="pivot": predictor l reads every feature but its own pivot
    m = SCL(n_pivots=10, n_components=4, min_df=1, binary=False).fit(Xs, ys, Xt)
    assert m.pivot_weights_.shape == (40, 10)
    np.testing.assert_array_equal(m.pivot_weights_[m.pivots_, np.arange(10)], 0.0)
    assert np.all(m.pivot_weights_[np.delete(m.pivots_, 0), 0] != 0)  # other pivots used


@pytest.mark.parametrize("shape", [(30, 8), (12, 40)])   # primal, dual
@pytest.mark.parametrize("binary", [True, False])
def test_masked_own_pivot_equals_ridge_without_that_column(shape, binary):
    # mask="pivot": each predictor is the ridge on all columns but its own
    # pivot, solved explicitly here one pivot at a time
    from sklearn.linear_model import Ridge
    from tltk_core.sparse_ops import binarize

    rng = np.random.RandomState(1)
    n, d = shape
    X = sp.random(n, d, density=0.4, random_state=rng, format="csr") * 3
    Xin = binarize(X) if binary else X
    own = np.array([1, 4, 6])
    Y = (X[:, own].toarray() != 0).astype(float)
    W, solver = pivot_predictors(Xin, Y, 0.2, own=own)
    assert solver == ("primal" if d <= n else "dual")
    for j, k in enumerate(own):
        keep = np.setdiff1d(np.arange(d), [k])
        r = Ridge(alpha=0.2 * n, solver="cholesky").fit(Xin.toarray()[:, keep], Y[:, j])
        np.testing.assert_allclose(W[keep, j], r.coef_, rtol=1e-6, atol=1e-9)
        assert W[k, j] == 0.0


def test_positive_weights_by_hand():
    # positive_weights: theta from the SVD of max(W, 0)
    Xs, ys, Xt, _ = _domains()
    Xs, Xt = np.abs(Xs), np.abs(Xt)
    m = SCL(n_pivots=10, n_components=3, min_df=1, positive_weights=True).fit(Xs, ys, Xt)
    Wp = np.maximum(m.pivot_weights_, 0.0)
    assert (m.pivot_weights_ < 0).any()            # something was dropped
    U, s, _ = np.linalg.svd(Wp, full_matrices=False)
    np.testing.assert_allclose(m.singular_values_, s[:3], rtol=1e-8)
    np.testing.assert_allclose(np.abs(m.projection_ @ U[:, :3]), np.eye(3), atol=1e-8)
    m0 = SCL(n_pivots=10, n_components=3, min_df=1, positive_weights=False).fit(Xs, ys, Xt)
    np.testing.assert_allclose(m0.pivot_weights_, m.pivot_weights_)   # same predictors
    assert not np.allclose(np.abs(m0.projection_), np.abs(m.projection_))


def test_projected_features_only():
    # features="projected": the representation is the scaled projected block alone
    Xs, ys, Xt, _ = _domains()
    kw = dict(n_pivots=10, n_components=4, min_df=1)
    aug = SCL(**kw).fit(Xs, ys, Xt)
    proj = SCL(features="projected", **kw).fit(Xs, ys, Xt)
    Z = proj.transform(Xt)
    assert Z.shape == (Xt.shape[0], 4)
    np.testing.assert_allclose(Z, aug.transform(Xt)[:, 40:])
    assert proj.estimator_.coef_.shape == (1, 4)
    S = proj.transform(sp.csr_matrix(Xt))
    np.testing.assert_allclose(np.asarray(S), Z)


def test_n_components_is_not_tied_to_n_pivots_and_has_full_rank():
    # audit: dimension = num_pivots; eig of a d x d covariance of rank m-1
    Xs, ys, Xt, _ = _domains()
    for n_pivots, k in [(10, 4), (10, 10), (15, 6)]:
        m = SCL(n_pivots=n_pivots, n_components=k, min_df=1).fit(Xs, ys, Xt)
        assert m.projection_.shape == (k, 40)            # mask="pivot": all inputs
        mp = SCL(n_pivots=n_pivots, n_components=k, min_df=1, mask="pivots").fit(Xs, ys, Xt)
        assert mp.projection_.shape == (k, 40 - n_pivots)
        np.testing.assert_allclose(m.projection_ @ m.projection_.T, np.eye(k), atol=1e-10)
        assert np.linalg.matrix_rank(m.transform(Xt)[:, 40:]) == k
        assert np.all(np.diff(m.singular_values_) <= 0)  # sorted, largest first
    with pytest.warns(RuntimeWarning, match="n_components"):
        m = SCL(n_pivots=5, n_components=8, min_df=1).fit(Xs, ys, Xt)
    assert m.projection_.shape[0] == 5
    with pytest.warns(RuntimeWarning, match="n_components"):   # inputs cap too
        m = SCL(n_pivots=20, n_components=25, min_df=1, mask="pivots").fit(Xs, ys, Xt)
    assert m.projection_.shape == (20, 20)


def test_pivot_present_in_every_row_does_not_crash():
    # audit: "The number of classes has to be greater than one" when a pivot
    # column is > 0 in every row (its occurrence predictor has one class)
    rng = np.random.RandomState(0)
    Xs = rng.poisson(1.0, size=(40, 6)).astype(float)
    Xt = rng.poisson(1.0, size=(30, 6)).astype(float)
    ys = np.arange(40) % 2
    Xs[:, 0] += 1.0
    Xt[:, 0] += 1.0                       # feature 0 occurs in every row
    Xt[:, 3:] = 0.0                       # features 3-5 are no candidates
    m = SCL(n_pivots=3, n_components=2, min_df=1).fit(Xs, ys, Xt)
    np.testing.assert_array_equal(np.sort(m.pivots_), [0, 1, 2])
    assert np.all(np.isfinite(m.pivot_weights_))
    np.testing.assert_allclose(m.pivot_weights_[:, list(m.pivots_).index(0)], 0, atol=1e-12)
    m.predict(Xt)


def test_no_candidate_pivots_is_graceful():
    rng = np.random.RandomState(0)
    Xs = rng.poisson(0.05, size=(120, 12)).astype(float)
    Xt = rng.poisson(0.05, size=(100, 12)).astype(float)
    ys = np.arange(120) % 2
    with pytest.warns(RuntimeWarning, match="no pivot"):
        m = SCL(min_df=50).fit(Xs, ys, Xt)
    assert m.pivots_.size == 0
    assert m.transform(Xt).shape == (Xt.shape[0], 12)


@pytest.mark.parametrize("bad", [{"n_pivots": 0}, {"n_components": 0}, {"alpha": 0.0},
                                 {"min_df": 0}, {"scale": -1.0}, {"max_iter": 0},
                                 {"loss": "hinge"}, {"binary": "yes"}, {"scale": "auto"},
                                 {"scale_grid": ()}, {"scale_grid": (1.0, -1.0)},
                                 {"cv": 1}, {"mask": "none"}, {"features": "both"}])
def test_bad_hyperparameters_name_themselves(bad):
    Xs, ys, Xt, _ = make_domains()
    with pytest.raises(InputError, match=next(iter(bad))):
        SCL(**bad).fit(Xs, ys, Xt)


def test_representation_layout_and_scale():
    Xs, ys, Xt, _ = _domains()
    m = SCL(n_pivots=10, n_components=4, min_df=1, scale=2.0, binary=False).fit(Xs, ys, Xt)
    Z = m.transform(Xt)
    np.testing.assert_array_equal(Z[:, :40], Xt)
    np.testing.assert_allclose(Z[:, 40:], m.scale_ * Xt[:, m.inputs_] @ m.projection_.T)
    X = np.vstack([Xs, Xt])
    P = m.transform(X)
    ratio = np.linalg.norm(P[:, 40:], axis=1).mean() / np.linalg.norm(X, axis=1).mean()
    np.testing.assert_allclose(ratio, 2.0)
    S = m.transform(sp.csr_matrix(Xt))
    assert sp.issparse(S) and S.indices.dtype == np.int32
    np.testing.assert_allclose(S.toarray(), Z)


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
    Xe, ye = Xe[:2000], ye[:2000]          # keep the test fast
    base = LogisticRegression(max_iter=1000).fit(Xs, ys).score(Xe, ye)
    # 500 pivots, 1000 unlabelled target reviews: about a third of the default cost
    acc = SCL(n_pivots=500).fit(Xs, ys, Xt[:1000]).score(Xe, ye)
    assert acc > base + 0.01, (acc, base)


# -- paper-faithful components (binary inputs, modified Huber) -------------------------


def test_modified_huber_by_hand():
    from tltk_scl._scl import modified_huber

    z = np.array([-3.0, -1.0, 0.0, 0.5, 1.0, 2.0])
    loss, grad = modified_huber(z)
    np.testing.assert_allclose(loss, [12.0, 4.0, 1.0, 0.25, 0.0, 0.0])
    np.testing.assert_allclose(grad, [-4.0, -4.0, -2.0, -1.0, 0.0, 0.0])
    # continuous with a continuous derivative at z = -1
    eps = 1e-7
    l2, _ = modified_huber(np.array([-1 - eps, -1 + eps]))
    np.testing.assert_allclose(l2, 4.0, atol=1e-5)


def test_huber_predictors_equal_ridge_when_margins_stay_inside():
    # with every margin y f in (-1, 1) the modified Huber loss is (1 - y f)^2 =
    # (y - f)^2, so the solution is the ridge (with intercept) of the +-1 targets,
    # i.e. twice the ridge of the 0/1 occurrences (slopes)
    from tltk_scl._scl import huber_pivot_predictors

    rng = np.random.RandomState(0)
    Xnp = sp.random(40, 6, density=0.4, random_state=rng, format="csr")
    Xnp.data[:] = 1.0
    Y = (rng.rand(40, 3) > 0.5).astype(float)
    W, b = huber_pivot_predictors(Xnp, Y, alpha=0.5, max_iter=500)
    S = 2 * Y - 1
    assert np.all(np.abs(S * (Xnp @ W + b)) < 1)
    Wr, _ = pivot_predictors(Xnp, Y, alpha=0.5)
    np.testing.assert_allclose(W, 2 * Wr, atol=1e-5)
    # own-pivot masking: the masked weight stays 0 and the rest is the masked ridge
    own = np.array([0, 2, 5])
    W, b = huber_pivot_predictors(Xnp, Y, alpha=0.5, max_iter=500, own=own)
    assert np.all(W[own, np.arange(3)] == 0.0)
    Wr, _ = pivot_predictors(Xnp, Y, alpha=0.5, own=own)
    np.testing.assert_allclose(W, 2 * Wr, atol=1e-4)    # L-BFGS tolerance


def test_binary_projection_ignores_magnitudes():
    Xs, ys, Xt, _ = _domains()
    Xs, Xt = np.abs(Xs), np.abs(Xt)
    m = SCL(n_pivots=10, n_components=4, min_df=1).fit(Xs, ys, Xt)
    Z1 = m.transform(Xt)[:, 40:]
    Z2 = m.transform(3.0 * Xt)[:, 40:]            # same occurrences
    np.testing.assert_allclose(Z1, Z2)
    np.testing.assert_allclose(Z1, m.scale_ * (Xt[:, m.inputs_] != 0) @ m.projection_.T)


def test_scale_by_source_cross_validation():
    # scale="cv": the relative weight is chosen from scale_grid on the source only
    Xs, ys, Xt, yt = _domains()
    m = SCL(n_pivots=10, n_components=4, min_df=1, scale="cv",
            scale_grid=(0.5, 2.0)).fit(Xs, ys, Xt)
    assert set(m.cv_scores_) == {0.5, 2.0}
    assert m.relative_scale_ == max((0.5, 2.0), key=lambda s: (m.cv_scores_[s], -s))
    # the target labels play no part: other target labels, same choice
    m2 = SCL(n_pivots=10, n_components=4, min_df=1, scale="cv",
             scale_grid=(0.5, 2.0)).fit(Xs, ys, Xt, 1 - yt)
    assert m2.relative_scale_ == m.relative_scale_
    fixed = SCL(n_pivots=10, n_components=4, min_df=1,
                scale=m.relative_scale_).fit(Xs, ys, Xt)
    np.testing.assert_allclose(fixed.transform(Xt), m.transform(Xt))

