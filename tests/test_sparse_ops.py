"""The sparse × thin primitives and PLSA against their dense definitions."""
import numpy as np
import pytest
import scipy.sparse as sp

from tltk_core.sparse_ops import (frobenius_residual, low_rank_at_nonzeros, nonzero_rows,
                                  normalize_columns, normalize_rows, plsa, ratio_at_nonzeros)


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


# -- the fast paths of low_rank_at_nonzeros ------------------------------------------
def _dense_at_nonzeros(X, A, B):
    """The definition: the dense product read at X's stored entries."""
    X = X.tocsr()
    rows = np.repeat(np.arange(X.shape[0]), np.diff(X.indptr))
    return (np.asarray(A, dtype=np.float64) @ np.asarray(B, dtype=np.float64).T)[rows, X.indices]


@pytest.mark.parametrize("k", [0, 1, 2, 3, 9, 64])
@pytest.mark.parametrize("chunk", [1, 7, 4096])
def test_low_rank_paths_match_dense_in_float64_and_float32(k, chunk):
    rng = np.random.RandomState(k)
    X = sp.random(40, 30, density=0.2, random_state=rng, format="csr")
    A, B = rng.rand(40, k), rng.rand(30, k)
    want = _dense_at_nonzeros(X, A, B)
    got = low_rank_at_nonzeros(X, A, B, chunk=chunk)
    assert got.dtype == np.float64
    np.testing.assert_allclose(got, want, rtol=1e-12)
    got32 = low_rank_at_nonzeros(X, A.astype(np.float32), B.astype(np.float32), chunk=chunk)
    assert got32.dtype == np.float32
    np.testing.assert_allclose(got32, want, rtol=1e-5)
    mixed = low_rank_at_nonzeros(X, A.astype(np.float32), B, chunk=chunk)
    assert mixed.dtype == np.float64          # float32 only when both factors are


@pytest.mark.parametrize("k", [3, 12])
def test_rows_can_be_computed_once_and_reused(k):
    rng = np.random.RandomState(4)
    X = sp.random(25, 18, density=0.3, random_state=rng, format="csr")
    rows = nonzero_rows(X)
    np.testing.assert_array_equal(rows, np.nonzero(X.toarray())[0])
    for _ in range(2):
        A, B = rng.rand(25, k), rng.rand(18, k)
        np.testing.assert_allclose(low_rank_at_nonzeros(X, A, B, rows=rows),
                                   _dense_at_nonzeros(X, A, B), rtol=1e-12)
        R = ratio_at_nonzeros(X, A, B, rows=rows)
        np.testing.assert_allclose(R.toarray(), ratio_at_nonzeros(X, A, B).toarray())
    with pytest.raises(ValueError, match="rows"):
        low_rank_at_nonzeros(X, A, B, rows=rows[:-1])


def test_low_rank_accepts_other_formats_and_empty_rows():
    rng = np.random.RandomState(5)
    X = sp.random(12, 10, density=0.3, random_state=rng, format="csr").toarray()
    X[3] = 0.0
    A, B = rng.rand(12, 2), rng.rand(10, 2)
    want = _dense_at_nonzeros(sp.csr_matrix(X), A, B)
    for form in (X, sp.coo_matrix(X), sp.csc_matrix(X)):
        np.testing.assert_allclose(low_rank_at_nonzeros(form, A, B), want, rtol=1e-12)


def test_float32_ratio_is_clipped_at_a_representable_floor():
    X = sp.csr_matrix(np.array([[1.0, 2.0]], dtype=np.float32))
    A = np.zeros((1, 2), dtype=np.float32)
    R = ratio_at_nonzeros(X, A, np.ones((2, 2), dtype=np.float32))
    assert np.all(np.isfinite(R.data))


# -- PLSA ------------------------------------------------------------------------------
def _corpus(seed=2, n=30, m=20):
    rng = np.random.RandomState(seed)
    return sp.random(n, m, density=0.3, random_state=rng, format="csr") * 3


