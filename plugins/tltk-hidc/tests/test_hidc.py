"""Tests of the HIDC plugin: conformance, the EM step against a dense and an
explicit-posterior reference, a corpus whose answer is known, the original
toolkit's defects (audit section 2.10, HIDC row of table 1) as regression
tests, and transfer on real data."""
import numpy as np
import pytest
import scipy.sparse as sp

from tltk_core import InputError
from tltk_core.testing import check_light_import, data_file, make_domains, method_checks
from tltk_hidc import HIDC
from tltk_hidc._hidc import KINDS, em_step, log_likelihood
from tltk_hidc._reference import dense_em_step

FAST = {"n_identical": 3, "n_alike": 3, "n_distinct": 2, "n_iter": 15, "n_init_iter": 5,
        "fold_in_iter": 10}


# -- conformance -------------------------------------------------------------------
@pytest.mark.parametrize("check", method_checks(HIDC, FAST), ids=lambda c: c.__name__)
def test_conformance(check):
    check()


def test_registered_and_import_is_light():
    from tltk_core import get_method

    assert get_method("hidc") is HIDC
    check_light_import("tltk_hidc")


def test_info():
    info = HIDC.info
    assert info.name == "hidc" and info.family == "concept"
    assert info.settings == ("unsupervised", "multi-source") and info.sparse
    assert "Zhuang" in info.reference and "2013" in info.reference


# -- the EM step -----------------------------------------------------------------------
def _random_state(rng, n_docs, n_words, n_classes, sizes, labelled):
    """Random parameters of the model (sources' D masked to their labels)."""
    kinds = [(name, sizes[name], sw, sa) for name, sw, sa in KINDS if sizes[name] > 0]
    n_dom = len(n_docs)
    D = []
    for r, n in enumerate(n_docs):
        d = rng.rand(n, n_classes)
        if r < n_dom - 1:
            d *= np.eye(n_classes)[labelled[r]]
        D.append(d / d.sum())
    W, S = {}, {}
    for name, k, sw, sa in kinds:
        w = [rng.rand(n_words, k) for _ in range(n_dom)]
        s = [rng.rand(k, n_classes) for _ in range(n_dom)]
        W[name] = [a / a.sum(0) for a in w]
        S[name] = [a / a.sum(0) for a in s]
        if sw:
            W[name] = [W[name][0]] * n_dom
        if sa:
            S[name] = [S[name][0]] * n_dom
    return kinds, D, W, S


def _tensor_em_step(X, D, W, S, kinds, log_pr):
    """EM from the definition: the full posterior p(y, z | d, w) of every kind."""
    n_dom = len(X)
    cW = {n: [] for n, _, _, _ in kinds}
    cS = {n: [] for n, _, _, _ in kinds}
    cD = [np.zeros_like(d) for d in D]
    ll = 0.0
    for r, x in enumerate(X):
        for name, _, _, _ in kinds:
            joint = np.einsum("dz,yz,wy->dwyz", D[r], S[name][r], W[name][r])
            M = joint.sum(axis=(2, 3))
            nz = x > 0
            ll += np.sum(x[nz] * (np.log(M[nz]) + log_pr[r]))
            post = joint / np.where(M > 0, M, 1.0)[:, :, None, None]
            expected = x[:, :, None, None] * post
            cW[name].append(expected.sum(axis=(0, 3)))
            cS[name].append(expected.sum(axis=(0, 1)))
            cD[r] += expected.sum(axis=(1, 2))
    W_new, S_new = {}, {}
    for name, _, sw, sa in kinds:
        for counts, shared, out in ((cW[name], sw, W_new), (cS[name], sa, S_new)):
            if shared:
                tot = sum(counts)
                out[name] = [tot / tot.sum(0)] * n_dom
            else:
                out[name] = [c / c.sum(0) for c in counts]
    return [c / c.sum() for c in cD], W_new, S_new, ll


@pytest.mark.parametrize("sizes", [{"identical": 2, "alike": 3, "distinct": 2},
                                   {"identical": 0, "alike": 2, "distinct": 1},
                                   {"identical": 4, "alike": 0, "distinct": 0}])
