"""Triplex Transfer Learning (TriTL).

Zhuang, Luo, Du, He, Shi, "Triplex transfer learning: exploiting both shared
and distinct concepts for text classification", WSDM 2013; extended with
Xiong in IEEE Transactions on Cybernetics 44(7), 2014.

Model
-----
Every domain r (the sources and the target) is a words x documents matrix
``X_r`` (m x n_r; here each document is scaled to sum 1) factorised as

    X_r ≈ F_r S_r G_r^T,   F_r = [F1, F2_r, F3_r],   S_r = [S1; S2; S3_r],

with three kinds of concepts (word clusters, the columns of F):

- identical concepts: word clusters ``F1`` (m x k1) AND their association with
  the classes ``S1`` (k1 x c) shared by all domains;
- alike concepts: word clusters ``F2_r`` (m x k2) specific to each domain, with
  a shared association ``S2`` (k2 x c) — the same idea, expressed by different
  words;
- distinct concepts: ``F3_r`` (m x k3) and ``S3_r`` (k3 x c) both specific to
  the domain.

``G_r`` (n_r x c) is the document-class matrix: fixed to the one-hot labels
for a source, learnt for the target. Objective

    min  sum_r || X_r - F_r S_r G_r^T ||_F^2
    s.t. F >= 0, S >= 0, G >= 0, every column of every F sums to 1,
         every row of the target's G sums to 1.

By default (``doc_weighting="relative"``, not in the paper) each document's
squared error is divided by ``||x_j||^2``, so every document weighs the same:
with sum-1 documents the plain objective weighs a document by about the
inverse of its number of distinct words, and on Reuters the shortest fifth of
the target, holding over half the weight, pulls one class column onto a few
words until nearly every document goes to the other class (README, issue 6).
The rules below then read ``X_r W_r G_r`` for ``X_r G_r`` and ``G_r^T W_r G_r``
for ``G_r^T G_r``; the G rule is per document and unchanged.

Updates (the paper's multiplicative rules)
------------------------------------------
With ``H_r = F_r S_r`` (m x c) the domain's current word-class matrix:

    F1    <- F1    * sqrt( sum_r X_r G_r S1^T  / sum_r H_r G_r^T G_r S1^T )
    F2_r  <- F2_r  * sqrt( X_r G_r S2^T        / H_r G_r^T G_r S2^T )
    F3_r  <- F3_r  * sqrt( X_r G_r S3_r^T      / H_r G_r^T G_r S3_r^T )
    S1    <- S1    * sqrt( sum_r F1^T X_r G_r  / sum_r F1^T H_r G_r^T G_r )
    S2    <- S2    * sqrt( sum_r F2_r^T X_r G_r / sum_r F2_r^T H_r G_r^T G_r )
    S3_r  <- S3_r  * sqrt( F3_r^T X_r G_r      / F3_r^T H_r G_r^T G_r )
    G_t   <- G_t   * sqrt( X_t^T H_t / G_t H_t^T H_t )

followed by the normalisation of the F columns and of the target's G rows.
Initialisation as in the paper: PLSA with k1 + k2 topics on all documents
gives p(w|z) for F1 (first k1 topics) and for every F2_r (the other k2);
S = 1/c; the target's G from a classifier trained on each source (averaged
over sources).

The blocks are updated one after the other, each with the latest values of
the others (block-coordinate descent, the setting of the paper's convergence
theorem; the authors' code updates all blocks from the previous iterate). For
a fixed rest each square-root rule lands, coordinate by coordinate, between
the current point and the minimiser of the Lee-Seung auxiliary function, so
it cannot raise the objective; the S rules are exactly this. The
normalisation of the F columns and of the G rows is not part of that
argument and can in principle raise it. So every iteration is safeguarded:
the paper's sweep is kept when the objective did not rise (on every benchmark
task so far, every iteration); otherwise it is undone and redone with each
normalised step replaced by the best point of the segment between the old
block and that step (exact line search on a quadratic; one step per F block,
one per target document for G; both ends satisfy the constraints, so the
whole segment does). The recorded objective therefore never increases;
``n_safeguarded_`` counts the redone iterations.

Cost
----
Everything works on the sparse documents x words matrices: per iteration, one
sparse x (n x c) product ``X_t^T H_t`` and one ``X_t G_t`` for the target (the
sources' ``X_r G_r`` are constant), plus m x k x c dense products. The
objective is ``||X||^2 - 2 <X G, H> + <H^T H, G^T G>``, never the dense product.
"""
from __future__ import annotations

