"""Tests of the TCA plugin: conformance, the math, the original toolkit's
defects (audit section 2.3) as regression tests, and transfer on real data."""
import warnings

import numpy as np
import pytest
import scipy.linalg
import scipy.sparse as sp

from tltk_core import InputError
from tltk_core.kernels import KERNELS
from tltk_core.testing import check_light_import, data_file, make_domains, method_checks
from tltk_tca import TCA


# -- conformance -------------------------------------------------------------
@pytest.mark.parametrize("check", method_checks(TCA), ids=lambda c: c.__name__)
def test_conformance(check):
    check()


@pytest.mark.parametrize("check", method_checks(TCA, {"kernel": "rbf"}),
                         ids=lambda c: c.__name__)
def test_conformance_rbf(check):
    check()


def test_registered_and_import_is_light():
    from tltk_core import get_method

    assert get_method("tca") is TCA
    check_light_import("tltk_tca")


def test_info():
    info = TCA.info
    assert info.name == "tca" and info.family == "feature"
    assert info.settings == ("unsupervised",) and info.sparse
    assert "Pan" in info.reference and "2011" in info.reference


# -- helpers -------------------------------------------------------------------
def _tiny(ns=7, nt=5, d=4, seed=0):
    rng = np.random.RandomState(seed)
    Xs = rng.randn(ns, d)
    Xt = rng.randn(nt, d) * 1.5 + 0.8  # shifted target: the MMD term matters
    ys = np.arange(ns) % 2
    return Xs, ys, Xt


def _brute_force(K, ns, mu, k):
    """Top-k eigenpairs of (K L K + mu I)^-1 K H K from the full dense matrices."""
    n = K.shape[0]
    e = np.r_[np.full(ns, 1.0 / ns), np.full(n - ns, -1.0 / (n - ns))]
    L = np.outer(e, e)
    H = np.eye(n) - np.ones((n, n)) / n
    A = K @ H @ K
    B = K @ L @ K + mu * np.eye(n)
    vals, vecs = scipy.linalg.eig(np.linalg.solve(B, A))
    order = np.argsort(-vals.real)
    return vals.real[order], vecs.real[:, order], A, B


def _same_columns(P, Q, atol):
    """Columns equal up to sign and normalisation."""
    for j in range(P.shape[1]):
        p = P[:, j] / np.linalg.norm(P[:, j])
        q = Q[:, j] / np.linalg.norm(Q[:, j])
        assert min(np.abs(p - q).max(), np.abs(p + q).max()) < atol, f"column {j} differs"


# -- the mathematics -------------------------------------------------------------
@pytest.mark.parametrize("kernel", ["rbf", "laplacian", "poly"])
def test_components_are_the_largest_eigenvalues(kernel):
    # audit: the original picked the smallest of the top-6 eigenvalues of pinv(a) b
    from tltk_core.kernels import kernel_matrix

    Xs, ys, Xt = _tiny()
    k, mu = 3, 0.5
    m = TCA(n_components=k, kernel=kernel, mu=mu, gamma=0.3).fit(Xs, ys, Xt)
    K = kernel_matrix(np.vstack([Xs, Xt]), kernel=kernel, gamma=0.3)
    vals, vecs, A, B = _brute_force(K, len(Xs), mu, k)
    np.testing.assert_allclose(m.eigenvalues_, vals[:k], rtol=1e-8)
    W = m.dual_coef_
    _same_columns(W, vecs[:, :k], 1e-6)
    # the objective: each chosen direction has the smallest (MMD + mu ||w||^2) /
    # variance ratio available -- below every other eigen-direction and random ones
    def ratio(w):
        return (w @ B @ w) / (w @ A @ w)

    chosen = [ratio(W[:, j]) for j in range(k)]
    others = [ratio(vecs[:, j]) for j in range(k, len(vals)) if vals[j] > 1e-9]
    rand = [ratio(v) for v in np.random.RandomState(1).randn(500, K.shape[0])]
    np.testing.assert_allclose(chosen, 1 / vals[:k], rtol=1e-8)
    assert max(chosen) <= min(others) * (1 + 1e-9)
    assert chosen[0] <= min(rand)


