"""HIDC: concept learning with identical, alike and distinct word concepts.

Zhuang, Luo, Yin, He and Shi, "Concept learning for cross-domain text
classification: a general probabilistic framework", IJCAI 2013.

The model
---------
Domains ``r = 1..R`` (the sources, then the target) hold documents ``d`` over
one vocabulary of words ``w``; ``z`` is the document class and ``y`` a word
concept. A concept has an *extension*, its word distribution ``p(w|y)``, and
an *intension*, its association with the classes ``p(y|z)``. Three kinds of
concepts ``k``:

=============  ==================  ==================
kind           extension p(w|y)    intension p(y|z)
=============  ==================  ==================
identical      shared by domains   shared by domains
alike          one per domain      shared by domains
distinct       one per domain      one per domain
=============  ==================  ==================

Each kind generates the domain's word-document weights through the classes:

    p_k(w, d, r) = p(r) * sum_z p(d, z | r) * sum_{y in kind k} p_k(w|y, r) p_k(y|z, r)

with the document side ``p(d, z | r)`` (= p(z|r) p(d|z, r)) common to the
three kinds. The data log-likelihood summed over the three kinds,

    L = sum_k sum_r sum_{d, w} X_r[d, w] log p_k(w, d, r),

is maximised by EM (this is the likelihood that the authors' own MATLAB code,
``GenerativeTriTL.m``, optimises: every kind's posterior is normalised within
the kind, and the document side collects the expected counts of all three).
Source documents have known classes, so their ``p(d, z | r)`` is zero off the
label and stays zero; target ``p(d, z | t)`` is learnt, and a target document's
class is ``argmax_z p(z | d, t)``.

EM without the words x documents x concepts posterior
-----------------------------------------------------
For one domain and one kind write ``D`` (n x C) for p(d, z | r), ``W``
(V x K) for p(w|y) and ``S`` (K x C) for p(y|z). The model is the rank-C
product ``M = D (W S)^T``, needed only at the nonzeros of X; with the sparse
ratio ``R = X / M`` (on X's pattern) the expected counts of the E-step are

    n(w, y) = W * ((R^T D) S^T)        n(y, z) = S * (W^T (R^T D))
    n(d, z) = D * (R (W S))

(``*`` element-wise). So one EM step costs, per domain and kind, one
evaluation of a rank-C product at the nonzeros and two sparse x (n x C)
products: O(nnz * C + V * K * C). The M-step normalises the counts, summed
over the domains that share a parameter.

Initialisation (as in the paper and the authors' code): ``p(w|y)`` of the
identical and alike concepts from PLSA on all documents with
``n_identical + n_alike`` topics (the alike ones start equal in every domain);
distinct concepts from PLSA on each domain alone (the authors' code starts them
uniform, which keeps them identical to each other for ever); ``p(y|z)``
uniform; the target's ``p(z|d)`` from classifiers trained on each source
(averaged), ``p(d|r)`` proportional to the document's total weight.

Weights, not counts: the benchmark data are tf-idf vectors scaled to unit
length. They are used as fractional counts, the usual practice of the PLSA
family on weighted text; EM and its monotone likelihood are unchanged.
"""
from __future__ import annotations

import hashlib

import numpy as np
import scipy.sparse as sp

from tltk_core import InputError, TransferMethod, check_param
from tltk_core.sparse_ops import (low_rank_at_nonzeros, nonzero_rows, normalize_columns,
                                  normalize_rows, plsa)

from . import INFO

_TINY = 1e-300
_INIT_SMOOTH = 0.01   # share of the domain's word frequencies mixed into the initial p(w|y)

# name, shares the extension p(w|y) across domains, shares the intension p(y|z)
KINDS = (("identical", True, True), ("alike", False, True), ("distinct", False, False))


