"""Tests of the TriTL plugin: conformance, the sparse sweep against a naive
dense implementation, a tiny corpus whose co-clustering is known, the
monotone objective on real data, transfer on real data, several sources,
errors, and the original toolkit's defects (audit section 2.10)."""
import os

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.preprocessing import normalize

from tltk_core import InputError
from tltk_core.sparse_ops import frobenius_residual, normalize_columns
from tltk_core.testing import check_light_import, data_file, make_domains, method_checks
from tltk_tritl import TriTL
from tltk_tritl._reference import dense_objective, dense_sweep
from tltk_tritl._tritl import TriFactors

FAST = TriTL.info.extra["test_params"]


# -- conformance ----------------------------------------------------------------
@pytest.mark.parametrize("check", method_checks(TriTL, FAST), ids=lambda c: c.__name__)
def test_conformance(check):
    check()


def test_registered_and_import_is_light():
    from tltk_core import get_method

    assert get_method("tritl") is TriTL
    check_light_import("tltk_tritl")


def test_info():
    info = TriTL.info
    assert info.name == "tritl" and info.family == "concept" and info.sparse
    assert info.settings == ("unsupervised", "multi-source")
    assert "Triplex" in info.reference and "2013" in info.reference


def test_paper_defaults():
    p = TriTL().get_params()
    assert (p["n_identical"], p["n_alike"], p["n_distinct"], p["n_iter"]) == (20, 20, 10, 100)
    # not the paper's: equal document weights (issue 6, see README); "none" = the paper
    assert p["doc_weighting"] == "relative"


# -- the mathematics: sparse sweep == dense sweep ---------------------------------
def _random_model(seed=0, m=30, sizes=(12, 9, 10), c=3, k=(3, 2, 2)):
    rng = np.random.RandomState(seed)
    docs = [normalize(sp.random(n, m, density=0.3, random_state=rng, format="csr"), "l1")
            for n in sizes]
    G = [np.eye(c)[rng.randint(c, size=n)] for n in sizes[:-1]]
    G.append(normalize(rng.rand(sizes[-1], c), "l1"))
    k1, k2, k3 = k
    nd = len(sizes)
    args = dict(F1=normalize_columns(rng.rand(m, k1)), S1=rng.rand(k1, c),
                F2=[normalize_columns(rng.rand(m, k2)) for _ in range(nd)], S2=rng.rand(k2, c),
                F3=[normalize_columns(rng.rand(m, k3)) for _ in range(nd)],
                S3=[rng.rand(k3, c) for _ in range(nd)])
    return docs, G, nd - 1, args


def _weights(docs, weighted):
    """Relative weights 1/||x_j||^2 (what doc_weighting="relative" uses), or None."""
    if not weighted:
        return None
    return [1.0 / np.asarray(d.multiply(d).sum(axis=1)).ravel().clip(1e-12) for d in docs]


@pytest.mark.parametrize("weighted", [False, True], ids=["unweighted", "weighted"])
@pytest.mark.parametrize("line_search", [False, True])
def test_sparse_sweep_equals_dense_sweep(line_search, weighted):
    docs, G, n_fixed, args = _random_model()
    w = _weights(docs, weighted)
    dense = dense_sweep([d.T.toarray() for d in docs], G, n_fixed, line_search=line_search,
                        weights=w, **args)
    model = TriFactors(docs, G, n_fixed, weights=w, **args)
    value = model.sweep(line_search=line_search)
    for name in ("F1", "S1", "S2"):
        np.testing.assert_allclose(getattr(model, name), dense[name], rtol=1e-10, atol=1e-14)
    for name in ("F2", "F3", "S3", "G"):
        for a, b in zip(getattr(model, name), dense[name]):
            np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-14)
    want = dense_objective([d.T.toarray() for d in docs], dense["G"], weights=w, **{
        k: dense[k] for k in ("F1", "S1", "F2", "S2", "F3", "S3")})
    assert value == pytest.approx(want, rel=1e-10)


def test_weighted_objective_is_the_sum_of_relative_errors():
    # by hand: with w_j = 1/||x_j||^2 the objective is sum_j ||x_j - H g_j||^2 / ||x_j||^2
    docs, G, n_fixed, args = _random_model(seed=2)
    model = TriFactors(docs, G, n_fixed, weights=_weights(docs, True), **args)
    want = 0.0
    for r, d in enumerate(docs):
        X = d.toarray()                                    # documents x words
        R = X - G[r] @ model.word_class(r).T
        want += np.sum(np.sum(R ** 2, axis=1) / np.sum(X ** 2, axis=1))
    assert model.objective() == pytest.approx(want, rel=1e-10)
    values = [model.objective()] + [model.sweep(line_search=True) for _ in range(20)]
    assert np.all(np.diff(values) <= 1e-12 * values[0])


