"""Marginalized stacked denoising autoencoders (mSDA).

Chen, Xu, Weinberger and Sha, "Marginalized denoising autoencoders for domain
adaptation", ICML 2012.

One layer (mDA)
---------------
Rows are samples. Append a constant 1 to every input row (the bias; it is
never corrupted) and let ``S = [X, 1]^T [X, 1]`` be the (d+1) x (d+1) scatter.
Dropout noise keeps each feature with probability ``q = 1 - p`` (q = 1 for the
bias). The linear map M that reconstructs the clean outputs from the
corrupted inputs, ``min_M E || X_out - [X~, 1] M ||^2``, has the closed form

    M = E[Q]^{-1} E[P],    E[P]_ij = q_i S_{i,out_j},
    E[Q]_ij = q_i q_j S_ij (i != j),   E[Q]_ii = q_i S_ii,

the expectation over infinitely many corruptions (the paper writes the
transposed W = P Q^{-1}). As in the authors' code a small ridge ``reg`` is
added to the diagonal of Q except for the bias. The hidden layer is
``h = tanh([x, 1] M)``.

When the outputs are all the inputs (``d <= n_reconstruct``), write
``Q = D S D + L`` with ``D = diag(q)`` and the diagonal
``L = diag((q - q^2) S_ii + reg)``. Then ``D S = (Q - L) D^{-1}`` and

    M = Q^{-1} D S[:, :d] = D^{-1}[:, :d] - Q^{-1}[:, :d] diag(L_j / q_j),

so M needs only the inverse of the SPD matrix Q (Cholesky + ``potri``,
about d^3 flops) instead of a solve with d right-hand sides (about
2.3 d^3 flops). The result is the same matrix (tested).

Stacking
--------
``n_layers`` layers, each fed the previous hidden layer; the representation is
the concatenation ``[x, h_1, ..., h_l]`` (the paper's; the original toolkit
returned only ``h_l``).

High-dimensional inputs (the paper's Section on high-dimensional data)
----------------------------------------------------------------------
When d > ``n_reconstruct`` = r, the first layer reconstructs only the r
features that occur in the most documents (rows), from all d features: the
features are split at random into disjoint blocks of about ``block_size``
(default r) features, one mDA per block maps that block (plus bias) to the r
outputs, and the first hidden layer is the tanh of the *average* of the block
reconstructions. Only block x block and block x r scatters are formed (sparse
products; the n x d input is never densified); the hidden layers are n x r
dense. Later layers are full mDAs on r features.

Learnt on the unlabelled rows of both domains (source and target features,
no labels); the final classifier is trained on the source representation.

Scale of the representation (``normalize``)
-------------------------------------------
M is fitted to reconstruct clean rows from *corrupted* ones, but it is applied
to *clean* rows (as in the paper). On directions shared by correlated features
the corrupted input carries about q times the clean signal, so M scales them up
by up to 1/q; on small-valued inputs (tf-idf rows of unit length) tanh stays in
its linear range and every layer multiplies the row norm again: on Reuters with
unit-length rows, ||h_1|| ~ 0.9 and ||h_5|| ~ 6 against ||x|| = 1, growing
about 1.65x per layer. The concatenation is then dominated by its deepest
layer, and a linear SVM with a fixed C sees rows 8x longer than its input
(i.e. about 60x less regularisation; liblinear stops at its iteration cap).
With ``normalize=True`` (default) every row of ``[x, h_1, ..., h_l]`` is
scaled to unit Euclidean length before the classifier, the usual input of a
linear SVM on text. This is not in the paper; it was chosen on the three
Reuters tasks (never on 20ng-sci-talk or Amazon target labels), where it beat
the unnormalised representation under both final classifiers (see the plugin
README). ``normalize=False`` gives the paper's representation unchanged.

Choosing p on the source (``p="cv"``)
-------------------------------------
An option, not in the paper: for every p in ``P_GRID`` = (0.3, 0.5, 0.7, 0.9)
the layers are learnt as above (unlabelled rows of both domains), and the
final classifier is scored by stratified k-fold cross-validation on the
*source* rows only (k = 5, or the smallest class count if lower; folds
shuffled with a fixed seed). The best mean fold accuracy wins (ties: the p
closest to 0.5, then the smaller); its layers and classifier are kept. No
target label is used. It costs about ``len(P_GRID)`` layer fits plus
``len(P_GRID) * k`` classifier fits.
"""
from __future__ import annotations

