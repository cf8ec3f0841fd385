"""Tests of the JDA plugin: conformance, the math against brute force, the
original toolkit's defects (audit section 2.4) as regression tests, and the
paper's Office-Caltech numbers on real data."""

import numpy as np
import pytest
import scipy.linalg
import scipy.sparse as sp
from sklearn.neighbors import KNeighborsClassifier

from tltk_core import InputError
from tltk_core.testing import check_light_import, data_file, make_domains, method_checks
from tltk_jda import JDA
from tltk_jda import _jda


# -- conformance -------------------------------------------------------------
@pytest.mark.parametrize("check", method_checks(JDA), ids=lambda c: c.__name__)
def test_conformance(check):
    check()


@pytest.mark.parametrize("check", method_checks(JDA, {"kernel": "rbf", "max_iter": 3}),
                         ids=lambda c: c.__name__)
def test_conformance_rbf(check):
    check()


def test_registered_and_import_is_light():
    from tltk_core import get_method

    assert get_method("jda") is JDA
    check_light_import("tltk_jda")


def test_info():
    info = JDA.info
    assert info.name == "jda" and info.family == "feature"
    assert info.settings == ("unsupervised",) and info.sparse
    assert "Long" in info.reference and "2013" in info.reference


# -- helpers -------------------------------------------------------------------
def _tiny(ns=12, nt=9, d=5, seed=0, n_classes=3):
    rng = np.random.RandomState(seed)
    ys = np.arange(ns) % n_classes
    yt = np.arange(nt) % n_classes
    centres = rng.randn(n_classes, d) * 2
    Xs = centres[ys] + rng.randn(ns, d)
    Xt = centres[yt] * 1.3 + 0.8 + rng.randn(nt, d)   # shifted target
    return Xs, ys, Xt, yt


def _dense_M(ns, nt, ys, yt_pseudo, C):
    """JDA's M from the n x n definitions: (C M0 + sum_c M_c) / ||.||_F."""
    n = ns + nt
    e = np.r_[np.full(ns, 1.0 / ns), np.full(nt, -1.0 / nt)]
    M = C * np.outer(e, e)
    if yt_pseudo is not None:
        for c in range(C):
            s, t = ys == c, yt_pseudo == c
            if s.any() and t.any():
                ec = np.zeros(n)
                ec[:ns][s] = 1.0 / s.sum()
                ec[ns:][t] = -1.0 / t.sum()
                M += np.outer(ec, ec)
    return M / np.linalg.norm(M)


def _brute_force_embedding(K, M, mu, k):
    """Top-k of (K M K + mu I)^-1 K H K by a general dense eigensolver; Z = K W."""
    n = K.shape[0]
    H = np.eye(n) - np.ones((n, n)) / n
    vals, vecs = scipy.linalg.eig(np.linalg.solve(K @ M @ K + mu * np.eye(n), K @ H @ K))
    order = np.argsort(-vals.real)[:k]
    W = vecs.real[:, order]
    W /= np.linalg.norm(W, axis=0)
    return vals.real[order], K @ W


def _same_columns(P, Q, atol):
    """Columns equal up to sign."""
    for j in range(P.shape[1]):
        assert min(np.abs(P[:, j] - Q[:, j]).max(), np.abs(P[:, j] + Q[:, j]).max()) < atol, \
            f"column {j} differs"


# -- the mathematics -------------------------------------------------------------
@pytest.mark.parametrize("kw", [dict(kernel="linear", solver="primal"),
                                dict(kernel="linear", solver="dual"),
                                dict(kernel="rbf", gamma=0.1)])
def test_final_embedding_is_the_rebuilt_M_problem_by_brute_force(kw):
    # audit 2.4: the original accumulated M across iterations (M += N); Long et al.
    # rebuild M = M0 + sum_c M_c from the current pseudo-labels. The final
    # embedding must be the solution for M built from conditional_labels_ alone.
    Xs, ys, Xt, _ = _tiny()
    m = JDA(n_components=3, max_iter=4, normalize=False, mu=0.5, **kw).fit(Xs, ys, Xt)
    assert m.n_iter_ >= 2 and m.conditional_labels_ is not None
    X = np.vstack([Xs, Xt])
    from tltk_core.kernels import kernel_matrix
    K = kernel_matrix(X, kernel=m.kernel, gamma=m.gamma_)
    M = _dense_M(len(ys), len(Xt), ys, m.conditional_labels_, 3)
    w, Z = _brute_force_embedding(K, M, 0.5, 3)
    np.testing.assert_allclose(m.eigenvalues_, w, rtol=1e-6)
    _same_columns(m.embedding_, Z, atol=1e-6)


def test_mmd_coefficients_give_the_dense_M():
    Xs, ys, Xt, yt = _tiny()
    for labels in (None, yt, np.zeros_like(yt)):   # incl. classes absent from the target
        E = _jda.mmd_coefficients(len(ys), len(yt), ys, labels, 3)
        np.testing.assert_allclose(E @ E.T, _dense_M(len(ys), len(yt), ys, labels, 3),
                                   atol=1e-14)