def test_objective_from_traces():
    docs, G, n_fixed, args = _random_model(seed=3)
    model = TriFactors(docs, G, n_fixed, **args)
    dense = dense_objective([d.T.toarray() for d in docs], G, **args)
    via_core = sum(frobenius_residual(d.T, model.word_class(r), G[r])
                   for r, d in enumerate(docs))
    assert model.objective() == pytest.approx(dense, rel=1e-10)
    assert model.objective() == pytest.approx(via_core, rel=1e-10)


def test_line_search_sweeps_never_raise_the_objective():
    docs, G, n_fixed, args = _random_model(seed=5)
    model = TriFactors(docs, G, n_fixed, **args)
    values = [model.objective()] + [model.sweep(line_search=True) for _ in range(40)]
    assert np.all(np.diff(values) <= 1e-12 * values[0])
    assert values[-1] < values[0]
    for g in model.G:                                   # constraints hold
        np.testing.assert_allclose(g.sum(axis=1), 1.0)
    np.testing.assert_allclose(model.F1.sum(axis=0), 1.0)


def test_safeguard_redoes_an_iteration_that_raised_the_objective():
    docs, G, n_fixed, args = _random_model(seed=7)
    model = TriFactors(docs, G, n_fixed, **args)
    # claim the previous objective was 0: any paper sweep "raises" it
    value, safeguarded = model.step(previous=0.0)
    assert safeguarded
    dense = dense_sweep([d.T.toarray() for d in docs], G, n_fixed, line_search=True, **args)
    np.testing.assert_allclose(model.F1, dense["F1"], rtol=1e-10)
    np.testing.assert_allclose(model.G[-1], dense["G"][-1], rtol=1e-10)
    value2, safeguarded2 = TriFactors(docs, G, n_fixed, **args).step()
    assert not safeguarded2 or value2 <= TriFactors(docs, G, n_fixed, **args).objective()


# -- a tiny corpus whose co-clustering is known ----------------------------------------
def _toy(seed=0, n=40):
    """Words 0-3 / 4-7: class 0 / 1 in both domains (identical concepts);
    8-11 / 12-15: class 0 / 1, source only; 16-19 / 20-23: class 0 / 1, target
    only (alike concepts); 24-27 source noise, 28-31 target noise."""
    rng = np.random.RandomState(seed)

    def domain(class_words, noise):
        y = np.arange(n) % 2
        rate = np.zeros((n, 32))
        for c in (0, 1):
            rate[y == c, 4 * c:4 * c + 4] = 0.6                   # shared class words
            rate[y == c, class_words[c]] = 3.0                    # domain class words
        rate[:, noise] = 1.0
        return sp.csr_matrix(rng.poisson(rate).astype(float)), y

    Xs, ys = domain([slice(8, 12), slice(12, 16)], slice(24, 28))
    Xt, yt = domain([slice(16, 20), slice(20, 24)], slice(28, 32))
    return Xs, ys, Xt, yt


def test_tiny_corpus_right_co_clustering():
    Xs, ys, Xt, yt = _toy()
    m = TriTL(n_identical=2, n_alike=2, n_distinct=1, n_iter=100, random_state=0)
    m.fit(Xs, ys, Xt)
    assert m.score(Xt, yt) == 1.0
    H = m.target_word_class_ / m.target_word_class_.sum(axis=1, keepdims=True).clip(1e-300)
    # target-only words, never seen with a label, are tied to the right class
    assert np.all(H[16:20, 0] > H[16:20, 1]) and np.all(H[20:24, 1] > H[20:24, 0])
    # and words the target never uses carry no weight in its word clusters
    assert m.F_alike_[-1][8:16].max() < 1e-6
    o = np.asarray(m.objective_)
    assert len(o) == 101 and np.all(np.diff(o) <= 1e-12 * o[0])


def test_distinct_concepts_are_not_all_the_same():
    # the authors' code starts every distinct concept at 1/m and S3 = 1/c: the
    # k3 concepts then stay identical forever; random F3 breaks the tie
    Xs, ys, Xt, yt = _toy(seed=1)
    m = TriTL(n_identical=2, n_alike=2, n_distinct=3, n_iter=30, random_state=0)
    F3 = m.fit(Xs, ys, Xt).F_distinct_[-1]
    assert np.abs(F3[:, 0] - F3[:, 1]).max() > 1e-3


