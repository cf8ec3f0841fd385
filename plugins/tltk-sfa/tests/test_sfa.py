"""Tests of the SFA plugin: conformance, every step checked by hand or against a
dense reference, the original toolkit's defects (audit section 2.7) as
regression tests, and transfer on real data."""
import warnings

import numpy as np
import pytest
import scipy.sparse as sp

from tltk_core import InputError
from tltk_core.testing import check_light_import, data_file, make_domains, method_checks
from tltk_sfa import (SFA, cooccurrence, domain_mutual_info, select_domain_independent,
                      spectral_alignment)

SMALL = {"n_domain_independent": 4, "n_components": 2, "min_df": 1}


@pytest.mark.parametrize("check", method_checks(SFA, SMALL), ids=lambda c: c.__name__)
def test_conformance(check):
    check()


@pytest.mark.parametrize("check", method_checks(SFA), ids=lambda c: c.__name__)
def test_conformance_defaults(check):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)   # K clipped on 8 features
        check()


def test_registered_and_import_is_light():
    from tltk_core import get_method

    assert get_method("sfa") is SFA
    check_light_import("tltk_sfa")


def test_info():
    info = SFA.info
    assert info.name == "sfa" and info.family == "feature"
    assert info.settings == ("unsupervised",) and info.sparse
    assert "Pan" in info.reference and "2010" in info.reference
    p = SFA().get_params()
    assert (p["n_domain_independent"], p["n_components"], p["gamma"]) == (500, 100, 0.6)


# -- the steps by hand -----------------------------------------------------------
def _tiny():
    # 4 source and 4 target documents over 6 words
    Xs = np.array([[1, 2, 0, 1, 0, 0],
                   [1, 0, 0, 1, 0, 3],
                   [0, 1, 0, 1, 0, 0],
                   [1, 1, 0, 0, 0, 0]], dtype=float)
    Xt = np.array([[1, 0, 1, 1, 0, 0],
                   [0, 0, 1, 0, 2, 0],
                   [1, 0, 1, 0, 0, 0],
                   [0, 1, 0, 1, 0, 0]], dtype=float)
    return Xs, Xt


def test_domain_mutual_info_by_hand():
    Xs, Xt = _tiny()
    mi = domain_mutual_info(Xs, Xt)
    n = 8.0
    # word 0: 3 source, 2 target docs; p(d) = 1/2 each
    want0 = 3 / n * np.log((3 / n) / (5 / n * 0.5)) + 2 / n * np.log((2 / n) / (5 / n * 0.5))
    np.testing.assert_allclose(mi[0], want0)
    np.testing.assert_allclose(mi[3], mi[0])                    # same counts (3, 2)
    np.testing.assert_allclose(mi[1], 3 / n * np.log((3 / n) / (4 / n * 0.5))
                               + 1 / n * np.log((1 / n) / (4 / n * 0.5)))
    # word 2: target only (3 docs): p(x, T) log(p(x, T) / (p(x) p(T))) = 3/8 log 2
    np.testing.assert_allclose(mi[2], 3 / n * np.log(2))
    np.testing.assert_allclose(mi[4], 1 / n * np.log(2))
    np.testing.assert_allclose(domain_mutual_info(sp.csr_matrix(Xs), sp.csr_matrix(Xt)), mi)


def test_domain_independent_are_the_lowest_mi_frequent_features():
    # audit: the original chose DI features by frequency intersection, not by MI
    Xs, Xt = _tiny()
    # doc freq (source, target): w0 (3, 2), w1 (3, 1), w2 (0, 3), w3 (3, 2),
    # w4 (0, 1), w5 (1, 0): the candidates (>= 1 row in each domain) are w0, w1, w3
    di, mi = select_domain_independent(Xs, Xt, l=2, frequency_pool=10.0, min_df=1)
    cand = np.array([0, 1, 3])
    np.testing.assert_array_equal(np.sort(di), np.sort(cand[np.argsort(mi[cand])][:2]))
    # w0 and w3 have identical counts (3, 2), w1 (3, 1) is more domain-specific
    np.testing.assert_array_equal(di, [0, 3])
    assert mi[1] > mi[0]
    # frequency alone (pool = l) keeps the most frequent in the rarer domain
    di_f, _ = select_domain_independent(Xs, Xt, l=1, frequency_pool=1.0, min_df=1)
    np.testing.assert_array_equal(di_f, [0])