class HIDC(TransferMethod):
    """HIDC: identical, alike and distinct concepts learnt by EM (Zhuang et al., IJCAI 2013).

    Transductive: ``fit(Xs, ys, Xt)`` learns the concepts and the target
    classes; ``predict(Xt)`` on the fitted target returns ``argmax_z p(z|d)``.
    New target documents are folded in: the word side of the target (every
    ``p(w|y)``, ``p(y|z)``) is fixed and EM runs over the new documents' own
    ``p(d, z)`` for ``fold_in_iter`` iterations.

    Parameters
    ----------
    n_identical, n_alike, n_distinct : int, default=20, 20, 10
        Numbers of identical, alike and distinct concepts (the authors'
        defaults). Any of them may be 0, not all.
    n_iter : int, default=100
        EM iterations (the authors' ``Parameter_Setting.txt`` and the
        README of their MATLAB code; the toolkit's Python wrapper passed 10).
    n_init_iter : int, default=20
        Iterations of the PLSA runs that initialise the word distributions
        (20 in the authors' code).
    fold_in_iter : int, default=50
        EM iterations for documents not seen in ``fit``.
    random_state : int or None, default=0
        Seed of the PLSA initialisations.
    init_estimator : classifier or None, default=None
        Classifier trained on each source (rows scaled to unit length) whose
        target probabilities initialise ``p(z|d)``; None gives
        ``LogisticRegression(max_iter=1000)`` (the authors use logistic
        regression). Needs ``predict_proba``, else its hard predictions are used.

    Attributes
    ----------
    log_likelihood_ : list of float
        The objective L at the initialisation and after every EM iteration
        (``n_iter + 1`` values, non-decreasing).
    word_concepts_ : dict
        ``kind -> list`` (one entry per domain, sources then target) of the
        V x K matrices ``p(w|y)``; shared kinds repeat the same array.
    concept_class_ : dict
        ``kind -> list`` of the K x C matrices ``p(y|z)``, one per domain.
    doc_class_ : list of ndarray
        ``p(d, z | r)`` per domain (n_r x C, summing to 1).
    target_proba_ : ndarray
        ``p(z | d)`` of the fitted target documents.
    """

    info = INFO
    _estimator_param = "init_estimator"  # it initialises; no protocol replaces it

    def __init__(self, n_identical=20, n_alike=20, n_distinct=10, n_iter=100, n_init_iter=20,
                 fold_in_iter=50, random_state=0, init_estimator=None):
        self.n_identical = n_identical
        self.n_alike = n_alike
        self.n_distinct = n_distinct
        self.n_iter = n_iter
        self.n_init_iter = n_init_iter
        self.fold_in_iter = fold_in_iter
        self.random_state = random_state
        self.init_estimator = init_estimator

    def _check_params(self):
        for name in ("n_identical", "n_alike", "n_distinct"):
            check_param(getattr(self, name), name, kind=int, low=0)
        if self.n_identical + self.n_alike + self.n_distinct == 0:
            raise InputError("n_identical, n_alike and n_distinct are all 0; "
                             "HIDC needs at least one concept")
        check_param(self.n_iter, "n_iter", kind=int, low=1)
        check_param(self.n_init_iter, "n_init_iter", kind=int, low=1)
        check_param(self.fold_in_iter, "fold_in_iter", kind=int, low=1)
        check_param(self.random_state, "random_state", kind=int, allow_none=True)

    def _sizes(self):
        return {"identical": int(self.n_identical), "alike": int(self.n_alike),
                "distinct": int(self.n_distinct)}

    # -- fitting ------------------------------------------------------------
    def _fit(self, Xs, ys, Xt, yt):
        X = [_as_counts(x, f"Xs[{i}]" if len(Xs) > 1 else "Xs") for i, x in enumerate(Xs)]
        X.append(_as_counts(Xt, "Xt"))
        n_classes = len(self.classes_)
        rng = np.random.RandomState(self.random_state)
        kinds = [(name, self._sizes()[name], sw, sa) for name, sw, sa in KINDS
                 if self._sizes()[name] > 0]

        # document side: sources from their labels, target from source classifiers
        D = [_label_doc_class(x, y, n_classes) for x, y in zip(X[:-1], ys)]
        D.append(_doc_class_from_proba(X[-1], self._initial_target_proba(Xs, ys, Xt)))

        # word side: PLSA topics
        W, S = {}, {}
        n_shared = sum(k for name, k, _, _ in kinds if name in ("identical", "alike"))
        if n_shared:
            topics = _plsa(sp.vstack(X, format="csr"), n_shared, self.n_init_iter, rng)
        freq = [_word_freq(x) for x in X]
        pooled = _word_freq(sp.vstack(X, format="csr"))
        start = 0
        for name, k, share_words, share_assoc in kinds:
            if name == "distinct":
                W[name] = [_smooth(_plsa(x, k, self.n_init_iter, rng), f)
                           for x, f in zip(X, freq)]
            else:
                block = topics[:, start:start + k]
                start += k
                W[name] = ([_smooth(block, pooled)] * len(X) if share_words
                           else [_smooth(block, f) for f in freq])
            assoc = np.full((k, n_classes), 1.0 / k)
            S[name] = [assoc] * len(X) if share_assoc else [assoc.copy() for _ in X]

        mass = np.array([x.data.sum() for x in X])
        log_pr = np.log(np.maximum(mass / mass.sum(), _TINY))
        ll = []
        rows = [nonzero_rows(x) for x in X]
        for _ in range(self.n_iter):
            D, W, S, value = em_step(X, D, W, S, kinds, log_pr, rows)
            ll.append(value)
        ll.append(log_likelihood(X, D, W, S, kinds, log_pr))

        self.log_likelihood_ = ll
        self.word_concepts_ = W
        self.concept_class_ = S
        self.doc_class_ = D
        self.n_domains_ = len(X)
        self.kinds_ = [name for name, _, _, _ in kinds]
        self._kinds = kinds
        self.target_proba_ = _posterior(D[-1])
        self._target_key = _fingerprint(X[-1])

    def _initial_target_proba(self, Xs, ys, Xt):
        """Average over the sources of a source-trained classifier's p(z|d) on the target."""
        from sklearn.preprocessing import normalize

        n_classes = len(self.classes_)
        Zt = normalize(Xt)
        P = np.zeros((Xt.shape[0], n_classes))
        for x, y in zip(Xs, ys):
            est = self._make_estimator().fit(normalize(x), y)
            cols = np.asarray(est.classes_, dtype=np.int64)
            if hasattr(est, "predict_proba"):
                P[:, cols] += est.predict_proba(Zt)
            else:
                P[np.arange(Xt.shape[0]), np.asarray(est.predict(Zt), dtype=np.int64)] += 1.0
        return normalize_rows(P)

    # -- prediction -----------------------------------------------------------
    def _target_posterior(self, X):
        X = _as_counts(X, "X")
        if _fingerprint(X) == self._target_key:
            return self.target_proba_
        t = self.n_domains_ - 1
        W = [self.word_concepts_[name][t] for name in self.kinds_]
        S = [self.concept_class_[name][t] for name in self.kinds_]
        prior = self.doc_class_[t].sum(axis=0)
        return _posterior(fold_in(X, W, S, prior, self.fold_in_iter))

    def _predict_proba(self, X):
        return self._target_posterior(X)

    def _predict(self, X):
        return np.argmax(self._target_posterior(X), axis=1)


