"""Tests of the Deep CORAL plugin: conformance, registration, the original
toolkit's Coral.py defects (centring over features, no 1/(n-1), ‖·‖²/(16d³),
the loss on pooled features instead of the classifier layer) as regression
tests, and transfer on real data."""
import numpy as np
import pytest

from tltk_core import InputError
from tltk_core.testing import check_light_import, data_file, make_domains, method_checks
from tltk_deepcoral import INFO, DeepCORAL

torch = pytest.importorskip("torch")

SMALL = INFO.extra["test_params"]


@pytest.mark.parametrize("check", method_checks(DeepCORAL, SMALL), ids=lambda c: c.__name__)
def test_conformance(check):
    check()


def test_registered_and_import_is_light():
    from tltk_core import get_method

    assert get_method("deepcoral") is DeepCORAL
    check_light_import("tltk_deepcoral")


def test_info():
    assert INFO.family == "deep" and INFO.settings == ("unsupervised",)
    assert INFO.sparse and INFO.requires == ("torch",)
    assert "Sun" in INFO.reference and "2016" in INFO.reference


def _spy_coral(monkeypatch):
    import tltk_deepcoral._deepcoral as mod

    calls = []
    real = mod.coral_loss

    def spy(a, b):
        out = real(a, b)
        calls.append((a.shape[1], out.item(), a.detach().numpy().copy(),
                      b.detach().numpy().copy()))
        return out

    monkeypatch.setattr(mod, "coral_loss", spy)
    return calls


def test_loss_is_on_the_classifier_layer_with_the_paper_formula(monkeypatch):
    """Regression: the original put CORAL on the pooled features and centred
    over features. Here: the classifier layer (width = n_classes), sample
    covariances with 1/(n-1), ‖Cs−Ct‖²_F/(4d²)."""
    calls = _spy_coral(monkeypatch)
    Xs, ys, Xt, _ = make_domains(n_classes=3, n_source=90)
    m = DeepCORAL(**SMALL, random_state=0).fit(Xs, ys, Xt)
    assert calls and all(c[0] == 3 for c in calls)
    d, value, S, T = calls[-1]
    want = ((np.cov(S, rowvar=False) - np.cov(T, rowvar=False)) ** 2).sum() / (4 * d * d)
    assert value == pytest.approx(want, rel=1e-4)
    hist = m.history_
    assert hist[-1]["transfer"] == pytest.approx(value, rel=1e-5)    # weight 1 by default
    calls.clear()
    DeepCORAL(**SMALL, layer="features", random_state=0).fit(Xs, ys, Xt)
    assert all(c[0] == SMALL["hidden"][-1] for c in calls)


def test_coral_weight_scales_the_loss_and_zero_is_source_only():
    Xs, ys, Xt, _ = make_domains()
    m = DeepCORAL(**SMALL, coral_weight=0.0, random_state=0).fit(Xs, ys, Xt)
    assert all(h["transfer"] == 0.0 for h in m.history_)
    base = DeepCORAL(**SMALL, random_state=0).fit(Xs, ys, Xt).baseline_estimator().fit(Xs, ys)
    np.testing.assert_array_equal(base.predict(Xt), m.predict(Xt))


def test_coral_reduces_the_covariance_gap():
    """The CORAL term does its job: the final layer's covariance gap on the
    whole domains is smaller than without it."""
    from tltk_core.deep import coral_loss

    Xs, ys, Xt, _ = make_domains(shift=2.0)
    gaps = []
    for w in (0.0, 10.0):
        m = DeepCORAL(hidden=(16,), n_epochs=20, batch_size=16, coral_weight=w,
                      dropout=0.0, random_state=0).fit(Xs, ys, Xt)
        Ls, Lt = (torch.tensor(m._logits(X)) for X in (Xs, Xt))
        gaps.append(coral_loss(Ls, Lt).item())
    assert gaps[1] < gaps[0]


