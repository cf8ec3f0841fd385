"""DAN: deep adaptation network (Long, Cao, Wang, Jordan, ICML 2015).

The network is trained on the source labels plus λ Σ_l MK-MMD²(source, target)
over the adapted layers l — the hidden layers of the MLP backbone (or a given
backbone's output) and the classifier layer — with the multi-kernel Gaussian
MMD of :func:`tltk_core.deep.mk_mmd`: bandwidths from 2^-8 γ to 2^8 γ with a
multiplicative step 2^(1/2) around γ, the batch's mean pairwise squared
distance, estimated in linear time as in the paper (``mmd_estimator="biased"``
gives the quadratic estimate).

The kernel weights β (one vector per adapted layer, β ≥ 0, Σβ = 1) are learned
as in the paper (section 3): DAN alternates network SGD with β fixed and a
β-step that maximises the test power of the linear-time MK-MMD (Gretton et
al. 2012), the QP min β^T(Q + εI)β s.t. d^T β = 1, β ≥ 0
(:func:`tltk_core.deep.optimal_kernel_weights`). Here the β-step runs once per
epoch, on the per-kernel h-statistics of every quadruple of that epoch's
batches (d their mean, Q their covariance); the first epoch uses uniform
weights. ``kernel_weights="uniform"`` keeps β uniform throughout.

``mmd_weight="auto"`` chooses λ by the paper's label-free rule (source error and
two-sample classifier error on a validation set of labelled source and
unlabelled target rows; :func:`tltk_core.deep.validate_trade_off`).

torch is imported with this module, which the plugin loads only on use.
"""
from __future__ import annotations

import math
import sys

import numpy as np

from tltk_core import InputError, check_param
from tltk_core.deep import (DAN_MULTIPLIERS, DeepTransferMethod, linear_mmd_h, linear_mmd_value,
                            mk_mmd, optimal_kernel_weights, quadruple_kernels,
                            validate_trade_off)

from . import INFO