import numpy as np
import scipy.linalg
import scipy.sparse as sp

from tltk_core import InputError, TransferMethod, check_param, stack_rows
from tltk_core.sparse_ops import unit_rows_

from . import INFO


class MSDA(TransferMethod):
    """Marginalized stacked denoising autoencoder (Chen et al., ICML 2012).

    Parameters
    ----------
    p : float or "cv", default=0.5
        Corruption (dropout) probability of every input feature, in [0, 1).
        0.5 is the value used for the Amazon reviews by Chen et al. and by the
        DANN paper (Ganin et al., JMLR 2016) for its mSDA features. ``"cv"``
        picks p from ``P_GRID`` by cross-validation of the final classifier
        on the source labels (see the module docstring).
    n_layers : int, default=5
        Number of stacked layers (5 in both papers).
    n_reconstruct : int, default=2000
        r: the number of (most frequent) features reconstructed by the first
        layer, hence the width of every hidden layer when d > r. When
        d <= r every feature is reconstructed (width d). Chen et al. use
        r = 5000 on their large Amazon set; the default 2000 keeps a
        five-layer fit in seconds (each layer costs O(n r^2 + r^3) and the
        representation has d + n_layers * r columns); raise it when time
        allows. r = 5000 was measured against 2000 (issue 5 follow-up in
        ``benchmarks/sda_msda_tables.md``): a five-layer fit on 20ng-sci-talk
        took about 82 CPU seconds instead of about 17, and on the three Reuters
        tasks (which chose it) it was 0.9 point lower on average, so 2000 stays.
    block_size : int or None, default=None
        Size of the random disjoint input blocks of the first layer when
        d > r; None uses r.
    reg : float, default=1e-5
        Ridge added to the diagonal of Q (not to the bias), as in the
        authors' code.
    random_state : int, default=0
        Seed of the random split into blocks (only used when d > r).
    normalize : bool, default=True
        Scale every row of ``[x, h_1, ..., h_l]`` to unit Euclidean length
        (the classifier's input and ``transform``'s output); see "Scale of
        the representation" in the module docstring. False: the paper's
        unscaled concatenation.
    estimator : classifier or None, default=None
        Final classifier trained on the source representation; None gives
        ``LogisticRegression(max_iter=1000)``. Cloned, never modified.

    Attributes
    ----------
    p_ : float
        The corruption probability used (= p, or the one chosen by ``"cv"``).
    cv_scores_ : dict or None
        With ``p="cv"``: mean source cross-validation accuracy per p; else None.
    layers_ : list of (W, b)
        Layer l maps its input H to ``tanh(H @ W + b)``.
    output_features_ : ndarray of int
        The input features the first layer reconstructs (most frequent first
        when d > r, else all features in order).
    n_blocks_ : int
        Number of input blocks of the first layer (1 when d <= r).
    estimator_ : classifier
        The final classifier fitted on the source representation.
    """

    info = INFO
    _classifies_features = True  # predict_proba when the final classifier has it

    def __init__(self, p=0.5, n_layers=5, n_reconstruct=2000, block_size=None, reg=1e-5,
                 random_state=0, normalize=True, estimator=None):
        self.p = p
        self.n_layers = n_layers
        self.n_reconstruct = n_reconstruct
        self.block_size = block_size
        self.reg = reg
        self.random_state = random_state
        self.normalize = normalize
        self.estimator = estimator

    def _check_params(self):
        if not (isinstance(self.p, str) and self.p == "cv"):
            if not isinstance(self.p, (int, float)) or isinstance(self.p, bool):
                raise InputError(f"p must be a number in [0, 1) or 'cv'; got {self.p!r}")
            check_param(self.p, "p", kind=float, low=0.0)
            if not self.p < 1.0:
                raise InputError(f"p (corruption probability) must be < 1; got {self.p!r}")
        check_param(self.n_layers, "n_layers", kind=int, low=1)
        check_param(self.n_reconstruct, "n_reconstruct", kind=int, low=1)
        check_param(self.block_size, "block_size", kind=int, low=1, allow_none=True)
        check_param(self.reg, "reg", kind=float, low=0.0, low_inclusive=False)
        check_param(self.random_state, "random_state", kind=int, allow_none=True)
        check_param(self.normalize, "normalize", kind=bool)

    # -- fitting ------------------------------------------------------------
    def _fit(self, Xs, ys, Xt, yt):
        ns = Xs.shape[0]
        X = stack_rows(Xs, Xt)
        if isinstance(self.p, str):                 # "cv"
            self._fit_p_by_source_cv(X, ns, ys)
            return
        self.p_, self.cv_scores_ = float(self.p), None
        Zs = self._fit_layers(X, ns, self.p_)
        self.estimator_ = self._make_estimator().fit(Zs, ys)

    def _fit_layers(self, X, ns, p):
        """Learn the layers for corruption p on all rows of X (no labels); set
        ``layers_``, ``output_features_``, ``n_blocks_``; return the source
        representation (the first ``ns`` rows)."""
        q = 1.0 - float(p)
        self.layers_ = []
        self.output_features_, self.n_blocks_, W, b = _first_layer(
            X, q, self.reg, self.n_reconstruct, self.block_size, self.random_state)
        self.layers_.append((W, b))
        H = _forward(X, W, b)
        hidden = [H]
        for _ in range(1, self.n_layers):
            W, b = _full_layer(H, q, self.reg)
            self.layers_.append((W, b))
            H = _forward(H, W, b)
            hidden.append(H)
        return _concat(X[:ns], [h[:ns] for h in hidden], self.normalize)

    def _fit_p_by_source_cv(self, X, ns, ys):
        """``p="cv"``: the p of P_GRID whose source representation gives the best
        k-fold CV accuracy of the final classifier on the source labels."""
        from sklearn.model_selection import StratifiedKFold, cross_val_score

        k = min(_CV_FOLDS, int(np.bincount(ys).min()))
        if k < 2:
            raise InputError("p='cv' needs at least 2 labelled source rows of every class "
                             "(ys) for cross-validation")
        folds = StratifiedKFold(n_splits=k, shuffle=True, random_state=0)
        order = sorted(P_GRID, key=lambda v: (abs(v - 0.5), v))    # tie-break order
        scores, best = {}, None
        for p in order:
            Zs = self._fit_layers(X, ns, p)
            scores[p] = float(np.mean(cross_val_score(self._make_estimator(), Zs, ys,
                                                      cv=folds)))
            if best is None or scores[p] > scores[best[0]]:
                best = (p, Zs, self.layers_, self.output_features_, self.n_blocks_)
            del Zs
        p, Zs, self.layers_, self.output_features_, self.n_blocks_ = best
        self.p_, self.cv_scores_ = p, {v: scores[v] for v in P_GRID}
        self.estimator_ = self._make_estimator().fit(Zs, ys)

    # -- using the representation -------------------------------------------
    def _hidden(self, X):
        out, H = [], X
        for W, b in self.layers_:
            H = _forward(H, W, b)
            out.append(H)
        return out

    def _transform(self, X):
        """Dense ``[x, h_1, ..., h_l]`` (d + l * width columns), every row
        scaled to unit length when ``normalize``."""
        return _concat(X, self._hidden(X), self.normalize)

    def _predict(self, X):
        # in row chunks: the representation is wide (d + l r columns)
        out = [self.estimator_.predict(self._transform(X[i:i + _CHUNK]))
               for i in range(0, X.shape[0], _CHUNK)]
        return np.concatenate(out) if out else np.zeros(0, dtype=np.int64)


