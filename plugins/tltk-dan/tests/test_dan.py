"""Tests of the DAN plugin: conformance, registration, the original toolkit's
DAN defects (one adapted layer only; optimiser re-created each step) as
regression tests, the MK-MMD per layer against numpy, and transfer on real data."""
import numpy as np
import pytest

from tltk_core import InputError
from tltk_core.testing import check_light_import, data_file, make_domains, method_checks
from tltk_dan import DAN, INFO

torch = pytest.importorskip("torch")

SMALL = INFO.extra["test_params"]


@pytest.mark.parametrize("check", method_checks(DAN, SMALL), ids=lambda c: c.__name__)
def test_conformance(check):
    check()


@pytest.mark.parametrize("check", method_checks(DAN, {**SMALL, "mmd_estimator": "biased"}),
                         ids=lambda c: c.__name__)
def test_conformance_biased(check):
    check()


def test_registered_and_import_is_light():
    from tltk_core import get_method

    assert get_method("dan") is DAN
    check_light_import("tltk_dan")


def test_info():
    assert INFO.family == "deep" and INFO.settings == ("unsupervised",)
    assert INFO.sparse and INFO.requires == ("torch",)
    assert "Long" in INFO.reference and "2015" in INFO.reference


def _spy(monkeypatch, name="mk_mmd"):
    import tltk_dan._dan as mod

    calls = []
    real = getattr(mod, name)

    def spy(a, b, **kw):
        calls.append((a.shape[1], kw))
        return real(a, b, **kw)

    monkeypatch.setattr(mod, name, spy)
    return calls


@pytest.mark.parametrize("weights", ["learned", "uniform"])
def test_mmd_on_every_hidden_layer_and_the_classifier_layer(monkeypatch, weights):
    """Regression: the original adapted only the pooled 2048-d layer; DAN adapts
    the last hidden layers and the classifier layer (multi-layer MK-MMD)."""
    name = "quadruple_kernels" if weights == "learned" else "mk_mmd"
    calls = _spy(monkeypatch, name)
    Xs, ys, Xt, _ = make_domains(n_classes=3, n_source=90)
    m = DAN(hidden=(7, 5), n_epochs=1, batch_size=16, kernel_weights=weights,
            random_state=0).fit(Xs, ys, Xt)
    widths = [c[0] for c in calls]
    assert widths[:3] == [7, 5, 3] and len(widths) == 3 * m.n_iter_
    if weights == "uniform":
        assert all(c[1]["estimator"] == "linear" for c in calls)
    calls.clear()
    DAN(hidden=(7, 5), n_adapted=1, n_epochs=1, batch_size=16, kernel_weights=weights,
        random_state=0).fit(Xs, ys, Xt)
    assert [c[0] for c in calls][:2] == [5, 3]


def test_mmd_weight_zero_is_the_source_only_network():
    Xs, ys, Xt, _ = make_domains()
    m = DAN(**SMALL, random_state=0).fit(Xs, ys, Xt)
    base = m.baseline_estimator().fit(Xs, ys)
    assert base.estimator_.mmd_weight == 0.0
    direct = DAN(**SMALL, mmd_weight=0.0, random_state=0).fit(Xs, ys, Xt)
    np.testing.assert_array_equal(base.predict(Xt), direct.predict(Xt))
    assert all(h["transfer"] == 0.0 for h in direct.history_)


def test_mmd_shrinks_the_domain_gap():
    from tltk_core.deep import mk_mmd

    Xs, ys, Xt, _ = make_domains(shift=2.0)
    gaps = []
    for w in (0.0, 5.0):
        m = DAN(hidden=(16,), n_epochs=20, batch_size=16, mmd_weight=w, dropout=0.0,
                mmd_estimator="biased", random_state=0).fit(Xs, ys, Xt)
        Fs, Ft = torch.tensor(m.transform(Xs)), torch.tensor(m.transform(Xt))
        gaps.append(mk_mmd(Fs, Ft, estimator="biased").item())
    assert gaps[1] < gaps[0]


