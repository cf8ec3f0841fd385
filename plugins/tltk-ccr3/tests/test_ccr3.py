"""Tests of the CCR3 plugin: conformance, the objective against a per-sample
reference and its gradient against finite differences, the one-source case,
that the consensus term makes the classifiers agree on the target, the
original toolkit's defects (audit section 2.10) as regression tests, and
transfer on a real three-source task."""
import numpy as np
import pytest
import scipy.sparse as sp
from scipy.optimize import approx_fprime

from tltk_core import InputError
from tltk_core.testing import check_light_import, data_file, make_domains, method_checks
from tltk_ccr3 import CCR3, ccr_objective

FAST = {"max_iter": 50}


# -- conformance -----------------------------------------------------------------
@pytest.mark.parametrize("check", method_checks(CCR3, FAST), ids=lambda c: c.__name__)
def test_conformance(check):
    check()


@pytest.mark.parametrize("check", method_checks(CCR3, {**FAST, "consensus": "entropy",
                                                       "fit_intercept": True}),
                         ids=lambda c: c.__name__)
def test_conformance_entropy_intercept(check):
    check()


def test_registered_and_import_is_light():
    from tltk_core import get_method

    assert get_method("ccr3") is CCR3
    check_light_import("tltk_ccr3")


def test_info():
    info = CCR3.info
    assert info.name == "ccr3" and info.family == "parameter"
    assert info.settings == ("unsupervised", "multi-source") and info.sparse
    assert "Luo" in info.reference and "2008" in info.reference
    assert "Consensus Regularization Perspective" in info.reference


# -- the mathematics ---------------------------------------------------------------
def _random_case(k, m=3, d=7, seed=0):
    rng = np.random.RandomState(seed)
    Xs = [sp.random(15, d, density=0.4, random_state=seed + i, format="csr") for i in range(m)]
    ys = [rng.randint(0, k, 15) for _ in range(m)]
    Xt = sp.random(12, d, density=0.4, random_state=seed + 99, format="csr")
    kp = 1 if k == 2 else k
    return Xs, ys, Xt, rng, m * d * kp, m * kp


def _reference_objective(w, Xs, ys, Xt, k, lam, theta, kind, fit_intercept):
    """The papers' objective written sample by sample (dense, loops): the reference."""
    m, d = len(Xs), Xt.shape[1]
    kp = 1 if k == 2 else k
    W = w[:m * d * kp].reshape(m, d, kp)
    b = w[m * d * kp:].reshape(m, kp) if fit_intercept else np.zeros((m, kp))

    def proba(l, x):
        z = x @ W[l] + b[l]
        if k == 2:  # the papers' logistic regression, P(y=+1|x) = 1 / (1 + exp(-w'x))
            p1 = 1.0 / (1.0 + np.exp(-z[0]))
            return np.array([1 - p1, p1])
        e = np.exp(z - z.max())
        return e / e.sum()

    F = 0.0
    for l in range(m):
        F += 0.5 * lam * np.sum(W[l] ** 2)
        for x, y in zip(Xs[l].toarray(), ys[l]):
            F -= np.log(proba(l, x)[y])
    for x in Xt.toarray():
        pbar = np.mean([proba(l, x) for l in range(m)], axis=0)
        F -= theta * (np.sum(pbar ** 2) if kind == "squared" else np.sum(pbar * np.log(pbar)))
    return F


@pytest.mark.parametrize("k", [2, 3])
@pytest.mark.parametrize("kind", ["squared", "entropy"])
@pytest.mark.parametrize("fit_intercept", [False, True])
def test_objective_matches_reference_and_gradient_matches_finite_differences(
        k, kind, fit_intercept):
    Xs, ys, Xt, rng, n_w, n_b = _random_case(k)
    w = rng.randn(n_w + (n_b if fit_intercept else 0))
    F, g = ccr_objective(w, Xs, ys, Xt, k, 0.7, 1.3, kind, fit_intercept)
    assert F == pytest.approx(_reference_objective(w, Xs, ys, Xt, k, 0.7, 1.3, kind,
                                                   fit_intercept), rel=1e-10)
    num = approx_fprime(w, lambda v: ccr_objective(v, Xs, ys, Xt, k, 0.7, 1.3, kind,
                                                   fit_intercept)[0], 1e-7)
    np.testing.assert_allclose(g, num, rtol=1e-4, atol=1e-5 * np.abs(num).max())