def test_sparse_em_step_equals_dense_and_explicit_posterior(sizes):
    rng = np.random.RandomState(0)
    n_docs, n_words, n_classes = [7, 5, 6], 9, 3          # two sources and a target
    X = [rng.poisson(0.7, size=(n, n_words)).astype(float) * rng.rand(n, n_words)
         for n in n_docs]
    labels = [rng.permutation(np.arange(n) % n_classes) for n in n_docs[:-1]]
    kinds, D, W, S = _random_state(rng, n_docs, n_words, n_classes, sizes, labels)
    log_pr = np.log(np.array([x.sum() for x in X]) / sum(x.sum() for x in X))
    got = em_step([sp.csr_matrix(x) for x in X], D, W, S, kinds, log_pr)
    dense = dense_em_step(X, D, W, S, kinds, log_pr)
    tensor = _tensor_em_step(X, D, W, S, kinds, log_pr)
    for want in (dense, tensor):
        for a, b in zip(got[0], want[0]):
            np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-14)
        for name, _, _, _ in kinds:
            for r in range(len(X)):
                np.testing.assert_allclose(got[1][name][r], want[1][name][r], rtol=1e-10,
                                           atol=1e-14)
                np.testing.assert_allclose(got[2][name][r], want[2][name][r], rtol=1e-10,
                                           atol=1e-14)
        assert got[3] == pytest.approx(want[3], rel=1e-12)
    # source documents stay on their labels; shared parameters stay shared
    for r, y in enumerate(labels):
        off = np.ones_like(got[0][r], dtype=bool)
        off[np.arange(len(y)), y] = False
        assert np.all(got[0][r][off] == 0)
    for name, _, sw, sa in kinds:
        assert (got[1][name][0] is got[1][name][2]) == sw
        assert (got[2][name][0] is got[2][name][2]) == sa
    ll_next = log_likelihood([sp.csr_matrix(x) for x in X], *got[:3], kinds, log_pr)
    assert ll_next >= got[3] - 1e-9 * abs(got[3])


# -- a corpus whose answer is known -------------------------------------------------------
def _corpus(rng, n, words0, words1):
    """Documents of two classes: class c uses the two words of words_c."""
    y = np.arange(n) % 2
    X = np.zeros((n, 8))
    for i, c in enumerate(y):
        ws = words0 if c == 0 else words1
        X[i, ws[0]] = rng.poisson(2) + 1
        X[i, ws[1]] = rng.poisson(3) + 1
    return X, y


def test_target_only_words_learn_their_class():
    """Source classes use words {0,1} / {2,3}; target classes use {0,4} / {2,5}.
    Words 4 and 5 never occur in the source, so only the target's co-occurrence
    with the shared words 0 / 2 can tell their class: a document holding only
    word 4 is class 0, only word 5 class 1 (a source-only classifier sees zero
    features there)."""
    rng = np.random.RandomState(0)
    Xs, ys = _corpus(rng, 40, (0, 1), (2, 3))
    Xt, yt = _corpus(rng, 30, (0, 4), (2, 5))
    m = HIDC(n_identical=2, n_alike=2, n_distinct=2, n_iter=30, random_state=0)
    m.fit(sp.csr_matrix(Xs), ys, sp.csr_matrix(Xt))
    assert m.score(Xt, yt) == 1.0
    new = np.zeros((2, 8))
    new[0, 4] = 1.0
    new[1, 5] = 1.0
    np.testing.assert_array_equal(m.predict(new), [0, 1])
    P = m.predict_proba(new)
    assert P[0, 0] > 0.9 and P[1, 1] > 0.9
    # p(w | z, target) of the domain-specific kinds puts word 4 on class 0
    for name in ("alike", "distinct"):
        B = m.word_concepts_[name][-1] @ m.concept_class_[name][-1]
        assert B[4, 0] > 10 * B[4, 1] and B[5, 1] > 10 * B[5, 0]
        assert np.allclose(m.word_concepts_[name][0][[4, 5]], 0)   # absent from the source
    assert np.diff(m.log_likelihood_).min() >= -1e-9 * abs(m.log_likelihood_[-1])