@pytest.mark.parametrize("params,name", [({"mmd_estimator": "quadratic"}, "mmd_estimator"),
                                         ({"mmd_weight": -1.0}, "mmd_weight"),
                                         ({"n_adapted": 0}, "n_adapted"),
                                         ({"kernel_weights": "optimal"}, "kernel_weights"),
                                         ({"kernel_weights": None}, "kernel_weights"),
                                         ({"kernel_eps": 0.0}, "kernel_eps"),
                                         ({"kernel_eps": -1e-3}, "kernel_eps"),
                                         ({"batch_size": 0}, "batch_size"),
                                         ({"mmd_weight": "paper"}, "mmd_weight")])
def test_bad_hyperparameters(params, name):
    Xs, ys, Xt, _ = make_domains()
    with pytest.raises(InputError, match=name):
        DAN(**params).fit(Xs, ys, Xt)


def test_determinism():
    Xs, ys, Xt, _ = make_domains()
    ma = DAN(**{**SMALL, "n_epochs": 3}, random_state=3).fit(Xs, ys, Xt)
    mb = DAN(**{**SMALL, "n_epochs": 3}, random_state=3).fit(Xs, ys, Xt)
    np.testing.assert_array_equal(ma.predict_proba(Xt), mb.predict_proba(Xt))
    assert len(ma.kernel_weights_) == 3
    for a, b in zip(ma.kernel_weights_, mb.kernel_weights_):
        np.testing.assert_array_equal(a, b)


# -- learned kernel weights β (Long et al. 2015, eq. 7; Gretton et al. 2012) ---------------
def test_qp_two_kernels_closed_form():
    """Without the bound active, min β^T Q β s.t. d^T β = 1 has β ∝ Q^-1 d."""
    from tltk_core.deep import optimal_kernel_weights

    d, Q = np.array([1.0, 2.0]), np.diag([1.0, 4.0])
    np.testing.assert_allclose(optimal_kernel_weights(d, Q, eps=0.0), [2 / 3, 1 / 3], atol=1e-6)
    # correlated kernels: Q^-1 d = [2, 1] / 3 · … → still interior
    Q = np.array([[2.0, 1.0], [1.0, 2.0]])
    d = np.array([3.0, 1.0])
    expect = np.linalg.solve(Q + 1e-3 * np.eye(2), d)
    expect = np.maximum(expect, 0) / np.maximum(expect, 0).sum()
    np.testing.assert_allclose(optimal_kernel_weights(d, Q), expect, atol=1e-6)


def test_qp_matches_a_brute_force_grid_on_three_kernels():
    """β maximises the test-power ratio (d^T β)^2 / β^T (Q + εI) β over the
    simplex: compare with an exhaustive grid (step 1/300)."""
    from tltk_core.deep import optimal_kernel_weights

    rng = np.random.default_rng(1)
    g = np.linspace(0.0, 1.0, 301)
    X, Y = np.meshgrid(g, g)
    keep = X + Y <= 1 + 1e-12
    V = np.stack([X[keep], Y[keep], 1 - X[keep] - Y[keep]], 1)
    checked = 0
    for _ in range(6):
        d = rng.normal(size=3) + 0.3
        B = rng.normal(size=(3, 3))
        Q = B @ B.T * 0.1
        beta = optimal_kernel_weights(d, Q, eps=1e-3)
        if not np.any(d > 0):
            assert beta is None
            continue
        A = Q + 1e-3 * np.eye(3)
        assert np.all(beta >= 0) and beta.sum() == pytest.approx(1.0)
        s = V @ d
        ok = s > 0
        ratio = s[ok] ** 2 / np.einsum("ij,jk,ik->i", V[ok], A, V[ok])
        mine = (d @ beta) ** 2 / (beta @ A @ beta)
        assert d @ beta > 0
        assert mine >= ratio.max() * (1 - 1e-9)           # no grid point beats it
        assert mine <= ratio.max() * (1 + 2e-2)           # and the grid gets close to it
        checked += 1
    assert checked >= 4


