"""The low-rank (Nystroem) path: the feature map against the exact kernel, and
TCA / JDA with ``approximation="nystroem"`` against their exact solutions."""
import numpy as np
import pytest
import scipy.sparse as sp

import tltk_core.kernels as kernels
from tltk_core import InputError
from tltk_core.kernels import (KERNELS, NystroemMap, check_low_rank_params, kernel_matrix,
                               resolve_gamma, use_nystroem)
from tltk_core.testing import make_domains, method_checks

tltk_tca = pytest.importorskip("tltk_tca")
tltk_jda = pytest.importorskip("tltk_jda")
from tltk_jda import JDA  # noqa: E402
from tltk_tca import TCA  # noqa: E402

METHODS = [TCA, JDA]


def _module(cls):
    return tltk_tca._tca if cls is TCA else tltk_jda._jda


# -- the feature map -----------------------------------------------------------
@pytest.mark.parametrize("kernel", KERNELS)
@pytest.mark.parametrize("sparse", [False, True])
def test_all_landmarks_reproduce_the_kernel(kernel, sparse):
    X = np.random.RandomState(0).rand(60, 5)
    X = sp.csr_matrix(X) if sparse else X
    g = resolve_gamma(X, None)
    K = kernel_matrix(X, kernel=kernel, gamma=g)
    nm = NystroemMap(kernel=kernel, gamma=g, n_landmarks=60).fit(X)
    Phi = nm.transform(X)
    assert np.allclose(Phi @ Phi.T, K, atol=1e-8 * np.abs(K).max())
    np.testing.assert_array_equal(nm.landmark_indices_, np.arange(60))
    # more landmarks than samples: all samples, same map
    assert np.allclose(NystroemMap(kernel=kernel, gamma=g, n_landmarks=500).fit_transform(X), Phi)


def test_error_decreases_with_landmarks():
    X = np.random.RandomState(1).randn(400, 6)
    g = resolve_gamma(X, None)
    K = kernel_matrix(X, kernel="rbf", gamma=g)
    errs = []
    for m in (10, 40, 160, 400):
        Phi = NystroemMap(kernel="rbf", gamma=g, n_landmarks=m, random_state=0).fit_transform(X)
        errs.append(np.linalg.norm(Phi @ Phi.T - K) / np.linalg.norm(K))
    assert all(a > b for a, b in zip(errs, errs[1:])), errs
    assert errs[-1] < 1e-8


def test_map_is_seeded_chunked_and_maps_new_points(monkeypatch):
    rng = np.random.RandomState(2)
    X, Xnew = rng.randn(300, 4), rng.randn(50, 4)
    a = NystroemMap(n_landmarks=30, gamma=0.3, random_state=7).fit(X)
    b = NystroemMap(n_landmarks=30, gamma=0.3, random_state=7).fit(X)
    c = NystroemMap(n_landmarks=30, gamma=0.3, random_state=8).fit(X)
    np.testing.assert_array_equal(a.landmark_indices_, b.landmark_indices_)
    assert not np.array_equal(a.landmark_indices_, c.landmark_indices_)
    full = a.transform(Xnew)
    monkeypatch.setattr(kernels, "NYSTROEM_CHUNK", 7)
    np.testing.assert_allclose(a.transform(Xnew), full, rtol=1e-12, atol=1e-12)
    # Phi(x) Phi(L)^T reproduces k(x, L) exactly on the landmarks
    L = X[a.landmark_indices_]
    assert np.allclose(full @ a.transform(L).T, kernel_matrix(Xnew, L, kernel="rbf", gamma=0.3))


def test_map_rejects_bad_arguments():
    X = np.ones((5, 2))
    with pytest.raises(InputError, match="n_landmarks"):
        NystroemMap(n_landmarks=0).fit(X)
    with pytest.raises(InputError, match="kernel"):
        NystroemMap(kernel="sigmoid").fit(X)