def test_two_sources():
    """Multi-source: two sources with their own words for each class."""
    rng = np.random.RandomState(1)
    Xa, ya = _corpus(rng, 30, (0, 1), (2, 3))
    Xb, yb = _corpus(rng, 30, (0, 6), (2, 7))
    Xt, yt = _corpus(rng, 30, (0, 4), (2, 5))
    m = HIDC(n_identical=2, n_alike=2, n_distinct=2, n_iter=30)
    m.fit([sp.csr_matrix(Xa), sp.csr_matrix(Xb)], [ya, yb], sp.csr_matrix(Xt))
    assert m.n_domains_ == 3 and len(m.doc_class_) == 3
    assert m.score(Xt, yt) == 1.0
    W, S = m.word_concepts_, m.concept_class_
    assert W["identical"][0] is W["identical"][1] is W["identical"][2]
    assert S["alike"][0] is S["alike"][2] and W["alike"][0] is not W["alike"][1]
    assert S["distinct"][0] is not S["distinct"][1]
    # each source's domain-specific concepts use its own words only
    assert np.allclose(W["alike"][0][[6, 7]], 0) and np.allclose(W["alike"][1][[1, 3]], 0)
    assert np.diff(m.log_likelihood_).min() >= -1e-9 * abs(m.log_likelihood_[-1])


# -- audit regressions ---------------------------------------------------------------------
def test_defaults_follow_the_authors():
    # audit: the Python wrapper passed numIter=10; the authors' setting is 100
    m = HIDC()
    assert (m.n_identical, m.n_alike, m.n_distinct, m.n_iter) == (20, 20, 10, 100)


def test_no_target_labels_needed_and_labels_returned():
    # audit: the wrapper needed Yt (accuracy computed in MATLAB) and returned only accuracy
    Xs, ys, Xt, yt = make_domains(n_classes=3, n_source=90)
    labels = np.array([5, 7, 9])            # audit: labels had to be 0/1 (+1 added)
    m = HIDC(**FAST).fit(Xs, labels[ys], Xt)
    pred = m.predict(Xt)
    assert pred.shape == yt.shape and set(pred) <= {5, 7, 9}


def test_initialisation_uses_every_source():
    # audit/MATLAB: the loop over sources overwrote the probabilities, keeping the last source
    rng = np.random.RandomState(2)
    Xa, ya = _corpus(rng, 30, (0, 1), (2, 3))
    Xb, yb = _corpus(rng, 30, (6, 1), (7, 3))
    Xt, _ = _corpus(rng, 20, (0, 6), (2, 7))
    m = HIDC(**FAST)
    m.classes_ = np.array([0, 1])
    both = m._initial_target_proba([Xa, Xb], [ya, yb], Xt)
    a = m._initial_target_proba([Xa], [ya], Xt)
    b = m._initial_target_proba([Xb], [yb], Xt)
    np.testing.assert_allclose(both, (a + b) / 2)


def test_distinct_concepts_are_not_all_equal():
    # MATLAB started distinct concepts uniform, which keeps them identical to each other
    Xs, ys, Xt, _ = make_domains(n_features=12)
    m = HIDC(**FAST).fit(Xs, ys, Xt)
    for W in m.word_concepts_["distinct"]:
        assert np.ptp(W, axis=1).max() > 1e-3


@pytest.mark.parametrize("bad", [{"n_identical": -1}, {"n_alike": 1.5}, {"n_distinct": "3"},
                                 {"n_iter": 0}, {"n_init_iter": 0}, {"fold_in_iter": 0},
                                 {"random_state": "x"}])
def test_bad_hyperparameters_name_themselves(bad):
    Xs, ys, Xt, _ = make_domains()
    with pytest.raises(InputError, match=next(iter(bad))):
        HIDC(**bad).fit(Xs, ys, Xt)


def test_no_concepts_at_all():
    Xs, ys, Xt, _ = make_domains()
    with pytest.raises(InputError, match="n_identical"):
        HIDC(n_identical=0, n_alike=0, n_distinct=0).fit(Xs, ys, Xt)


