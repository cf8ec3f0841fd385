"""Shared linear algebra of the kernel and subspace methods.

Kernels, the MMD coefficient vectors, centred scatter matrices and the
symmetric generalised eigensolver live here once so that TCA, JDA and the
methods that follow use the same, tested code.
"""
from __future__ import annotations

import contextlib

import numpy as np
import scipy.linalg
import scipy.sparse as sp

from .errors import InputError

KERNELS = ("linear", "rbf", "poly", "laplacian", "cosine")


def resolve_gamma(X, gamma):
    """``gamma`` or, when None, scikit-learn's 'scale' rule 1 / (d * Var(X))."""
    if gamma is not None:
        return float(gamma)
    if sp.issparse(X):  # variance over all entries, as np.var(X) of the dense matrix
        size = X.shape[0] * X.shape[1]
        mean = X.sum() / size
        var = max(float(X.multiply(X).sum() / size - mean**2), 0.0)
    else:
        var = float(np.var(X))
    return 1.0 / (X.shape[1] * var) if var > 0 else 1.0


def kernel_matrix(X, Y=None, kernel="linear", gamma=None, degree=3, coef0=1.0):
    """Dense kernel matrix k(X, Y) for dense or sparse inputs.

    ``gamma`` must already be resolved (see :func:`resolve_gamma`) for the
    kernels that use it.
    """
    from sklearn.metrics import pairwise

    if kernel == "linear":
        K = X @ (X if Y is None else Y).T
        return K.toarray() if sp.issparse(K) else np.asarray(K)
    if kernel == "rbf":
        return pairwise.rbf_kernel(X, Y, gamma=gamma)
    if kernel == "poly":
        return pairwise.polynomial_kernel(X, Y, degree=degree, gamma=gamma, coef0=coef0)
    if kernel == "laplacian":
        return pairwise.laplacian_kernel(X, Y, gamma=gamma)
    if kernel == "cosine":
        return pairwise.cosine_similarity(X, Y)
    raise InputError(f"kernel must be one of {', '.join(KERNELS)}; got {kernel!r}")


def mmd_vector(n_source, n_target):
    """Coefficients e with e_i = 1/ns (source) and -1/nt (target).

    The (biased) squared MMD between the two domain means of a representation
    Z is ``(e @ Z) @ (e @ Z)``; the MMD matrix of TCA/JDA is ``M = e e^T``.
    """
    e = np.empty(n_source + n_target)
    e[:n_source] = 1.0 / n_source
    e[n_source:] = -1.0 / n_target
    return e


def class_mmd_vectors(ys, yt_pseudo, n_classes):
    """One MMD coefficient vector per class, for the conditional MMD of JDA.

    ``ys`` are source class codes, ``yt_pseudo`` target (pseudo-)label codes.
    Column c has 1/ns_c on source samples of class c and -1/nt_c on target
    samples labelled c; a class absent from either domain gets a zero column.
    Returns an (ns + nt, n_classes) array E so that ``M_c = E[:, c] E[:, c]^T``.
    """
    ys = np.asarray(ys)
    yt_pseudo = np.asarray(yt_pseudo)
    E = np.zeros((ys.size + yt_pseudo.size, n_classes))
    for c in range(n_classes):
        s = ys == c
        t = yt_pseudo == c
        if s.any() and t.any():
            E[: ys.size][s, c] = 1.0 / s.sum()
            E[ys.size:][t, c] = -1.0 / t.sum()
    return E


def scatter_matrix(X):
    """Centred scatter ``X^T H X`` (d x d) with H = I - 11^T/n, dense output.

    Works on sparse X without densifying it.
    """
    n = X.shape[0]
    if sp.issparse(X):
        G = (X.T @ X).toarray()
        mu = np.asarray(X.mean(axis=0)).ravel()
    else:
        G = X.T @ X
        mu = X.mean(axis=0)
    return G - n * np.outer(mu, mu)


def center_kernel(K):
    """H K H for a square kernel matrix, without forming H."""
    row = K.mean(axis=0)
    return K - row[None, :] - K.mean(axis=1)[:, None] + row.mean()


def top_generalized_eigh(A, B, k):
    """Eigenvectors of the k largest eigenvalues of A v = w B v.

    A symmetric, B symmetric positive definite. Asks LAPACK only for the k
    wanted pairs. Returns (w, V), w in decreasing order.
    """
    n = A.shape[0]
    if not 1 <= k <= n:
        raise InputError(f"n_components must be between 1 and {n}; got {k}")
    A = (A + A.T) / 2
    B = (B + B.T) / 2
    if k < n:
        w, V = scipy.linalg.eigh(A, B, subset_by_index=[n - k, n - 1], driver="gvx")
    else:
        w, V = scipy.linalg.eigh(A, B)
    order = np.argsort(w)[::-1]
    return w[order], V[:, order]


