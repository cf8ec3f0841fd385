"""Shared PyTorch support for the deep transfer methods (DANN, Deep CORAL, DAN, SDA).

This module imports torch at module level, so only the implementation modules
of deep plugins import it (lazily, inside ``fit``); ``tltk_core/__init__.py``
and the listing path never do.

What it holds, each written once:

- :func:`choose_device` (``"auto"`` → CUDA when available, else CPU) and
  :func:`seeded` / :func:`make_generator` for reproducible CPU runs;
- :func:`batch_tensor`: one batch of rows of a dense array or a CSR matrix as
  a torch tensor. CSR batches become a torch *sparse* COO tensor; the whole
  matrix is never densified. :class:`MLP` (the default backbone) multiplies a
  sparse batch into its first layer with :func:`torch.sparse.mm` (or, for a
  training batch smaller than the first weight matrix, densifies that one
  batch, which is faster and costs no more memory than the weight); a user
  backbone that does not declare ``accepts_sparse = True`` gets the batch (one
  batch only) densified;
- :class:`MLP`, the default backbone sized from the input (d → hidden → …);
- :class:`GradientReversal` / :func:`grad_reverse` (Ganin & Lempitsky 2015);
- :func:`mk_mmd` (multi-kernel Gaussian MMD of Long et al. 2015, biased or
  linear-time estimate) and :func:`coral_loss` (Sun & Saenko 2016);
- :func:`dann_lambda` (2/(1+exp(−10p)) − 1) and :func:`annealed_lr`
  (lr0 / (1+10p)^0.75);
- :func:`train_network`: the one training loop (one optimiser, a fixed number
  of iterations, no early stopping, optional gradient-norm clipping, an error
  before any non-finite step, optional progress callback), which takes a
  *transfer loss* callable so that the methods differ only there;
- :class:`DeepTransferMethod`, the base class of the deep plugins, and
  :class:`SourceOnlyNetwork`, the no-transfer baseline: the same network and
  schedule with the transfer loss switched off.
"""
from __future__ import annotations

import copy
import math
import sys
import time

import numpy as np
import scipy.sparse as sp
import torch
from torch import nn
from torch.nn import functional as F

from .errors import InputError
from .method import TransferMethod, check_param, check_widths

__all__ = [
    "choose_device", "make_generator", "seeded", "batch_tensor", "MLP", "GradientReversal",
    "grad_reverse", "mk_mmd", "quadruple_kernels", "linear_mmd_value", "linear_mmd_h",
    "optimal_kernel_weights", "gaussian_bandwidths", "coral_loss", "dann_lambda",
    "annealed_lr", "train_network", "predict_network", "TransferNet", "DeepTransferMethod",
    "SourceOnlyNetwork", "text_progress", "validate_trade_off",
]


# -- device and seeding ---------------------------------------------------------
def choose_device(device="auto"):
    """The torch device to use: ``"auto"`` → CUDA when available, else CPU."""
    if device is None or device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        dev = torch.device(device)
    except (RuntimeError, TypeError) as exc:
        raise InputError(f"device must be 'auto', 'cpu', 'cuda' or 'cuda:N'; got {device!r}") \
            from exc
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise InputError(f"device {device!r} asked for CUDA, which this torch cannot use")
    return dev


def make_generator(random_state):
    """A CPU ``torch.Generator`` for batch order: seeded from ``random_state``
    (an int), or from fresh entropy when it is None."""
    g = torch.Generator()
    if random_state is None:
        g.seed()
    else:
        g.manual_seed(int(random_state))
    return g


class seeded:
    """Context manager: torch's global RNG (weights, dropout) seeded from
    ``random_state`` inside, and the caller's RNG state restored on exit.
    ``None`` leaves the RNG alone (a fresh random run)."""

    def __init__(self, random_state):
        self.random_state = random_state
        self._fork = None

    def __enter__(self):
        if self.random_state is not None:
            self._fork = torch.random.fork_rng(devices=[])
            self._fork.__enter__()
            torch.manual_seed(int(self.random_state))
        return self

    def __exit__(self, *exc):
        if self._fork is not None:
            return self._fork.__exit__(*exc)
        return False


# -- batches --------------------------------------------------------------------
def batch_tensor(X, rows=None, device="cpu", sparse=True):
    """Rows ``rows`` (all when None) of ``X`` as a float32 torch tensor.

    A CSR ``X`` gives a sparse COO tensor when ``sparse`` is True (only the
    batch's nonzeros are copied), else that one batch densified. Dense input
    stays dense.
    """
    if sp.issparse(X):
        B = X if rows is None else X[rows]
        if not sparse:
            return torch.from_numpy(B.toarray().astype(np.float32, copy=False)).to(device)
        canonical = bool(B.has_canonical_format)   # sorted, no duplicates: already coalesced
        B = B.tocoo()
        idx = torch.from_numpy(np.vstack([B.row, B.col]).astype(np.int64))
        val = torch.from_numpy(B.data.astype(np.float32))
        T = torch.sparse_coo_tensor(idx, val, B.shape, device=device, check_invariants=False,
                                    is_coalesced=canonical)
        return T if canonical else T.coalesce()
    B = np.asarray(X if rows is None else X[rows], dtype=np.float32)
    return torch.from_numpy(np.ascontiguousarray(B)).to(device)


