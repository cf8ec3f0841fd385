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


def _spy(monkeypatch):
    import tltk_dan._dan as mod

    calls = []
    real = mod.mk_mmd

    def spy(a, b, **kw):
        calls.append((a.shape[1], kw))
        return real(a, b, **kw)

    monkeypatch.setattr(mod, "mk_mmd", spy)
    return calls


def test_mmd_on_every_hidden_layer_and_the_classifier_layer(monkeypatch):
    """Regression: the original adapted only the pooled 2048-d layer; DAN adapts
    the last hidden layers and the classifier layer (multi-layer MK-MMD)."""
    calls = _spy(monkeypatch)
    Xs, ys, Xt, _ = make_domains(n_classes=3, n_source=90)
    m = DAN(hidden=(7, 5), n_epochs=1, batch_size=16, random_state=0).fit(Xs, ys, Xt)
    widths = [c[0] for c in calls]
    assert widths[:3] == [7, 5, 3] and len(widths) == 3 * m.n_iter_
    assert all(c[1]["estimator"] == "linear" for c in calls)
    calls.clear()
    DAN(hidden=(7, 5), n_adapted=1, n_epochs=1, batch_size=16, random_state=0).fit(Xs, ys, Xt)
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
                                         ({"batch_size": 0}, "batch_size")])
def test_bad_hyperparameters(params, name):
    Xs, ys, Xt, _ = make_domains()
    with pytest.raises(InputError, match=name):
        DAN(**params).fit(Xs, ys, Xt)


def test_determinism():
    Xs, ys, Xt, _ = make_domains()
    a = DAN(**SMALL, random_state=3).fit(Xs, ys, Xt).predict_proba(Xt)
    b = DAN(**SMALL, random_state=3).fit(Xs, ys, Xt).predict_proba(Xt)
    np.testing.assert_array_equal(a, b)


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
