"""Tests of the MTrick plugin: conformance, the updates against a plain dense
reference written in the paper's orientation, a hand-built corpus whose
co-clustering is known, the original toolkit's defects (audit, MTrick card and
section 2.10) as regression tests, and transfer on real data."""
import os

import numpy as np
import pytest
import scipy.sparse as sp

from tltk_core import InputError
from tltk_core.testing import check_light_import, data_file, make_domains, method_checks
from tltk_mtrick import MTrick, mtrick_objective, mtrick_update, plsa_word_clusters
from tltk_mtrick._mtrick import _rownorm

FAST = {"n_clusters": 4, "max_iter": 20, "init_iter": 10}


# -- conformance -------------------------------------------------------------
@pytest.mark.parametrize("check", method_checks(MTrick, FAST), ids=lambda c: c.__name__)
def test_conformance(check):
    check()


def test_registered_and_import_is_light():
    from tltk_core import get_method

    assert get_method("mtrick") is MTrick
    check_light_import("tltk_mtrick")


def test_info_and_defaults():
    info = MTrick.info
    assert info.name == "mtrick" and info.family == "concept"
    assert info.settings == ("unsupervised",) and info.sparse
    assert "Zhuang" in info.reference and "2010" in info.reference
    m = MTrick()
    # the authors' MATLAB demo TestMTrick.m: alpha=1, beta=1.5, numK=50, numCircle=100
    assert (m.alpha, m.beta, m.n_clusters, m.max_iter) == (1.0, 1.5, 50, 100)


# -- the mathematics ------------------------------------------------------------
def _reference_sweep(Xs, Xt, Fs, Ft, S, Gs, Gt, G0, a, beta, gamma):
    """The paper's updates written plainly in its orientation (X: words x docs,
    dense), with the monotone simplex step done row by row in Python loops."""
    def step(M, num, Q):
        den = M @ Q
        cand = M * np.sqrt(num / den)
        tot = cand.sum(1, keepdims=True)                 # a row with no evidence
        cand = np.where(tot > 0, cand / np.where(tot > 0, tot, 1), 1 / M.shape[1])
        out = M.copy()
        for i in range(M.shape[0]):
            d = cand[i] - M[i]
            g = (M[i] @ Q - num[i]) @ d           # half derivative at theta = 0
            h = d @ Q @ d
            out[i] = M[i] + min(max(-g / h, 0.0), 1.0) * d if h > 0 else M[i]
        return out
    k, c = S.shape
    Fs = step(Fs, Xs @ Gs @ S.T + gamma * Ft, S @ Gs.T @ Gs @ S.T + gamma * np.eye(k))
    Gs = step(Gs, Xs.T @ Fs @ S + a * G0, S.T @ Fs.T @ Fs @ S + a * np.eye(c))
    Ft = step(Ft, Xt @ Gt @ S.T + gamma * Fs, S @ Gt.T @ Gt @ S.T + gamma * np.eye(k))
    Gt = step(Gt, Xt.T @ Ft @ S, S.T @ Ft.T @ Ft @ S)
    num = Fs.T @ Xs @ Gs + beta * Ft.T @ Xt @ Gt
    den = Fs.T @ Fs @ S @ Gs.T @ Gs + beta * Ft.T @ Ft @ S @ Gt.T @ Gt
    S = S * np.sqrt(num / den)
    return Fs, Ft, S, Gs, Gt


def _random_state(rng, m=30, ns=12, nt=9, k=4, c=2):
    Xs = sp.random(ns, m, density=0.3, random_state=rng, format="csr")
    Xt = sp.random(nt, m, density=0.3, random_state=rng, format="csr")
    G0 = np.eye(c)[rng.randint(0, c, ns)]
    return (Xs, Xt, _rownorm(rng.rand(m, k)), _rownorm(rng.rand(m, k)), rng.rand(k, c),
            _rownorm(rng.rand(ns, c)), _rownorm(rng.rand(nt, c)), G0)


@pytest.mark.parametrize("gamma", [0.0, 0.7])
def test_one_sweep_sparse_equals_dense_and_reference(gamma):
    rng = np.random.RandomState(3)
    Xs, Xt, Fs, Ft, S, Gs, Gt, G0 = _random_state(rng)
    before = [a.copy() for a in (Fs, Ft, S, Gs, Gt)]
    kw = dict(alpha=0.2, beta=1.5, gamma=gamma)
    sparse = mtrick_update(Xs, Xt, Fs, Ft, S, Gs, Gt, G0, **kw)
    dense = mtrick_update(Xs.toarray(), Xt.toarray(), Fs, Ft, S, Gs, Gt, G0, **kw)
    ref = _reference_sweep(Xs.T.toarray(), Xt.T.toarray(), Fs, Ft, S, Gs, Gt, G0,
                           0.2, 1.5, gamma)
    for a, b, r in zip(sparse, dense, ref):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-13)
        np.testing.assert_allclose(a, r, rtol=1e-9, atol=1e-12)
    for a, b in zip(before, (Fs, Ft, S, Gs, Gt)):          # inputs untouched
        np.testing.assert_array_equal(a, b)
    for M in (sparse[0], sparse[1], sparse[3], sparse[4]):  # rows stay on the simplex
        np.testing.assert_allclose(M.sum(1), 1.0, rtol=1e-12)
        assert M.min() >= 0


