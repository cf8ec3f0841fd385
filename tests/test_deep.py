"""Tests of tltk_core.deep, the shared PyTorch code of the deep plugins."""
import math

import numpy as np
import pytest
import scipy.sparse as sp

torch = pytest.importorskip("torch")

from tltk_core import InputError  # noqa: E402
from tltk_core import deep  # noqa: E402
from tltk_core.info import MethodInfo  # noqa: E402
from tltk_core.testing import make_domains  # noqa: E402


def _np_gauss(A, B, gamma):
    d = ((A[:, None, :] - B[None, :, :]) ** 2).sum(-1)
    return np.exp(-d / gamma)


def _np_base_gamma(Z):
    D = ((Z[:, None, :] - Z[None, :, :]) ** 2).sum(-1)
    n = Z.shape[0]
    return D.sum() / (n * n - n)


# -- discrepancies against hand-computed numpy values -----------------------------------
def test_mmd_biased_matches_numpy():
    rng = np.random.RandomState(0)
    S, T = rng.randn(5, 3), rng.randn(4, 3) + 1.0
    mult = (0.5, 1.0, 2.0)
    g = _np_base_gamma(np.vstack([S, T]))
    want = 0.0
    for m in mult:
        want += (_np_gauss(S, S, m * g).mean() + _np_gauss(T, T, m * g).mean()
                 - 2 * _np_gauss(S, T, m * g).mean()) / len(mult)
    got = deep.mk_mmd(torch.tensor(S), torch.tensor(T), multipliers=mult, estimator="biased")
    assert got.item() == pytest.approx(want, rel=1e-10)


def test_mmd_linear_matches_numpy():
    rng = np.random.RandomState(1)
    S, T = rng.randn(6, 2), rng.randn(7, 2) * 2
    mult = (1.0, 4.0)
    g = _np_base_gamma(np.vstack([S, T]))

    def k(a, b):
        return sum(np.exp(-((a - b) ** 2).sum() / (m * g)) for m in mult) / len(mult)

    hs = [k(S[i], S[i + 1]) + k(T[i], T[i + 1]) - k(S[i], T[i + 1]) - k(S[i + 1], T[i])
          for i in range(0, 6, 2)]
    got = deep.mk_mmd(torch.tensor(S), torch.tensor(T), multipliers=mult, estimator="linear")
    assert got.item() == pytest.approx(np.mean(hs), rel=1e-10)


def test_mmd_zero_for_identical_and_positive_for_shift():
    rng = np.random.RandomState(2)
    S = torch.tensor(rng.randn(40, 3))
    assert deep.mk_mmd(S, S.clone(), estimator="biased").item() == pytest.approx(0, abs=1e-12)
    assert deep.mk_mmd(S, S + 3.0, estimator="biased").item() > 0.1
    with pytest.raises(InputError, match="estimator"):
        deep.mk_mmd(S, S, estimator="quadratic")


def test_dan_bandwidths_span_2_to_the_8():
    assert min(deep.DAN_MULTIPLIERS) == pytest.approx(2.0 ** -8)
    assert max(deep.DAN_MULTIPLIERS) == pytest.approx(2.0 ** 8)
    ratios = np.diff(np.log2(deep.DAN_MULTIPLIERS))
    np.testing.assert_allclose(ratios, 0.5)


def test_coral_matches_numpy():
    rng = np.random.RandomState(3)
    S, T = rng.randn(6, 3), rng.randn(5, 3) * 2 + 1
    Cs, Ct = np.cov(S, rowvar=False), np.cov(T, rowvar=False)   # over samples, 1/(n-1)
    want = ((Cs - Ct) ** 2).sum() / (4 * 3 ** 2)
    got = deep.coral_loss(torch.tensor(S), torch.tensor(T)).item()
    assert got == pytest.approx(want, rel=1e-12)