def _stack_batches(A, B):
    """Rows of ``A`` then ``B`` (both dense or both CSR)."""
    if sp.issparse(A):
        return sp.vstack([A, B], format="csr")
    return np.vstack([A, B])


# -- networks ---------------------------------------------------------------------
_ACTIVATIONS = {"relu": nn.ReLU, "sigmoid": nn.Sigmoid, "tanh": nn.Tanh}


class MLP(nn.Module):
    """A fully connected feature extractor d → h1 → … → hk (the last hidden
    layer is the learnt representation).

    Each layer is Linear → activation → Dropout. A torch sparse input is
    multiplied into the first layer with :func:`torch.sparse.mm`, so that a
    large sparse batch is never densified; a batch with no more entries than
    the first weight matrix is densified (faster, and no more memory).
    """

    accepts_sparse = True

    def __init__(self, n_features, hidden=(256, 256), activation="relu", dropout=0.0):
        super().__init__()
        if activation not in _ACTIVATIONS:
            raise InputError(f"activation must be one of {', '.join(map(repr, _ACTIVATIONS))};"
                             f" got {activation!r}")
        sizes = [int(n_features), *[int(h) for h in hidden]]
        self.layers = nn.ModuleList(nn.Linear(a, b) for a, b in zip(sizes[:-1], sizes[1:]))
        self.activation = _ACTIVATIONS[activation]()
        self.dropout = nn.Dropout(dropout) if dropout > 0 else nn.Identity()
        self.out_features = sizes[-1]
        self.hidden_outputs = []

    def forward(self, x):
        """The last hidden layer's output; every hidden layer's output (before
        dropout) is kept in ``hidden_outputs`` for losses on several layers (DAN)."""
        outs = []
        for i, layer in enumerate(self.layers):
            if i == 0 and x.is_sparse:
                if x.shape[0] * x.shape[1] <= layer.weight.numel():
                    # a training batch no larger than the weight itself: densifying
                    # it costs no more memory than the weight, and the dense
                    # product's backward is several times faster on CPU than
                    # torch.sparse.mm's (which builds the weight gradient sparse)
                    x = layer(x.to_dense())
                else:
                    x = torch.sparse.mm(x, layer.weight.t()) + layer.bias
            else:
                x = layer(x)
            x = self.activation(x)
            outs.append(x)
            x = self.dropout(x)
        self.hidden_outputs = outs
        return x


class TransferNet(nn.Module):
    """Backbone (features) followed by a linear classifier (logits).

    ``forward`` returns ``(features, logits)``: the features are the adapted
    representation, the logits the classifier layer.
    """

    def __init__(self, backbone, n_features_out, n_classes):
        super().__init__()
        self.backbone = backbone
        self.classifier = nn.Linear(n_features_out, n_classes)

    @property
    def accepts_sparse(self):
        return bool(getattr(self.backbone, "accepts_sparse", False))

    def forward(self, x):
        f = self.backbone(x)
        return f, self.classifier(f)


def _output_size(backbone, n_features, device):
    """Width of ``backbone``'s output, from one forward pass on two zero rows."""
    was_training = backbone.training
    backbone.eval()
    with torch.no_grad():
        out = backbone(torch.zeros(2, n_features, device=device))
    backbone.train(was_training)
    if out.dim() != 2 or out.shape[0] != 2:
        raise InputError(f"backbone must map (n, {n_features}) inputs to (n, k) features; "
                         f"it returned shape {tuple(out.shape)}")
    return int(out.shape[1])


# -- gradient reversal ----------------------------------------------------------------
class GradientReversal(torch.autograd.Function):
    """Identity forward; multiplies the gradient by ``-lambda`` backward
    (Ganin & Lempitsky, ICML 2015)."""

    @staticmethod
    def forward(ctx, x, lambd):
        ctx.lambd = float(lambd)
        return x.view_as(x)

    @staticmethod
    def backward(ctx, grad_output):
        return -ctx.lambd * grad_output, None


def grad_reverse(x, lambd=1.0):
    """``x`` unchanged forward, gradient × (−``lambd``) backward."""
    return GradientReversal.apply(x, lambd)


# -- discrepancies ------------------------------------------------------------------------
def gaussian_bandwidths(sq_dists, multipliers):
    """Bandwidths γ_u = m_u · γ of Gaussian kernels exp(−‖x−y‖²/γ_u), where γ
    is the mean pairwise squared distance of the pooled batch (no gradient
    flows through it)."""
    n = sq_dists.shape[0]
    base = sq_dists.detach().sum() / max(n * n - n, 1)
    base = torch.clamp(base, min=1e-12)
    return [base * float(m) for m in multipliers]