def test_objective_matches_dense_residual_and_never_increases():
    rng = np.random.RandomState(4)
    Xs, Xt, Fs, Ft, S, Gs, Gt, G0 = _random_state(rng)
    kw = dict(alpha=0.3, beta=1.5, gamma=0.2)
    dense = (np.sum((Xs.T.toarray() - Fs @ S @ Gs.T) ** 2) + 0.3 * np.sum((Gs - G0) ** 2)
             + 1.5 * np.sum((Xt.T.toarray() - Ft @ S @ Gt.T) ** 2)
             + 0.2 * np.sum((Ft - Fs) ** 2))
    obj = mtrick_objective(Xs, Xt, Fs, Ft, S, Gs, Gt, G0, **kw)
    assert obj == pytest.approx(dense, rel=1e-10)
    state = (Fs, Ft, S, Gs, Gt)
    for _ in range(50):
        state = mtrick_update(Xs, Xt, *state[:2], state[2], *state[3:], G0, **kw)
        new = mtrick_objective(Xs, Xt, *state[:2], state[2], *state[3:], G0, **kw)
        assert new <= obj * (1 + 1e-12)
        obj = new


def test_plsa_word_clusters_rows_are_distributions():
    rng = np.random.RandomState(5)
    X = sp.random(20, 15, density=0.3, random_state=rng, format="lil")
    X[:, 3] = 0                                          # a word that never occurs
    X = X.tocsr()
    F = plsa_word_clusters(X, 3, 30, 0)
    np.testing.assert_allclose(F.sum(1), 1.0)
    np.testing.assert_allclose(F[3], 1 / 3)
    np.testing.assert_array_equal(F, plsa_word_clusters(X, 3, 30, 0))
    assert not np.allclose(F, plsa_word_clusters(X, 3, 30, 1))


# -- a corpus whose co-clustering is known ------------------------------------------
def _toy_corpus(rng, n=40):
    """12 words: 0-2 shared sci words, 3-5 shared talk words (both domains, weak in
    the target), 6-7 / 8-9 source-only sci / talk words, 10 / 11 target-only
    sci / talk words that co-occur with the shared ones."""
    def docs(y, strong, shared_rate):
        X = np.zeros((n, 12))
        for i, c in enumerate(y):
            base = 0 if c == 0 else 3
            X[i, base:base + 3] = rng.poisson(shared_rate, 3)
            X[i, strong[c]] = rng.poisson(4.0, len(strong[c]))
            X[i, base + (i % 3)] += 1                     # every document has a shared word
        return X
    ys = np.arange(n) % 2
    yt = (np.arange(n) + 1) % 2
    Xs = docs(ys, {0: [6, 7], 1: [8, 9]}, 1.5)
    Xt = docs(yt, {0: [10], 1: [11]}, 0.6)
    return Xs, ys, Xt, yt


def test_hand_built_corpus_recovers_the_co_clustering():
    Xs, ys, Xt, yt = _toy_corpus(np.random.RandomState(0))
    m = MTrick(n_clusters=4, max_iter=200, init_iter=30).fit(sp.csr_matrix(Xs), ys,
                                                             sp.csr_matrix(Xt))
    assert m.score(Xt, yt) == 1.0
    # the class each word points to through its clusters: (F S) rows
    src = (m.Fs_ @ m.S_).argmax(1)
    tgt = (m.Ft_ @ m.S_).argmax(1)
    np.testing.assert_array_equal(src[[0, 1, 2, 6, 7]], 0)
    np.testing.assert_array_equal(src[[3, 4, 5, 8, 9]], 1)
    # the target-only words were never labelled: they are placed by co-occurrence
    assert tgt[10] == 0 and tgt[11] == 1
    np.testing.assert_array_equal(tgt[[0, 1, 2]], 0)
    np.testing.assert_array_equal(tgt[[3, 4, 5]], 1)
    o = np.asarray(m.objective_)
    assert np.all(np.diff(o) <= 1e-12 * o[:-1])


