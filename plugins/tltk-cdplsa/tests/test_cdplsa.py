"""Tests of the CD-PLSA plugin: conformance, the sparse EM step against a
brute-force dense EM written from the model's definition, a hand-built corpus
whose answer is known, the original toolkit's defects (audit sections 1 and
2.10) as regression tests, and transfer on real data."""
import os

import numpy as np
import pytest
import scipy.sparse as sp

from tltk_core import InputError
from tltk_core.testing import check_light_import, data_file, method_checks
from tltk_cdplsa import CDPLSA, em_step
from tltk_cdplsa._cdplsa import log_likelihood

FAST = {"n_concepts": 4, "max_iter": 15, "plsa_iter": 10}


# -- conformance -------------------------------------------------------------
@pytest.mark.parametrize("check", method_checks(CDPLSA, FAST), ids=lambda c: c.__name__)
def test_conformance(check):
    check()


def test_registered_and_import_is_light():
    from tltk_core import get_method

    assert get_method("cdplsa") is CDPLSA
    check_light_import("tltk_cdplsa")


def test_info():
    info = CDPLSA.info
    assert info.name == "cdplsa" and info.family == "concept"
    assert info.settings == ("unsupervised", "multi-source") and info.sparse
    assert "Zhuang" in info.reference and "2010" in info.reference
    assert "Dual-{PLSA}" in info.reference


# -- the EM step against a brute-force dense EM --------------------------------
def _dense_em_step(Xs, F, S, G, free):
    """One EM step written from the definition: the full posterior
    q[d,w,y,z] = F[w,y] S[y,z] G[d,z] / sum_{y,z}(...) for every (d, w),
    expected counts X[d,w] q[d,w,y,z] summed by loops-free einsum."""
    S_stat = np.zeros_like(S)
    F_new, G_new, ll = [], [], 0.0
    for X, Fc, Gc, upd in zip(Xs, F, G, free):
        X = X.toarray()
        joint = np.einsum("wy,yz,dz->dwyz", Fc, S, Gc)
        p = joint.sum(axis=(2, 3))
        ll += float(np.sum(X[X > 0] * np.log(p[X > 0])))
        q = joint / np.where(p > 0, p, 1.0)[:, :, None, None]
        n = X[:, :, None, None] * q
        Fn = n.sum(axis=(0, 3))
        F_new.append(Fn / Fn.sum(axis=0, keepdims=True))
        S_stat += n.sum(axis=(0, 1))
        if upd:
            Gn = n.sum(axis=(1, 2))
            G_new.append(Gn / Gn.sum(axis=0, keepdims=True))
        else:
            G_new.append(Gc)
    return F_new, S_stat / S_stat.sum(), G_new, ll


def _random_model(rng, shapes, K, C):
    Xs, F, G = [], [], []
    for n, V in shapes:
        X = sp.random(n, V, density=0.4, random_state=rng, format="csr") * 5
        X = X + sp.csr_matrix((np.ones(n), (np.arange(n), np.arange(n) % V)), shape=(n, V))
        Xs.append(sp.csr_matrix(X))
        Fc = rng.rand(V, K)
        F.append(Fc / Fc.sum(0))
        Gc = rng.rand(n, C)
        G.append(Gc / Gc.sum(0))
    S = rng.rand(K, C)
    return Xs, F, S / S.sum(), G


def test_sparse_em_step_equals_dense_reference():
    rng = np.random.RandomState(0)
    Xs, F, S, G = _random_model(rng, [(9, 7), (6, 5), (8, 6)], K=4, C=3)
    free = [False, False, True]
    got = em_step(Xs, F, S, G, free)
    want = _dense_em_step(Xs, F, S, G, free)
    for g, w in zip(got[0], want[0]):
        np.testing.assert_allclose(g, w, rtol=1e-10, atol=1e-14)
    np.testing.assert_allclose(got[1], want[1], rtol=1e-10, atol=1e-14)
    for g, w in zip(got[2], want[2]):
        np.testing.assert_allclose(g, w, rtol=1e-10, atol=1e-14)
    assert got[3] == pytest.approx(want[3], rel=1e-12)
    # the fixed (source) P(d|z) is passed through unchanged
    assert got[2][0] is G[0]