#: DAN's kernel family (Long et al. 2015, section 4): bandwidths from 2^-8 γ to
#: 2^8 γ with a multiplicative step of 2^(1/2).
DAN_MULTIPLIERS = tuple(2.0 ** (k / 2.0) for k in range(-16, 17))


def mk_mmd(Xs, Xt, multipliers=DAN_MULTIPLIERS, estimator="linear", weights=None):
    """Multi-kernel MMD² between samples ``Xs`` and ``Xt`` (torch tensors).

    The kernel is k = Σ_u β_u exp(−‖x−y‖²/γ_u) with γ_u = multiplier_u × the
    mean pairwise squared distance of the pooled batch, β uniform unless
    ``weights`` is given. ``estimator="biased"`` is the quadratic V-statistic
    mean(Kss) + mean(Ktt) − 2 mean(Kst); ``"linear"`` is the unbiased
    linear-time estimate that DAN uses (Gretton et al. 2012; Long et al. 2015,
    eq. 5): the mean over disjoint quadruples (s_{2i-1}, s_{2i}, t_{2i-1}, t_{2i})
    of k(s,s') + k(t,t') − k(s,t') − k(s',t).
    """
    if estimator not in ("linear", "biased"):
        raise InputError(f"estimator must be 'linear' or 'biased'; got {estimator!r}")
    m = len(multipliers)
    w = [1.0 / m] * m if weights is None else [float(v) for v in weights]
    if estimator == "linear":
        return linear_mmd_value(quadruple_kernels(Xs, Xt, multipliers), w)
    D, inv_g = _pooled_sq_dists(Xs, Xt, multipliers)
    ns = Xs.shape[0]
    w_t = torch.tensor(w, dtype=D.dtype, device=D.device)
    K = torch.exp(-D.unsqueeze(-1) * inv_g) @ w_t
    return K[:ns, :ns].mean() + K[ns:, ns:].mean() - 2 * K[:ns, ns:].mean()


def _pooled_sq_dists(Xs, Xt, multipliers):
    """Squared distances between all rows of ``[Xs; Xt]`` and the inverse
    bandwidths 1/γ_u of the kernels (:func:`gaussian_bandwidths`), as a
    tensor so that all m kernels are one broadcast ``exp`` (a Python sum of m
    exps costs ~5m tiny autograd ops per call, which dominated DAN's step
    time)."""
    Z = torch.cat([Xs, Xt], 0)
    D = torch.cdist(Z, Z, compute_mode="donot_use_mm_for_euclid_dist").pow(2)
    return D, 1.0 / torch.stack(gaussian_bandwidths(D, multipliers)).to(D.dtype)


def quadruple_kernels(Xs, Xt, multipliers=DAN_MULTIPLIERS):
    """Per-kernel values on the disjoint quadruples of the linear-time MMD.

    Returns a tensor of shape (4, q, m), q = min(n_s, n_t) // 2 quadruples
    z_i = (s_{2i-1}, s_{2i}, t_{2i-1}, t_{2i}) and m kernels: along the first
    axis k_u(s,s'), k_u(t,t'), k_u(s,t'), k_u(s',t), with the Gaussian kernels
    of :func:`mk_mmd` (bandwidths from the pooled batch's mean pairwise squared
    distance). Gradients flow to ``Xs`` and ``Xt``. :func:`linear_mmd_value`
    turns it into the weighted estimate, :func:`linear_mmd_h` into the
    per-kernel h-statistics that the kernel-weight QP needs — one kernel
    evaluation serves both.
    """
    ns = Xs.shape[0]
    n = min(ns, Xt.shape[0]) // 2 * 2
    if n < 2:
        raise InputError("the linear-time MMD needs at least two samples of each domain")
    D, inv_g = _pooled_sq_dists(Xs, Xt, multipliers)
    i = torch.arange(0, n, 2)
    s1, s2, t1, t2 = i, i + 1, ns + i, ns + i + 1
    d = torch.stack([D[s1, s2], D[t1, t2], D[s1, t2], D[s2, t1]])
    return torch.exp(-d.unsqueeze(-1) * inv_g)


def linear_mmd_value(K4, weights):
    """The linear-time MK-MMD² estimate (Gretton et al. 2012; Long et al. 2015,
    eq. 5) from :func:`quadruple_kernels` output ``K4`` and kernel weights β
    (a sequence or a tensor): mean over quadruples of Σ_u β_u h_u(z_i)."""
    w_t = torch.as_tensor(weights, dtype=K4.dtype, device=K4.device)
    k = K4 @ w_t
    return (k[0] + k[1] - k[2] - k[3]).mean()