_CHUNK = 2048
#: the corruption probabilities ``p="cv"`` chooses from, and its number of folds
P_GRID = (0.3, 0.5, 0.7, 0.9)
_CV_FOLDS = 5


def _concat(X, hidden, normalize=False):
    x = X.toarray() if sp.issparse(X) else np.asarray(X)
    Z = np.hstack([x, *hidden])
    return unit_rows_(Z) if normalize else Z


def _forward(H, W, b):
    Z = H @ W
    Z = np.asarray(Z)
    Z += b
    np.tanh(Z, out=Z)
    return Z


def _dense(A):
    return A.toarray() if sp.issparse(A) else np.asarray(A)


def _colsum(X):
    return np.asarray(X.sum(axis=0)).ravel()


def _first_layer(X, q, reg, r, block_size, random_state):
    n, d = X.shape
    if d <= r:
        W, b = _full_layer(X, q, reg)
        return np.arange(d), 1, W, b
    # the r features present in the most rows
    if sp.issparse(X):
        df = np.diff(X.tocsc().indptr)
    else:
        df = np.count_nonzero(X, axis=0)
    out = np.argsort(-df, kind="stable")[:r]
    bs = r if block_size is None else min(block_size, d)
    n_blocks = -(-d // bs)
    perm = np.random.RandomState(random_state).permutation(d)
    blocks = np.array_split(perm, n_blocks)
    Xc = X.tocsc() if sp.issparse(X) else X
    Xo = Xc[:, out]
    so = _colsum(Xo)
    W = np.empty((d, r))
    b = np.zeros(r)
    for blk in blocks:
        blk = np.sort(blk)
        Xb = Xc[:, blk]
        M = mda_weights(_dense(Xb.T @ Xb), _colsum(Xb), n, q, reg,
                        cross=_dense(Xb.T @ Xo), out_sum=so)
        W[blk] = M[:-1] / n_blocks
        b += M[-1] / n_blocks
    return out, n_blocks, W, b


def _full_layer(H, q, reg):
    """mDA reconstructing every input feature of H."""
    S = H.T @ H
    M = mda_weights(_dense(S), _colsum(H), H.shape[0], q, reg)
    return M[:-1], M[-1].copy()


def mda_weights(S, col_sum, n, q, reg, cross=None, out_sum=None):
    """Closed-form mDA map M ((b+1) x r) for inputs with scatter S (b x b).

    ``col_sum`` = X^T 1 of the inputs, ``n`` the number of rows, ``q = 1 - p``
    the keep probability, ``reg`` the ridge on the feature diagonal. With
    ``cross`` = X_in^T X_out (b x r) and ``out_sum`` = X_out^T 1, the outputs
    are other features; without them the outputs are the inputs and the
    inverse form of the module docstring is used. The last row of M is the
    bias. ``S`` is overwritten.
    """
    S = np.asarray(S, dtype=np.float64)
    bdim = S.shape[0]
    qa = np.full(bdim + 1, q)
    qa[-1] = 1.0
    Q = np.empty((bdim + 1, bdim + 1))
    Q[:bdim, :bdim] = S
    Q[:bdim, -1] = col_sum
    Q[-1, :bdim] = col_sum
    Q[-1, -1] = n
    diagS = np.diag(Q).copy()
    Q *= qa[:, None]
    Q *= qa[None, :]
    lam = (qa - qa * qa) * diagS
    lam[:bdim] += reg
    Q.flat[:: bdim + 2] += lam          # diag becomes q_i S_ii + reg
    if cross is None:
        Qinv = _spd_inverse(Q)
        M = -Qinv[:, :bdim]
        M *= lam[:bdim] / q
        M.flat[:: bdim + 1] += 1.0 / q  # + D^{-1} on the feature diagonal
        return M
    P = np.empty((bdim + 1, cross.shape[1]))
    P[:bdim] = cross
    P[-1] = out_sum
    P *= qa[:, None]
    c = scipy.linalg.cho_factor(Q, lower=False, overwrite_a=True, check_finite=False)
    return scipy.linalg.cho_solve(c, P, overwrite_b=True, check_finite=False)


def _spd_inverse(Q):
    """Inverse of an SPD matrix via Cholesky (LAPACK potrf + potri)."""
    potrf, potri = scipy.linalg.get_lapack_funcs(("potrf", "potri"), (Q,))
    c, info = potrf(Q, lower=False, overwrite_a=True, clean=True)
    if info != 0:
        raise np.linalg.LinAlgError(f"mDA: Q is not positive definite (potrf info={info})")
    inv, info = potri(c, lower=False, overwrite_c=True)
    if info != 0:
        raise np.linalg.LinAlgError(f"mDA: inverting Q failed (potri info={info})")
    upper = np.triu(inv)
    return upper + np.triu(inv, 1).T