def test_one_iteration_is_tca():
    tltk_tca = pytest.importorskip("tltk_tca")
    Xs, ys, Xt, _ = _tiny(ns=15, nt=11, d=6)
    mu = 0.3
    jda = JDA(n_components=4, max_iter=1, normalize=False, mu=mu).fit(Xs, ys, Xt)
    assert jda.conditional_labels_ is None
    # without pseudo-labels M = e e^T / ||e||^2: TCA with mu ||e||^2
    e2 = 1 / len(ys) + 1 / len(Xt)
    tca = tltk_tca.TCA(n_components=4, mu=mu * e2).fit(Xs, ys, Xt)
    _same_columns(jda.embedding_, tca.embedding_, atol=1e-8)


def test_primal_equals_dual_dense_and_sparse():
    Xs, ys, Xt, _ = make_domains(n_classes=3, n_source=60, n_target=45, n_features=10)
    ref = JDA(n_components=5, solver="dual").fit(Xs, ys, Xt)
    for a, b in ((Xs, Xt), (sp.csr_matrix(Xs), sp.csr_matrix(Xt))):
        m = JDA(n_components=5, solver="primal").fit(a, ys, b)
        assert m.solver_ == "primal"
        np.testing.assert_allclose(m.eigenvalues_, ref.eigenvalues_, rtol=1e-7)
        _same_columns(m.embedding_, ref.embedding_, atol=1e-7)
        np.testing.assert_array_equal(m.pseudo_labels_, ref.pseudo_labels_)


@pytest.mark.parametrize("kernel", ["linear", "rbf"])
def test_lanczos_path_equals_dense_path(kernel, monkeypatch):
    Xs, ys, Xt, _ = make_domains(n_classes=3, n_source=90, n_target=70)
    kw = dict(n_components=4, kernel=kernel, solver="dual", max_iter=3)
    dense = JDA(**kw).fit(Xs, ys, Xt)
    monkeypatch.setattr(_jda, "LANCZOS_MIN_N", 10)
    lanczos = JDA(**kw).fit(Xs, ys, Xt)
    np.testing.assert_allclose(lanczos.eigenvalues_, dense.eigenvalues_, rtol=1e-7)
    _same_columns(lanczos.embedding_, dense.embedding_, atol=1e-6)


def test_transform_of_training_samples_equals_embedding():
    Xs, ys, Xt, _ = make_domains(n_classes=3, n_source=60, n_target=45)
    for kw in (dict(), dict(kernel="rbf"), dict(normalize=False)):
        m = JDA(n_components=5, **kw).fit(Xs, ys, Xt)
        np.testing.assert_allclose(m.transform(np.vstack([Xs, Xt])), m.embedding_,
                                   atol=1e-10)


# -- the original toolkit's defects (audit 2.4) -----------------------------
@pytest.mark.parametrize("kw", [dict(), dict(solver="dual"), dict(kernel="rbf")])
def test_n_components_is_honoured_not_capped_at_6(kw):
    Xs, ys, Xt, _ = make_domains(n_classes=2, n_source=80, n_target=60, n_features=30)
    m = JDA(n_components=20, **kw).fit(Xs, ys, Xt)
    assert m.transform(Xt).shape == (60, 20)
    assert np.all(np.diff(m.eigenvalues_) <= 1e-12)   # the largest, decreasing


def test_too_many_components_is_an_input_error():
    Xs, ys, Xt, _ = _tiny()
    with pytest.raises(InputError, match="n_components"):
        JDA(n_components=22).fit(Xs, ys, Xt)


@pytest.mark.parametrize("sparse", [False, True])
def test_all_zero_sample_gives_no_nan(sparse):
    Xs, ys, Xt, _ = make_domains()
    Xs, Xt = Xs.copy(), Xt.copy()
    Xs[3] = 0.0
    Xt[5] = 0.0
    if sparse:
        Xs, Xt = sp.csr_matrix(Xs), sp.csr_matrix(Xt)
    m = JDA(n_components=5).fit(Xs, ys, Xt)
    assert np.isfinite(m.embedding_).all() and np.isfinite(m.transform(Xt)).all()
    m.predict(Xt)


def test_labels_need_not_be_codes():
    # audit 2.4: labels other than 0..C-1 silently dropped classes from the
    # conditional MMD. The core encodes them; the result must be identical.
    Xs, ys, Xt, _ = make_domains(n_classes=3, n_source=90, n_target=60)
    ref = JDA(n_components=5).fit(Xs, ys, Xt)
    odd = np.array([7, 42, 100])[ys]
    m = JDA(n_components=5).fit(Xs, odd, Xt)
    np.testing.assert_allclose(m.embedding_, ref.embedding_)
    np.testing.assert_array_equal(m.predict(Xt), np.array([7, 42, 100])[ref.predict(Xt)])
    assert len(np.unique(ref.conditional_labels_)) == 3   # all classes in M


class _CountingKNN(KNeighborsClassifier):
    fits = 0

    def fit(self, X, y):
        type(self).fits += 1
        return super().fit(X, y)