import hashlib

import numpy as np
import scipy.sparse as sp
from sklearn.preprocessing import normalize
from sklearn.utils import check_random_state
from sklearn.utils.validation import check_is_fitted

from tltk_core import InputError, TransferMethod, check_param
from tltk_core.sparse_ops import normalize_columns, plsa

from . import INFO


# -- the factorisation ----------------------------------------------------------
def _sqrt_ratio(num, den):
    """``sqrt(num / den)`` element-wise; 1 where ``den`` is 0 (the entry stays)."""
    out = np.ones_like(num)
    np.divide(num, den, out=out, where=den > 0)
    return np.sqrt(out, out=out)


def _normalised(cand, old, axis):
    """``cand`` scaled to sum 1 along ``axis``; a slice summing to 0 keeps ``old``."""
    s = cand.sum(axis=axis, keepdims=True)
    ok = s > 0
    if ok.all():
        cand /= s
        return cand
    return np.where(ok, cand / np.where(ok, s, 1.0), old)


def _clip_step(b, a):
    """argmin over theta in [0, 1] of ``a theta^2 - 2 b theta`` (0 when a <= 0)."""
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    out = np.zeros(np.broadcast(a, b).shape)
    np.divide(b, a, out=out, where=a > 0)
    return np.clip(out, 0.0, 1.0)


def g_step(docs, H, G, XM=None, line_search=False):
    """One update of a free document-class matrix ``G`` (n x c) for fixed ``H``.

    ``docs`` is the documents x words CSR matrix, ``H = F S`` (m x c). The
    paper's step is the multiplicative rule followed by row normalisation
    (``line_search=False``); with ``line_search=True`` each row instead moves
    to the best point of the segment between its old value and that step.
    Returns ``(G_new, thetas)``.
    """
    if XM is None:
        XM = np.asarray(docs @ H)                       # X^T H: n x c, sparse x thin
    HtH = H.T @ H
    GH = G @ HtH
    cand = _normalised(G * _sqrt_ratio(XM, GH), G, axis=1)
    if not line_search:
        return cand, np.ones(G.shape[0])
    delta = cand - G
    b = np.einsum("ij,ij->i", delta, XM - GH)
    a = np.einsum("ij,ij->i", delta, delta @ HtH)
    theta = _clip_step(b, a)
    return G + theta[:, None] * delta, theta