# -- the EM ------------------------------------------------------------------------
def em_step(X, D, W, S, kinds, log_pr, rows=None):
    """One EM iteration. Returns the updated ``(D, W, S)`` and the objective L
    of the parameters it started from.

    ``X``: list of CSR documents x words (sources, then target); ``D``: list of
    p(d, z | r); ``W[kind]``, ``S[kind]``: lists (one per domain) of p(w|y) and
    p(y|z), the same array repeated where the kind shares it; ``kinds``: tuples
    ``(name, size, shares_words, shares_assoc)``; ``log_pr``: log p(r);
    ``rows``: optional list of ``nonzero_rows(X[r])``.
    """
    n_dom = len(X)
    rows = [nonzero_rows(x) for x in X] if rows is None else rows
    cW = {name: [None] * n_dom for name, _, _, _ in kinds}
    cS = {name: [None] * n_dom for name, _, _, _ in kinds}
    cD = [np.zeros_like(d) for d in D]
    ll = 0.0
    for r, x in enumerate(X):
        cols, n_cls = x.indices, D[r].shape[1]
        # p(d, z | r) at the stored entries, one contiguous column per class,
        # gathered once and shared by the three kinds
        Dg = [np.ascontiguousarray(D[r][:, z]).take(rows[r]) for z in range(n_cls)]
        for name, _, _, _ in kinds:
            w, s = W[name][r], S[name][r]
            B = w @ s                                     # p(w|z) under this kind, V x C
            Bg = [np.ascontiguousarray(B[:, z]).take(cols) for z in range(n_cls)]
            M = Dg[0] * Bg[0]                             # the model at the nonzeros of X
            for z in range(1, n_cls):
                M += Dg[z] * Bg[z]
            np.maximum(M, _TINY, out=M)
            ll += float(x.data @ np.log(M)) + log_pr[r] * _mass(x)
            ratio = x.data / M                            # R = X / M on X's pattern
            R = sp.csr_matrix((ratio, cols, x.indptr), shape=x.shape)
            RtD = np.asarray(R.T @ D[r])                  # R^T D, V x C
            RB = np.asarray(R @ B)                        # R B, n x C
            cW[name][r] = w * (RtD @ s.T)                 # expected n(w, y)
            cS[name][r] = s * (w.T @ RtD)                 # expected n(y, z)
            cD[r] += D[r] * RB                            # expected n(d, z)
    W_new, S_new = {}, {}
    for name, _, share_words, share_assoc in kinds:
        W_new[name] = _m_step(cW[name], share_words)
        S_new[name] = _m_step(cS[name], share_assoc)
    D_new = [c / max(c.sum(), _TINY) for c in cD]
    return D_new, W_new, S_new, ll