def test_qp_zero_weight_on_a_kernel_with_negative_mmd_and_none_without_positive_d():
    from tltk_core.deep import optimal_kernel_weights

    beta = optimal_kernel_weights(np.array([1.0, -1.0, 0.5]), np.eye(3) * 0.1)
    assert beta[1] == 0.0 and beta[0] > beta[2] > 0 and beta.sum() == pytest.approx(1.0)
    assert optimal_kernel_weights(np.array([-1.0, 0.0]), np.eye(2)) is None
    with pytest.raises(InputError, match="Q"):
        optimal_kernel_weights(np.ones(3), np.eye(2))


def test_h_statistics_give_mk_mmd_with_the_same_weights():
    """Per-kernel h-statistics of the quadruples, combined with weights β,
    are mk_mmd's linear-time value; and they match a numpy reference."""
    from tltk_core.deep import (DAN_MULTIPLIERS, linear_mmd_h, linear_mmd_value, mk_mmd,
                                quadruple_kernels)

    rng = np.random.default_rng(0)
    S = rng.normal(size=(11, 4))
    T = rng.normal(size=(9, 4)) + 0.7
    St, Tt = torch.tensor(S), torch.tensor(T)
    K4 = quadruple_kernels(St, Tt)
    H = linear_mmd_h(K4).numpy()
    assert H.shape == (4, len(DAN_MULTIPLIERS))
    Z = np.vstack([S, T])
    D = ((Z[:, None] - Z[None]) ** 2).sum(-1)
    gamma = D.sum() / (len(Z) ** 2 - len(Z))

    def k(a, b):
        return np.exp(-((a - b) ** 2).sum() / (gamma * np.array(DAN_MULTIPLIERS)))

    ref = np.array([k(S[2 * i], S[2 * i + 1]) + k(T[2 * i], T[2 * i + 1])
                    - k(S[2 * i], T[2 * i + 1]) - k(S[2 * i + 1], T[2 * i]) for i in range(4)])
    np.testing.assert_allclose(H, ref, rtol=1e-10, atol=1e-12)
    for w in (None, rng.dirichlet(np.ones(len(DAN_MULTIPLIERS)))):
        ww = np.full(len(DAN_MULTIPLIERS), 1 / len(DAN_MULTIPLIERS)) if w is None else w
        expect = mk_mmd(St, Tt, weights=w).item()
        assert (H @ ww).mean() == pytest.approx(expect, rel=1e-10)
        assert linear_mmd_value(K4, ww).item() == pytest.approx(expect, rel=1e-12)