def test_linear_embedding_matches_brute_force():
    Xs, ys, Xt = _tiny(ns=9, nt=6, d=5)
    k, mu = 3, 0.2
    X = np.vstack([Xs, Xt])
    vals, vecs, _, _ = _brute_force(X @ X.T, len(Xs), mu, k)
    Z_ref = X @ X.T @ vecs[:, :k]
    for solver in ("primal", "dual"):
        m = TCA(n_components=k, mu=mu, solver=solver).fit(Xs, ys, Xt)
        assert m.solver_ == solver
        np.testing.assert_allclose(m.eigenvalues_, vals[:k], rtol=1e-7)
        _same_columns(m.embedding_, Z_ref, 1e-6)


def test_primal_equals_dual_dense_and_sparse():
    # audit: the original crashed with the 'primal' kernel (shape mismatch)
    Xs, ys, Xt, _ = make_domains(n_source=90, n_target=70, n_features=12)
    ref = TCA(n_components=6, solver="dual").fit(Xs, ys, Xt)
    for solver in ("primal", "auto"):
        for conv in (np.asarray, sp.csr_matrix):
            m = TCA(n_components=6, solver=solver).fit(conv(Xs), ys, conv(Xt))
            assert m.solver_ == "primal"
            np.testing.assert_allclose(m.eigenvalues_, ref.eigenvalues_, rtol=1e-7)
            np.testing.assert_allclose(m.embedding_, ref.embedding_, rtol=1e-6,
                                       atol=1e-8 * np.abs(ref.embedding_).max())
            np.testing.assert_allclose(m.transform(conv(Xt[:5])), ref.transform(Xt[:5]),
                                       rtol=1e-6, atol=1e-8 * np.abs(ref.embedding_).max())


@pytest.mark.parametrize("kernel", ["rbf", "linear"])
def test_lanczos_path_equals_dense_path(kernel, monkeypatch):
    # large dual problems use Lanczos on B^-1/2 A B^-1/2 (B = mu I + rank one)
    from tltk_tca import _tca

    Xs, ys, Xt, _ = make_domains(n_source=150, n_target=120, n_features=30, shift=1.0)
    kw = dict(n_components=8, kernel=kernel, solver="dual", mu=0.05)
    monkeypatch.setattr(_tca, "LANCZOS_MIN_N", 10**9)
    dense = TCA(**kw).fit(Xs, ys, Xt)
    monkeypatch.setattr(_tca, "LANCZOS_MIN_N", 10)
    lanczos = TCA(**kw).fit(Xs, ys, Xt)
    np.testing.assert_allclose(lanczos.eigenvalues_, dense.eigenvalues_, rtol=1e-8)
    scale = np.abs(dense.embedding_).max()
    np.testing.assert_allclose(lanczos.embedding_, dense.embedding_, atol=1e-7 * scale)


def test_mmd_is_reduced():
    Xs, ys, Xt, _ = make_domains(n_source=90, n_target=70, n_features=12, shift=1.5)
    m = TCA(n_components=3, mu=1e-3).fit(Xs, ys, Xt)
    Z = m.embedding_
    mmd = np.linalg.norm(Z[:90].mean(0) - Z[90:].mean(0)) / np.linalg.norm(Z.std(0))
    raw = np.linalg.norm(Xs.mean(0) - Xt.mean(0)) / np.linalg.norm(np.vstack([Xs, Xt]).std(0))
    assert mmd < 0.1 * raw


# -- regression tests from the audit of the original toolkit (section 2.3) -----
@pytest.mark.parametrize("kw", [{}, {"solver": "dual"}, {"kernel": "rbf"}])
def test_n_components_is_honoured(kw):
    # audit: eigs' default k=6 capped the embedding at 6 columns
    Xs, ys, Xt, _ = make_domains(n_source=80, n_target=60, n_features=40)
    m = TCA(n_components=20, **kw).fit(Xs, ys, Xt)
    assert m.transform(Xt).shape == (60, 20)
    assert m.embedding_.shape == (140, 20)
    assert np.all(np.abs(m.embedding_).max(axis=0) > 0), "a component is empty"


def test_more_components_than_features_gives_zero_columns():
    Xs, ys, Xt, _ = make_domains(n_features=8)
    for solver in ("primal", "dual"):
        Z = TCA(n_components=30, solver=solver).fit(Xs, ys, Xt).transform(Xt)
        assert Z.shape == (Xt.shape[0], 30)
        assert np.count_nonzero(np.abs(Z).max(axis=0) > 1e-6 * np.abs(Z).max()) <= 8