def test_binary_squared_consensus_is_the_original_codes_alpha_form():
    # the original objfun.m maximises alpha * sum (2 pbar - 1)^2: theta = 2 alpha, same optimum
    Xs, ys, Xt, rng, n_w, _ = _random_case(2)
    w = rng.randn(n_w)
    F0 = ccr_objective(w, Xs, ys, Xt, 2, 0.7, 0.0)[0]
    F1 = ccr_objective(w, Xs, ys, Xt, 2, 0.7, 0.5)[0]
    W = w.reshape(3, -1)
    pbar = np.mean([1 / (1 + np.exp(-(Xt @ W[l]))) for l in range(3)], axis=0)
    alpha_term = 0.25 * np.sum((2 * pbar - 1) ** 2)
    assert F0 - F1 == pytest.approx(alpha_term + 0.5 * 0.5 * Xt.shape[0], rel=1e-12)


def test_theta_zero_is_independent_logistic_regressions():
    from sklearn.linear_model import LogisticRegression

    Xs, ys, Xt, _ = make_domains(n_source=120)
    parts, labels = [Xs[:60], Xs[60:]], [ys[:60], ys[60:]]
    m = CCR3(theta=0.0, lam=2.0, tol=1e-10).fit(parts, labels, Xt)
    for l in range(2):
        lr = LogisticRegression(C=0.5, fit_intercept=False, tol=1e-10, max_iter=5000)
        lr.fit(parts[l], labels[l])
        np.testing.assert_allclose(m.coef_[l][:, 0], lr.coef_[0], rtol=0, atol=5e-5)
    # prediction: the average of the per-source probabilities (the papers')
    P = m.source_proba(Xt)
    np.testing.assert_allclose(m.predict_proba(Xt), P.mean(axis=1))


def test_multiclass_uses_softmax_and_probabilities_sum_to_one():
    Xs, ys, Xt, yt = make_domains(n_classes=3, n_source=150, n_target=90)
    m = CCR3(theta=0.5, lam=1.0).fit([Xs[:75], Xs[75:]], [ys[:75], ys[75:]], Xt)
    assert m.coef_.shape == (2, Xs.shape[1], 3)
    P = m.predict_proba(Xt)
    np.testing.assert_allclose(P.sum(axis=1), 1.0)
    assert m.score(Xt, yt) > 0.5


# -- what the consensus term does -------------------------------------------------------
def _three_sources(seed=0):
    """Three small source domains, each with its own feature scaling, and a target."""
    Xs, ys, Xt, yt = make_domains(n_source=150, n_target=150, n_features=12, shift=1.5,
                                  random_state=seed)
    rng = np.random.RandomState(seed)
    parts = [Xs[i * 50:(i + 1) * 50] * rng.uniform(0.1, 1.9, size=Xs.shape[1])
             for i in range(3)]
    return parts, [ys[i * 50:(i + 1) * 50] for i in range(3)], Xt, yt


def _disagreement(model, Xt):
    """Mean over target samples and pairs of sources of |P_l(1|x) - P_k(1|x)|,
    and the share of target samples on which the sources' hard labels differ."""
    P = model.source_proba(Xt)[:, :, 1]
    m = P.shape[1]
    pairs = [np.abs(P[:, a] - P[:, b]).mean() for a in range(m) for b in range(a + 1, m)]
    hard = P > 0.5
    return float(np.mean(pairs)), float(np.mean(hard.any(1) & ~hard.all(1)))


