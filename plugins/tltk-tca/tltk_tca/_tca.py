"""Transfer Component Analysis (TCA).

Pan, Tsang, Kwok and Yang, "Domain adaptation via transfer component
analysis", IEEE Transactions on Neural Networks 22(2):199-210, 2011.

TCA looks for a k-dimensional embedding Z = K W of the pooled source and
target samples (K the n x n kernel matrix, n = ns + nt) that keeps the data
variance while making the two domain means close (small MMD)::

    min_W  tr(W^T K M K W) + mu tr(W^T W)   s.t.  W^T K H K W = I

with M = e e^T the MMD matrix (e_i = 1/ns on source, -1/nt on target) and
H = I - 11^T/n the centring matrix. Its solutions are the eigenvectors of the
k largest eigenvalues of the symmetric generalised problem

    K H K w = lambda (K M K + mu I) w.                               (dual)

Linear kernel, primal form
--------------------------
With K = X X^T the problem above only involves the column space of X, so it
can be solved in d x d instead of n x n. Write X^T X = V S^2 V^T and
T = X V S (the n x r matrix U S^2, computed without any n x n matrix). Every
useful w is U y, so that ||w|| = ||y||, K w = T y and

    (T^T H T) y = lambda (q q^T + mu I) y,
    T^T H T = S^4 - n p p^T,  p = S V^T mean(X),  q = S V^T X^T e,

an r x r problem (r = rank of X <= d) built from X^T X and the two vectors
X^T 1 and X^T e. Its embedding is Z = X A with A = V S Y. This is the dual
problem exactly (same eigenvalues, same embedding), not an approximation, so
``solver="auto"`` only changes the cost, never the answer. It costs
O(n d^2 + d^3) time and O(d^2) memory, and sparse X stays sparse (X^T X is a
sparse product). Long et al. (ICCV 2013) use the same d x d structure with
the penalty mu ||A||^2 instead of TCA's mu ||W||^2 = mu A^T (X^T X)^+ A;
that problem is a different one (on Office-Caltech it gives their PCA
column, 39.8, not their TCA column, 43.6), so it is not what is solved here.

Dual solver: B = K M K + mu I is mu I plus a rank-one matrix, so for n >= 1000
and k <= n/10 the problem is turned into a standard symmetric one in closed
form and its top k eigenpairs are found by Lanczos
(:func:`tltk_core.kernels.top_eigh_rank_one_shift`); smaller problems go to
``tltk_core.kernels.top_generalized_eigh``. Both give the same answer (tested).

Conventions (documented in the class docstring):

- No input scaling or centring is done here: the centring of TCA is the H of
  its variance term, and the embedding is Z = K W as in the paper (its
  columns are not re-centred; a constant shift does not change a 1-NN or a
  linear classifier). Preprocess the features as the benchmark protocol says
  (e.g. ``tltk_core.data.histogram_zscore`` for Office-Caltech).
- Each component w is scaled to unit Euclidean norm (||w|| = ||y|| = 1). On a
  problem whose MMD term vanishes this is kernel PCA with K W = U Lambda, the
  embedding that reproduces the published TCA numbers on Office-Caltech.
- Each component's sign is fixed so that its largest-magnitude training
  coordinate is positive (deterministic; the same in both forms).
- Components whose eigenvalue is numerically zero (beyond the rank of the
  centred data) carry no variance: they are returned as zero columns, so the
  output always has ``n_components`` columns.

Large n: the Nystroem (low-rank) form
-------------------------------------
The exact kernel forms cost O(n^2) memory and O(n^3) time (O(n^2) per Lanczos
iteration). For a non-linear kernel, ``approximation="nystroem"`` replaces K
by its Nystroem approximation K ~= Phi Phi^T, Phi = k(X, L) W^-1/2 with m =
``n_landmarks`` landmark rows L drawn uniformly (seeded by ``random_state``)
from the pooled source and target samples and W = k(L, L)
(:class:`tltk_core.kernels.NystroemMap`). TCA with the kernel Phi Phi^T is
exactly the linear-kernel TCA of the features Phi, which is solved in the
m x m primal form above: O(n m d + n m^2 + m^3) time, O(n m) memory.
``transform(X) = Phi(X) @ components_``. ``approximation="auto"`` (the
default) keeps the exact form up to ``NYSTROEM_MIN_N`` pooled samples and
uses Nystroem above; the linear kernel is always solved exactly.
"""
from __future__ import annotations


import numpy as np
import scipy.linalg
import scipy.sparse as sp

from tltk_core import InputError, TransferMethod, stack_rows
from tltk_core.kernels import (NystroemMap, check_kernel_embedding_params, eig_rtol,
                               kernel_matrix, mmd_vector, resolve_gamma, sign_flips,
                               small_eigh_threads, top_eigh_rank_one_shift, top_generalized_eigh,
                               unit_components, use_nystroem)

from . import INFO

NYSTROEM_MIN_N = 5000   # approximation="auto": exact up to this many pooled samples