def top_eigh_rank_one_shift(A, q, mu, k):
    """The k largest eigenpairs of A v = w (mu I + q q^T) v, for large A.

    A symmetric (n x n; OVERWRITTEN in place), mu > 0. B = mu I + q q^T has the closed
    form B^-1/2 = mu^-1/2 (I + c q q^T), c = (1/sqrt(1 + q.q/mu) - 1) / q.q, so
    the problem is the standard symmetric one for C = B^-1/2 A B^-1/2 (a
    rank-two update of A, O(n^2)), whose top k eigenpairs Lanczos (ARPACK)
    finds in O(n^2) per iteration instead of the O(n^3) of a dense
    generalised solver. Deterministic start vector. Returns (w, V), w
    decreasing, V B-orthonormal, like :func:`top_generalized_eigh`.
    """
    from scipy.sparse.linalg import ArpackNoConvergence, eigsh

    n = A.shape[0]
    s = float(q @ q)
    c = (1.0 / np.sqrt(1.0 + s / mu) - 1.0) / s if s > 0 else 0.0
    Aq = A @ q
    u = c * Aq + (0.5 * c * c * float(q @ Aq)) * q
    A += np.outer(u, q)                  # (I + c q q^T) A (I + c q q^T)
    A += np.outer(q, u)                  #   = A + u q^T + q u^T
    v0 = np.random.RandomState(0).uniform(-1.0, 1.0, n)
    try:
        w, Y = eigsh(A, k=k, which="LA", v0=v0)
    except ArpackNoConvergence:          # dense fallback on the same standard problem
        w, Y = scipy.linalg.eigh((A + A.T) / 2, subset_by_index=[n - k, n - 1])
    order = np.argsort(w)[::-1]
    w, Y = w[order] / mu, Y[:, order]
    V = (Y + c * np.outer(q, q @ Y)) / np.sqrt(mu)
    return w, V


SMALL_EIGH = 1000


def small_eigh_threads(size):
    """One BLAS thread for the eigensolvers of small matrices.

    LAPACK's symmetric eigensolvers are mostly BLAS-2 below ~1000 rows and gain
    nothing from threads there; on a busy machine OpenBLAS threads that wait for
    each other made a 300 x 300 eigh 60x slower (2.0 s instead of 0.03 s on the
    2-core test machine under load). Scoped to the call: the caller's setting
    is restored on exit.
    """
    if size > SMALL_EIGH:
        return contextlib.nullcontext()
    from threadpoolctl import threadpool_limits

    return threadpool_limits(limits=1, user_api="blas")


def top_eigh_low_rank_shift(A, Q, mu, k):
    """The k largest eigenpairs of A v = w (mu I + Q Q^T) v, for large A.

    The low-rank generalisation of :func:`top_eigh_rank_one_shift` (JDA's MMD
    matrix is a sum of C + 1 rank-one terms). A symmetric (n x n; OVERWRITTEN
    in place), Q (n x r) with r small, mu > 0. With the thin SVD
    Q = U S W^T, B = mu I + U S^2 U^T has the closed form
    B^-1/2 = mu^-1/2 (I + U D U^T), D = diag(1/sqrt(1 + s^2/mu) - 1), so the
    problem is the standard symmetric one for B^-1/2 A B^-1/2, a rank-2r
    update of A built in O(n^2 r); Lanczos (ARPACK, deterministic start
    vector) finds its top k eigenpairs in O(n^2) per iteration. Returns
    (w, V), w decreasing, V B-orthonormal, like :func:`top_generalized_eigh`.
    """
    from scipy.sparse.linalg import ArpackNoConvergence, eigsh

    n = A.shape[0]
    if not 1 <= k < n:
        raise InputError(f"n_components must be between 1 and {n - 1}; got {k}")
    Q = np.asarray(Q, dtype=np.float64).reshape(n, -1)
    U, s, _ = np.linalg.svd(Q, full_matrices=False)
    keep = s > (s[0] if s.size else 0.0) * max(Q.shape) * np.finfo(np.float64).eps
    U, s = U[:, keep], s[keep]
    D = 1.0 / np.sqrt(1.0 + s * s / mu) - 1.0
    if U.shape[1]:
        AU = A @ U
        G = U.T @ AU
        Wm = AU * D + 0.5 * U @ ((D[:, None] * G) * D[None, :])
        A += Wm @ U.T                    # (I + U D U^T) A (I + U D U^T)
        A += U @ Wm.T                    #   = A + Wm U^T + U Wm^T
    v0 = np.random.RandomState(0).uniform(-1.0, 1.0, n)
    try:
        w, Y = eigsh(A, k=k, which="LA", v0=v0)
    except ArpackNoConvergence:          # dense fallback on the same standard problem
        w, Y = scipy.linalg.eigh((A + A.T) / 2, subset_by_index=[n - k, n - 1])
    order = np.argsort(w)[::-1]
    w, Y = w[order] / mu, Y[:, order]
    V = (Y + U @ (D[:, None] * (U.T @ Y))) / np.sqrt(mu)
    return w, V