def test_use_nystroem_rule():
    assert not use_nystroem("auto", "rbf", 5000, 5000)
    assert use_nystroem("auto", "rbf", 5001, 5000)
    assert not use_nystroem("auto", "linear", 10**6, 5000)
    assert use_nystroem("nystroem", "rbf", 10, 5000)
    assert not use_nystroem("exact", "rbf", 10**6, 5000)


@pytest.mark.parametrize("args, name", [
    (("fast", 10, None, "rbf"), "approximation"),
    (("auto", 0, None, "rbf"), "n_landmarks"),
    (("auto", 2.5, None, "rbf"), "n_landmarks"),
    (("auto", True, None, "rbf"), "n_landmarks"),
    (("auto", 10, "seed", "rbf"), "random_state"),
    (("auto", 10, -1, "rbf"), "random_state"),
    (("nystroem", 10, None, "linear"), "approximation"),
    (("nystroem", 10, None, "rbf", "dual"), "approximation"),
])
def test_check_low_rank_params(args, name):
    with pytest.raises(InputError, match=name):
        check_low_rank_params(*args)
    check_low_rank_params("nystroem", 10, np.random.RandomState(0), "rbf")


# -- TCA and JDA ---------------------------------------------------------------
@pytest.mark.parametrize("cls", METHODS, ids=lambda c: c.__name__)
@pytest.mark.parametrize("kernel", ["rbf", "poly"])
def test_nystroem_with_all_landmarks_is_the_exact_solution(cls, kernel):
    Xs, ys, Xt, _ = make_domains(n_classes=3, n_source=70, n_target=50)
    kw = dict(kernel=kernel, n_components=8, max_iter=3) if cls is JDA else \
        dict(kernel=kernel, n_components=8)
    ex = cls(approximation="exact", **kw).fit(Xs, ys, Xt)
    ny = cls(approximation="nystroem", n_landmarks=120, **kw).fit(Xs, ys, Xt)
    assert ex.approximation_ == "exact" and ny.approximation_ == "nystroem"
    assert ny.solver_ == "primal" and hasattr(ny, "nystroem_") and not hasattr(ny, "dual_coef_")
    np.testing.assert_allclose(ny.eigenvalues_, ex.eigenvalues_, rtol=1e-6,
                               atol=1e-9 * ex.eigenvalues_[0])
    live = ex.eigenvalues_ > 1e-6 * ex.eigenvalues_[0]
    np.testing.assert_allclose(ny.embedding_[:, live], ex.embedding_[:, live], atol=1e-6)
    np.testing.assert_array_equal(ny.predict(Xt), ex.predict(Xt))


@pytest.mark.parametrize("cls", METHODS, ids=lambda c: c.__name__)
def test_transform_of_training_samples_equals_embedding(cls):
    Xs, ys, Xt, _ = make_domains(n_source=90, n_target=70)
    m = cls(kernel="rbf", approximation="nystroem", n_landmarks=40, random_state=0,
            n_components=5).fit(Xs, ys, Xt)
    np.testing.assert_allclose(m.transform(Xt), m.embedding_[90:], atol=1e-10)
    assert m.nystroem_.landmarks_.shape == (40, Xs.shape[1])


@pytest.mark.parametrize("cls", METHODS, ids=lambda c: c.__name__)
def test_nystroem_on_sparse_input_matches_dense(cls):
    Xs, ys, Xt, _ = make_domains(n_source=60, n_target=60)
    kw = dict(kernel="rbf", approximation="nystroem", n_landmarks=30, random_state=1,
              n_components=4)
    d = cls(**kw).fit(Xs, ys, Xt)
    s = cls(**kw).fit(sp.csr_matrix(Xs), ys, sp.csr_matrix(Xt))
    np.testing.assert_allclose(s.embedding_, d.embedding_, atol=1e-8)


@pytest.mark.parametrize("cls", METHODS, ids=lambda c: c.__name__)
def test_seeded_nystroem_is_deterministic(cls):
    Xs, ys, Xt, _ = make_domains(n_source=100, n_target=80)
    kw = dict(kernel="rbf", approximation="nystroem", n_landmarks=25, n_components=5)
    a = cls(random_state=3, **kw).fit(Xs, ys, Xt)
    b = cls(random_state=3, **kw).fit(Xs, ys, Xt)
    np.testing.assert_array_equal(a.embedding_, b.embedding_)
    np.testing.assert_array_equal(a.predict(Xt), b.predict(Xt))