class TCA(TransferMethod):
    """Transfer Component Analysis (Pan et al., IEEE TNN 2011).

    Learns ``n_components`` transfer components from labelled source and
    unlabelled target samples, embeds both domains, and trains the final
    classifier on the embedded source.

    Parameters
    ----------
    n_components : int, default=30
        Dimension of the embedding (at most ns + nt). Components beyond the
        rank of the centred data are zero columns.
    kernel : {"linear", "rbf", "poly", "laplacian", "cosine"}, default="linear"
        Kernel of the feature space in which the domains are matched.
    mu : float, default=0.1
        Trade-off between the MMD term and the complexity term tr(W^T W)
        (the paper's mu; the lambda of Long et al., whose released JDA code
        uses 0.1). Larger mu: closer to kernel PCA; smaller: more weight on
        removing the domain-mean difference.
    gamma : float or None, default=None
        Width of the rbf, poly and laplacian kernels; None uses
        1 / (n_features * Var(X)) over the pooled training samples.
    degree : int, default=3
        Degree of the poly kernel.
    coef0 : float, default=1.0
        Constant of the poly kernel.
    solver : {"auto", "primal", "dual"}, default="auto"
        "dual" solves the n x n problem of the paper; "primal" (linear kernel
        only) solves the equivalent d x d problem. "auto" takes the primal
        form for the linear kernel when n_features < ns + nt. Both give the
        same embedding.
    approximation : {"auto", "exact", "nystroem"}, default="auto"
        Non-linear kernels only. "nystroem" solves TCA for the low-rank
        Nystroem approximation of the kernel (see the module docstring;
        for large n), "exact" the exact n x n problem. "auto" uses Nystroem
        when ns + nt > 5000 (``NYSTROEM_MIN_N``) and ``solver="auto"``.
    n_landmarks : int, default=1000
        Number m of landmark samples of the Nystroem approximation (all
        samples when m >= ns + nt). Larger: closer to the exact kernel,
        cost O(n m^2).
    random_state : int, RandomState or None, default=None
        Seed of the landmark sampling (Nystroem only).
    estimator : classifier or None, default=None
        Final classifier trained on the embedded source; None gives
        1-nearest-neighbour, the classifier of the Office-Caltech protocol
        (Long et al., ICCV 2013). It is cloned, never modified.

    Attributes
    ----------
    solver_ : str
        "primal" or "dual", the form that was solved ("primal" for Nystroem).
    approximation_ : str
        "exact" or "nystroem".
    nystroem_ : tltk_core.kernels.NystroemMap
        Nystroem only: the fitted feature map Phi.
    eigenvalues_ : ndarray (n_components,)
        Generalised eigenvalues of the components, decreasing (0 for the
        zero columns).
    components_ : ndarray (n_features, n_components)
        Linear kernel: the projection, ``transform(X) = X @ components_``.
        Nystroem: the projection of the features,
        ``transform(X) = nystroem_.transform(X) @ components_``.
    dual_coef_ : ndarray (n_train, n_components)
        Other kernels: W, ``transform(X) = k(X, X_fit_) @ dual_coef_``.
    X_fit_ : ndarray or sparse matrix
        Other kernels: the pooled training samples (source first).
    gamma_ : float or None
        The kernel width used.
    embedding_ : ndarray (ns + nt, n_components)
        The embedding of the training samples, source rows first.
    estimator_ : classifier
        The final classifier, fitted on the embedded source.
    """

    info = INFO
    _classifies_features = True  # predict_proba when the final classifier has it

    def __init__(self, n_components=30, kernel="linear", mu=0.1, gamma=None, degree=3,
                 coef0=1.0, solver="auto", approximation="auto", n_landmarks=1000,
                 random_state=None, estimator=None):
        self.n_components = n_components
        self.kernel = kernel
        self.mu = mu
        self.gamma = gamma
        self.degree = degree
        self.coef0 = coef0
        self.solver = solver
        self.approximation = approximation
        self.n_landmarks = n_landmarks
        self.random_state = random_state
        self.estimator = estimator

    # -- hyperparameters ---------------------------------------------------
    def _default_estimator(self):
        from sklearn.neighbors import KNeighborsClassifier

        return KNeighborsClassifier(n_neighbors=1)

    def _check_params(self):
        check_kernel_embedding_params(self)

    # -- fitting ----------------------------------------------------------
    def _fit(self, Xs, ys, Xt, yt):
        for stale in ("components_", "dual_coef_", "X_fit_", "nystroem_"):  # from an earlier fit
            self.__dict__.pop(stale, None)
        ns, nt = Xs.shape[0], Xt.shape[0]
        n, d = ns + nt, Xs.shape[1]
        k = self.n_components
        if k > n:
            raise InputError(
                f"n_components={k} exceeds the number of training samples "
                f"(ns + nt = {n}); TCA finds at most {n} components")
        X = stack_rows(Xs, Xt)
        e = mmd_vector(ns, nt)
        linear = self.kernel == "linear"
        solver = self.solver
        nystroem = self.solver == "auto" and use_nystroem(
            self.approximation, self.kernel, n, NYSTROEM_MIN_N)
        self.approximation_ = "nystroem" if nystroem else "exact"
        if solver == "auto":
            solver = "primal" if (linear and d < n) or nystroem else "dual"
        self.solver_ = solver
        self.gamma_ = None if self.kernel in ("linear", "cosine") else resolve_gamma(X, self.gamma)

        if nystroem:
            self.nystroem_ = NystroemMap(
                kernel=self.kernel, gamma=self.gamma_, degree=self.degree, coef0=self.coef0,
                n_landmarks=self.n_landmarks, random_state=self.random_state).fit(X)
            Phi = self.nystroem_.transform(X)
            w, A = _tca_primal(Phi, e, self.mu, k)
            Z = Phi @ A
            del Phi
        elif solver == "primal":
            w, A = _tca_primal(X, e, self.mu, k)
            Z = np.asarray(X @ A)
        else:
            K = kernel_matrix(X, kernel=self.kernel, gamma=self.gamma_,
                              degree=self.degree, coef0=self.coef0)
            w, W = _tca_dual(K, e, self.mu, k)
            Z = K @ W
            del K
            if linear:
                A = np.asarray(X.T @ W)
        signs = sign_flips(Z)
        Z *= signs
        if linear or nystroem:
            self.components_ = A * signs
        else:
            self.dual_coef_ = W * signs
            self.X_fit_ = X
        self.eigenvalues_ = w
        self.embedding_ = Z
        self.estimator_ = self._make_estimator().fit(Z[:ns], ys)

    # -- using the embedding ----------------------------------------------
    def _transform(self, X):
        if hasattr(self, "nystroem_"):
            return self.nystroem_.transform(X) @ self.components_
        if hasattr(self, "components_"):
            return np.asarray(X @ self.components_)
        K = kernel_matrix(X, self.X_fit_, kernel=self.kernel, gamma=self.gamma_,
                          degree=self.degree, coef0=self.coef0)
        return K @ self.dual_coef_

    def _predict(self, X):
        return self.estimator_.predict(self._transform(X))