def linear_mmd_h(K4):
    """Per-quadruple, per-kernel h-statistics h_u(z_i) = k_u(s,s') + k_u(t,t')
    − k_u(s,t') − k_u(s',t), shape (q, m), from :func:`quadruple_kernels`.
    Their mean over i is the linear-time MMD² of kernel u (d_u); their
    covariance over i is Q of the kernel-weight QP (:func:`optimal_kernel_weights`)."""
    return K4[0] + K4[1] - K4[2] - K4[3]


def optimal_kernel_weights(d, Q, eps=1e-3):
    """Kernel weights β that maximise the test power of the linear-time MK-MMD.

    Gretton et al. (NIPS 2012, "Optimal kernel choice for large-scale
    two-sample tests"), as used by DAN (Long et al. 2015, eq. 7): solve
    min_β β^T (Q + εI) β subject to d^T β = 1, β ≥ 0, where d_u is the
    linear-time MMD² estimate of kernel u and Q the covariance of the
    h-statistics across kernels, then rescale β to sum 1. Maximising
    d^T β / sqrt(β^T Q β) (the test power ratio) over β ≥ 0 is this QP up to
    the scale of β. ``d`` and ``Q`` are numpy arrays (m,) and (m, m).

    Returns the weights (numpy, ≥ 0, sum 1), or None when no entry of d is
    positive: then the constraint d^T β = 1 is infeasible (no kernel sees the
    domains apart) and the caller keeps a fixed choice (DAN: uniform).
    The QP (m ≈ 33 variables) is solved by SLSQP (scipy) on the objective
    scaled to unit diagonal maximum, which does not move its minimiser, from
    the feasible start β ∝ max(d, 0).
    """
    from scipy.optimize import minimize

    d = np.asarray(d, dtype=np.float64).ravel()
    Q = np.asarray(Q, dtype=np.float64)
    m = d.shape[0]
    if Q.shape != (m, m):
        raise InputError(f"Q must be ({m}, {m}) for {m} kernels; got shape {Q.shape}")
    if not (np.all(np.isfinite(d)) and np.all(np.isfinite(Q))):
        raise InputError("d and Q must be finite")
    if not np.any(d > 0):
        return None
    A = (Q + Q.T) / 2 + float(eps) * np.eye(m)
    A = A / max(float(np.max(np.abs(np.diag(A)))), 1e-300)
    c = float(np.max(d))
    dn = d / c                           # constraint dn^T b = 1 with b = c β: same direction
    b0 = np.maximum(dn, 0.0)
    b0 = b0 / (dn @ b0)
    res = minimize(lambda b: b @ A @ b, b0, jac=lambda b: 2.0 * (A @ b), method="SLSQP",
                   bounds=[(0.0, None)] * m,
                   constraints=[{"type": "eq", "fun": lambda b: dn @ b - 1.0,
                                 "jac": lambda b: dn}],
                   options={"ftol": 1e-14, "maxiter": 500})
    b = np.maximum(res.x if np.all(np.isfinite(res.x)) else b0, 0.0)
    if b @ A @ b > b0 @ A @ b0 or not b.sum() > 0:   # never worse than the start
        b = b0
    return b / b.sum()


def coral_loss(Hs, Ht):
    """CORAL loss ‖C_s − C_t‖²_F / (4 d²) (Sun & Saenko, ECCV-W 2016).

    C is the covariance of the rows (samples): centred over axis 0, divided by
    n − 1.
    """
    d = Hs.shape[1]

    def cov(H):
        Hc = H - H.mean(0, keepdim=True)
        return Hc.t() @ Hc / max(H.shape[0] - 1, 1)

    return (cov(Hs) - cov(Ht)).pow(2).sum() / (4.0 * d * d)


# -- schedules ------------------------------------------------------------------------
def dann_lambda(p, gamma=10.0):
    """Ganin & Lempitsky's adaptation factor 2/(1+exp(−γp)) − 1 at progress p∈[0,1]."""
    return 2.0 / (1.0 + math.exp(-gamma * p)) - 1.0


def annealed_lr(lr0, p, alpha=10.0, beta=0.75):
    """Ganin & Lempitsky's learning-rate annealing lr0 / (1 + αp)^β."""
    return lr0 / (1.0 + alpha * p) ** beta


# -- the training loop ----------------------------------------------------------------
def text_progress(stream=None, every=0.1):
    """A progress callable that writes ``iteration i/n  loss …`` lines (no tqdm),
    about every ``every`` of the run."""
    stream = stream or sys.stderr
    state = {"next": 0.0, "t0": time.perf_counter()}

    def report(i, n, info):
        if i / n + 1e-12 >= state["next"] or i == n:
            state["next"] = i / n + every
            extra = "  ".join(f"{k} {v:.4f}" for k, v in info.items())
            stream.write(f"iteration {i}/{n}  {extra}  "
                         f"({time.perf_counter() - state['t0']:.1f}s)\n")
            stream.flush()
    return report