@pytest.mark.parametrize("params,name", [({"layer": "fc7"}, "layer"),
                                         ({"coral_weight": -1.0}, "coral_weight"),
                                         ({"coral_weight": "automatic"}, "coral_weight"),
                                         ({"coral_weight": None}, "coral_weight"),
                                         ({"coral_weight": True}, "coral_weight"),
                                         ({"hidden": ()}, "hidden")])
def test_bad_hyperparameters(params, name):
    Xs, ys, Xt, _ = make_domains()
    with pytest.raises(InputError, match=name):
        DeepCORAL(**params).fit(Xs, ys, Xt)


def test_determinism():
    Xs, ys, Xt, _ = make_domains()
    a = DeepCORAL(**SMALL, random_state=3).fit(Xs, ys, Xt).predict_proba(Xt)
    b = DeepCORAL(**SMALL, random_state=3).fit(Xs, ys, Xt).predict_proba(Xt)
    np.testing.assert_array_equal(a, b)


def test_transfers_on_real_data():
    """Office-Caltech SURF D→W, short schedule: beats its own source-only network."""
    data_file("office-caltech-surf", "webcam_SURF_L10.mat")
    from tltk_core import load_task

    torch.set_num_threads(1)
    task = load_task("office-caltech-surf", "D:W")
    Xs, ys = task.sources[0].X, task.sources[0].y
    m = DeepCORAL(random_state=0, n_epochs=20, hidden=(64,)).fit(Xs, ys, task.target.X)
    base = m.baseline_estimator().fit(Xs, ys)
    acc, acc0 = m.score(task.target.X, task.target.y), base.score(task.target.X, task.target.y)
    assert acc > acc0, (acc, acc0)


def test_raw_count_input_trains_under_the_default_gradient_clipping():
    """Regression: on raw amazon-reviews word counts (up to 61) Deep CORAL's loss
    became NaN at the default lr 0.01 — the CORAL term on the logits grows with
    the fourth power of their scale. Here synthetic counts up to ~80: without
    gradient-norm clipping the fit stops with the divergence error; with the
    default clipping it trains and fits the source."""
    import scipy.sparse as sp

    rng = np.random.RandomState(0)

    def counts(n, shift):
        return sp.csr_matrix(rng.poisson(rng.gamma(0.3, 10.0, (n, 300)) * (1 + shift))
                             .astype(float))

    Xs, Xt = counts(200, 0.0), counts(200, 0.5)
    s = np.asarray(Xs[:, :150].sum(1)).ravel()
    ys = (s > np.median(s)).astype(int)
    unclipped = DeepCORAL(hidden=(64,), n_epochs=5, random_state=0)
    unclipped.max_grad_norm = None
    with pytest.raises(FloatingPointError, match="diverged"):
        unclipped.fit(Xs, ys, Xt)
    m = DeepCORAL(hidden=(64,), n_epochs=5, random_state=0).fit(Xs, ys, Xt)
    assert m.max_grad_norm == 10.0
    assert max(h["grad_norm"] for h in m.history_) > 10.0     # clipping was needed
    assert np.isfinite(m.predict_proba(Xt)).all()
    assert np.mean(m.predict(Xs) == ys) > 0.8


# -- coral_weight="auto": the paper's rule for λ ------------------------------------
def _auto_case(**kw):
    Xs, ys, Xt, _ = make_domains(n_classes=3, n_source=120, n_target=120, shift=1.0)
    params = dict(hidden=(16,), n_epochs=40, batch_size=16, dropout=0.0, random_state=0)
    params.update(kw)
    return Xs, ys, Xt, DeepCORAL(**params)