@pytest.mark.parametrize("cls", METHODS, ids=lambda c: c.__name__)
def test_auto_switches_above_the_threshold(cls, monkeypatch):
    Xs, ys, Xt, _ = make_domains(n_source=60, n_target=50)   # n = 110
    kw = dict(n_components=4, n_landmarks=30, random_state=0)
    assert cls(kernel="rbf", **kw).fit(Xs, ys, Xt).approximation_ == "exact"
    monkeypatch.setattr(_module(cls), "NYSTROEM_MIN_N", 110)
    assert cls(kernel="rbf", **kw).fit(Xs, ys, Xt).approximation_ == "exact"
    monkeypatch.setattr(_module(cls), "NYSTROEM_MIN_N", 109)
    m = cls(kernel="rbf", **kw).fit(Xs, ys, Xt)
    assert m.approximation_ == "nystroem" and m.nystroem_.landmark_indices_.size == 30
    # never for the linear kernel, not when asked for exact or for the dual solver
    assert cls(kernel="linear", **kw).fit(Xs, ys, Xt).approximation_ == "exact"
    assert cls(kernel="rbf", approximation="exact", **kw).fit(Xs, ys, Xt).approximation_ \
        == "exact"
    m = cls(kernel="rbf", solver="dual", **kw).fit(Xs, ys, Xt)
    assert m.approximation_ == "exact" and hasattr(m, "dual_coef_")
    # a refit in the other form forgets the Nystroem map
    monkeypatch.setattr(_module(cls), "NYSTROEM_MIN_N", 5000)
    m = cls(kernel="rbf", approximation="nystroem", **kw).fit(Xs, ys, Xt)
    m.set_params(approximation="exact").fit(Xs, ys, Xt)
    assert not hasattr(m, "nystroem_") and m.transform(Xt).shape == (50, 4)


@pytest.mark.parametrize("cls", METHODS, ids=lambda c: c.__name__)
@pytest.mark.parametrize("params, name", [
    ({"approximation": "svd"}, "approximation"),
    ({"n_landmarks": 0}, "n_landmarks"),
    ({"n_landmarks": 10.0}, "n_landmarks"),
    ({"random_state": "zero"}, "random_state"),
    ({"approximation": "nystroem", "kernel": "linear"}, "approximation"),
    ({"approximation": "nystroem", "kernel": "rbf", "solver": "dual"}, "approximation"),
])
def test_bad_low_rank_hyperparameters(cls, params, name):
    Xs, ys, Xt, _ = make_domains()
    with pytest.raises(InputError, match=name):
        cls(**params).fit(Xs, ys, Xt)


@pytest.mark.parametrize("cls", METHODS, ids=lambda c: c.__name__)
def test_nystroem_accuracy_within_one_point_of_exact(cls):
    from tltk_core import load_task

    task = load_task("synthetic", "conditional", n_samples=700, seed=0)
    s, t = task.sources[0], task.target
    kw = dict(kernel="rbf", random_state=0)
    acc = {}
    for appr in ("exact", "nystroem"):
        m = cls(approximation=appr, n_landmarks=300, **kw).fit(s.X, s.y, t.X)
        acc[appr] = np.mean(m.predict(t.X) == t.y)
    assert abs(acc["exact"] - acc["nystroem"]) <= 0.01, acc
    assert acc["nystroem"] > 0.8, acc


CONFORMANCE = [(cls, check) for cls in METHODS for check in method_checks(
    cls, {"kernel": "rbf", "approximation": "nystroem", "n_landmarks": 40})]


@pytest.mark.parametrize("cls, check", CONFORMANCE,
                         ids=lambda x: getattr(x, "__name__", str(x)))
def test_conformance_nystroem(cls, check):
    check()