class _BatchStream:
    """Endless mini-batches of row indices: a fresh permutation each epoch,
    drawn from ``generator``."""

    def __init__(self, n, batch_size, generator):
        self.n, self.b, self.g = n, min(batch_size, n), generator
        self.perm, self.pos = None, n

    def next(self):
        if self.pos + self.b > self.n:
            self.perm = torch.randperm(self.n, generator=self.g).numpy()
            self.pos = 0
        rows = self.perm[self.pos:self.pos + self.b]
        self.pos += self.b
        return rows


def _fused(params):
    """``{"fused": True}`` when every parameter is a dense float tensor on one
    CPU/CUDA device: the same SGD update in one kernel instead of several passes
    over each tensor (the update of a wide first layer on sparse text input
    dominated a step); ``{}`` otherwise."""
    devs = {p.device.type for p in params}
    ok = (params and len(devs) == 1 and devs <= {"cpu", "cuda"}
          and all(p.is_floating_point() and not p.is_sparse for p in params))
    return {"fused": True} if ok else {}


def train_network(net, Xs, ys, Xt, *, n_iter, batch_size, lr, transfer_loss=None,
                  extra_modules=(), optimizer="sgd", momentum=0.9, weight_decay=5e-4,
                  anneal_lr=True, generator=None, device="cpu", progress=None,
                  max_grad_norm=None):
    """Train ``net`` (a :class:`TransferNet`) for exactly ``n_iter`` iterations.

    Each iteration draws a source batch and a target batch of ``batch_size``
    rows together, forwards both, and minimises
    ``cross_entropy(source logits, ys) + transfer_loss(fs, ls, ft, lt, p)``
    where ``(f, l)`` are the features and logits of each domain and
    ``p = i / n_iter`` is the training progress. ``transfer_loss=None`` is
    source-only training (the target batch is not even forwarded).
    ``extra_modules`` (e.g. DANN's domain classifier) are optimised with the
    network by the one optimiser, created once: SGD with ``momentum`` or Adam,
    weight decay ``weight_decay``, learning rate ``lr`` annealed as
    lr/(1+10p)^0.75 when ``anneal_lr``. No early stopping and no model
    selection. ``progress(i, n_iter, info)`` is called after every iteration.

    ``max_grad_norm`` (None = off) rescales the gradient of all parameters
    together so that its Euclidean norm is at most that value before each
    step (gradient-norm clipping, Pascanu et al., ICML 2013): a step whose
    gradient explodes — e.g. the CORAL term, which grows with the fourth power
    of the activations' scale, on raw count features — moves the weights by a
    bounded amount instead of throwing them to inf. Steps with a smaller
    gradient are unchanged. A non-finite loss or gradient raises one
    :class:`FloatingPointError` *before* the step, naming the iteration.

    Returns the history: one dict per iteration with the ``loss``, the
    classification loss ``cls``, the ``transfer`` loss and ``grad_norm``, the
    gradient norm before clipping.

    A ``transfer_loss`` with an ``observe`` attribute (a callable) is shown
    that iteration's record after each step: ``observe(info)`` may return a
    dict, which is added to the record (e.g. Deep CORAL's ``coral_weight="auto"``
    keeps running means of the two losses this way and logs its weight). A
    transfer loss may thus adapt to the classification loss, which it does not
    see otherwise.
    """
    device = torch.device(device)
    net.to(device)
    for m in extra_modules:
        m.to(device)
    params = [p for m in (net, *extra_modules) for p in m.parameters() if p.requires_grad]
    if optimizer == "sgd":
        opt = torch.optim.SGD(params, lr=lr, momentum=momentum, weight_decay=weight_decay,
                              **_fused(params))
    elif optimizer == "adam":
        opt = torch.optim.Adam(params, lr=lr, weight_decay=weight_decay)
    else:
        raise InputError(f"optimizer must be 'sgd' or 'adam'; got {optimizer!r}")
    check_param(max_grad_norm, "max_grad_norm", kind=float, low=0.0, low_inclusive=False,
                allow_none=True)
    generator = generator if generator is not None else make_generator(None)
    src = _BatchStream(Xs.shape[0], batch_size, generator)
    tgt = _BatchStream(Xt.shape[0], batch_size, generator)
    ys_t = torch.as_tensor(np.asarray(ys), dtype=torch.long, device=device)
    sparse_ok = net.accepts_sparse
    net.train()
    for m in extra_modules:
        m.train()
    history = []
    observe = getattr(transfer_loss, "observe", None)
    before = [p.detach().clone() for m in extra_modules for p in m.parameters()]
    for it in range(n_iter):
        p = it / n_iter
        if anneal_lr:
            for group in opt.param_groups:
                group["lr"] = annealed_lr(lr, p)
        rs = src.next()
        if transfer_loss is None:
            xb = batch_tensor(Xs, rs, device, sparse_ok)
            fs, ls = net(xb)
            t_loss = None
        else:
            rt = tgt.next()
            xb = batch_tensor(_stack_batches(Xs[rs], Xt[rt]), None, device, sparse_ok)
            f, logits = net(xb)
            k = len(rs)
            fs, ls, ft, lt = f[:k], logits[:k], f[k:], logits[k:]
            t_loss = transfer_loss(fs, ls, ft, lt, p)
        c_loss = F.cross_entropy(ls, ys_t[torch.from_numpy(np.asarray(rs))])
        loss = c_loss if t_loss is None else c_loss + t_loss
        opt.zero_grad(set_to_none=True)
        loss.backward()
        grads = [q.grad for q in params if q.grad is not None]
        g_norm = torch.nn.utils.get_total_norm(grads, foreach=True) if grads \
            else torch.zeros(())
        info = {"loss": float(loss.detach()), "cls": float(c_loss.detach()),
                "transfer": 0.0 if t_loss is None else float(t_loss.detach()),
                "grad_norm": float(g_norm)}
        if not (math.isfinite(info["loss"]) and math.isfinite(info["grad_norm"])):
            raise FloatingPointError(
                f"training diverged at iteration {it} (loss {info['loss']:g}, gradient norm "
                f"{info['grad_norm']:g}); lower lr, scale the inputs or set max_grad_norm")
        if max_grad_norm is not None and info["grad_norm"] > max_grad_norm:
            torch.nn.utils.clip_grads_with_norm_(params, max_grad_norm, g_norm, foreach=True)
        opt.step()
        if observe is not None:
            info.update(observe(info) or {})
        history.append(info)
        if progress is not None:
            progress(it + 1, n_iter, info)
    net.eval()
    _check_moved(extra_modules, before, history, transfer_loss is not None)
    return history