def test_coral_centres_over_samples_not_features():
    """Regression of the original toolkit's defect (Coral.py centred with
    torch.mean(source, 1), i.e. over features, no 1/(n-1), /(16 d^3))."""
    rng = np.random.RandomState(4)
    S = rng.randn(8, 4) + np.array([5.0, -3.0, 0.0, 2.0])   # means differ per feature
    T = rng.randn(8, 4)
    got = deep.coral_loss(torch.tensor(S), torch.tensor(T)).item()
    # a shift of every sample leaves the (sample) covariance, hence the loss, unchanged
    moved = deep.coral_loss(torch.tensor(S + 10.0), torch.tensor(T - 4.0)).item()
    assert moved == pytest.approx(got, rel=1e-10)

    def original(A, B):
        def cov(X):
            Xc = X - X.mean(1, keepdims=True)
            return Xc.T @ Xc
        return ((cov(A) - cov(B)) ** 2).mean() / (4 * A.shape[1])
    assert not np.isclose(original(S, T), got)
    want = ((np.cov(S, rowvar=False) - np.cov(T, rowvar=False)) ** 2).sum() / (4 * 16)
    assert got == pytest.approx(want, rel=1e-12)


# -- gradient reversal and schedules ---------------------------------------------------
@pytest.mark.parametrize("lam", [0.0, 0.3, 1.0, 2.5])
def test_gradient_reversal_sign(lam):
    w = torch.tensor([1.5, -2.0, 0.5], dtype=torch.float64)
    x1 = torch.tensor([0.2, 0.4, -1.0], dtype=torch.float64, requires_grad=True)
    x2 = x1.detach().clone().requires_grad_(True)
    ((x1 * w).sin().sum()).backward()
    out = deep.grad_reverse(x2, lam)
    assert torch.equal(out, x2)                      # identity forward
    ((out * w).sin().sum()).backward()
    np.testing.assert_allclose(x2.grad.numpy(), -lam * x1.grad.numpy(), rtol=1e-12)


def test_schedules():
    assert deep.dann_lambda(0.0) == 0.0
    assert deep.dann_lambda(1.0) == pytest.approx(2 / (1 + math.exp(-10)) - 1)
    assert deep.dann_lambda(0.5) == pytest.approx(2 / (1 + math.exp(-5)) - 1)
    assert deep.annealed_lr(0.01, 0.0) == 0.01
    assert deep.annealed_lr(0.01, 1.0) == pytest.approx(0.01 / 11 ** 0.75)


# -- batches, sparse input ------------------------------------------------------------
def test_sparse_batch_equals_dense_computation():
    rng = np.random.RandomState(5)
    X = sp.random(30, 50, density=0.1, format="csr", random_state=rng)
    rows = np.array([3, 7, 0, 29, 12])
    Bs = deep.batch_tensor(X, rows, sparse=True)
    Bd = deep.batch_tensor(X, rows, sparse=False)
    assert Bs.is_sparse and not Bd.is_sparse
    np.testing.assert_array_equal(Bs.to_dense().numpy(), X[rows].toarray().astype(np.float32))
    torch.manual_seed(0)
    net = deep.MLP(50, (6, 4))
    out_s = net(Bs)
    gs = torch.autograd.grad(out_s.sum(), net.layers[0].weight)[0]
    out_d = net(Bd)
    gd = torch.autograd.grad(out_d.sum(), net.layers[0].weight)[0]
    np.testing.assert_allclose(out_s.detach().numpy(), out_d.detach().numpy(), rtol=1e-5,
                               atol=1e-6)
    np.testing.assert_allclose(gs.numpy(), gd.numpy(), rtol=1e-5, atol=1e-6)


def test_batch_stream_visits_every_row_each_epoch():
    g = deep.make_generator(0)
    s = deep._BatchStream(10, 5, g)
    seen = np.concatenate([s.next(), s.next()])
    assert sorted(seen) == list(range(10))


# -- the training loop ------------------------------------------------------------------
def _net(d, k, seed=0):
    torch.manual_seed(seed)
    return deep.TransferNet(deep.MLP(d, (16,)), 16, k)


