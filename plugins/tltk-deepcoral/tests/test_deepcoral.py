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