def _dense_plsa_step(X, T, W):
    """One EM step of PLSA written densely from Hofmann (1999): posterior
    P(z|d,w) ∝ P(z|d) P(w|z), then P(w|z) ∝ sum_d X P(z|d,w), P(z|d) ∝ sum_w X P(z|d,w)."""
    X = X.toarray()
    post = T[:, None, :] * W[None, :, :]                 # d × w × z
    post /= np.maximum(post.sum(axis=2, keepdims=True), 1e-300)
    counts = X[:, :, None] * post
    W_new = counts.sum(axis=0)
    T_new = counts.sum(axis=1)
    return T_new / T_new.sum(axis=1, keepdims=True), W_new / W_new.sum(axis=0, keepdims=True)


def test_plsa_likelihood_is_monotone_and_outputs_normalised():
    X = _corpus()
    W, T, ll = plsa(X, 4, n_iter=50, tol=0.0, random_state=0)
    assert len(ll) == 51
    np.testing.assert_allclose(W.sum(axis=0), 1.0)
    np.testing.assert_allclose(T.sum(axis=1), 1.0)
    assert np.all(W >= 0) and np.all(T >= 0)
    assert np.all(np.diff(ll) >= -1e-12 * abs(ll[0]))
    assert ll[-1] > ll[0]
    assert np.all(W[np.asarray(X.sum(axis=0)).ravel() == 0] < 1e-12)   # unseen words


def test_plsa_step_matches_the_dense_em():
    X = _corpus(3, 12, 9)
    rng = np.random.RandomState(1)
    T0 = normalize_rows(rng.rand(12, 3) + 0.1)
    W0 = normalize_columns(rng.rand(9, 3) + 0.1)
    W, T, ll = plsa(X, 3, n_iter=1, tol=0.0, init=(T0, W0))
    T1, W1 = _dense_plsa_step(X, T0, W0)
    np.testing.assert_allclose(W, W1, rtol=1e-10)
    np.testing.assert_allclose(T, T1, rtol=1e-10)
    dense = X.toarray()
    want = np.sum(dense[dense > 0] * np.log((T0 @ W0.T)[dense > 0]))
    assert ll[0] == pytest.approx(want, rel=1e-12)


def test_plsa_random_start_follows_init_offset_and_random_state():
    X = _corpus()
    res = plsa(X, 3, n_iter=0, random_state=7, init_offset=0.1)
    rng = np.random.RandomState(7)
    T0 = normalize_rows(rng.random_sample((30, 3)) + 0.1)
    W0 = normalize_columns(rng.random_sample((20, 3)) + 0.1)
    nonempty = np.asarray(X.sum(axis=1)).ravel() > 0
    np.testing.assert_allclose(res.doc_topic[nonempty], T0[nonempty])
    np.testing.assert_allclose(res.word_topic, W0)
    assert len(res.loglik) == 1


def test_plsa_is_deterministic_under_random_state():
    X = _corpus()
    a = plsa(X, 4, n_iter=20, random_state=3, dtype=np.float32)
    b = plsa(X, 4, n_iter=20, random_state=3, dtype=np.float32)
    c = plsa(X, 4, n_iter=20, random_state=4, dtype=np.float32)
    np.testing.assert_array_equal(a.word_topic, b.word_topic)
    np.testing.assert_array_equal(a.doc_topic, b.doc_topic)
    assert a.loglik == b.loglik
    assert not np.allclose(a.word_topic, c.word_topic)
    assert a.word_topic.dtype == np.float64
    d = plsa(X, 4, n_iter=20, random_state=3)     # float32 is close to float64
    np.testing.assert_allclose(a.loglik[-1], d.loglik[-1], rtol=1e-4)


def test_plsa_tol_stops_early_and_zero_tol_runs_every_step():
    X = _corpus()
    assert len(plsa(X, 3, n_iter=200, tol=1e-2, random_state=0).loglik) < 201
    assert len(plsa(X, 3, n_iter=30, tol=0.0, random_state=0).loglik) == 31