def test_loss_decreases_on_tiny_data():
    Xs, ys, Xt, _ = make_domains(n_features=8)
    net = _net(8, 2)
    hist = deep.train_network(net, Xs, ys, Xt, n_iter=150, batch_size=16, lr=0.05,
                              generator=deep.make_generator(0))
    first = np.mean([h["loss"] for h in hist[:15]])
    last = np.mean([h["loss"] for h in hist[-15:]])
    assert last < 0.6 * first


def test_training_is_deterministic_under_a_seed_and_reports_progress():
    Xs, ys, Xt, _ = make_domains()
    calls = []

    def run(seed):
        with deep.seeded(seed):
            net = _net(8, 2, seed)
            deep.train_network(net, sp.csr_matrix(Xs), ys, sp.csr_matrix(Xt), n_iter=20,
                               batch_size=8, lr=0.05, generator=deep.make_generator(seed),
                               transfer_loss=lambda fs, ls, ft, lt, p: deep.coral_loss(fs, ft),
                               progress=lambda i, n, info: calls.append((i, n)))
        return [p.detach().clone() for p in net.parameters()]

    a, b, c = run(0), run(0), run(1)
    assert all(torch.equal(x, y) for x, y in zip(a, b))
    assert not all(torch.equal(x, y) for x, y in zip(a, c))
    assert calls[:2] == [(1, 20), (2, 20)] and calls[19] == (20, 20)


def test_a_domain_classifier_that_cannot_move_is_reported():
    """The original RevGrad never stepped its domain classifier: here a frozen
    adversary (and a transfer loss that never changes) each give a warning."""
    import warnings

    from tltk_core.baselines import SuspiciousResultWarning

    Xs, ys, Xt, _ = make_domains(n_features=8)
    head = torch.nn.Linear(16, 1)
    for p in head.parameters():
        p.requires_grad_(False)

    def domain_loss(fs, ls, ft, lt, p):
        d = head(deep.grad_reverse(torch.cat([fs, ft]), 1.0)).squeeze(1)
        target = torch.cat([torch.ones(len(fs)), torch.zeros(len(ft))])
        return torch.nn.functional.binary_cross_entropy_with_logits(d, target)

    with pytest.warns(SuspiciousResultWarning, match="domain classifier's parameters never"):
        deep.train_network(_net(8, 2), Xs, ys, Xt, n_iter=5, batch_size=8, lr=0.05,
                           transfer_loss=domain_loss, extra_modules=(head,),
                           generator=deep.make_generator(0))
    with pytest.warns(SuspiciousResultWarning, match="transfer loss stayed at 0.5"):
        deep.train_network(_net(8, 2), Xs, ys, Xt, n_iter=5, batch_size=8, lr=0.05,
                           transfer_loss=lambda fs, ls, ft, lt, p: torch.tensor(0.5),
                           generator=deep.make_generator(0))
    trainable = torch.nn.Linear(16, 1)

    def moving(fs, ls, ft, lt, p):
        d = trainable(deep.grad_reverse(torch.cat([fs, ft]), 1.0)).squeeze(1)
        target = torch.cat([torch.ones(len(fs)), torch.zeros(len(ft))])
        return torch.nn.functional.binary_cross_entropy_with_logits(d, target)

    with warnings.catch_warnings():
        warnings.simplefilter("error", SuspiciousResultWarning)
        deep.train_network(_net(8, 2), Xs, ys, Xt, n_iter=5, batch_size=8, lr=0.05,
                           transfer_loss=moving, extra_modules=(trainable,),
                           generator=deep.make_generator(0))


# -- gradient-norm clipping and the divergence guard ------------------------------------
def _coral_on_logits(fs, ls, ft, lt, p):
    return deep.coral_loss(ls, lt)


def _params_finite(net):
    return all(bool(torch.isfinite(q).all()) for q in net.parameters())


