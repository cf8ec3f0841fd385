"""tltk_core.kernels.top_eigh_low_rank_shift (added for JDA's rank-(C+1) MMD matrix)."""
import numpy as np
import pytest

from tltk_core import InputError
from tltk_core.kernels import top_eigh_low_rank_shift, top_generalized_eigh


def _problem(n=80, r=4, seed=0):
    rng = np.random.RandomState(seed)
    X = rng.randn(n, n)
    return X @ X.T, rng.randn(n, r)


@pytest.mark.parametrize("r", [1, 4, 11])
def test_matches_dense_generalised_solver(r):
    A, Q = _problem(r=r)
    mu = 0.3
    B = Q @ Q.T + mu * np.eye(A.shape[0])
    w0, V0 = top_generalized_eigh(A, B, 6)
    w1, V1 = top_eigh_low_rank_shift(A.copy(), Q, mu, 6)
    np.testing.assert_allclose(w1, w0, rtol=1e-9)
    np.testing.assert_allclose(np.abs(V1), np.abs(V0), atol=1e-8)
    np.testing.assert_allclose(V1.T @ B @ V1, np.eye(6), atol=1e-9)   # B-orthonormal


def test_rank_deficient_and_zero_Q():
    A, Q = _problem(r=3)
    Q = np.hstack([Q, Q[:, :1] * 2.0])             # dependent columns
    B = Q @ Q.T + np.eye(A.shape[0])
    w0, _ = top_generalized_eigh(A, B, 4)
    w1, _ = top_eigh_low_rank_shift(A.copy(), Q, 1.0, 4)
    np.testing.assert_allclose(w1, w0, rtol=1e-9)
    w2, _ = top_eigh_low_rank_shift(A.copy(), np.zeros((A.shape[0], 2)), 2.0, 3)
    np.testing.assert_allclose(w2, np.linalg.eigvalsh(A)[::-1][:3] / 2.0, rtol=1e-9)


def test_rank_one_case_equals_rank_one_helper():
    from tltk_core.kernels import top_eigh_rank_one_shift

    A, Q = _problem(r=1)
    w0, V0 = top_eigh_rank_one_shift(A.copy(), Q[:, 0], 0.5, 5)
    w1, V1 = top_eigh_low_rank_shift(A.copy(), Q, 0.5, 5)
    np.testing.assert_allclose(w1, w0, rtol=1e-9)
    np.testing.assert_allclose(np.abs(V1), np.abs(V0), atol=1e-8)


def test_bad_k():
    A, Q = _problem()
    with pytest.raises(InputError, match="n_components"):
        top_eigh_low_rank_shift(A.copy(), Q, 1.0, 0)