def test_fold_in_of_new_documents():
    Xs, ys, Xt, yt = _toy_corpus(np.random.RandomState(1))
    m = MTrick(n_clusters=4, max_iter=100, init_iter=20).fit(Xs, ys, Xt)
    Xnew, _, Xt2, yt2 = _toy_corpus(np.random.RandomState(2))
    P = m.predict_proba(Xt2)                      # unseen target documents
    np.testing.assert_allclose(P.sum(1), 1.0)
    assert m.score(Xt2, yt2) == 1.0
    # the fitted target itself: G_t as learnt (not a fold-in)
    np.testing.assert_array_equal(m.predict_proba(Xt), m.Gt_)
    np.testing.assert_array_equal(m.predict(Xt), m.Gt_.argmax(1))


# -- audit regressions (MTrick card; section 2.10) ------------------------------------
def test_labels_other_than_0_1_and_more_than_two_classes():
    # audit: MTrick1.m maps labels 0 and 2 to -1 (binary only) and the wrapper
    # returned {0,1} whatever the caller's labels were
    Xs, ys, Xt, yt = make_domains()
    for labels in (np.array([1, 2]), np.array([-1, 1]), np.array(["sci", "talk"])):
        pred = MTrick(**FAST).fit(Xs, labels[ys], Xt).predict(Xt)
        assert set(pred) <= set(labels)
    Xs, ys, Xt, yt = make_domains(n_classes=3, n_source=90)
    m = MTrick(**FAST).fit(Xs, ys + 2, Xt)
    assert m.S_.shape == (4, 3) and set(m.predict(Xt)) <= {2, 3, 4}


def test_no_files_written(tmp_path, monkeypatch):
    # audit 2.10: the wrapper wrote ../utilities/data.mat relative to the CWD
    monkeypatch.chdir(tmp_path)
    Xs, ys, Xt, _ = make_domains()
    MTrick(**FAST).fit(Xs, ys, Xt).predict(Xt)
    assert os.listdir(tmp_path) == []


def test_no_target_labels_needed():
    # audit 2.10: the MATLAB functions required the target labels (accuracy inside)
    Xs, ys, Xt, _ = make_domains()
    m = MTrick(**FAST).fit(Xs, ys, Xt)
    assert m.predict(Xt).shape == (Xt.shape[0],)


@pytest.mark.parametrize("bad", [{"alpha": -1.0}, {"beta": 0.0}, {"gamma": -0.1},
                                 {"n_clusters": 0}, {"n_clusters": 2.5}, {"max_iter": 0},
                                 {"init_iter": -1}, {"tol": -1e-3}, {"alpha": float("nan")},
                                 {"random_state": None}])
def test_bad_hyperparameters_name_themselves(bad):
    Xs, ys, Xt, _ = make_domains()
    with pytest.raises(InputError, match=next(iter(bad))):
        MTrick(**bad).fit(Xs, ys, Xt)


def test_negative_input_is_refused():
    Xs, ys, Xt, _ = make_domains()
    with pytest.raises(InputError, match="Xt must be non-negative"):
        MTrick(**FAST).fit(Xs, ys, Xt - 1.0)
    with pytest.raises(InputError, match="Xs must be non-negative"):
        MTrick(**FAST).fit(sp.csr_matrix(Xs - 1.0), ys, Xt)
    m = MTrick(**FAST).fit(Xs, ys, Xt)
    with pytest.raises(InputError, match="X must be non-negative"):
        m.predict(-Xt)


def test_random_state_controls_the_initialisation():
    Xs, ys, Xt, _ = make_domains()
    a = MTrick(**FAST, random_state=0).fit(Xs, ys, Xt)
    b = MTrick(**FAST, random_state=0).fit(Xs, ys, Xt)
    c = MTrick(**FAST, random_state=1).fit(Xs, ys, Xt)
    np.testing.assert_array_equal(a.Ft_, b.Ft_)
    assert a.objective_ == b.objective_
    assert not np.allclose(a.Ft_, c.Ft_)


# -- real data ----------------------------------------------------------------------
def test_real_data_transfer_and_monotone_objective():
    data_file("20ng-sci-talk", "med-misc.svm")
    from tltk_core import load_task

    task = load_task("20ng-sci-talk", "med-misc:space-religion")
    Xs, ys = task.sources[0].X, task.sources[0].y
    Xt, yt = task.target.X, task.target.y
    base = task.protocol.classifier_estimator().fit(Xs, ys).score(Xt, yt)
    m = MTrick(max_iter=40, init_iter=5).fit(Xs, ys, Xt)      # fewer sweeps: CI time
    o = np.asarray(m.objective_)
    assert len(o) == 41
    assert np.all(np.diff(o) <= 1e-9 * o[:-1]), np.diff(o).max()
    acc = m.score(Xt, yt)
    assert acc > base + 0.05, (acc, base)