def _check_moved(extra_modules, before, history, adapting):
    """Warn when the adversary or the transfer loss never moved: a domain
    classifier that is not trained (the original RevGrad's defect) leaves the
    method a source-only network that reports itself as adapted."""
    import warnings

    from .baselines import SuspiciousResultWarning

    after = [p.detach() for m in extra_modules for p in m.parameters()]
    if before and all(torch.equal(a, b) for a, b in zip(before, after)):
        warnings.warn("the domain classifier's parameters never changed during training: "
                      "its loss cannot move, so the method did not adapt (are they frozen, "
                      "or left out of the optimiser?)", SuspiciousResultWarning, stacklevel=3)
    if adapting and len(history) > 1:
        values = {h["transfer"] for h in history}
        if len(values) == 1:
            warnings.warn(f"the transfer loss stayed at {values.pop():g} for the whole "
                          "training: it cannot move, so the method did not adapt",
                          SuspiciousResultWarning, stacklevel=3)


def predict_network(net, X, device="cpu", batch_size=1024, what="logits"):
    """``net``'s logits (or ``what="features"``) for all rows of ``X``, as a
    float64 numpy array, computed in batches without gradients."""
    net.eval()
    out = []
    with torch.no_grad():
        for start in range(0, X.shape[0], batch_size):
            xb = batch_tensor(X, slice(start, start + batch_size), device, net.accepts_sparse)
            f, logits = net(xb)
            out.append((f if what == "features" else logits).cpu().numpy())
    return np.vstack(out).astype(np.float64)


# -- choosing the trade-off without target labels -----------------------------------
def _with_trade_off(method, value, **params):
    """An unfitted copy of a deep method with its trade-off set to ``value``
    (and ``params``), keeping an instance's ``max_grad_norm`` override, which
    is not a constructor parameter."""
    from sklearn.base import clone

    est = clone(method).set_params(**{method._trade_off_name: value}, **params)
    if "max_grad_norm" in vars(method):
        est.max_grad_norm = method.max_grad_norm
    return est