def test_mi_decides_and_ties_go_to_the_more_frequent():
    # two features balanced across domains (MI = 0) and one frequent skewed one
    rng = np.random.RandomState(0)
    n = 200
    Xs = np.zeros((n, 3))
    Xt = np.zeros((n, 3))
    Xs[:100, 0] = Xt[:100, 0] = 1            # frequent, balanced: MI 0
    Xs[:150, 1] = 1
    Xt[:50, 1] = 1                            # frequent, skewed: MI > 0
    Xs[:90, 2] = Xt[:90, 2] = 1               # balanced: MI 0
    rng.shuffle(Xs)
    di, mi = select_domain_independent(Xs, Xt, l=2, frequency_pool=2.0, min_df=1)
    assert mi[1] > 0.01 and abs(mi[0]) < 1e-12 and abs(mi[2]) < 1e-12
    np.testing.assert_array_equal(di, [0, 2])   # MI tie broken by frequency


def test_cooccurrence_equals_hand_count():
    Xs, Xt = _tiny()
    B = (np.vstack([Xs, Xt]) != 0).astype(float)
    ds, di = np.array([1, 2, 4, 5]), np.array([0, 3])
    M = cooccurrence(sp.csr_matrix(np.vstack([Xs, Xt])) != 0, ds, di)
    want = np.zeros((4, 2))
    for r in range(B.shape[0]):               # count documents by hand
        for a, i in enumerate(ds):
            for b, j in enumerate(di):
                want[a, b] += B[r, i] * B[r, j]
    assert sp.issparse(M)
    np.testing.assert_array_equal(M.toarray(), want)
    # word 1 with word 0: source docs 0 and 3 -> 2; word 2 with word 0: target 0, 2 -> 2
    np.testing.assert_array_equal(want, [[2, 3], [2, 1], [0, 0], [1, 1]])


def _dense_reference(M, K):
    """Top-K eigenvectors of D^-1/2 A D^-1/2 for A = [[0, M], [M^T, 0]], DS rows."""
    m, l = M.shape
    A = np.zeros((m + l, m + l))
    A[:m, m:] = M
    A[m:, :m] = M.T
    deg = A.sum(axis=1)
    with np.errstate(divide="ignore"):
        s = np.where(deg > 0, 1 / np.sqrt(deg), 0)
    L = s[:, None] * A * s[None, :]
    w, V = np.linalg.eigh(L)
    order = np.argsort(-w)[:K]
    return V[:m, order], w[order]


@pytest.mark.parametrize("shape,K", [((9, 5), 3), ((5, 9), 4), ((80, 60), 10),
                                     ((400, 60), 5)])
def test_spectral_alignment_equals_dense_eigenvectors(shape, K):
    rng = np.random.RandomState(1)
    M = rng.poisson(1.0, size=shape).astype(float)
    M[0] = 0.0                                  # a DS feature with degree 0
    U, ev = spectral_alignment(sp.csr_matrix(M), K)
    Uref, wref = _dense_reference(M, K)
    np.testing.assert_allclose(ev, wref, atol=1e-10)
    np.testing.assert_allclose(ev[0], 1.0)      # the trivial eigenvector
    for k in range(K):                          # same vectors up to sign
        sgn = np.sign(U[:, k] @ Uref[:, k])
        np.testing.assert_allclose(U[:, k], sgn * Uref[:, k], atol=1e-8)
    np.testing.assert_array_equal(U[0], 0.0)