def test_log_likelihood_and_em_monotone_on_random_case():
    rng = np.random.RandomState(1)
    Xs, F, S, G = _random_model(rng, [(12, 10), (10, 10)], K=3, C=2)
    mass = np.array([X.sum() for X in Xs])
    pc = mass / mass.sum()
    lls = []
    for _ in range(30):
        ll_before = log_likelihood(Xs, F, S, G, pc)
        F, S, G, ll = em_step(Xs, F, S, G, [False, True])
        assert ll + mass @ np.log(pc) == pytest.approx(ll_before, rel=1e-12)
        lls.append(ll_before)
    assert np.all(np.diff(lls) >= -1e-9 * abs(lls[0]))


# -- a corpus whose answer is known ---------------------------------------------
def _bridge_corpus(two_sources=False):
    """Source: class 0 writes words 0,1 (+ bridge word 6), class 1 words 2,3
    (+ bridge 7). Target: class 0 writes word 4, class 1 word 5 — words the
    source never uses — with the bridges; but two documents of each target
    class carry the *other* class's bridge word. A source-only classifier sees
    only the bridge and gets those four wrong (accuracy 0.8); the target's own
    word co-occurrence (4 vs 5) tells the classes apart completely."""
    def docs(words, counts, n):
        X = np.zeros((n, 12))
        for w, c in zip(words, counts):
            X[:, w] = c
        return X

    src = [np.vstack([docs([0, 1, 6], [3, 3, 1], 10), docs([2, 3, 7], [3, 3, 1], 10)])]
    ys = [np.repeat([0, 1], 10)]
    if two_sources:       # a second source with its own words 8..11, same bridges
        src.append(np.vstack([docs([8, 9, 6], [2, 4, 1], 8), docs([10, 11, 7], [4, 2, 1], 8)]))
        ys.append(np.repeat([0, 1], 8))
    Xt = np.vstack([docs([4, 6], [4, 1], 8), docs([4, 7], [4, 1], 2),
                    docs([5, 7], [4, 1], 8), docs([5, 6], [4, 1], 2)])
    yt = np.repeat([0, 1], 10)
    return src, ys, Xt, yt


def test_known_answer_on_a_bridge_corpus():
    src, ys, Xt, yt = _bridge_corpus()
    from sklearn.linear_model import LogisticRegression

    base = LogisticRegression(max_iter=1000).fit(src[0], ys[0]).score(Xt, yt)
    assert base == pytest.approx(0.8)
    m = CDPLSA(max_iter=50).fit(sp.csr_matrix(src[0]), ys[0], sp.csr_matrix(Xt))
    np.testing.assert_array_equal(m.predict(Xt), yt)
    # the target words the source never saw are learnt as class words:
    # P(w|z,target) = sum_y P(w|y,target) P(y|z) peaks at word 4 for class 0
    # and at word 5 for class 1
    H = m.p_w_y_[-1] @ m.p_yz_
    assert H[:, 0].argmax() == 4 and H[:, 1].argmax() == 5
    # P(z|d) rows are distributions, on the right side with a margin
    P = m.predict_proba(Xt)
    np.testing.assert_allclose(P.sum(1), 1.0)
    assert P[np.arange(20), yt].min() > 0.7


