"""The sparse × thin primitives against their dense definitions."""
import numpy as np
import pytest
import scipy.sparse as sp

from tltk_core.sparse_ops import (frobenius_residual, low_rank_at_nonzeros, normalize_columns,
                                  normalize_rows, ratio_at_nonzeros)


def _case(seed=0, n=13, m=9, k=3, density=0.3):
    rng = np.random.RandomState(seed)
    X = sp.random(n, m, density=density, format="csr", random_state=rng) * 5
    return X, rng.rand(n, k), rng.rand(m, k)


@pytest.mark.parametrize("chunk", [1, 4, 1 << 18])
def test_low_rank_at_nonzeros_matches_dense(chunk):
    X, A, B = _case()
    full = A @ B.T
    got = low_rank_at_nonzeros(X, A, B, chunk=chunk)
    rows = np.repeat(np.arange(X.shape[0]), np.diff(X.indptr))
    np.testing.assert_allclose(got, full[rows, X.indices])


def test_ratio_keeps_pattern_and_divides():
    X, A, B = _case(1)
    R = ratio_at_nonzeros(X, A, B)
    dense = X.toarray()
    want = np.where(dense != 0, dense / (A @ B.T), 0.0)
    np.testing.assert_allclose(R.toarray(), want)
    assert R.nnz == X.nnz


def test_frobenius_residual_matches_dense():
    X, A, B = _case(2)
    want = np.linalg.norm(X.toarray() - A @ B.T) ** 2
    assert frobenius_residual(X, A, B) == pytest.approx(want, rel=1e-10)


def test_shape_mismatch_is_reported():
    X, A, B = _case(3)
    with pytest.raises(ValueError, match="shapes"):
        low_rank_at_nonzeros(X, A[:-1], B)


def test_normalizers_leave_zero_lines_alone():
    M = np.array([[1.0, 0.0], [3.0, 0.0]])
    np.testing.assert_allclose(normalize_columns(M), [[0.25, 0.0], [0.75, 0.0]])
    np.testing.assert_allclose(normalize_rows(M), [[1.0, 0.0], [1.0, 0.0]])