def test_beta_is_learned_per_layer_and_used_in_the_loss(monkeypatch):
    """β starts uniform (first epoch identical to kernel_weights="uniform"),
    is re-solved after each epoch (not left uniform), lies on the simplex, and
    the next epoch's MMD uses exactly that β."""
    import tltk_dan._dan as mod

    used = []
    real = mod.linear_mmd_value

    def spy(K4, w):
        used.append(np.asarray(w, dtype=float).copy())
        return real(K4, w)

    monkeypatch.setattr(mod, "linear_mmd_value", spy)
    Xs, ys, Xt, _ = make_domains(n_classes=3, n_source=96, shift=1.5)
    kw = dict(hidden=(16, 8), n_epochs=3, batch_size=16, random_state=0)
    m = DAN(**kw).fit(Xs, ys, Xt)
    u = DAN(**kw, kernel_weights="uniform").fit(Xs, ys, Xt)
    per_epoch = m.n_iter_ // 3
    n_layers = 3
    mm = len(m.kernel_weights_[0])
    assert len(m.kernel_weights_) == n_layers and len(m.beta_history_) == 2
    last = m.beta_history_[-1]
    for b, fell in zip(m.kernel_weights_, last["fallback"]):
        assert np.all(b >= 0) and b.sum() == pytest.approx(1.0)
        # moved away from uniform, unless no kernel had a positive MMD² (fallback)
        assert (np.abs(b - 1.0 / mm).max() > 0.01) != fell
    assert not all(last["fallback"])
    # first epoch: uniform weights, the same losses as the uniform variant
    assert all(np.allclose(w, 1.0 / mm) for w in used[:n_layers * per_epoch])
    assert [h["transfer"] for h in m.history_[:per_epoch]] == \
        [h["transfer"] for h in u.history_[:per_epoch]]
    assert m.history_[-1]["transfer"] != u.history_[-1]["transfer"]
    # epochs 2 and 3 use the β of the β-step before them
    for e, h in enumerate(m.beta_history_, start=1):
        assert h["epoch"] == e - 1
        first = used[n_layers * per_epoch * e:n_layers * per_epoch * e + n_layers]
        for w, b in zip(first, h["beta"]):
            np.testing.assert_array_equal(w, b)
    np.testing.assert_array_equal(m.beta_history_[-1]["beta"][0], m.kernel_weights_[0])
    assert all(
        np.allclose(b, 1.0 / mm) for b in u.kernel_weights_)


def test_beta_falls_back_to_uniform_when_no_kernel_sees_a_difference(monkeypatch):
    import tltk_dan._dan as mod

    monkeypatch.setattr(mod, "optimal_kernel_weights", lambda d, Q, eps: None)
    Xs, ys, Xt, _ = make_domains()
    m = DAN(**{**SMALL, "n_epochs": 3}, random_state=0).fit(Xs, ys, Xt)
    assert len(m.beta_history_) == 2 and all(all(h["fallback"]) for h in m.beta_history_)
    mm = len(m.kernel_weights_[0])
    assert all(np.allclose(b, 1.0 / mm) for b in m.kernel_weights_)


def test_beta_does_not_see_target_labels():
    """Target labels given to fit change nothing (β uses features only)."""
    Xs, ys, Xt, yt = make_domains()
    a = DAN(**{**SMALL, "n_epochs": 3}, random_state=0).fit(Xs, ys, Xt)
    b = DAN(**{**SMALL, "n_epochs": 3}, random_state=0).fit(Xs, ys, Xt, yt)
    for x, y in zip(a.kernel_weights_, b.kernel_weights_):
        np.testing.assert_array_equal(x, y)
    np.testing.assert_array_equal(a.predict_proba(Xt), b.predict_proba(Xt))


# -- mmd_weight="auto": the paper's validation rule for λ ---------------------------------
def test_auto_weight_follows_the_validation_score():
    """Each grid value is scored by source-validation error + 1 − 2·(two-sample
    error); the smallest score is chosen and the final network is exactly the
    one a fixed λ of that value gives (refit on the whole source)."""
    Xs, ys, Xt, yt = make_domains(n_classes=3, n_source=90)
    Xs0, Xt0 = Xs.copy(), Xt.copy()
    m = DAN(**SMALL, mmd_weight="auto", random_state=2).fit(Xs, ys, Xt)
    np.testing.assert_array_equal(Xs, Xs0)
    np.testing.assert_array_equal(Xt, Xt0)
    rows = m.trade_off_selection_
    assert [r["trade_off"] for r in rows] == list(DAN.auto_grid)
    for r in rows:
        assert 0.0 <= r["source_error"] <= 1.0 and 0.0 <= r["two_sample_error"] <= 0.5
        assert r["score"] == pytest.approx(r["source_error"] + 1 - 2 * r["two_sample_error"])
    best = min(rows, key=lambda r: r["score"])
    assert m.mmd_weight_ == best["trade_off"] and m.mmd_weight == "auto"
    fixed = DAN(**SMALL, mmd_weight=best["trade_off"], random_state=2).fit(Xs, ys, Xt)
    np.testing.assert_array_equal(m.predict_proba(Xt), fixed.predict_proba(Xt))
    # target labels given to fit change nothing: the choice never sees them
    m2 = DAN(**SMALL, mmd_weight="auto", random_state=2).fit(Xs, ys, Xt, yt)
    assert m2.trade_off_selection_ == rows