def test_huge_inputs_diverge_unclipped_and_train_clipped():
    """Deep CORAL on raw amazon-reviews counts overflowed at lr 0.01 (the CORAL
    term grows with the fourth power of the logits' scale). The same on tiny data:
    features scaled to ~500. Unclipped: one clear error, raised before the step
    (the network is left finite). Clipped: the run finishes with finite weights."""
    Xs, ys, Xt, _ = make_domains(n_features=8)
    Xs, Xt = Xs * 30.0, Xt * 30.0
    kw = dict(n_iter=60, batch_size=16, lr=0.05, transfer_loss=_coral_on_logits)
    net = _net(8, 2)
    with pytest.raises(FloatingPointError, match=r"diverged at iteration \d+ .*max_grad_norm"):
        deep.train_network(net, Xs, ys, Xt, generator=deep.make_generator(0), **kw)
    assert _params_finite(net)
    net = _net(8, 2)
    hist = deep.train_network(net, Xs, ys, Xt, generator=deep.make_generator(0),
                              max_grad_norm=10.0, **kw)
    assert len(hist) == 60 and _params_finite(net)
    assert all(math.isfinite(h["loss"]) for h in hist)
    assert max(h["grad_norm"] for h in hist) > 10.0        # clipping was needed
    assert np.isfinite(deep.predict_network(net, Xt)).all()


def test_clipping_leaves_a_normal_run_unchanged():
    """A run whose gradient norm stays under the threshold is bit-identical with
    and without clipping (the default must not alter ordinary training)."""
    Xs, ys, Xt, _ = make_domains(n_features=8)

    def run(max_grad_norm):
        net = _net(8, 2)
        h = deep.train_network(net, Xs, ys, Xt, n_iter=40, batch_size=16, lr=0.05,
                               transfer_loss=_coral_on_logits, max_grad_norm=max_grad_norm,
                               generator=deep.make_generator(0))
        return h, [q.detach().clone() for q in net.parameters()]

    h0, p0 = run(None)
    assert max(h["grad_norm"] for h in h0) < 10.0
    h1, p1 = run(10.0)
    assert all(torch.equal(a, b) for a, b in zip(p0, p1))
    assert [h["loss"] for h in h0] == [h["loss"] for h in h1]


def test_a_clipped_step_moves_the_weights_by_lr_times_the_threshold():
    """Plain SGD (no momentum, decay or annealing): one step with a gradient of
    norm g > c changes the parameters by exactly lr·c (the gradient rescaled to
    norm c), and the recorded grad_norm is g, the norm before clipping."""
    X = np.array([[50.0, -20.0], [-30.0, 40.0], [10.0, 60.0], [-70.0, 5.0]])
    y = np.array([0, 1, 0, 1])
    torch.manual_seed(0)
    net = deep.TransferNet(deep.MLP(2, (4,)), 4, 2)
    before = torch.cat([q.detach().flatten().clone() for q in net.parameters()])
    ref = deep.TransferNet(deep.MLP(2, (4,)), 4, 2)
    ref.load_state_dict(net.state_dict())
    loss = torch.nn.functional.cross_entropy(ref(torch.tensor(X, dtype=torch.float32))[1],
                                             torch.tensor(y))
    g = torch.cat([q.flatten() for q in torch.autograd.grad(loss, list(ref.parameters()))])
    assert g.norm() > 1.0
    h = deep.train_network(net, X, y, X, n_iter=1, batch_size=4, lr=0.1, momentum=0.0,
                           weight_decay=0.0, anneal_lr=False, max_grad_norm=1.0,
                           generator=deep.make_generator(0))
    after = torch.cat([q.detach().flatten() for q in net.parameters()])
    assert h[0]["grad_norm"] == pytest.approx(float(g.norm()), rel=1e-4)
    np.testing.assert_allclose((before - after).numpy(), (0.1 * g / g.norm()).numpy(),
                               rtol=1e-3, atol=1e-6)