def eig_rtol(n, d):
    """Relative tolerance under which an eigenvalue counts as numerically zero."""
    return 1e3 * max(n, d) * np.finfo(np.float64).eps


def unit_components(w, V, rtol):
    """Columns of V scaled to unit norm; those of numerically-zero eigenvalues zeroed.

    ``w`` must be in decreasing order. Returns copies ``(w, V)``.
    """
    w = np.array(w, dtype=np.float64)
    V = np.array(V, dtype=np.float64)
    top = w[0] if w.size else 0.0
    dead = w <= top * rtol if top > 0 else np.ones(w.shape, dtype=bool)
    norms = np.linalg.norm(V, axis=0)
    norms[norms == 0] = 1.0
    V /= norms
    V[:, dead] = 0.0
    w[dead] = 0.0
    return w, V


def sign_flips(Z):
    """+1/-1 per column so that its largest-magnitude entry is positive.

    Makes eigenvector-based embeddings deterministic across solvers.
    """
    if Z.shape[0] == 0:
        return np.ones(Z.shape[1])
    idx = np.argmax(np.abs(Z), axis=0)
    signs = np.sign(Z[idx, np.arange(Z.shape[1])])
    signs[signs == 0] = 1.0
    return signs


# ---------------------------------------------------------------------------
# Low-rank (Nystroem) kernel approximation, for kernel methods at large n.
# ---------------------------------------------------------------------------

APPROXIMATIONS = ("auto", "exact", "nystroem")
NYSTROEM_CHUNK = 4096   # rows of k(X, L) computed at a time in NystroemMap.transform


class NystroemMap:
    """Nystroem feature map Phi with k(X, Y) ~= Phi(X) Phi(Y)^T.

    ``fit(X)`` draws m = ``n_landmarks`` landmark rows L of X uniformly
    without replacement (seeded by ``random_state``; all rows, in order, when
    m >= n) and stores ``W^-1/2`` of W = k(L, L), a pseudo-inverse square root
    from its eigendecomposition that drops the eigenvalues below
    ``eig_rtol(m, m)`` times the largest. ``transform(X)`` returns
    ``k(X, L) W^-1/2`` (n x r, r = numerical rank of W <= m), computed in
    row chunks so that no n x n and no n x m temporary larger than the output
    is held. With m = n the map reproduces the kernel matrix
    ``Phi(X) Phi(X)^T = K`` up to rounding; the error decreases as m grows.

    Costs O(n m d + m^3) time and O(n m) memory instead of the O(n^2 d) and
    O(n^2) of the exact kernel matrix. ``gamma`` must already be resolved
    (:func:`resolve_gamma`), as for :func:`kernel_matrix`.

    Attributes (after fit): ``landmarks_`` (m x d, dense or sparse as X),
    ``landmark_indices_`` (m,), ``normalization_`` (m x r, W^-1/2 restricted
    to the kept eigenvectors), ``eigenvalues_`` (r,) of W, decreasing.
    """

    def __init__(self, kernel="rbf", gamma=None, degree=3, coef0=1.0, n_landmarks=1000,
                 random_state=None):
        self.kernel = kernel
        self.gamma = gamma
        self.degree = degree
        self.coef0 = coef0
        self.n_landmarks = n_landmarks
        self.random_state = random_state

    def _k(self, X, Y):
        return kernel_matrix(X, Y, kernel=self.kernel, gamma=self.gamma,
                             degree=self.degree, coef0=self.coef0)

    def fit(self, X):
        from sklearn.utils import check_random_state

        if self.kernel not in KERNELS:
            raise InputError(f"kernel must be one of {', '.join(KERNELS)}; got {self.kernel!r}")
        m = self.n_landmarks
        if isinstance(m, bool) or not isinstance(m, (int, np.integer)) or m < 1:
            raise InputError(f"n_landmarks must be an integer >= 1; got {m!r}")
        n = X.shape[0]
        if n == 0:
            raise InputError("NystroemMap.fit needs at least one sample")
        if m >= n:
            idx = np.arange(n)
        else:
            idx = np.sort(check_random_state(self.random_state).choice(n, m, replace=False))
        L = X[idx]
        Wm = self._k(L, L)
        Wm = (Wm + Wm.T) / 2
        lam, U = scipy.linalg.eigh(Wm, driver="evd")
        lam, U = lam[::-1], U[:, ::-1]
        top = lam[0] if lam.size else 0.0
        keep = lam > top * eig_rtol(idx.size, idx.size) if top > 0 else np.zeros(lam.shape, bool)
        lam, U = lam[keep], U[:, keep]
        self.landmark_indices_ = idx
        self.landmarks_ = L
        self.eigenvalues_ = lam
        self.normalization_ = U / np.sqrt(lam)
        return self

    def transform(self, X):
        n = X.shape[0]
        out = np.empty((n, self.normalization_.shape[1]))
        for start in range(0, n, NYSTROEM_CHUNK):
            stop = min(start + NYSTROEM_CHUNK, n)
            out[start:stop] = self._k(X[start:stop], self.landmarks_) @ self.normalization_
        return out

    def fit_transform(self, X):
        return self.fit(X).transform(X)