def test_too_many_components_is_an_input_error():
    Xs, ys, Xt, _ = make_domains(n_source=20, n_target=10)
    with pytest.raises(InputError, match="n_components"):
        TCA(n_components=31).fit(Xs, ys, Xt)
    TCA(n_components=30).fit(Xs, ys, Xt)


@pytest.mark.parametrize("kernel", KERNELS)
def test_all_zero_sample_gives_no_nan(kernel):
    # audit: 0/0 in the column normalisation made Z NaN
    Xs, ys, Xt, _ = make_domains()
    Xs, Xt = Xs.copy(), Xt.copy()
    Xs[3] = 0.0
    Xt[0] = 0.0
    m = TCA(n_components=5, kernel=kernel).fit(Xs, ys, Xt)
    assert np.all(np.isfinite(m.embedding_))
    assert np.all(np.isfinite(m.transform(np.zeros((2, Xs.shape[1])))))
    m.predict(Xt)
    m = TCA(n_components=5, kernel=kernel).fit(sp.csr_matrix(Xs), ys, sp.csr_matrix(Xt))
    assert np.all(np.isfinite(m.transform(sp.csr_matrix((2, Xs.shape[1])))))


def test_inputs_untouched_and_nan_rejected():
    # audit: kernel() overwrote NaNs in the caller's array in place
    Xs, ys, Xt, _ = make_domains()
    copies = Xs.copy(), ys.copy(), Xt.copy()
    m = TCA(n_components=4, kernel="rbf").fit(Xs, ys, Xt)
    Xnew = Xt[:5].copy()
    m.transform(Xnew)
    for a, b in zip((Xs, ys, Xt), copies):
        np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(Xnew, Xt[:5])
    bad = Xt.copy()
    bad[2, 1] = np.nan
    with pytest.raises(InputError, match="Xt"):
        TCA().fit(Xs, ys, bad)
    with pytest.raises(InputError, match="X"):
        m.transform(bad)
    assert np.isnan(bad[2, 1])


@pytest.mark.parametrize("kw", [{"kernel": "rbf"}, {"kernel": "poly"}, {"solver": "dual"},
                                {"solver": "primal"}])
def test_transform_of_training_samples_equals_embedding(kw):
    # audit: transform used raw x_test against the normalised training X (rbf)
    Xs, ys, Xt, _ = make_domains()
    m = TCA(n_components=5, **kw).fit(Xs, ys, Xt)
    scale = np.abs(m.embedding_).max()
    np.testing.assert_allclose(m.transform(Xs), m.embedding_[: len(Xs)], atol=1e-9 * scale)
    np.testing.assert_allclose(m.transform(Xt), m.embedding_[len(Xs):], atol=1e-9 * scale)


def test_refit_with_another_kernel_forgets_the_old_projection():
    Xs, ys, Xt, _ = make_domains()
    m = TCA(n_components=4).fit(Xs, ys, Xt)
    m.set_params(kernel="rbf").fit(Xs, ys, Xt)
    assert not hasattr(m, "components_")
    np.testing.assert_allclose(m.transform(Xt), m.embedding_[len(Xs):], atol=1e-9)


def test_default_estimators_are_not_shared():
    # audit: one LinearSVC instance was the default of every TCA object
    from sklearn.neighbors import KNeighborsClassifier

    Xs, ys, Xt, _ = make_domains()
    a, b = TCA(), TCA()
    assert a.estimator is None and b.estimator is None
    a.fit(Xs, ys, Xt)
    b.fit(Xs, ys, Xt)
    assert a.estimator_ is not b.estimator_
    assert isinstance(a.estimator_, KNeighborsClassifier) and a.estimator_.n_neighbors == 1
    given = KNeighborsClassifier(n_neighbors=3)
    c = TCA(estimator=given).fit(Xs, ys, Xt)
    assert c.estimator_ is not given and not hasattr(given, "classes_")
    assert a.baseline_estimator() is not b.baseline_estimator()