def test_plsa_empty_document_gets_uniform_topics_and_changes_nothing_else():
    X = _corpus().toarray()
    X[5] = 0.0
    W, T, ll = plsa(sp.csr_matrix(X), 4, n_iter=15, tol=0.0, random_state=0)
    np.testing.assert_allclose(T[5], 0.25)
    assert np.all(np.isfinite(W)) and np.all(np.isfinite(T)) and np.all(np.isfinite(ll))
    rng = np.random.RandomState(0)
    T0, W0 = normalize_rows(rng.rand(30, 4)), normalize_columns(rng.rand(20, 4))
    W1, T1, _ = plsa(sp.csr_matrix(X), 4, n_iter=15, tol=0.0, init=(T0, W0))
    W2, T2, _ = plsa(sp.csr_matrix(np.delete(X, 5, axis=0)), 4, n_iter=15, tol=0.0,
                     init=(np.delete(T0, 5, axis=0), W0))
    np.testing.assert_allclose(W1, W2, rtol=1e-10)    # the empty document has no influence
    np.testing.assert_allclose(np.delete(T1, 5, axis=0), T2, rtol=1e-10)


def test_plsa_does_not_modify_its_input():
    X = _corpus()
    before = X.copy()
    plsa(X, 3, n_iter=5, random_state=0)
    assert (X != before).nnz == 0


@pytest.mark.parametrize("kwargs, match", [
    ({"n_topics": 0}, "n_topics"), ({"n_iter": -1}, "n_iter"), ({"tol": -1.0}, "tol"),
    ({"dtype": np.int64}, "dtype"), ({"init_offset": -1.0}, "init_offset"),
    ({"init": (np.ones((2, 3)), np.ones((20, 3)))}, "init"),
])
def test_plsa_rejects_bad_arguments(kwargs, match):
    args = {"n_topics": 3, **kwargs}
    with pytest.raises(ValueError, match=match):
        plsa(_corpus(), **args)


def test_plsa_rejects_negative_weights():
    with pytest.raises(ValueError, match="non-negative"):
        plsa(-_corpus(), 3)


# -- bag-of-words helpers (SCL, SFA) ---------------------------------------------
def test_binarize_row_norms_document_frequency_by_hand():
    import numpy as np
    import scipy.sparse as sp

    from tltk_core.sparse_ops import binarize, document_frequency, row_norms

    X = np.array([[0.0, 2.0, 0.0], [3.0, 0.0, 4.0]])
    S = sp.csr_matrix(X)
    S.data[0] = 0.0                      # an explicit zero is not an occurrence
    for M in (X, S):
        B = binarize(M)
        dense = B.toarray() if sp.issparse(B) else B
        want = (np.asarray(M.toarray() if sp.issparse(M) else M) != 0).astype(float)
        np.testing.assert_array_equal(dense, want)
    np.testing.assert_array_equal(document_frequency(X), [1, 1, 1])
    np.testing.assert_array_equal(document_frequency(S), [1, 0, 1])
    np.testing.assert_allclose(row_norms(X), [2.0, 5.0])
    np.testing.assert_allclose(row_norms(sp.csr_matrix(X)), [2.0, 5.0])
    assert X[0, 1] == 2.0                # the input is not modified


@pytest.mark.parametrize("shape", [(40, 9), (9, 40)])
@pytest.mark.parametrize("gram_limit", [0, 3000])
@pytest.mark.parametrize("sparse", [False, True])
def test_top_left_singular_matches_the_svd(shape, gram_limit, sparse):
    import numpy as np
    import scipy.sparse as sp

    from tltk_core.sparse_ops import top_left_singular

    rng = np.random.RandomState(0)
    N = rng.rand(*shape)
    U_ref, s_ref, _ = np.linalg.svd(N, full_matrices=False)
    U, s = top_left_singular(sp.csr_matrix(N) if sparse else N, 4, gram_limit=gram_limit)
    np.testing.assert_allclose(s, s_ref[:4], rtol=1e-8)
    # singular vectors up to sign
    np.testing.assert_allclose(np.abs(np.sum(U * U_ref[:, :4], axis=0)), 1.0, atol=1e-8)


def test_unit_rows_scales_in_place_and_keeps_zero_rows():
    from tltk_core.sparse_ops import unit_rows_

    Z = np.array([[3.0, 4.0], [0.0, 0.0], [-1.0, 0.0]])
    out = unit_rows_(Z)
    assert out is Z
    np.testing.assert_allclose(Z, [[0.6, 0.8], [0.0, 0.0], [-1.0, 0.0]])