def test_the_same_classifier_pseudo_labels_and_predicts():
    # audit 2.4: pseudo-labels came from 1-NN but predictions from LinearSVC
    Xs, ys, Xt, _ = make_domains(n_classes=3, n_source=90, n_target=60)
    _CountingKNN.fits = 0
    m = JDA(n_components=5, max_iter=4, estimator=_CountingKNN(n_neighbors=3)).fit(Xs, ys, Xt)
    assert _CountingKNN.fits == m.n_iter_        # one per iteration, nothing else
    assert isinstance(m.estimator_, _CountingKNN) and m.estimator_.n_neighbors == 3
    np.testing.assert_array_equal(m.classes_[m.pseudo_labels_], m.predict(Xt))
    default = JDA().fit(Xs, ys, Xt)
    assert isinstance(default.estimator_, KNeighborsClassifier)
    assert default.estimator_.n_neighbors == 1
    assert JDA().fit(Xs, ys, Xt).estimator_ is not default.estimator_   # not shared


def test_early_stop_is_the_same_result():
    Xs, ys, Xt, _ = make_domains(n_classes=3, n_source=90, n_target=60)
    m = JDA(n_components=5, max_iter=30).fit(Xs, ys, Xt)
    assert m.n_iter_ < 30
    again = JDA(n_components=5, max_iter=m.n_iter_ + 1).fit(Xs, ys, Xt)
    np.testing.assert_allclose(again.embedding_, m.embedding_)


def test_silent_and_inputs_untouched(capsys):
    Xs, ys, Xt, _ = make_domains()
    Xs.setflags(write=False)
    copy = Xt.copy()
    JDA(n_components=5).fit(Xs, ys, Xt).predict(Xt)
    np.testing.assert_array_equal(Xt, copy)
    assert capsys.readouterr().out == ""           # the original printed every iteration


@pytest.mark.parametrize("params, name", [
    ({"n_components": 0}, "n_components"), ({"kernel": "sigmoid"}, "kernel"),
    ({"mu": 0}, "mu"), ({"max_iter": 0}, "max_iter"), ({"normalize": "yes"}, "normalize"),
    ({"solver": "x"}, "solver"), ({"gamma": -1.0}, "gamma"),
    ({"kernel": "rbf", "solver": "primal"}, "solver")])
def test_bad_hyperparameters(params, name):
    Xs, ys, Xt, _ = make_domains()
    with pytest.raises(InputError, match=name):
        JDA(**params).fit(Xs, ys, Xt)


# -- real data -------------------------------------------------------------
def _office(name):
    from scipy.io import loadmat
    from tltk_core.data import histogram_zscore

    files = {"C": "Caltech10_SURF_L10.mat", "A": "amazon_SURF_L10.mat",
             "W": "webcam_SURF_L10.mat", "D": "dslr_SURF_L10.mat"}
    mat = loadmat(data_file("office-caltech-surf", files[name]))
    return histogram_zscore(mat["fts"]), mat["labels"].ravel().astype(int)


# Long et al., ICCV 2013, Table 2 (NN and JDA columns): 100 components, 10 iterations
@pytest.mark.parametrize("source, target, nn, published", [
    ("A", "W", 29.8, 38.0), ("D", "W", 63.4, 89.5)])
def test_office_caltech_reproduces_published_jda(source, target, nn, published):
    Xs, ys = _office(source)
    Xt, yt = _office(target)
    m = JDA(n_components=100)
    base = 100 * m.baseline_estimator().fit(Xs, ys).score(Xt, yt)
    assert base == pytest.approx(nn, abs=0.1)
    acc = 100 * m.fit(Xs, ys, Xt).score(Xt, yt)
    assert acc == pytest.approx(published, abs=0.5)
    assert acc > base + 5


def _20ng(name):
    from sklearn.datasets import load_svmlight_file
    from sklearn.preprocessing import normalize

    X, y = load_svmlight_file(str(data_file("20ng-sci-talk", name + ".svm")),
                              n_features=16249, zero_based=True)
    return normalize(X.tocsr()), y.astype(int)   # unit-length tf-idf rows


def test_20newsgroups_sparse_with_linear_classifier(monkeypatch):
    """benchmarks/kernel_methods_20ng.py: JDA + LinearSVC, med -> space, without
    densifying the 16249-column data. Two iterations (marginal, then one
    conditional refinement) keep the test under 15 s; the benchmark runs 10."""
    import warnings

    from sklearn.svm import LinearSVC

    Xs, ys = _20ng("med-misc")
    Xt, yt = _20ng("space-religion")
    base = LinearSVC().fit(Xs, ys).score(Xt, yt)
    shapes = []
    orig = sp.csr_matrix.toarray
    monkeypatch.setattr(sp.csr_matrix, "toarray",
                        lambda self, *a, **k: shapes.append(self.shape) or orig(self, *a, **k))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")   # liblinear convergence chatter
        m = JDA(n_components=30, max_iter=2, estimator=LinearSVC()).fit(Xs, ys, Xt)
    assert not [s for s in shapes if 16249 in s and min(s) > 1], shapes
    assert m.solver_ == "dual" and m.n_iter_ == 2
    acc = m.score(Xt, yt)
    assert acc > base + 0.05, (acc, base)