def validate_trade_off(method, Xs, ys, Xt, grid, *, holdout=0.2, random_state=None,
                       progress=None):
    """Choose a deep method's trade-off on labelled source and unlabelled target rows.

    The rule of Long et al. (ICML 2015, DAN) for λ: on a validation set of
    source-labelled and target-unlabelled instances, assess jointly the error of
    the source classifier and that of a two-sample classifier. Here: a
    stratified ``holdout`` share of the source rows is set aside; for each value
    in ``grid`` a clone of ``method`` with that trade-off is fitted on the other
    source rows and all of ``Xt``; its score is

        source validation error + (1 − 2 ε₂ₛ),

    ε₂ₛ the balanced error of a two-sample classifier between the validation
    source rows and the target rows in the network's representation
    (:func:`tltk_core.selection.two_sample_error`); ``1 − 2ε₂ₛ`` is half the
    proxy A-distance, so the score mirrors the source-error + divergence terms
    of the bound of Ben-David et al. (NIPS 2006). The smallest score wins (ties: the
    earlier grid value). No target label is used.

    Returns ``(best, rows)``: the chosen value and one dict per grid value
    (``trade_off``, ``source_error``, ``two_sample_error``, ``score``).
    """
    from sklearn.model_selection import train_test_split

    from .selection import two_sample_error

    ys = np.asarray(ys)
    n = ys.shape[0]
    n_val = int(round(holdout * n))
    if n_val < 2 or n - n_val < 2:
        raise InputError(f"{method._trade_off_name}='auto' holds out {holdout:.0%} of the "
                         f"source for validation and needs at least 2 rows on each side; "
                         f"got {n} source rows")
    _, counts = np.unique(ys, return_counts=True)
    stratify = ys if counts.min() >= 2 and n_val >= len(counts) else None
    seed = 0 if random_state is None else int(random_state)
    train, val = train_test_split(np.arange(n), test_size=n_val, stratify=stratify,
                                  random_state=seed)
    rows = []
    for i, value in enumerate(grid):
        est = _with_trade_off(method, float(value), progress=None)
        est.fit(Xs[train], ys[train], Xt)
        err = float(np.mean(est.predict(Xs[val]) != ys[val]))
        e2s = two_sample_error(est.transform(Xs[val]), est.transform(Xt), random_state=seed)
        rows.append({"trade_off": float(value), "source_error": err,
                     "two_sample_error": e2s, "score": err + (1.0 - 2.0 * e2s)})
        if progress is not None:
            progress(i + 1, len(grid), dict(rows[-1]))
    best = min(range(len(rows)), key=lambda j: (rows[j]["score"], j))
    return rows[best]["trade_off"], rows