def test_multi_source_two_sources():
    Xs1, ys1, Xt, yt = _toy(seed=0)
    Xs2, ys2, _, _ = _toy(seed=3)
    # 10 iterations: longer runs hit the known collapse (xfail test below)
    m = TriTL(n_identical=2, n_alike=2, n_distinct=1, n_iter=10, random_state=0)
    m.fit([Xs1, Xs2], [ys1, ys2], Xt)
    assert len(m.F_alike_) == 3 and len(m.S_distinct_) == 3
    assert m.score(Xt, yt) == 1.0
    o = np.asarray(m.objective_)
    assert np.all(np.diff(o) <= 1e-12 * o[0])
    # the two sources' labels enter: swapping a source's labels changes the fit
    flipped = TriTL(n_identical=2, n_alike=2, n_distinct=1, n_iter=10, random_state=0)
    flipped.fit([Xs1, Xs2], [ys1, 1 - ys2], Xt)
    assert not np.allclose(flipped.S_alike_, m.S_alike_)


@pytest.mark.xfail(strict=True, reason="known failure mode on this toy (not the Reuters "
                   "mechanism, its documents all have about the same length): the target's "
                   "alike concept takes the target-only words of BOTH classes and S2 ties it "
                   "to class 1, whose column mass then grows to 2.6 (documents: 1) and "
                   "takes every document; see README")
def test_known_collapse_of_the_target_classes():
    Xs, ys, Xt, yt = _toy(seed=2)
    m = TriTL(n_identical=2, n_alike=2, n_distinct=1, n_iter=60, random_state=0)
    assert m.fit(Xs, ys, Xt).score(Xt, yt) == 1.0


def test_fold_in_new_documents_agrees_with_transductive_labels():
    Xs, ys, Xt, yt = _toy(seed=4, n=60)
    m = TriTL(n_identical=2, n_alike=2, n_distinct=1, n_iter=60, random_state=0)
    m.fit(Xs, ys, Xt)
    fitted = m.predict(Xt)
    folded = m.predict(Xt[:25])                         # not the fitted matrix: folded in
    assert np.mean(folded == fitted[:25]) >= 0.95
    P = m.predict_proba(Xt[:25])
    np.testing.assert_allclose(P.sum(axis=1), 1.0)
    np.testing.assert_allclose(m.predict_proba(Xt), m.G_target_)


def test_deterministic_and_seed_matters():
    Xs, ys, Xt, _ = make_domains(n_features=12)
    a = TriTL(**FAST, random_state=3).fit(Xs, ys, Xt)
    b = TriTL(**FAST, random_state=3).fit(Xs, ys, Xt)
    np.testing.assert_array_equal(a.G_target_, b.G_target_)
    assert a.objective_ == b.objective_
    c = TriTL(**FAST, random_state=4).fit(Xs, ys, Xt)
    assert not np.array_equal(a.F_identical_, c.F_identical_)


def test_dense_and_sparse_input_agree():
    Xs, ys, Xt, _ = make_domains(n_features=12)
    a = TriTL(**FAST, random_state=0).fit(Xs, ys, Xt)
    b = TriTL(**FAST, random_state=0).fit(sp.csr_matrix(Xs), ys, sp.csr_matrix(Xt))
    np.testing.assert_allclose(a.G_target_, b.G_target_, rtol=1e-10)
    np.testing.assert_array_equal(a.predict(Xt), b.predict(sp.csr_matrix(Xt)))


# -- errors ------------------------------------------------------------------------
@pytest.mark.parametrize("params, name", [
    ({"n_identical": -1}, "n_identical"), ({"n_alike": 2.5}, "n_alike"),
    ({"n_distinct": "10"}, "n_distinct"), ({"n_iter": 0}, "n_iter"),
    ({"plsa_iter": -1}, "plsa_iter"), ({"fold_in_iter": 0}, "fold_in_iter"),
    ({"n_identical": 0, "n_alike": 0}, "n_alike"), ({"doc_weighting": "l2"}, "doc_weighting"),
])
def test_bad_hyperparameters(params, name):
    Xs, ys, Xt, _ = make_domains()
    with pytest.raises(InputError, match=name):
        TriTL(**params).fit(Xs, ys, Xt)


def test_estimator_without_scores():
    class NoScores:
        def fit(self, X, y):
            return self

        def predict(self, X):
            return np.zeros(X.shape[0])

        def get_params(self, deep=True):
            return {}

    Xs, ys, Xt, _ = make_domains()
    with pytest.raises(InputError, match="init_estimator"):
        TriTL(init_estimator=NoScores()).fit(Xs, ys, Xt)


def test_other_estimators():
    from sklearn.svm import LinearSVC

    Xs, ys, Xt, yt = _toy(seed=5)
    m = TriTL(n_identical=2, n_alike=2, n_distinct=1, n_iter=40, init_estimator=LinearSVC(),
              random_state=0).fit(Xs, ys, Xt)
    assert m.score(Xt, yt) == 1.0