def test_consensus_makes_the_classifiers_agree_on_the_target():
    Xs, ys, Xt, _ = _three_sources()
    free = CCR3(theta=0.0, lam=1.0).fit(Xs, ys, Xt)
    cons = CCR3(theta=5.0, lam=1.0).fit(Xs, ys, Xt)
    soft0, hard0 = _disagreement(free, Xt)
    soft1, hard1 = _disagreement(cons, Xt)
    assert hard0 > 0.2, "the test needs sources that disagree without consensus"
    assert soft1 < 0.2 * soft0 and hard1 < 0.1 * hard0
    # and the averaged prediction is more confident: lower entropy on the target
    def entropy(m):
        P = m.predict_proba(Xt)
        return float(-np.mean(np.sum(P * np.log(P), axis=1)))
    assert entropy(cons) < entropy(free)
    # the consensus measure grows with theta
    agree = [_disagreement(CCR3(theta=t, lam=1.0).fit(Xs, ys, Xt), Xt)[0]
             for t in (0.0, 1.0, 5.0)]
    assert agree[0] > agree[1] > agree[2]


@pytest.mark.parametrize("kind", ["squared", "entropy"])
def test_one_source_is_entropy_minimisation_on_the_target(kind):
    Xs, ys, Xt, yt = make_domains(n_source=100, n_target=80, shift=1.0)
    free = CCR3(theta=0.0, lam=1.0, consensus=kind).fit([Xs], [ys], Xt)
    one = CCR3(theta=2.0, lam=1.0, consensus=kind).fit([Xs], [ys], Xt)
    plain = CCR3(theta=2.0, lam=1.0, consensus=kind).fit(Xs, ys, Xt)   # array, not list
    assert one.n_sources_ == 1 and one.coef_.shape == (1, Xs.shape[1], 1)
    np.testing.assert_array_equal(one.coef_, plain.coef_)

    def entropy(m):
        P = m.predict_proba(Xt)
        return float(-np.sum(P * np.log(P)))
    assert entropy(one) < entropy(free)
    assert one.score(Xt, yt) >= 0.6
    # with one source the objective is the log-posterior minus theta * sum_t (-H)
    # for "entropy": check it at the fitted point against the explicit formula
    if kind == "entropy":
        w = one.coef_.ravel()
        z = Xs @ w
        loglik = np.sum(-np.logaddexp(0, -(2 * ys - 1) * z))
        P = one.predict_proba(Xt)
        want = -loglik + 0.5 * np.sum(w * w) - 2.0 * np.sum(P * np.log(P))
        assert one.objective_ == pytest.approx(want, rel=1e-9)


# -- audit 2.10 regressions ----------------------------------------------------------
def test_returns_predictions_and_needs_no_target_labels():
    # audit: the original wrapper returned None and computed accuracy inside MATLAB
    # from the target labels it required
    Xs, ys, Xt, _ = make_domains()
    m = CCR3().fit(Xs, ys, Xt)                  # no yt
    pred = m.predict(Xt)
    assert pred is not None and pred.shape == (Xt.shape[0],)


def test_takes_several_sources_and_averages_over_their_number():
    # audit: the Python wrapper passed one source only; PRP_CG.m averaged the final
    # probabilities as p1/3 whatever the number of sources
    Xs, ys, Xt, _ = make_domains(n_source=200)
    for m in (2, 4):
        parts = np.array_split(np.arange(200), m)
        est = CCR3(max_iter=100).fit([Xs[i] for i in parts], [ys[i] for i in parts], Xt)
        assert est.n_sources_ == m
        P = est.predict_proba(Xt)
        np.testing.assert_allclose(P.sum(axis=1), 1.0)
        np.testing.assert_allclose(P, est.source_proba(Xt).mean(axis=1))


def test_labels_need_not_be_zero_one():
    # audit: CCR3_enterFunc.m mapped 0 -> -1 and so required labels {0, 1}
    Xs, ys, Xt, _ = make_domains()
    names = np.array([-5, 7])
    pred = CCR3(max_iter=100).fit(Xs, names[ys], Xt).predict(Xt)
    assert set(pred) <= {-5, 7}


def test_every_source_sample_counts_in_the_likelihood():
    # objfun.m dropped log P of samples with P < 1e-5 (badly misclassified ones);
    # the papers' likelihood, and ours, keeps them
    Xs = [sp.csr_matrix(np.array([[1.0, 0.0], [0.0, 1.0]]))]
    ys = [np.array([0, 1])]
    Xt = sp.csr_matrix(np.array([[1.0, 1.0]]))
    w = np.array([30.0, 0.0])       # sample 0 (class 0) gets P(0|x) = sigmoid(-30) ~ 1e-13
    F = ccr_objective(w, Xs, ys, Xt, 2, 1.0, 0.0)[0]
    assert F == pytest.approx(np.logaddexp(0, 30.0) + np.log(2) + 450.0, rel=1e-12)