class TriFactors:
    """The joint tri-factorisation of several domains and its block updates.

    ``docs[r]`` is domain r's documents x words CSR matrix (each row a
    document, already scaled), ``G[r]`` its n_r x c document-class matrix; the
    first ``n_fixed`` domains (the sources) keep ``G`` fixed. ``F2``, ``F3``,
    ``S3`` are lists with one matrix per domain. ``step()`` performs one
    iteration and returns the objective after it.

    ``weights`` (optional, one length-n_r vector per domain) weights each
    document's squared error: the objective becomes
    ``sum_r sum_j w_rj ||x_rj - H_r g_rj||^2``. Every update then reads
    ``X_r W_r G_r`` for ``X_r G_r`` and ``G_r^T W_r G_r`` for ``G_r^T G_r``;
    the G rule, one document at a time, is unchanged (a document's weight
    cancels in its own ratio and in its own line search).
    """

    def __init__(self, docs, G, n_fixed, F1, S1, F2, S2, F3, S3, weights=None):
        self.docs = list(docs)
        self.G = [np.array(g, dtype=np.float64) for g in G]
        self.n_fixed = int(n_fixed)
        self.F1, self.S1, self.S2 = (np.array(a, dtype=np.float64) for a in (F1, S1, S2))
        self.F2 = [np.array(a, dtype=np.float64) for a in F2]
        self.F3 = [np.array(a, dtype=np.float64) for a in F3]
        self.S3 = [np.array(a, dtype=np.float64) for a in S3]
        self.w = (None if weights is None
                  else [np.asarray(w, dtype=np.float64).reshape(-1, 1) for w in weights])
        self.xx = [float(self._wcol(r).ravel() @ np.asarray(d.multiply(d).sum(axis=1)).ravel())
                   for r, d in enumerate(self.docs)]
        self.XG, self.GtG = [None] * self.n_domains, [None] * self.n_domains
        for r in range(self.n_domains):
            self._refresh(r)
        self.H = None
        self.thetas = {}

    def _wcol(self, r):
        """Domain r's document weights as a column (1 when unweighted)."""
        return np.ones((self.docs[r].shape[0], 1)) if self.w is None else self.w[r]

    def _refresh(self, r):
        """Recompute ``X_r W_r G_r`` (m x c) and ``G_r^T W_r G_r`` (c x c)."""
        WG = self.G[r] if self.w is None else self.w[r] * self.G[r]
        self.XG[r] = np.asarray(self.docs[r].T @ WG)
        self.GtG[r] = self.G[r].T @ WG

    @property
    def n_domains(self):
        return len(self.docs)

    def word_class(self, r):
        """``H_r = F_r S_r`` (m x c), the domain's word-class matrix."""
        return self.F1 @ self.S1 + self.F2[r] @ self.S2 + self.F3[r] @ self.S3[r]

    def objective(self):
        """``sum_r ||(X_r - F_r S_r G_r^T) W_r^(1/2)||_F^2`` from traces (no dense
        product; ``W_r = I`` when unweighted)."""
        total = 0.0
        for r in range(self.n_domains):
            H = self.word_class(r)
            total += (self.xx[r] - 2.0 * np.einsum("ij,ij->", self.XG[r], H)
                      + np.einsum("ij,ij->", H.T @ H, self.GtG[r]))
        return max(total, 0.0)

    # -- blocks ---------------------------------------------------------------
    def _update_F(self, F, pairs, line_search):
        """Update word clusters ``F`` that appear in the domains ``pairs`` =
        [(r, S_of_this_block_in_r)]: the paper's normalised multiplicative
        step, or (``line_search``) the best point between F and that step."""
        if F.shape[1] == 0:
            return F, 1.0
        num = sum(self.XG[r] @ S.T for r, S in pairs)
        den = sum(self.H[r] @ (self.GtG[r] @ S.T) for r, S in pairs)
        D = _normalised(F * _sqrt_ratio(num, den), F, axis=0) - F
        E = {r: D @ S for r, S in pairs}                      # change of H_r per unit step
        if not line_search:
            for r, _ in pairs:
                self.H[r] += E[r]
            return F + D, 1.0
        b = sum(np.einsum("ij,ij->", E[r], self.XG[r] - self.H[r] @ self.GtG[r])
                for r, _ in pairs)
        a = sum(np.einsum("ij,ij->", E[r].T @ E[r], self.GtG[r]) for r, _ in pairs)
        theta = float(_clip_step(b, a))
        for r, _ in pairs:
            self.H[r] += theta * E[r]
        return F + theta * D, theta

    def _update_S(self, S, pairs):
        """Update associations ``S`` used by the domains ``pairs`` = [(r, F)]."""
        if S.shape[0] == 0:
            return S
        num = sum(F.T @ self.XG[r] for r, F in pairs)
        den = sum(F.T @ (self.H[r] @ self.GtG[r]) for r, F in pairs)
        new = S * _sqrt_ratio(num, den)
        for r, F in pairs:
            self.H[r] += F @ (new - S)
        return new

    def _state(self):
        return ([self.F1, self.S1, self.S2], [list(self.F2), list(self.F3), list(self.S3),
                                               list(self.G), list(self.XG), list(self.GtG)])

    def _set_state(self, state):
        (self.F1, self.S1, self.S2), lists = state
        self.F2, self.F3, self.S3, self.G, self.XG, self.GtG = (list(x) for x in lists)

    def sweep(self, line_search=False):
        """One pass over all blocks, each updated with the latest values of the
        others: F1, every F2_r, every F3_r, S1, S2, every S3_r, the free G.
        Blocks are replaced (never modified in place), so a saved state stays
        valid. Returns the objective after the pass."""
        R = range(self.n_domains)
        self.H = [self.word_class(r) for r in R]
        th = {}
        self.F1, th["F1"] = self._update_F(self.F1, [(r, self.S1) for r in R], line_search)
        th["F2"], th["F3"] = [], []
        for r in R:
            self.F2[r], t = self._update_F(self.F2[r], [(r, self.S2)], line_search)
            th["F2"].append(t)
        for r in R:
            self.F3[r], t = self._update_F(self.F3[r], [(r, self.S3[r])], line_search)
            th["F3"].append(t)
        self.S1 = self._update_S(self.S1, [(r, self.F1) for r in R])
        self.S2 = self._update_S(self.S2, [(r, self.F2[r]) for r in R])
        for r in R:
            self.S3[r] = self._update_S(self.S3[r], [(r, self.F3[r])])
        th["G"] = []
        for r in range(self.n_fixed, self.n_domains):
            self.G[r], t = g_step(self.docs[r], self.H[r], self.G[r], line_search=line_search)
            self._refresh(r)
            th["G"].append(t)
        self.thetas = th
        self.H = None
        return self.objective()

    def step(self, previous=None):
        """One iteration: the paper's sweep; if it raised the objective above
        ``previous``, the sweep is undone and redone with line searches, which
        cannot raise it. Returns ``(objective, safeguarded)``."""
        if previous is None:
            previous = self.objective()
        saved = self._state()
        value = self.sweep(line_search=False)
        if value <= previous:
            return value, False
        self._set_state(saved)
        return self.sweep(line_search=True), True