def test_negative_input_is_refused():
    Xs, ys, Xt, _ = make_domains()
    neg = Xs.copy()
    neg[0, 0] = -1.0
    with pytest.raises(InputError, match="Xs"):
        TriTL(**FAST).fit(neg, ys, Xt)
    with pytest.raises(InputError, match=r"Xs\[1\]"):
        TriTL(**FAST).fit([Xs, neg], [ys, ys], Xt)
    negt = Xt.copy()
    negt[2, 1] = -0.5
    with pytest.raises(InputError, match="Xt"):
        TriTL(**FAST).fit(Xs, ys, negt)
    m = TriTL(**FAST).fit(Xs, ys, Xt)
    with pytest.raises(InputError, match="X"):
        m.predict(negt)


# -- the original toolkit's defects (audit 2.10) --------------------------------------
def test_audit_no_target_labels_needed_no_file_written(tmp_path, monkeypatch):
    # the wrapper needed Yt (accuracy computed inside MATLAB), returned only an
    # accuracy, passed one source only, and wrote ../utilities/data.mat
    monkeypatch.chdir(tmp_path)
    Xs, ys, Xt, yt = _toy(seed=6)
    m = TriTL(n_identical=2, n_alike=2, n_distinct=1, n_iter=30, random_state=0)
    pred = m.fit(Xs, ys, Xt).predict(Xt)                # no yt anywhere
    assert pred.shape == yt.shape and set(pred) <= {0, 1}
    assert os.listdir(tmp_path) == []
    assert not (tmp_path.parent / "utilities").exists()


# -- real data -------------------------------------------------------------------------
@pytest.fixture(scope="module")
def twenty_ng():
    data_file("20ng-sci-talk", "crypt-guns.svm")
    from tltk_core import load_task

    task = load_task("20ng-sci-talk", "crypt-guns:med-misc")
    src, tgt = task.sources[0], task.target
    base = task.protocol.classifier_estimator().fit(normalize(src.X), src.y)
    baseline = float(np.mean(base.predict(normalize(tgt.X)) == tgt.y))
    model = TriTL(random_state=0).fit(src.X, src.y, tgt.X)
    return model, tgt, baseline


def test_real_data_objective_never_increases(twenty_ng):
    model, _, _ = twenty_ng
    o = np.asarray(model.objective_)
    assert len(o) == 101
    assert np.all(np.diff(o) <= 1e-10 * o[:-1])
    assert o[-1] < 0.5 * o[0]


def test_real_data_transfer_beats_source_only(twenty_ng):
    model, tgt, baseline = twenty_ng
    acc = model.score(tgt.X, tgt.y)
    assert acc >= baseline + 0.10, (acc, baseline)


# -- issue 6: the collapse on Reuters (short documents dominate the plain objective) ---
@pytest.fixture(scope="module")
def reuters():
    data_file("reuters-dai2007", "orgs_vs_people-source.svm")
    from tltk_core import load_task

    out = {}
    for name in ("orgs_vs_people", "orgs_vs_places"):
        task = load_task("reuters", name)
        src, tgt = task.sources[0], task.target
        base = task.protocol.classifier_estimator().fit(src.X, src.y)
        out[name] = (src, tgt, float(np.mean(base.predict(tgt.X) == tgt.y)))
    return out


def _minority(pred):
    return np.bincount(pred, minlength=2).min() / len(pred)


@pytest.mark.parametrize("name", ["orgs_vs_people", "orgs_vs_places"])
def test_reuters_no_collapse_and_beats_source_only(reuters, name):
    # with the paper's plain objective (doc_weighting="none") TriTL predicted 93 % /
    # 90 % of these targets as one class and scored 0.579 / 0.534, below the
    # protocol's source-only baseline (0.748 / 0.708)
    src, tgt, baseline = reuters[name]
    pred = TriTL(random_state=0).fit(src.X, src.y, tgt.X).predict(tgt.X)
    assert _minority(pred) >= 0.2, _minority(pred)
    assert np.mean(pred == tgt.y) > baseline, (np.mean(pred == tgt.y), baseline)


def test_reuters_plain_objective_collapses_and_why(reuters):
    # the mechanism, without labels: on sum-1 documents a document's weight in the
    # Frobenius objective is ||x||^2, and the shortest fifth of this target holds more
    # than half of it; the plain objective lets one class column fit those documents
    # (peaked: its squared norm grows far above the other's) and the G rule then
    # sends nearly every other document to the other class
    src, tgt, _ = reuters["orgs_vs_people"]
    X = normalize(tgt.X, "l1")
    sq = np.asarray(X.multiply(X).sum(axis=1)).ravel()
    short = np.diff(tgt.X.indptr) <= np.percentile(np.diff(tgt.X.indptr), 20)
    assert sq[short].sum() / sq.sum() > 0.5
    plain = TriTL(random_state=0, doc_weighting="none").fit(src.X, src.y, tgt.X)
    assert _minority(plain.predict(tgt.X)) < 0.15
    norms = np.sort((plain.target_word_class_ ** 2).sum(axis=0))
    assert norms[1] > 5 * norms[0]