def test_two_sources_are_modelled_separately():
    src, ys, Xt, yt = _bridge_corpus(two_sources=True)
    m = CDPLSA(max_iter=50).fit(src, ys, Xt)
    assert len(m.p_w_y_) == 3 and len(m.p_d_z_) == 3      # two sources + target
    np.testing.assert_allclose(m.p_c_.sum(), 1.0)
    np.testing.assert_array_equal(m.predict(Xt), yt)
    # each source's P(w|y) lives on its own words only
    assert m.p_w_y_[0][8:].sum() == 0 and m.p_w_y_[1][:4].sum() == 0
    # the sources' P(d|z) stay fixed by their labels
    for G, y in zip(m.p_d_z_[:2], ys):
        np.testing.assert_allclose(G[np.arange(len(y)), y], 1.0 / np.bincount(y)[y])
    assert np.all(np.diff(m.log_likelihood_) >= -1e-9 * abs(m.log_likelihood_[0]))


def test_fold_in_of_new_documents():
    src, ys, Xt, yt = _bridge_corpus()
    m = CDPLSA(max_iter=50).fit(src[0], ys[0], Xt)
    # the fitted target: the transductive posterior itself
    np.testing.assert_array_equal(m.predict_proba(Xt), m.target_proba_)
    # new target documents (a subset, reweighted) are folded in: same classes
    new = Xt[::3] * 2.0
    np.testing.assert_array_equal(m.predict(new), yt[::3])
    # a document of words the target never used gets the class prior
    P = m.predict_proba(np.eye(12)[[0]])
    np.testing.assert_allclose(P[0], m.p_yz_.sum(0) / m.p_yz_.sum())


# -- hyperparameters and inputs ---------------------------------------------------
@pytest.mark.parametrize("param,value", [
    ("n_concepts", 0), ("n_concepts", 2.5), ("max_iter", 0), ("plsa_iter", 0),
    ("plsa_tol", -1.0), ("fold_in_iter", 0), ("max_iter", "many"),
])
def test_bad_hyperparameters(param, value):
    src, ys, Xt, _ = _bridge_corpus()
    with pytest.raises(InputError, match=param):
        CDPLSA(**{param: value}).fit(src[0], ys[0], Xt)


def test_negative_input_is_refused():
    src, ys, Xt, _ = _bridge_corpus()
    bad = Xt.copy()
    bad[0, 4] = -1.0
    with pytest.raises(InputError, match="Xt.*negative"):
        CDPLSA(**FAST).fit(src[0], ys[0], bad)
    with pytest.raises(InputError, match="Xs.*negative"):
        CDPLSA(**FAST).fit(-src[0], ys[0], Xt)
    with pytest.raises(InputError, match=r"Xs\[1\].*negative"):
        CDPLSA(**FAST).fit([src[0], -src[0]], [ys[0], ys[0]], Xt)
    m = CDPLSA(**FAST).fit(src[0], ys[0], Xt)
    with pytest.raises(InputError, match="X.*negative"):
        m.predict(bad)


def test_deterministic_and_seed_matters():
    src, ys, Xt, _ = _bridge_corpus()
    a = CDPLSA(n_concepts=3, max_iter=10, random_state=3).fit(src[0], ys[0], Xt)
    b = CDPLSA(n_concepts=3, max_iter=10, random_state=3).fit(src[0], ys[0], Xt)
    c = CDPLSA(n_concepts=3, max_iter=10, random_state=4).fit(src[0], ys[0], Xt)
    assert a.log_likelihood_ == b.log_likelihood_
    np.testing.assert_array_equal(a.p_yz_, b.p_yz_)
    assert not np.allclose(a.p_yz_, c.p_yz_)


def test_unsorted_sparse_input_not_reordered():
    src, ys, Xt, yt = _bridge_corpus()
    S = sp.csr_matrix(Xt)
    # reverse the column order inside every row: valid CSR, unsorted indices
    idx, dat = S.indices.copy(), S.data.copy()
    for r in range(S.shape[0]):
        a, b = S.indptr[r], S.indptr[r + 1]
        idx[a:b], dat[a:b] = idx[a:b][::-1], dat[a:b][::-1]
    U = sp.csr_matrix((dat, idx, S.indptr.copy()), shape=S.shape)
    U.has_sorted_indices = False
    before = (U.indices.copy(), U.data.copy())
    m = CDPLSA(max_iter=30).fit(src[0], ys[0], U)
    np.testing.assert_array_equal(U.indices, before[0])
    np.testing.assert_array_equal(U.data, before[1])
    np.testing.assert_array_equal(m.predict(U), yt)