def _end(hist, key):
    k = max(len(hist) // 10, 1)
    return float(np.mean([h[key] for h in hist[-k:]]))


def test_auto_weight_is_the_ratio_of_the_running_means_set_once_at_mid_run():
    """λ = 1 for the first half; at the first iteration with progress ≥ 0.5 it
    becomes m_cls / m_coral, the exponential running means (decay 0.99) of the
    logged classification and unweighted CORAL losses — recomputed here from
    the history — so that λ·m_coral = m_cls there; then it stays."""
    Xs, ys, Xt, m = _auto_case(coral_weight="auto")
    hist = m.fit(Xs, ys, Xt).history_
    n = len(hist)
    lam = np.array([h["coral_weight"] for h in hist])
    half = int(np.ceil(0.5 * n))              # first iteration with it / n >= 0.5
    assert np.all(lam[:half + 1] == 1.0)      # the λ used up to and including that step
    assert np.all(lam[half + 1:] == lam[-1]) and lam[-1] != 1.0   # changed once, then kept
    mc = mk = 0.0
    for h in hist[:half + 1]:
        mc = 0.99 * mc + 0.01 * h["cls"]
        mk = 0.99 * mk + 0.01 * h["coral"]
    assert lam[-1] == pytest.approx(mc / mk, rel=1e-9)
    for h in hist:                            # the logged transfer loss is λ·CORAL
        assert h["transfer"] == pytest.approx(h["coral_weight"] * h["coral"], rel=1e-5)


def test_auto_weight_brings_the_losses_within_a_small_factor_at_the_end():
    """The paper's rule: at the end of training the weighted CORAL loss and
    the classification loss are of the same size (here: within a factor 4).
    A weight far off (100) breaks it on the same case, so the check can fail."""
    Xs, ys, Xt, m = _auto_case(coral_weight="auto")
    hist = m.fit(Xs, ys, Xt).history_
    ratio = _end(hist, "cls") / _end(hist, "transfer")
    assert 0.25 < ratio < 4.0, ratio
    Xs, ys, Xt, far = _auto_case(coral_weight=100.0)
    hist = far.fit(Xs, ys, Xt).history_
    assert not 0.25 < _end(hist, "cls") / _end(hist, "transfer") < 4.0


def test_auto_weight_is_deterministic_and_its_baseline_is_source_only():
    Xs, ys, Xt, a = _auto_case(coral_weight="auto", n_epochs=6)
    Xs, ys, Xt, b = _auto_case(coral_weight="auto", n_epochs=6)
    pa = a.fit(Xs, ys, Xt).predict_proba(Xt)
    np.testing.assert_array_equal(pa, b.fit(Xs, ys, Xt).predict_proba(Xt))
    assert [h["coral_weight"] for h in a.history_] == [h["coral_weight"] for h in b.history_]
    base = a.baseline_estimator().fit(Xs, ys)
    assert base.estimator_.coral_weight == 0.0
    assert all(h["transfer"] == 0.0 for h in base.estimator_.history_)


def test_numeric_weight_keeps_its_history_and_value():
    """A numeric coral_weight works as before: fixed λ, no extra history keys."""
    Xs, ys, Xt, m = _auto_case(coral_weight=2.0, n_epochs=3)
    hist = m.fit(Xs, ys, Xt).history_
    assert set(hist[0]) == {"loss", "cls", "transfer", "grad_norm"}


def test_train_network_shows_each_record_to_an_observing_transfer_loss():
    """tltk_core.deep.train_network: a transfer loss with an ``observe`` method
    sees every iteration's record after the step, and the dict it returns is
    added to that record; its state can change the next step's loss."""
    from tltk_core.deep import MLP, TransferNet, make_generator, train_network

    Xs, ys, Xt, _ = make_domains()
    seen = []

    class Loss:
        scale = 1.0

        def __call__(self, fs, ls, ft, lt, p):
            return self.scale * (fs.mean() - ft.mean()).pow(2)

        def observe(self, info):
            seen.append(dict(info))
            self.scale += 1.0
            return {"scale_used": self.scale - 1.0}

    torch.manual_seed(0)
    net = TransferNet(MLP(Xs.shape[1], (8,)), 8, 2)
    hist = train_network(net, Xs, ys, Xt, n_iter=5, batch_size=16, lr=0.01,
                         transfer_loss=Loss(), generator=make_generator(0))
    assert len(seen) == 5 and [h["scale_used"] for h in hist] == [1.0, 2.0, 3.0, 4.0, 5.0]
    assert all(s["cls"] == h["cls"] and s["transfer"] == h["transfer"]
               for s, h in zip(seen, hist))