def test_auto_weight_prefers_the_lambda_whose_features_the_two_sample_test_cannot_split(
        monkeypatch):
    """With the two-sample error forced to 0.5 for the third grid value only and 0
    for the others, that value's score is lower by 1 − (difference of source
    errors) and it wins."""
    import tltk_core.selection as S

    calls = []

    def fake(Zs, Zt, **kw):
        calls.append(Zs.shape)
        return 0.5 if len(calls) == 3 else 0.0

    monkeypatch.setattr(S, "two_sample_error", fake)
    Xs, ys, Xt, _ = make_domains(n_classes=2, n_source=80)
    m = DAN(**SMALL, mmd_weight="auto", random_state=0).fit(Xs, ys, Xt)
    assert len(calls) == len(DAN.auto_grid)
    assert calls[0][0] == 16       # the validation rows: 20 % of 80 source rows
    errs = [r["source_error"] for r in m.trade_off_selection_]
    assert m.mmd_weight_ == DAN.auto_grid[2], errs


def test_run_reports_the_chosen_weight():
    """`tltk run dan -p mmd_weight=auto` says which λ it chose, in text and JSON."""
    import json

    from click.testing import CliRunner

    from tltk_core.cli import cli

    args = ["run", "dan", "-p", "mmd_weight=auto", "-p", "hidden=8", "-p", "n_epochs=2",
            "-p", "random_state=0", "--no-strong-baseline"]
    r = CliRunner().invoke(cli, args + ["--json"])
    assert r.exit_code == 0, r.output
    sel = json.loads(r.stdout)["trade_off_selection"]
    assert sel["param"] == "mmd_weight"
    assert [c["trade_off"] for c in sel["candidates"]] == list(DAN.auto_grid)
    assert sel["chosen"] == min(sel["candidates"], key=lambda c: c["score"])["trade_off"]
    r = CliRunner().invoke(cli, args)
    assert r.exit_code == 0, r.output
    assert f"mmd_weight = {sel['chosen']:g}, chosen without target labels" in r.output


def test_auto_weight_errors_name_the_argument():
    Xs, ys, Xt, _ = make_domains()
    with pytest.raises(InputError, match="mmd_weight"):
        DAN(**SMALL, mmd_weight="auto").fit(Xs[:4], ys[:4], Xt)
    m = DAN(**SMALL, mmd_weight="auto")
    m.auto_grid = (0.1, -1.0)
    with pytest.raises(InputError, match="auto_grid"):
        m.fit(Xs, ys, Xt)
    m = DAN(**SMALL, mmd_weight="auto")
    m.auto_holdout = 1.5
    with pytest.raises(InputError, match="auto_holdout"):
        m.fit(Xs, ys, Xt)


def test_transfers_on_real_data():
    """Office-Caltech SURF D→W, short schedule: beats its own source-only network."""
    data_file("office-caltech-surf", "webcam_SURF_L10.mat")
    from tltk_core import load_task

    torch.set_num_threads(1)
    task = load_task("office-caltech-surf", "D:W")
    Xs, ys = task.sources[0].X, task.sources[0].y
    m = DAN(random_state=0, n_epochs=20, hidden=(64,)).fit(Xs, ys, task.target.X)
    base = m.baseline_estimator().fit(Xs, ys)
    acc, acc0 = m.score(task.target.X, task.target.y), base.score(task.target.X, task.target.y)
    assert acc > acc0, (acc, acc0)