def test_degree_normalisation_is_per_feature():
    # audit: D1 was built from row 1 for every feature (a constant x I)
    M = np.array([[4.0, 0.0], [1.0, 1.0], [0.0, 9.0], [2.0, 2.0]])
    U, ev = spectral_alignment(sp.csr_matrix(M), 2)
    Uref, _ = _dense_reference(M, 2)
    for k in range(2):
        np.testing.assert_allclose(np.abs(U[:, k]), np.abs(Uref[:, k]), atol=1e-10)
    # the trivial eigenvector is sqrt(degree) / ||.||: it differs across DS rows
    deg = np.concatenate([M.sum(1), M.sum(0)])
    np.testing.assert_allclose(np.abs(U[:, 0]), np.sqrt(M.sum(1)) / np.linalg.norm(np.sqrt(deg)))


# -- audit 2.7 regressions ---------------------------------------------------------
def test_runs_on_current_numpy():
    # audit: np.sum(M[1,:]).data[0] crashed (0-d memoryview) on any Python-3 numpy
    Xs, ys, Xt, _ = make_domains(n_features=30, random_state=3)
    m = SFA(n_domain_independent=10, n_components=5, min_df=1).fit(Xs, ys, Xt)
    assert m.projection_.shape == (20, 5) and np.all(np.isfinite(m.projection_))


def test_fit_does_not_change_hyperparameters():
    # audit: fit overwrote the hyperparameter l with the intersection size
    Xs, ys, Xt, _ = make_domains(n_features=30)
    m = SFA(n_domain_independent=400, n_components=5, min_df=1)
    before = m.get_params()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        m.fit(Xs, ys, Xt)
    assert m.get_params() == before
    assert m.domain_independent_.size == 15        # capped at half the features


def test_too_many_components_is_clipped_with_a_warning():
    # audit: svds needs K < min(m, l); here K >= l is clipped to min(m, l) with a warning
    Xs, ys, Xt, _ = make_domains(n_features=30)
    with pytest.warns(RuntimeWarning, match="n_components"):
        m = SFA(n_domain_independent=6, n_components=50, min_df=1).fit(Xs, ys, Xt)
    assert m.n_components_ == 6 and m.projection_.shape == (24, 6)
    # K = min(m, l) and K = min - 1 (what ARPACK cannot do) need no warning
    for K in (5, 6):
        with warnings.catch_warnings():
            warnings.simplefilter("error", RuntimeWarning)
            m = SFA(n_domain_independent=6, n_components=K, min_df=1).fit(Xs, ys, Xt)
        assert m.n_components_ == K


def test_gamma_changes_the_representation():
    # audit: the trade-off (phi) was stored but never used
    Xs, ys, Xt, _ = make_domains(n_features=30)
    kw = dict(n_domain_independent=10, n_components=4, min_df=1)
    Z1 = SFA(gamma=0.6, **kw).fit(Xs, ys, Xt).transform(Xt)
    Z2 = SFA(gamma=1.2, **kw).fit(Xs, ys, Xt).transform(Xt)
    np.testing.assert_array_equal(Z1[:, :30], Xt)
    np.testing.assert_allclose(Z2[:, 30:], 2 * Z1[:, 30:])
    assert np.abs(Z1[:, 30:]).max() > 0
    Z0 = SFA(gamma=0.0, **kw).fit(Xs, ys, Xt).transform(Xt)
    np.testing.assert_array_equal(Z0[:, 30:], 0.0)


def test_representation_layout_and_normalisation():
    Xs, ys, Xt, _ = make_domains(n_features=30)
    m = SFA(n_domain_independent=10, n_components=4, min_df=1).fit(Xs, ys, Xt)
    Z = m.transform(Xt)
    want = 0.6 * m.block_scale_ * Xt[:, m.domain_specific_] @ m.projection_
    np.testing.assert_allclose(Z[:, 30:], want)
    X = np.vstack([Xs, Xt])                     # normalize: mean row norms equal
    ratio = (np.linalg.norm(m.transform(X)[:, 30:], axis=1).mean()
             / np.linalg.norm(X, axis=1).mean())
    np.testing.assert_allclose(ratio, 0.6)
    raw = SFA(n_domain_independent=10, n_components=4, min_df=1, normalize=False)
    raw.fit(Xs, ys, Xt)
    assert raw.block_scale_ == 1.0
    np.testing.assert_allclose(raw.transform(Xt)[:, 30:],
                               0.6 * Xt[:, raw.domain_specific_] @ raw.projection_)
    S = m.transform(sp.csr_matrix(Xt))
    assert sp.issparse(S) and S.indices.dtype == np.int32
    np.testing.assert_allclose(S.toarray(), Z)
    assert np.intersect1d(m.domain_specific_, m.domain_independent_).size == 0