class DAN(DeepTransferMethod):
    """Deep adaptation network on an MLP (or any given backbone).

    Parameters
    ----------
    mmd_weight : float or "auto"
        λ, the weight of the MK-MMD penalty. 0 switches transfer off (the
        source-only network). ``"auto"`` chooses λ from ``auto_grid`` by the
        paper's rule: on a validation set of labelled source and
        unlabelled target rows, jointly assess the source classifier's error
        and the two-sample classifier's error
        (:func:`tltk_core.deep.validate_trade_off`: ``auto_holdout`` of the
        source held out, one network per grid value, score = source error +
        1 − 2 × two-sample error), then refit on the whole source with the
        chosen λ. It costs ``len(auto_grid)`` extra fits on 80 % of the source.
    mmd_estimator : {"linear", "biased"}
        MK-MMD estimate: the unbiased linear-time one of the paper, or the
        biased quadratic one.
    kernel_weights : {"learned", "uniform"}
        β of the multi-kernel: learned per adapted layer to maximise the
        MK-MMD test power (the paper; re-solved once per epoch from that
        epoch's h-statistics), or equal weights 1/m.
    kernel_eps : float
        ε of the β-QP, the ridge added to the h-statistics' covariance Q
        (the paper's 1e-3).
    n_adapted : int or None
        How many of the MLP's last hidden layers are adapted (None: all); the
        classifier layer is always adapted. A user backbone adapts its output.
    backbone : torch.nn.Module or None
        Feature extractor; None builds an MLP sized from the input.
    hidden : int or tuple of int
        Widths of the MLP's hidden layers.
    dropout, n_epochs, batch_size, lr : training settings (SGD with momentum
        0.9, weight decay 5e-4, learning rate annealed as lr/(1+10p)^0.75).
    device : "auto", "cpu", "cuda", ...
    random_state : int or None
        Seeds weights, dropout and batch order (reproducible on CPU).
    progress : None, True or callable(i, n, info)
        True writes progress lines to stderr.

    Attributes
    ----------
    kernel_weights_ : list of numpy arrays
        The final β of each adapted layer (hidden layers first, classifier
        layer last).
    mmd_weight_ : float
        The λ used for the final network (the chosen one with ``"auto"``).
    trade_off_selection_ : list of dict
        With ``mmd_weight="auto"``: per grid value, ``trade_off``,
        ``source_error``, ``two_sample_error`` and ``score``; otherwise empty.
    beta_history_ : list of dict
        One entry per β-step: ``epoch`` (the epoch whose statistics were used),
        ``beta`` (list per layer), ``d`` (per-kernel MMD² per layer),
        ``fallback`` (per layer: True when no d_u was positive and β fell back
        to uniform).
    """

    info = INFO
    _trade_off_name = "mmd_weight"
    _trade_off_auto = True
    #: the λ values that ``mmd_weight="auto"`` chooses from (log-spaced around
    #: the default 1), and the share of the source held out for the choice
    auto_grid = (0.1, 0.3, 1.0, 3.0)
    auto_holdout = 0.2

    def __init__(self, mmd_weight=1.0, mmd_estimator="linear", kernel_weights="learned",
                 kernel_eps=1e-3, n_adapted=None, backbone=None, hidden=(256, 256), dropout=0.5,
                 n_epochs=50, batch_size=32, lr=0.01, device="auto", random_state=None,
                 progress=None):
        self.mmd_weight = mmd_weight
        self.mmd_estimator = mmd_estimator
        self.kernel_weights = kernel_weights
        self.kernel_eps = kernel_eps
        self.n_adapted = n_adapted
        self.backbone = backbone
        self.hidden = hidden
        self.dropout = dropout
        self.n_epochs = n_epochs
        self.batch_size = batch_size
        self.lr = lr
        self.device = device
        self.random_state = random_state
        self.progress = progress

    def _check_params(self):
        check_param(self.auto_holdout, "auto_holdout", kind=float, low=0.0, high=0.9,
                    low_inclusive=False)
        if not len(self.auto_grid):
            raise InputError("auto_grid must hold at least one value")
        for v in self.auto_grid:
            check_param(v, "auto_grid", kind=float, low=0.0)
        check_param(self.mmd_estimator, "mmd_estimator", choices=("linear", "biased"))
        check_param(self.kernel_weights, "kernel_weights", choices=("learned", "uniform"))
        check_param(self.kernel_eps, "kernel_eps", kind=float, low=0.0, low_inclusive=False)
        check_param(self.n_adapted, "n_adapted", kind=int, low=1, allow_none=True)
        super()._check_params()

    def _fit(self, Xs, ys, Xt, yt):
        """Train (the base class's loop) and keep the β-steps' results; with
        ``mmd_weight="auto"`` choose λ first."""
        self.trade_off_selection_ = []
        self.__dict__.pop("_chosen_trade_off", None)
        if isinstance(self.mmd_weight, str):
            progress = self.progress
            if progress is True:
                def progress(i, n, row):
                    sys.stderr.write(f"mmd_weight {row['trade_off']:g} ({i}/{n}): source error "
                                     f"{row['source_error']:.4f}, two-sample error "
                                     f"{row['two_sample_error']:.4f}, score {row['score']:.4f}\n")
                    sys.stderr.flush()
            chosen, self.trade_off_selection_ = validate_trade_off(
                self, Xs, ys, Xt, self.auto_grid, holdout=float(self.auto_holdout),
                random_state=self.random_state, progress=progress)
            self._chosen_trade_off = chosen
        self._beta_state = None
        super()._fit(Xs, ys, Xt, yt)
        self.mmd_weight_ = float(self._trade_off())
        state = self._beta_state
        m = len(DAN_MULTIPLIERS)
        if state is None:                 # mmd_weight = 0: no MMD, no β
            self.kernel_weights_, self.beta_history_ = [], []
        else:
            self.kernel_weights_ = [np.full(m, 1.0 / m) if b is None else b.copy()
                                    for b in state["beta"]]
            self.beta_history_ = state["history"]
        del self._beta_state
        return self

    def _transfer(self, net, width, n_classes, trade_off):
        backbone = net.backbone
        n_adapted = self.n_adapted
        estimator = self.mmd_estimator
        learned = self.kernel_weights == "learned"
        eps = float(self.kernel_eps)
        n_epochs = int(self._settings()["n_epochs"])
        m = len(DAN_MULTIPLIERS)
        uniform = [1.0 / m] * m
        # β per layer (None = uniform) and, for the β-step, the running sums of
        # the h-statistics of the current epoch: count, Σh (m), Σ h h^T (m×m)
        state = {"beta": None, "sums": None, "epoch": 0, "history": []}
        self._beta_state = state

        def solve_beta():
            """The β-step: one QP per layer from the epoch's statistics."""
            betas, ds, falls = [], [], []
            for n, s1, s2 in state["sums"]:
                d = s1 / n
                Q = (s2 - n * np.outer(d, d)) / max(n - 1, 1)
                b = optimal_kernel_weights(d, Q, eps=eps)
                falls.append(b is None)       # no positive d_u: uniform next epoch
                betas.append(b)
                ds.append(d)
            state["beta"] = betas
            state["history"].append({"epoch": state["epoch"], "d": ds, "fallback": falls,
                                     "beta": [np.full(m, 1.0 / m) if b is None else b
                                              for b in betas]})

        def loss(fs, ls, ft, lt, p):
            k = fs.shape[0]
            hidden = getattr(backbone, "hidden_outputs", None) or [None]
            if hidden[0] is None or hidden[-1].shape[0] != k + ft.shape[0]:
                layers = [(fs, ft)]          # a backbone that does not expose its layers
            else:
                chosen = hidden if n_adapted is None else hidden[-n_adapted:]
                layers = [(h[:k], h[k:]) for h in chosen]
            layers.append((ls, lt))
            if state["beta"] is None:
                state["beta"] = [None] * len(layers)
            if not learned:
                return trade_off * sum(mk_mmd(s, t, estimator=estimator) for s, t in layers)
            # p = it / n_iter and n_iter = n_epochs × batches per epoch, so this
            # is the epoch index; at its change the β-step uses the finished
            # epoch's statistics (network fixed meanwhile), then SGD resumes
            epoch = int(math.floor(p * n_epochs + 1e-9))
            if epoch != state["epoch"]:
                if state["sums"] is not None:
                    solve_beta()
                state["epoch"], state["sums"] = epoch, None
            total, sums = 0.0, state["sums"] or [None] * len(layers)
            for j, (s, t) in enumerate(layers):
                w = uniform if state["beta"][j] is None else state["beta"][j]
                K4 = quadruple_kernels(s, t)
                if estimator == "linear":
                    total = total + linear_mmd_value(K4, w)
                else:
                    total = total + mk_mmd(s, t, estimator=estimator, weights=w)
                H = linear_mmd_h(K4.detach()).double().cpu().numpy()
                prev = sums[j]
                sums[j] = ((H.shape[0], H.sum(0), H.T @ H) if prev is None else
                           (prev[0] + H.shape[0], prev[1] + H.sum(0), prev[2] + H.T @ H))
            state["sums"] = sums
            return trade_off * total

        return loss, ()
