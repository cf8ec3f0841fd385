"""Shared math, checked against direct computations on small cases."""
import numpy as np
import pytest
import scipy.linalg
import scipy.sparse as sp

from tltk_core import InputError
from tltk_core.kernels import (center_kernel, class_mmd_vectors, kernel_matrix, mmd_vector,
                               resolve_gamma, scatter_matrix, top_generalized_eigh)


def test_mmd_vector_gives_squared_mean_difference():
    rng = np.random.RandomState(0)
    Zs, Zt = rng.rand(4, 3), rng.rand(6, 3) + 1
    e = mmd_vector(4, 6)
    Z = np.vstack([Zs, Zt])
    by_hand = np.sum((Zs.mean(0) - Zt.mean(0)) ** 2)
    assert np.isclose((e @ Z) @ (e @ Z), by_hand)
    assert np.isclose(np.trace(Z.T @ np.outer(e, e) @ Z), by_hand)


def test_class_mmd_vectors_hand_case():
    E = class_mmd_vectors([0, 0, 1], [1, 1, 2], 3)
    assert np.allclose(E[:, 0], 0)  # class 0 absent from the target
    assert np.allclose(E[:, 1], [0, 0, 1, -0.5, -0.5, 0])
    assert np.allclose(E[:, 2], 0)  # class 2 absent from the source


def test_scatter_matrix_dense_and_sparse_match_definition():
    X = np.random.RandomState(1).rand(7, 4)
    H = np.eye(7) - np.ones((7, 7)) / 7
    ref = X.T @ H @ X
    assert np.allclose(scatter_matrix(X), ref)
    assert np.allclose(scatter_matrix(sp.csr_matrix(X)), ref)


def test_center_kernel_is_hkh():
    K = np.random.RandomState(2).rand(5, 5)
    K = K + K.T
    H = np.eye(5) - np.ones((5, 5)) / 5
    assert np.allclose(center_kernel(K), H @ K @ H)


def test_kernels_dense_sparse_agree():
    X = np.random.RandomState(3).rand(6, 3)
    for k in ("linear", "rbf", "poly", "laplacian", "cosine"):
        g = resolve_gamma(X, None)
        assert np.allclose(kernel_matrix(X, kernel=k, gamma=g),
                           kernel_matrix(sp.csr_matrix(X), kernel=k, gamma=g))
    assert np.isclose(resolve_gamma(sp.csr_matrix(X), None), resolve_gamma(X, None))
    with pytest.raises(InputError, match="kernel must be one of"):
        kernel_matrix(X, kernel="sigmoidal")


def test_top_generalized_eigh_matches_full_solution():
    rng = np.random.RandomState(4)
    A = rng.rand(6, 6)
    A = A + A.T
    B = rng.rand(6, 6)
    B = B @ B.T + 6 * np.eye(6)
    w, V = top_generalized_eigh(A, B, 2)
    w_all = np.sort(scipy.linalg.eigh(A, B, eigvals_only=True))[::-1]
    assert np.allclose(w, w_all[:2])
    assert np.allclose(A @ V, B @ V * w)
    w6, _ = top_generalized_eigh(A, B, 6)
    assert np.allclose(w6, w_all)
    with pytest.raises(InputError, match="n_components must be between 1 and 6"):
        top_generalized_eigh(A, B, 7)


def test_rank_one_shift_solver_matches_generalized_eigh():
    from tltk_core.kernels import top_eigh_rank_one_shift

    rng = np.random.RandomState(5)
    X = rng.rand(40, 40)
    A = X @ X.T
    q = rng.rand(40)
    mu = 0.3
    B = mu * np.eye(40) + np.outer(q, q)
    w_ref, V_ref = top_generalized_eigh(A, B, 3)
    w, V = top_eigh_rank_one_shift(A.copy(), q, mu, 3)
    assert np.allclose(w, w_ref)
    assert np.allclose(np.abs(V), np.abs(V_ref), atol=1e-8)
    assert np.allclose(V.T @ B @ V, np.eye(3), atol=1e-8)


def test_unit_components_and_sign_flips():
    from tltk_core.kernels import sign_flips, unit_components

    w, V = unit_components([4.0, 1e-20], np.array([[3.0, 1.0], [4.0, 1.0]]), rtol=1e-12)
    assert np.allclose(V[:, 0], [0.6, 0.8]) and np.allclose(V[:, 1], 0) and w[1] == 0
    Z = np.array([[1.0, -3.0], [-2.0, 1.0]])
    assert np.array_equal(sign_flips(Z), [-1.0, -1.0])