def test_starts_from_the_theta_zero_optimum_at_the_same_prior():
    # mul_predict_luop.m chose each start's prior by *training* likelihood over a grid,
    # which always picks the weakest prior; ours is the same model at theta = 0
    Xs, ys, Xt, _ = make_domains()
    a = CCR3(theta=0.0, lam=3.0).fit(Xs, ys, Xt)
    b = CCR3(theta=1e-12, lam=3.0).fit(Xs, ys, Xt)
    np.testing.assert_allclose(a.coef_, b.coef_, atol=1e-4)


# -- errors, determinism, inputs ------------------------------------------------------
@pytest.mark.parametrize("param, value", [
    ("theta", -1.0), ("theta", "big"), ("theta", float("inf")), ("lam", 0.0),
    ("lam", -2.0), ("lam", None), ("consensus", "vote"), ("fit_intercept", "yes"),
    ("max_iter", 0), ("max_iter", 2.5), ("tol", 0.0), ("tol", float("nan")),
])
def test_bad_hyperparameters_raise_input_error_naming_them(param, value):
    Xs, ys, Xt, _ = make_domains()
    with pytest.raises(InputError, match=param):
        CCR3(**{param: value}).fit(Xs, ys, Xt)


def test_deterministic_and_inputs_unmodified():
    Xs, ys, Xt, _ = _three_sources()
    Ss = [sp.csr_matrix(X) for X in Xs]
    St = sp.csr_matrix(Xt)
    copies = [S.data.copy() for S in Ss] + [St.data.copy()]
    a = CCR3(theta=1.0).fit(Ss, ys, St)
    b = CCR3(theta=1.0).fit(Ss, ys, St)
    np.testing.assert_array_equal(a.coef_, b.coef_)
    np.testing.assert_array_equal(a.predict_proba(St), b.predict_proba(St))
    for S, c in zip(Ss + [St], copies):
        np.testing.assert_array_equal(S.data, c)
    # dense and sparse input give the same model
    d = CCR3(theta=1.0).fit(Xs, ys, Xt)
    np.testing.assert_allclose(d.coef_, a.coef_, rtol=0, atol=1e-4)  # up to the tolerance
    np.testing.assert_array_equal(d.predict(Xt), a.predict(St))


# -- real data ---------------------------------------------------------------------
def test_beats_pooled_source_only_on_a_three_source_20ng_task():
    data_file("20ng-sci-talk", "space-religion.svm")
    from sklearn.linear_model import LogisticRegression
    from tltk_core import load_task

    task = load_task("20ng-sci-talk", "crypt-guns+electronics-mideast+med-misc:space-religion")
    Xs = [d.X for d in task.sources]
    ys = [d.y for d in task.sources]
    Xt, yt = task.target.X, task.target.y
    pooled_X, pooled_y = sp.vstack(Xs).tocsr(), np.concatenate(ys)
    svm = task.protocol.classifier_estimator().fit(pooled_X, pooled_y).score(Xt, yt)
    model = CCR3()
    lr = model.baseline_estimator().fit(pooled_X, pooled_y).score(Xt, yt)
    lr_default = LogisticRegression(max_iter=1000).fit(pooled_X, pooled_y).score(Xt, yt)
    acc = model.fit(Xs, ys, Xt).score(Xt, yt)
    assert acc > max(svm, lr, lr_default) + 0.03, (acc, svm, lr, lr_default)


def test_a_solver_stopped_early_says_so():
    """Fail loudly: an optimiser cut off by max_iter warns instead of returning a
    silently degraded model."""
    from tltk_core.baselines import NotConvergedWarning
    from tltk_core.testing import make_domains

    Xs, ys, Xt, _ = make_domains(n_source=80)
    with pytest.warns(NotConvergedWarning, match="L-BFGS-B did not converge"):
        CCR3(max_iter=2).fit([Xs[:40], Xs[40:]], [ys[:40], ys[40:]], Xt)