@pytest.mark.parametrize("params, name", [
    ({"n_components": 0}, "n_components"), ({"n_components": 2.5}, "n_components"),
    ({"kernel": "sigmoid"}, "kernel"), ({"mu": 0}, "mu"), ({"gamma": -1.0}, "gamma"),
    ({"solver": "lanczos"}, "solver"), ({"solver": "primal", "kernel": "rbf"}, "solver"),
    ({"estimator": "knn"}, "estimator"), ({"degree": 0}, "degree"),
])
def test_bad_hyperparameters(params, name):
    Xs, ys, Xt, _ = make_domains()
    with pytest.raises(InputError, match=name):
        TCA(**params).fit(Xs, ys, Xt)


def test_auto_solver_choice():
    Xs, ys, Xt, _ = make_domains(n_features=8)
    assert TCA(n_components=4).fit(Xs, ys, Xt).solver_ == "primal"
    assert TCA(n_components=4, kernel="rbf").fit(Xs, ys, Xt).solver_ == "dual"
    Xs, ys, Xt, _ = make_domains(n_source=20, n_target=15, n_features=50)
    assert TCA(n_components=4).fit(Xs, ys, Xt).solver_ == "dual"


# -- transfer on real data -------------------------------------------------------
def _nn_accuracy(Xs, ys, Xt, yt):
    from sklearn.neighbors import KNeighborsClassifier

    return KNeighborsClassifier(n_neighbors=1).fit(Xs, ys).score(Xt, yt)


def test_default_beats_its_baseline_on_the_bundled_task():
    from tltk_core.data import bundled_task

    task = bundled_task()
    Xs, ys = task.sources[0].X, task.sources[0].y
    Xt, yt = task.target.X, task.target.y
    m = TCA()
    base = m.baseline_estimator().fit(Xs, ys).score(Xt, yt)
    acc = m.fit(Xs, ys, Xt).score(Xt, yt)
    assert base == pytest.approx(0.298, abs=0.002)   # the NN column of Long et al.
    assert acc > base + 0.05, (acc, base)


def _office(name):
    from scipy.io import loadmat
    from tltk_core.data import histogram_zscore

    files = {"C": "Caltech10_SURF_L10.mat", "A": "amazon_SURF_L10.mat",
             "W": "webcam_SURF_L10.mat", "D": "dslr_SURF_L10.mat"}
    mat = loadmat(data_file("office-caltech-surf", files[name]))
    return histogram_zscore(mat["fts"]), mat["labels"].ravel().astype(int)


# Long et al., ICCV 2013, Table 2 (NN and TCA columns), 100 components, 1-NN
@pytest.mark.parametrize("source, target, nn, published", [
    ("C", "A", 23.7, 38.2), ("A", "W", 29.8, 37.6)])
def test_office_caltech_reproduces_published_tca(source, target, nn, published):
    Xs, ys = _office(source)
    Xt, yt = _office(target)
    assert 100 * _nn_accuracy(Xs, ys, Xt, yt) == pytest.approx(nn, abs=0.1)
    acc = 100 * TCA(n_components=100).fit(Xs, ys, Xt).score(Xt, yt)
    assert acc == pytest.approx(published, abs=0.5)
    assert acc > nn + 5


def test_20newsgroups_sparse_with_linear_classifier(monkeypatch):
    from sklearn.datasets import load_svmlight_file
    from sklearn.preprocessing import normalize
    from sklearn.svm import LinearSVC

    def load(name):
        X, y = load_svmlight_file(str(data_file("20ng-sci-talk", name + ".svm")),
                                  n_features=16249, zero_based=True)
        return normalize(X.tocsr()), y.astype(int)   # unit-length tf-idf rows

    Xs, ys = load("med-misc")
    Xt, yt = load("space-religion")
    base = LinearSVC().fit(Xs, ys).score(Xt, yt)
    shapes = []                           # no n x d densification (see benchmarks/)
    orig = sp.csr_matrix.toarray
    monkeypatch.setattr(sp.csr_matrix, "toarray",
                        lambda self, *a, **k: shapes.append(self.shape) or orig(self, *a, **k))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")   # liblinear convergence chatter
        m = TCA(n_components=30, estimator=LinearSVC()).fit(Xs, ys, Xt)
    assert not [s for s in shapes if 16249 in s and min(s) > 1], shapes
    assert m.solver_ == "dual" and sp.issparse(Xs)
    acc = m.score(Xt, yt)
    assert acc > base + 0.03, (acc, base)