def test_deep_methods_clip_by_default_and_check_the_threshold():
    Xs, ys, Xt, _ = make_domains()
    Xs, Xt = Xs * 30.0, Xt * 30.0
    assert deep.DeepTransferMethod.max_grad_norm == 10.0
    m = _Coral(random_state=0, lr=0.05).fit(Xs, ys, Xt)      # finite under the default
    assert np.isfinite(m.predict_proba(Xt)).all()
    off = _Coral(random_state=0, lr=0.05)
    off.max_grad_norm = None
    with pytest.raises(FloatingPointError, match="diverged"):
        off.fit(Xs, ys, Xt)
    base = off.baseline_estimator().fit(Xs, ys)              # the override reaches the baseline
    assert base.estimator_.max_grad_norm is None
    for bad in (0.0, -1.0, "10"):
        m = _Coral()
        m.max_grad_norm = bad
        with pytest.raises(InputError, match="max_grad_norm"):
            m.fit(Xs, ys, Xt)
        with pytest.raises(InputError, match="max_grad_norm"):
            deep.train_network(_net(8, 2), Xs, ys, Xt, n_iter=1, batch_size=8, lr=0.1,
                               max_grad_norm=bad)


def test_seeded_restores_the_global_rng():
    torch.manual_seed(123)
    expected = torch.rand(3)
    torch.manual_seed(123)
    with deep.seeded(7):
        torch.rand(10)
    assert torch.equal(torch.rand(3), expected)


def test_choose_device():
    assert deep.choose_device("cpu").type == "cpu"
    assert deep.choose_device("auto").type in ("cpu", "cuda")
    with pytest.raises(InputError, match="device"):
        deep.choose_device("nonsense")


# -- the base class and the source-only baseline --------------------------------------------
class _Coral(deep.DeepTransferMethod):
    info = MethodInfo(name="tiny-coral", family="deep", sparse=True, summary="test",
                      reference="@misc{x}")
    _trade_off_name = "weight"

    def __init__(self, weight=1.0, backbone=None, hidden=(8,), dropout=0.0, n_epochs=3,
                 batch_size=16, lr=0.05, device="cpu", random_state=None, progress=None):
        self.weight = weight
        self.backbone = backbone
        self.hidden = hidden
        self.dropout = dropout
        self.n_epochs = n_epochs
        self.batch_size = batch_size
        self.lr = lr
        self.device = device
        self.random_state = random_state
        self.progress = progress

    def _transfer(self, net, width, n_classes, trade_off):
        return (lambda fs, ls, ft, lt, p: trade_off * deep.coral_loss(ls, lt)), ()


def test_base_class_fit_predict_and_baseline_is_the_same_network_without_transfer():
    Xs, ys, Xt, yt = make_domains()
    m = _Coral(random_state=0).fit(Xs, ys, Xt)
    assert m.predict_proba(Xt).shape == (60, 2)
    assert m.transform(Xt).shape == (60, 8)
    assert any(h["transfer"] > 0 for h in m.history_)
    base = m.baseline_estimator()
    assert isinstance(base, deep.SourceOnlyNetwork)
    base.fit(Xs, ys)
    assert base.estimator_.weight == 0.0
    assert all(h["transfer"] == 0.0 for h in base.estimator_.history_)
    assert base.estimator_.n_iter_ == m.n_iter_
    direct = _Coral(weight=0.0, random_state=0).fit(Xs, ys, Xt)
    np.testing.assert_array_equal(base.predict(Xt), direct.predict(Xt))


def test_user_backbone_is_used_and_not_modified():
    Xs, ys, Xt, _ = make_domains()
    torch.manual_seed(0)
    bb = torch.nn.Sequential(torch.nn.Linear(8, 5), torch.nn.Tanh())
    before = [p.detach().clone() for p in bb.parameters()]
    m = _Coral(backbone=bb, random_state=0).fit(sp.csr_matrix(Xs), ys, sp.csr_matrix(Xt))
    assert m.transform(Xt).shape == (60, 5)
    assert all(torch.equal(a, b) for a, b in zip(before, bb.parameters()))