# -- the original toolkit's defects (audit 1, 2.10) as regression tests ---------
def test_defaults_follow_the_authors_demo():
    # audit: the Python wrapper said maxIter=200, the MATLAB demo 64 / 100
    m = CDPLSA()
    assert m.n_concepts == 64 and m.max_iter == 100 and m.fold_in_iter == 20


def test_no_target_labels_needed_and_labels_returned(tmp_path, monkeypatch):
    # audit 2.10: the wrapper needed Yt, returned an accuracy, and wrote
    # ../utilities/data.mat relative to the working directory
    monkeypatch.chdir(tmp_path)
    src, ys, Xt, yt = _bridge_corpus()
    names = np.array(["sci", "talk"])
    m = CDPLSA(max_iter=30).fit(src[0], names[ys[0]], Xt)
    pred = m.predict(Xt)
    assert pred.shape == (Xt.shape[0],) and set(pred) <= {"sci", "talk"}
    assert os.listdir(tmp_path) == [] and not (tmp_path.parent / "utilities").exists()
    assert len(m.log_likelihood_) == 31


def test_rows_are_documents_and_target_initialised_from_a_classifier():
    # audit 2.10: the wrapper saved features x samples; the MATLAB code starts
    # the target's P(d|z) uniform although the paper uses a classifier
    src, ys, Xt, _ = _bridge_corpus()
    with pytest.raises(InputError):
        CDPLSA(**FAST).fit(src[0].T, ys[0], Xt)
    from sklearn.linear_model import LogisticRegression

    m = CDPLSA(**FAST).fit(src[0], ys[0], Xt)
    want = LogisticRegression(max_iter=1000).fit(src[0], ys[0]).predict_proba(Xt)
    np.testing.assert_allclose(m.init_proba_, want, rtol=1e-6)


# -- real data --------------------------------------------------------------------
def _load(dataset, task, *path):
    data_file(*path)
    from tltk_core import load_task

    return load_task(dataset, task)


def test_likelihood_never_decreases_on_reuters():
    task = _load("reuters", "orgs_vs_people", "reuters-dai2007", "orgs_vs_people-source.svm")
    Xs, ys, Xt = task.sources[0].X, task.sources[0].y, task.target.X
    m = CDPLSA(n_concepts=32, max_iter=40, plsa_iter=30).fit(Xs, ys, Xt)
    ll = np.asarray(m.log_likelihood_)
    assert len(ll) == 41
    assert np.all(np.diff(ll) >= -1e-10 * abs(ll[0])), np.diff(ll).min()
    assert ll[-1] > ll[0]


def test_transfer_on_20ng():
    task = _load("20ng-sci-talk", "space-religion:crypt-guns", "20ng-sci-talk", "crypt-guns.svm")
    Xs, ys, Xt, yt = task.sources[0].X, task.sources[0].y, task.target.X, task.target.y
    clf = task.protocol.classifier_estimator().fit(Xs, ys)
    # fit on a random half of the target (transductive), fold in the other half
    perm = np.random.RandomState(0).permutation(Xt.shape[0])
    a, b = perm[: len(perm) // 2], perm[len(perm) // 2:]
    # the default 64 concepts; fewer iterations than the default 100 to keep
    # the test short (the benchmark runs the defaults)
    m = CDPLSA(max_iter=50, plsa_iter=20).fit(Xs, ys, Xt[a])
    base_a, acc_a = clf.score(Xt[a], yt[a]), m.score(Xt[a], yt[a])
    assert acc_a > base_a + 0.05, (acc_a, base_a)
    base_b, acc_b = clf.score(Xt[b], yt[b]), m.score(Xt[b], yt[b])
    assert acc_b > base_b + 0.05, (acc_b, base_b)