# -- the base class of the deep plugins -----------------------------------------------
class DeepTransferMethod(TransferMethod):
    """A :class:`TransferMethod` trained end to end by :func:`train_network`.

    Subclasses define ``__init__`` (with at least ``backbone, hidden, dropout,
    n_epochs, batch_size, lr, device, random_state, progress`` and the
    trade-off named by ``_trade_off_name``) and ``_transfer(net, n_features_out,
    n_classes, trade_off)`` returning ``(transfer_loss, extra_modules)``. With
    trade-off 0 the transfer loss is off: that is the source-only network used
    as the no-transfer baseline (:meth:`baseline_estimator`).
    """

    _trade_off_name = "trade_off"
    #: True when the trade-off may also be ``"auto"``, the method's own rule for
    #: it; the method sets ``_chosen_trade_off`` once it has chosen (until then
    #: the trade-off counts as 1, i.e. transfer on)
    _trade_off_auto = False
    optimizer = "sgd"
    momentum = 0.9
    weight_decay = 5e-4
    anneal_lr = True
    activation = "relu"
    #: gradient-norm clipping threshold of :func:`train_network` (None = off).
    #: 10 is about five times the median gradient norm of a normal run of the
    #: three deep defaults (office-caltech C:A: median 1.6–2.2, largest of
    #: 1800 steps 4.6–6.7, so such a run is not touched); it only bounds the
    #: rare exploding step — Deep CORAL on raw amazon-reviews counts, whose
    #: gradient norm jumps from ~2 to 1e5 before overflowing at lr 0.01.
    #: Pascanu et al. (ICML 2013) put the threshold at a small multiple of the
    #: average norm. The three papers (DANN, DAN, Deep CORAL) do not clip.
    max_grad_norm = 10.0

    def _settings(self):
        """The training settings after defaults are resolved (a subclass may
        fill ``None`` hyperparameters from a named parameter set)."""
        hidden = self.hidden
        return dict(hidden=(hidden,) if isinstance(hidden, int) else tuple(hidden),
                    dropout=self.dropout, n_epochs=self.n_epochs, batch_size=self.batch_size,
                    lr=self.lr, optimizer=self.optimizer, momentum=self.momentum,
                    weight_decay=self.weight_decay, anneal_lr=self.anneal_lr,
                    activation=self.activation, max_grad_norm=self.max_grad_norm)

    def _check_params(self):
        if self.backbone is not None and not isinstance(self.backbone, nn.Module):
            raise InputError(f"backbone must be a torch.nn.Module or None; got {self.backbone!r}")
        if self.hidden is not None:  # None: the method's named architecture decides
            check_widths(self.hidden)
        s = self._settings()
        check_param(s["dropout"], "dropout", kind=float, low=0.0, high=0.99)
        check_param(s["n_epochs"], "n_epochs", kind=int, low=1)
        check_param(s["batch_size"], "batch_size", kind=int, low=2)
        check_param(s["lr"], "lr", kind=float, low=0.0, low_inclusive=False)
        check_param(s["optimizer"], "optimizer", choices=("sgd", "adam"))
        check_param(s["momentum"], "momentum", kind=float, low=0.0, high=1.0)
        check_param(s["weight_decay"], "weight_decay", kind=float, low=0.0)
        check_param(s.get("max_grad_norm"), "max_grad_norm", kind=float, low=0.0,
                    low_inclusive=False, allow_none=True)
        w = getattr(self, self._trade_off_name)
        if self._trade_off_auto and isinstance(w, str) and w != "auto":
            raise InputError(f"{self._trade_off_name} must be a number >= 0 or 'auto'; "
                             f"got {w!r}")
        check_param(self._trade_off(), self._trade_off_name, kind=float, low=0.0)
        check_param(self.random_state, "random_state", kind=int, allow_none=True)
        if self.progress is not None and not (self.progress is True or callable(self.progress)):
            raise InputError(f"progress must be None, True or a callable(i, n, info); "
                             f"got {self.progress!r}")
        choose_device(self.device)

    # hooks --------------------------------------------------------------------
    def _trade_off(self):
        """The weight of the transfer loss (0 = source-only training); for
        ``"auto"``, the value chosen so far (1 before the method chooses)."""
        w = getattr(self, self._trade_off_name)
        if self._trade_off_auto and w == "auto":
            return getattr(self, "_chosen_trade_off", 1.0)
        return w

    def _transfer(self, net, n_features_out, n_classes, trade_off):  # pragma: no cover
        raise NotImplementedError

    def _build_backbone(self, n_features, settings):
        return MLP(n_features, settings["hidden"], activation=settings["activation"],
                   dropout=settings["dropout"])

    # fit / predict --------------------------------------------------------------
    def _fit(self, Xs, ys, Xt, yt):
        device = choose_device(self.device)
        n_classes = len(self.classes_)
        st = self._settings()
        with seeded(self.random_state):
            generator = make_generator(self.random_state if self.random_state is not None
                                       else int(torch.randint(0, 2**31 - 1, (1,))))
            backbone = (copy.deepcopy(self.backbone) if self.backbone is not None
                        else self._build_backbone(Xs.shape[1], st))
            backbone.to(device)
            width = _output_size(backbone, Xs.shape[1], device)
            net = TransferNet(backbone, width, n_classes).to(device)
            trade_off = float(self._trade_off())
            if trade_off > 0:
                loss_fn, extra = self._transfer(net, width, n_classes, trade_off)
            else:
                loss_fn, extra = None, ()
            batch_size = min(st["batch_size"], Xs.shape[0])
            n_iter = st["n_epochs"] * math.ceil(Xs.shape[0] / batch_size)
            progress = text_progress() if self.progress is True else self.progress
            self.history_ = train_network(
                net, Xs, ys, Xt, n_iter=n_iter, batch_size=batch_size, lr=st["lr"],
                transfer_loss=loss_fn, extra_modules=extra, generator=generator,
                device=device, progress=progress, optimizer=st["optimizer"],
                momentum=st["momentum"], weight_decay=st["weight_decay"],
                anneal_lr=st["anneal_lr"], max_grad_norm=st.get("max_grad_norm"))
        self.network_ = net
        self.extra_modules_ = list(extra)
        self.n_iter_ = n_iter
        self.device_ = str(device)
        return self

    def _logits(self, X):
        return predict_network(self.network_, X, self.device_)

    def _predict(self, X):
        return self._logits(X).argmax(1)

    def _predict_proba(self, X):
        z = self._logits(X)
        z -= z.max(1, keepdims=True)
        P = np.exp(z)
        return P / P.sum(1, keepdims=True)

    def _decision_function(self, X):
        z = self._logits(X)
        return z[:, 1] - z[:, 0] if z.shape[1] == 2 else z

    def _transform(self, X):
        return predict_network(self.network_, X, self.device_, what="features")

    def baseline_estimator(self):
        """The same network and schedule trained on the source alone (the
        method with its trade-off set to 0): the honest no-transfer baseline."""
        return SourceOnlyNetwork(self)


class SourceOnlyNetwork:
    """A deep method with its transfer loss off, as a plain ``fit(X, y)`` /
    ``predict(X)`` classifier: what ``tltk run`` reports as the baseline."""

    def __init__(self, method):
        self.method = method

    def get_params(self, deep=True):
        return {"method": self.method}

    def set_params(self, **params):
        for k, v in params.items():
            setattr(self, k, v)
        return self

    def fit(self, X, y):
        est = _with_trade_off(self.method, 0.0)
        self.estimator_ = est.fit(X, y, X)  # the target is unused with the transfer off
        self.classes_ = est.classes_
        return self

    def predict(self, X):
        return self.estimator_.predict(X)

    def predict_proba(self, X):
        return self.estimator_.predict_proba(X)

    def score(self, X, y):
        return self.estimator_.score(X, y)

    def __repr__(self):
        return f"SourceOnlyNetwork({self.method!r})"