# ---------------------------------------------------------------------------
# Solvers. Each returns (eigenvalues, projection) with n_components columns,
# unit-norm components, zero columns for numerically-zero eigenvalues.
# ---------------------------------------------------------------------------

def _tca_dual(K, e, mu, k):
    """W (n x k) of K H K w = lambda (K M K + mu I) w, M = e e^T."""
    n = K.shape[0]
    HK = K - K.mean(axis=0)              # H K, without forming H
    A = HK.T @ HK                        # K H K (H is idempotent)
    del HK
    Ke = K @ e                           # K M K = (K e)(K e)^T, rank one
    if n >= LANCZOS_MIN_N and k <= n // 10:
        w, W = top_eigh_rank_one_shift(A, Ke, mu, k)
    else:
        B = np.outer(Ke, Ke)
        B.flat[:: n + 1] += mu
        with small_eigh_threads(n):
            w, W = top_generalized_eigh(A, B, k)
    return unit_components(w, W, rtol=eig_rtol(n, n))


def _tca_primal(X, e, mu, k):
    """A (d x k) of the linear-kernel TCA problem, solved in d x d (see module doc)."""
    n, d = X.shape
    G = X.T @ X
    G = G.toarray() if sp.issparse(G) else np.asarray(G)
    mean = np.asarray(X.mean(axis=0)).ravel()
    v = np.asarray(X.T @ e).ravel()       # X^T e: X^T M X = v v^T, never n x n
    with small_eigh_threads(d):
        lam, V = scipy.linalg.eigh(G, driver="evd")  # X^T X = V S^2 V^T
    keep = lam > lam[-1] * eig_rtol(n, d) if lam[-1] > 0 else np.zeros(d, dtype=bool)
    lam, V = lam[keep], V[:, keep]
    r = lam.size
    w_all = np.zeros(k)
    A = np.zeros((d, k))
    if r == 0:                            # all-zero data: nothing to embed
        return w_all, A
    s = np.sqrt(lam)
    p = s * (V.T @ mean)
    q = s * (V.T @ v)
    Ar = np.diag(lam**2) - n * np.outer(p, p)  # T^T H T
    Br = np.outer(q, q)                          # T^T M T
    Br.flat[:: r + 1] += mu
    with small_eigh_threads(r):
        w, Y = top_generalized_eigh(Ar, Br, min(k, r))
    w, Y = unit_components(w, Y, rtol=eig_rtol(n, d))
    w_all[: w.size] = w
    A[:, : w.size] = V @ (s[:, None] * Y)        # A = V S Y: X A = T Y
    return w_all, A


LANCZOS_MIN_N = 1000   # dual problems this big, with k <= n/10, use Lanczos