def test_cooccurrence_uses_both_domains_and_binary_occurrence():
    Xs, ys, Xt, _ = make_domains(n_features=20)
    m = SFA(n_domain_independent=5, n_components=3, min_df=1).fit(Xs, ys, Xt)
    B = (np.vstack([Xs, Xt]) != 0).astype(float)
    want = B[:, m.domain_specific_].T @ B[:, m.domain_independent_]
    np.testing.assert_array_equal(m.cooccurrence_.toarray(), want)


def test_no_domain_independent_feature_is_graceful():
    rng = np.random.RandomState(0)
    Xs = rng.poisson(0.05, size=(60, 12)).astype(float)
    Xt = rng.poisson(0.05, size=(50, 12)).astype(float)
    ys = np.arange(60) % 2
    with pytest.warns(RuntimeWarning, match="no domain-independent"):
        m = SFA(min_df=40).fit(Xs, ys, Xt)
    assert m.transform(Xt).shape == (50, 12)


@pytest.mark.parametrize("bad", [{"n_domain_independent": 0}, {"n_components": 0},
                                 {"gamma": -0.1}, {"frequency_pool": 0.5}, {"min_df": 0},
                                 {"binary": "yes"}, {"normalize": 1},
                                 {"n_components": 2.5}])
def test_bad_hyperparameters_name_themselves(bad):
    Xs, ys, Xt, _ = make_domains()
    with pytest.raises(InputError, match=next(iter(bad))):
        SFA(**bad).fit(Xs, ys, Xt)


def test_binary_projection_ignores_magnitudes():
    Xs, ys, Xt, _ = make_domains(n_features=30)
    m = SFA(n_domain_independent=10, n_components=4, min_df=1, binary=True).fit(Xs, ys, Xt)
    np.testing.assert_allclose(m.aligned_features(Xt), m.aligned_features(3 * Xt))


# -- real data ------------------------------------------------------------------------
def _load(dataset, name, n_features):
    from sklearn.datasets import load_svmlight_file

    X, y = load_svmlight_file(str(data_file(dataset, name)), n_features=n_features)
    return sp.csr_matrix(X), y.astype(int)


def test_transfer_amazon_dvd_to_kitchen():
    from sklearn.linear_model import LogisticRegression

    Xs, ys = _load("amazon-reviews-5000", "dvd.svm", 5000)
    Xt, _ = _load("amazon-reviews-5000", "kitchen.svm", 5000)
    Xe, ye = _load("amazon-reviews-5000", "kitchen-test.svm", 5000)
    Xe, ye = Xe[:3000], ye[:3000]                  # keep the test fast
    base = LogisticRegression(max_iter=1000).fit(Xs, ys).score(Xe, ye)
    acc = SFA().fit(Xs, ys, Xt).score(Xe, ye)
    assert acc > base + 0.01, (acc, base)


def test_transfer_20ng_crypt_to_med():
    from sklearn.preprocessing import normalize
    from sklearn.svm import LinearSVC

    Xs, ys = _load("20ng-sci-talk", "crypt-guns.svm", 16249)
    Xt, yt = _load("20ng-sci-talk", "med-misc.svm", 16249)
    Xs, Xt = normalize(Xs), normalize(Xt)          # the dataset's protocol
    base = LinearSVC().fit(Xs, ys).score(Xt, yt)
    acc = SFA(estimator=LinearSVC()).fit(Xs, ys, Xt).score(Xt, yt)
    assert acc > base + 0.01, (acc, base)