def test_negative_input_is_refused():
    Xs, ys, Xt, _ = make_domains()
    neg = Xs.copy()
    neg[0, 0] = -1.0
    with pytest.raises(InputError, match="Xs"):
        HIDC(**FAST).fit(neg, ys, Xt)
    with pytest.raises(InputError, match="Xs"):
        HIDC(**FAST).fit([Xs, neg], [ys, ys], Xt)
    with pytest.raises(InputError, match="Xt"):
        HIDC(**FAST).fit(Xs, ys, -Xt)
    m = HIDC(**FAST).fit(Xs, ys, Xt)
    with pytest.raises(InputError, match="X"):
        m.predict(-Xt)


def test_deterministic_and_seeded():
    Xs, ys, Xt, _ = make_domains(n_features=12)
    a = HIDC(**FAST, random_state=3).fit(Xs, ys, Xt).log_likelihood_
    b = HIDC(**FAST, random_state=3).fit(Xs, ys, Xt).log_likelihood_
    c = HIDC(**FAST, random_state=4).fit(Xs, ys, Xt).log_likelihood_
    assert a == b and a != c


@pytest.mark.parametrize("dtype", [np.int64, np.float32])
def test_inputs_untouched(dtype):
    Xs, ys, Xt, _ = make_domains()
    Xs, Xt = Xs.astype(dtype), Xt.astype(dtype)
    cs, ct = Xs.copy(), Xt.copy()
    m = HIDC(**FAST).fit(Xs, ys, Xt)
    m.predict(Xt)
    m.predict(Xt[:10])
    np.testing.assert_array_equal(Xs, cs)
    np.testing.assert_array_equal(Xt, ct)


def test_fitted_target_and_fold_in():
    Xs, ys, Xt, _ = make_domains(n_features=12)
    m = HIDC(**FAST).fit(Xs, ys, Xt)
    np.testing.assert_array_equal(m.predict(Xt), m.classes_[m.target_proba_.argmax(1)])
    np.testing.assert_allclose(m.predict_proba(sp.csr_matrix(Xt)), m.target_proba_)
    P = m.predict_proba(Xt[:20])          # new documents: folded in
    assert P.shape == (20, 2) and np.allclose(P.sum(1), 1)
    assert np.mean(P.argmax(1) == m.target_proba_.argmax(1)[:20]) >= 0.8


# -- real data -----------------------------------------------------------------------------
def _svm(path, n_features):
    from sklearn.datasets import load_svmlight_file
    from sklearn.preprocessing import normalize

    X, y = load_svmlight_file(str(path), n_features=n_features)
    return normalize(sp.csr_matrix(X)), y.astype(int)


def _source_only(Xs, ys, Xt, yt):
    from sklearn.svm import LinearSVC

    return LinearSVC().fit(Xs, ys).score(Xt, yt)


@pytest.fixture(scope="module")
def reuters():
    Xs, ys = _svm(data_file("reuters-dai2007", "orgs_vs_people-source.svm"), 4771)
    Xt, yt = _svm(data_file("reuters-dai2007", "orgs_vs_people-target.svm"), 4771)
    m = HIDC(n_iter=40, n_init_iter=5).fit(Xs, ys, Xt)
    return m, Xs, ys, Xt, yt


def test_reuters_likelihood_never_decreases(reuters):
    ll = np.array(reuters[0].log_likelihood_)
    assert len(ll) == 41
    assert np.all(np.diff(ll) >= -1e-9 * np.abs(ll[1:])), np.diff(ll).min()
    assert ll[-1] > ll[0]


def test_reuters_transfer_and_fold_in(reuters):
    m, Xs, ys, Xt, yt = reuters
    base = _source_only(Xs, ys, Xt, yt)
    acc = m.score(Xt, yt)
    assert acc > base + 0.02, (acc, base)
    half = Xt[: Xt.shape[0] // 2]
    agree = np.mean(m.predict(half) == m.predict(Xt)[: half.shape[0]])
    assert agree > 0.9, agree


def test_20ng_transfer():
    d = 16249
    Xs, ys = _svm(data_file("20ng-sci-talk", "crypt-guns.svm"), d)
    Xt, yt = _svm(data_file("20ng-sci-talk", "med-misc.svm"), d)
    base = _source_only(Xs, ys, Xt, yt)
    m = HIDC(n_identical=10, n_alike=10, n_distinct=5, n_iter=20, n_init_iter=5).fit(Xs, ys, Xt)
    acc = m.score(Xt, yt)
    assert acc > base + 0.10, (acc, base)