def use_nystroem(approximation, kernel, n, threshold):
    """Whether a kernel method solves the Nystroem (low-rank) form.

    "exact": never; "nystroem": always; "auto": for non-linear kernels when
    the pooled sample count n exceeds ``threshold``. The linear kernel is
    never approximated under "auto" (its exact d x d form is already cheap).
    """
    if approximation == "nystroem":
        return True
    if approximation == "auto":
        return kernel != "linear" and n > threshold
    return False


def check_low_rank_params(approximation, n_landmarks, random_state, kernel, solver="auto"):
    """Check the low-rank hyperparameters of a kernel method; InputError naming them."""
    if approximation not in APPROXIMATIONS:
        raise InputError(f"approximation must be one of {', '.join(map(repr, APPROXIMATIONS))}; "
                         f"got {approximation!r}")
    if (isinstance(n_landmarks, bool) or not isinstance(n_landmarks, (int, np.integer))
            or n_landmarks < 1):
        raise InputError(f"n_landmarks must be an integer >= 1; got {n_landmarks!r}")
    if not (random_state is None or isinstance(random_state, np.random.RandomState)
            or (isinstance(random_state, (int, np.integer)) and not isinstance(random_state, bool)
                and 0 <= random_state < 2**32)):
        raise InputError(f"random_state must be None, an integer in [0, 2**32) or a numpy "
                         f"RandomState; got {random_state!r}")
    if approximation == "nystroem":
        if kernel == "linear":
            raise InputError("approximation='nystroem' needs a non-linear kernel (the linear "
                             "kernel is solved exactly in feature space); got kernel='linear'. "
                             "Use approximation='exact' or 'auto'.")
        if solver != "auto":
            raise InputError(f"approximation='nystroem' solves its own low-rank form and needs "
                             f"solver='auto'; got solver={solver!r}")


SOLVERS = ("auto", "primal", "dual")


def check_kernel_embedding_params(est):
    """Validate the hyperparameters that the kernel-embedding methods (TCA, JDA)
    share: ``n_components, kernel, mu, gamma, degree, coef0, solver,
    approximation, n_landmarks, random_state``. InputError naming the bad one."""
    from .method import check_param

    check_param(est.n_components, "n_components", kind=int, low=1)
    check_param(est.kernel, "kernel", choices=KERNELS)
    check_param(est.mu, "mu", kind=float, low=0, low_inclusive=False)
    check_param(est.gamma, "gamma", kind=float, low=0, low_inclusive=False, allow_none=True)
    check_param(est.degree, "degree", kind=int, low=1)
    check_param(est.coef0, "coef0", kind=float)
    check_param(est.solver, "solver", choices=SOLVERS)
    if est.solver == "primal" and est.kernel != "linear":
        raise InputError(f"solver='primal' needs kernel='linear' (the primal form works in "
                         f"feature space); got kernel={est.kernel!r}. Use solver='dual' or "
                         "'auto'.")
    check_low_rank_params(est.approximation, est.n_landmarks, est.random_state, est.kernel,
                          est.solver)