def _mass(x):
    """Total weight of a sparse matrix."""
    return float(x.data.sum())


def _m_step(counts, shared):
    """Column-normalised counts, pooled over the domains when the parameter is shared."""
    if shared:
        p = normalize_columns(sum(counts))
        return [p] * len(counts)
    return [normalize_columns(c) for c in counts]


def log_likelihood(X, D, W, S, kinds, log_pr):
    """The objective L = sum_k sum_r sum_{d,w} X log p_k(w, d, r)."""
    ll = 0.0
    for r, x in enumerate(X):
        for name, _, _, _ in kinds:
            M = np.maximum(low_rank_at_nonzeros(x, D[r], W[name][r] @ S[name][r]), _TINY)
            ll += float(x.data @ (np.log(M) + log_pr[r]))
    return ll


def fold_in(X, W, S, prior, n_iter):
    """p(d, z) of new documents ``X`` with the word side (lists ``W``, ``S``
    over the kinds) fixed: EM over the documents' own parameters, started
    from the class prior."""
    mass = np.asarray(X.sum(axis=1)).ravel()
    D = mass[:, None] * (prior / max(prior.sum(), _TINY))[None, :]
    D /= max(D.sum(), _TINY)
    B = [w @ s for w, s in zip(W, S)]
    rows = nonzero_rows(X)
    for _ in range(n_iter):
        c = np.zeros_like(D)
        for b in B:
            M = np.maximum(low_rank_at_nonzeros(X, D, b, rows=rows), _TINY)
            R = sp.csr_matrix((X.data / M, X.indices, X.indptr), shape=X.shape)
            c += D * np.asarray(R @ b)
        D = c / max(c.sum(), _TINY)
    return D


def _plsa(X, k, n_iter, rng):
    """Word distributions p(w|y) (V x k) of a PLSA with k topics on ``X``
    (documents x words): ``n_iter`` EM steps from a flat random start."""
    return plsa(X, k, n_iter=n_iter, tol=0.0, random_state=rng, init_offset=0.5).word_topic


# -- helpers -------------------------------------------------------------------------
def _word_freq(X):
    """Empirical word distribution of documents ``X`` (V,)."""
    f = np.asarray(X.sum(axis=0)).ravel()
    return f / max(f.sum(), _TINY)


def _smooth(W, freq, eps=_INIT_SMOOTH):
    """``(1 - eps) W + eps freq`` column by column: every word the domain uses
    keeps a positive probability under every concept at the start, so that no
    observed word is impossible (EM's multiplicative updates never revive an
    exact zero, and PLSA topics underflow to zero on words they do not use)."""
    return (1.0 - eps) * W + eps * freq[:, None]


def _as_counts(X, name):
    """CSR float64 copy in canonical form; InputError if any entry is negative."""
    X = sp.csr_matrix(X, dtype=np.float64, copy=True)
    X.sum_duplicates()
    X.eliminate_zeros()
    if X.nnz and X.data.min() < 0:
        raise InputError(f"{name} has negative entries; HIDC models word weights (counts, "
                         f"tf or tf-idf), which must be non-negative")
    return X


def _label_doc_class(X, y, n_classes):
    """p(d, z | r) of a labelled domain: the document's weight on its own class."""
    mass = np.asarray(X.sum(axis=1)).ravel()
    D = np.zeros((X.shape[0], n_classes))
    D[np.arange(X.shape[0]), np.asarray(y, dtype=np.int64)] = mass
    return D / max(D.sum(), _TINY)


def _doc_class_from_proba(X, P):
    """p(d, z | r) = p(d | r) p(z | d) with p(d | r) proportional to the document's weight."""
    mass = np.asarray(X.sum(axis=1)).ravel()
    D = mass[:, None] * P
    return D / max(D.sum(), _TINY)


def _posterior(D):
    """p(z | d) from p(d, z); a document without words gets the class prior."""
    prior = D.sum(axis=0)
    prior = prior / max(prior.sum(), _TINY)
    s = D.sum(axis=1, keepdims=True)
    return np.where(s > 0, D / np.where(s > 0, s, 1.0), prior[None, :])


def _fingerprint(X):
    h = hashlib.blake2b(digest_size=16)
    h.update(np.asarray(X.shape, dtype=np.int64).tobytes())
    for a in (X.indptr, X.indices, X.data):
        h.update(np.ascontiguousarray(a).tobytes())
    return h.hexdigest()