def test_validate_trade_off_scores_each_value_on_held_out_source(monkeypatch):
    """The DAN paper's rule for the trade-off: per grid value, one network on the
    non-held-out source rows; score = its error on the held-out source rows +
    1 − 2 × the two-sample error between those rows and the target, both in the
    network's representation; the lowest score wins."""
    import tltk_core.selection as S

    Xs, ys, Xt, _ = make_domains(n_source=50)
    seen = []
    real = S.two_sample_error

    def spy(Zs, Zt, **kw):
        seen.append((Zs.shape, Zt.shape))
        return real(Zs, Zt, **kw)

    monkeypatch.setattr(S, "two_sample_error", spy)
    method = _Coral(random_state=0)
    best, rows = deep.validate_trade_off(method, sp.csr_matrix(Xs), ys, sp.csr_matrix(Xt),
                                         (0.0, 2.0), holdout=0.2, random_state=0)
    assert seen == [((10, 8), (60, 8))] * 2       # 20 % of 50 rows; the whole target
    assert method.weight == 1.0 and not hasattr(method, "network_")   # untouched
    for r, w in zip(rows, (0.0, 2.0)):
        assert r["trade_off"] == w
        assert r["score"] == pytest.approx(r["source_error"] + 1 - 2 * r["two_sample_error"])
    assert best == min(rows, key=lambda r: r["score"])["trade_off"]
    # the weight-0 row is the source-only network on the same 40 rows: its error by hand
    from sklearn.model_selection import train_test_split

    tr, va = train_test_split(np.arange(50), test_size=10, stratify=ys, random_state=0)
    net = _Coral(weight=0.0, random_state=0).fit(Xs[tr], ys[tr], Xt)
    assert rows[0]["source_error"] == np.mean(net.predict(Xs[va]) != ys[va])
    with pytest.raises(InputError, match="weight='auto'"):
        deep.validate_trade_off(method, Xs[:3], ys[:3], Xt, (1.0,))


@pytest.mark.parametrize("params,name", [
    ({"backbone": "mlp"}, "backbone"), ({"hidden": (8, 0)}, "hidden"),
    ({"hidden": "wide"}, "hidden"), ({"n_epochs": 0}, "n_epochs"), ({"lr": 0.0}, "lr"),
    ({"batch_size": 1}, "batch_size"), ({"weight": -1.0}, "weight"),
    ({"device": "gpu9"}, "device"), ({"progress": 3}, "progress"),
    ({"dropout": 1.0}, "dropout"), ({"random_state": "x"}, "random_state")])
def test_bad_hyperparameters_name_themselves(params, name):
    Xs, ys, Xt, _ = make_domains()
    with pytest.raises(InputError, match=name):
        _Coral(**params).fit(Xs, ys, Xt)


def test_cli_progress_line_follows_a_deep_fit_and_survives_the_baseline_clone():
    """tltk run passes a progress callback; the source-only baseline clones the
    method, so the callback must be copyable (a plain function, not a bound
    method of the thread-holding progress line)."""
    import io

    from tltk_core.cli import Progress
    from tltk_core.evaluate import run
    from tltk_core.registry import get_registry

    if "dann" not in {e.name for e in get_registry().entries() if e.status == "ok"}:
        pytest.skip("needs the dann plugin")
    from tltk_core.data import bundled_task

    out = io.StringIO()
    with Progress("dann", stream=out, delay=0.0, interval=0.01) as p:
        def report(i, n, info=None):
            p.step(i, n)

        r = run("dann", bundled_task(), {"progress": report, "n_epochs": 1, "hidden": (8,)},
                strong_baseline=False)
    # the callback saw every iteration of the last fit (958 rows / 32 per batch = 30);
    # what the ticker drew depends on timing and is tested in test_cli
    assert r["baseline_accuracy"] is not None
    assert (p.done, p.total) == (30, 30)