# -- the estimator -----------------------------------------------------------------
def _fingerprint(X):
    """A digest of ``X``'s values (any sparse format or dense), to recognise the
    fitted target when it comes back to ``predict``."""
    X = sp.csr_matrix(X, dtype=np.float64, copy=True)
    X.sum_duplicates()
    X.eliminate_zeros()
    h = hashlib.blake2b(digest_size=20)
    for part in (np.asarray(X.shape, np.int64), X.indptr.astype(np.int64),
                 X.indices.astype(np.int64), X.data):
        h.update(np.ascontiguousarray(part).tobytes())
    return h.hexdigest()


class TriTL(TransferMethod):
    """Triplex Transfer Learning (Zhuang et al., WSDM 2013 / IEEE TCYB 2014).

    Joint non-negative tri-factorisation ``X_r ≈ [F1, F2_r, F3_r] [S1; S2; S3_r] G_r^T``
    of each domain's word x document matrix, with identical concepts (F1, S1
    shared), alike concepts (F2_r per domain, S2 shared) and distinct concepts
    (F3_r, S3_r per domain); the sources' G are their labels, the target's G
    is learnt and gives the prediction (argmax of its rows). See the module
    docstring for the updates.

    Input rows are documents (non-negative: counts or tf-idf); each document is
    scaled to sum 1 inside. One or more sources (lists), one target.

    Transductive: ``fit`` learns the target's labels; ``predict`` on the
    fitted target returns them. On new documents, ``predict`` *folds them in*:
    with the target's word-side factors ``F_t S_t`` fixed, it runs
    ``fold_in_iter`` updates of the new documents' G rows (the same rule,
    from uniform rows).

    Parameters
    ----------
    n_identical, n_alike, n_distinct : int, default 20, 20, 10
        Numbers of identical (k1), alike (k2) and distinct (k3) concepts —
        ``numIdentical``, ``numAlike``, ``numDistinct`` of the authors' code.
    n_iter : int, default 100
        Iterations of the updates (the paper's and the code's 100).
    plsa_iter : int, default 20
        EM steps of the PLSA that initialises F1 and F2 (the authors' code: 20).
    fold_in_iter : int, default 50
        Updates of G for new documents in ``predict``.
    doc_weighting : {"relative", "none"}, default "relative"
        "relative": each document's squared error is divided by its squared
        norm (equal document weights; prevents the collapse of the target's
        classes on corpora with many short documents, e.g. Reuters).
        "none": the paper's plain Frobenius objective.
    init_estimator : classifier or None
        Initialises the target's G (averaged over sources; on documents scaled
        to unit length); needs ``predict_proba`` or ``decision_function``.
        None = ``LogisticRegression(max_iter=1000)``.
    random_state : int, RandomState or None
        Seeds the PLSA initialisation and the distinct concepts' F3.

    Attributes
    ----------
    objective_ : list of float
        The objective before the first iteration and after each one.
    F_identical_, S_identical_ : F1 (m x k1), S1 (k1 x c)
    F_alike_, S_alike_ : list of F2_r (sources, then target), S2
    F_distinct_, S_distinct_ : lists of F3_r, S3_r
    G_target_ : (n_t x c) the target's document-class matrix (rows sum to 1)
    target_word_class_ : F_t S_t (m x c), used to fold in new documents
    n_safeguarded_ : int
        Iterations whose paper sweep raised the objective and were redone with
        line searches (0 on the benchmark tasks).
    """

    info = INFO
    _estimator_param = "init_estimator"  # it initialises; no protocol replaces it

    def __init__(self, n_identical=20, n_alike=20, n_distinct=10, n_iter=100, plsa_iter=20,
                 fold_in_iter=50, doc_weighting="relative", init_estimator=None, random_state=None):
        self.n_identical = n_identical
        self.n_alike = n_alike
        self.n_distinct = n_distinct
        self.n_iter = n_iter
        self.plsa_iter = plsa_iter
        self.fold_in_iter = fold_in_iter
        self.doc_weighting = doc_weighting
        self.init_estimator = init_estimator
        self.random_state = random_state

    def _check_params(self):
        check_param(self.n_identical, "n_identical", kind=int, low=0)
        check_param(self.n_alike, "n_alike", kind=int, low=0)
        check_param(self.n_distinct, "n_distinct", kind=int, low=0)
        if self.n_identical + self.n_alike < 1:
            raise InputError("n_identical + n_alike must be >= 1: without shared concepts "
                             f"nothing transfers; got {self.n_identical} + {self.n_alike}")
        check_param(self.n_iter, "n_iter", kind=int, low=1)
        check_param(self.plsa_iter, "plsa_iter", kind=int, low=0)
        check_param(self.fold_in_iter, "fold_in_iter", kind=int, low=1)
        check_param(self.doc_weighting, "doc_weighting", choices=("relative", "none"))

    def _check_estimator(self):
        super()._check_estimator()
        est = self.init_estimator
        if est is not None and not (hasattr(est, "predict_proba")
                                    or hasattr(est, "decision_function")):
            raise InputError("init_estimator must have predict_proba or decision_function "
                             f"(it initialises the target's class memberships); got {est!r}")

    # -- helpers ----------------------------------------------------------------
    @staticmethod
    def _documents(X, name):
        """CSR documents x words, non-negative, each row scaled to sum 1 (a copy)."""
        X = sp.csr_matrix(X, dtype=np.float64)
        if X.nnz and X.data.min() < 0:
            raise InputError(f"{name} must be non-negative (word counts or tf-idf); "
                             f"found the value {X.data.min():g}")
        return normalize(X, norm="l1", copy=True)

    def _weights(self, docs):
        """Per-document weights of the squared error: ``1 / ||x_j||^2`` for the
        sum-1 documents (``doc_weighting="relative"``: every document's error
        counts relative to its own size, so each document weighs the same; an
        empty document weighs 0), or None (plain Frobenius, the paper)."""
        if self.doc_weighting == "none":
            return None
        out = []
        for d in docs:
            sq = np.asarray(d.multiply(d).sum(axis=1)).ravel()
            w = np.zeros_like(sq)
            np.divide(1.0, sq, out=w, where=sq > 0)
            out.append(w)
        return out

    def _class_scores(self, est, X, n_classes):
        """Class probabilities of ``est`` on ``X`` as an n x n_classes array."""
        cols = np.asarray(est.classes_, dtype=int)
        if hasattr(est, "predict_proba"):
            P = np.asarray(est.predict_proba(X))
        else:
            d = np.asarray(est.decision_function(X), dtype=np.float64)
            if d.ndim == 1:
                p = 1.0 / (1.0 + np.exp(-d))
                P = np.column_stack([1.0 - p, p])
            else:
                P = np.exp(d - d.max(axis=1, keepdims=True))
                P /= P.sum(axis=1, keepdims=True)
        out = np.zeros((X.shape[0], n_classes))
        out[:, cols] = P
        return out

    # -- fit / predict ------------------------------------------------------------
    def _fit(self, Xs, ys, Xt, yt):
        c = len(self.classes_)
        rng = check_random_state(self.random_state)
        names = ["Xs"] if len(Xs) == 1 else [f"Xs[{i}]" for i in range(len(Xs))]
        docs = [self._documents(X, n) for X, n in zip(Xs, names)]
        docs.append(self._documents(Xt, "Xt"))
        n_src = len(Xs)
        m = docs[0].shape[1]
        k1, k2, k3 = self.n_identical, self.n_alike, self.n_distinct

        # the target's G: class probabilities of a classifier trained on each
        # source (on unit-length rows), averaged over the sources (the paper)
        Xt_l2 = normalize(docs[-1], norm="l2")
        P = np.zeros((docs[-1].shape[0], c))
        for d, y in zip(docs[:n_src], ys):
            est = self._make_estimator()
            est.fit(normalize(d, norm="l2"), y)
            P += self._class_scores(est, Xt_l2, c)
        Gt = P / n_src
        G = [np.eye(c)[y] for y in ys] + [Gt]

        # word clusters: PLSA with k1 + k2 topics on every document
        P_wz = plsa(sp.vstack(docs, format="csr"), k1 + k2, n_iter=self.plsa_iter, tol=0.0,
                    random_state=rng, init_offset=0.1).word_topic
        n_dom = n_src + 1
        F3 = [normalize_columns(rng.rand(m, k3)) for _ in range(n_dom)]
        model = TriFactors(
            docs, G, n_src, F1=P_wz[:, :k1], S1=np.full((k1, c), 1.0 / c),
            F2=[P_wz[:, k1:].copy() for _ in range(n_dom)], S2=np.full((k2, c), 1.0 / c),
            F3=F3, S3=[np.full((k3, c), 1.0 / c) for _ in range(n_dom)],
            weights=self._weights(docs))

        objective = [model.objective()]
        n_safe = 0
        for _ in range(self.n_iter):
            value, safe = model.step(objective[-1])
            objective.append(value)
            n_safe += safe

        self.objective_ = objective
        self.n_iter_ = self.n_iter
        self.n_safeguarded_ = n_safe
        self.F_identical_, self.S_identical_ = model.F1, model.S1
        self.F_alike_, self.S_alike_ = model.F2, model.S2
        self.F_distinct_, self.S_distinct_ = model.F3, model.S3
        self.G_target_ = model.G[-1]
        self.target_word_class_ = model.word_class(n_dom - 1)
        self._target_key = _fingerprint(Xt)
        return self

    def _predict_proba(self, X):
        check_is_fitted(self, "G_target_")
        if _fingerprint(X) == self._target_key:
            return self.G_target_.copy()
        docs = self._documents(X, "X")
        H = self.target_word_class_
        XM = np.asarray(docs @ H)                       # fixed: computed once
        G = np.full((docs.shape[0], H.shape[1]), 1.0 / H.shape[1])
        for _ in range(self.fold_in_iter):
            G, _ = g_step(docs, H, G, XM=XM)
        return G

    def _predict(self, X):
        return np.argmax(self._predict_proba(X), axis=1)
