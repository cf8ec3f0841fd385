"""DANN: domain-adversarial training (Ganin & Lempitsky, ICML 2015; Ganin et
al., JMLR 2016).

A feature extractor G_f, a label predictor G_y and a domain classifier G_d
sit on the features behind a gradient reversal layer. One optimiser
minimises L_y(G_y(G_f(x_s)), y_s) + L_d(G_d(R_λ(G_f(x)))): G_d learns to tell
the domains apart while R_λ (identity forward, gradient × −λ backward) makes
G_f learn features that fool it. Two parameter sets:

- ``architecture="deep"`` (default): the ICML 2015 recipe on an MLP — ReLU
  layers, a two-layer domain classifier, SGD with momentum 0.9, the learning
  rate annealed as lr/(1+10p)^0.75 and λ ramped as adaptation × (2/(1+e^{−10p})−1).
- ``architecture="shallow"``: the JMLR 2016 shallow DANN (Algorithm 1, the
  Amazon-reviews experiments of section 5.1): one hidden layer of 50 sigmoid
  units, softmax label output, a logistic domain regressor on the hidden
  layer, plain SGD with a constant learning rate, constant λ weighting both
  the domain regressor's loss and the reversed gradient.

torch is imported with this module, which the plugin loads only on use.
"""
from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F

from tltk_core import check_param
from tltk_core.deep import DeepTransferMethod, dann_lambda, grad_reverse

from . import INFO

#: the two named parameter sets; a hyperparameter left at None takes its value here.
#: Shallow: JMLR 2016, section 5.1 / Algorithm 1 (50 sigmoid hidden units,
#: λ = 0.1, per-example learning rate 1e-3 as in the authors' Amazon script;
#: mini-batches of 10 with the learning rate scaled by 10 so that one batch
#: step equals ten per-example steps; 30 epochs fixed in advance instead of
#: reverse validation / early stopping). Deep: gradient-norm clipping at 10
#: (the deep methods' shared guard against an exploding step, see
#: ``DeepTransferMethod.max_grad_norm``); shallow: none, as in the authors' script.
ARCHITECTURES = {
    "deep": dict(hidden=(256, 256), dropout=0.5, n_epochs=50, batch_size=32, lr=0.01,
                 adaptation=1.0, optimizer="sgd", momentum=0.9, weight_decay=5e-4,
                 anneal_lr=True, activation="relu", schedule=True, max_grad_norm=10.0),
    "shallow": dict(hidden=(50,), dropout=0.0, n_epochs=30, batch_size=10, lr=0.01,
                    adaptation=0.1, optimizer="sgd", momentum=0.0, weight_decay=0.0,
                    anneal_lr=False, activation="sigmoid", schedule=False, max_grad_norm=None),
}


class DANN(DeepTransferMethod):
    """Domain-adversarial neural network.

    Parameters
    ----------
    architecture : {"deep", "shallow"}
        Parameter set used for every hyperparameter left at None: "deep" is the
        ICML 2015 recipe on an MLP, "shallow" the JMLR 2016 shallow DANN of
        the Amazon-reviews experiments (see ``ARCHITECTURES``).
    adaptation : float or None
        λ, the weight of the domain-adversarial term (deep: the final value of
        the ramp 2/(1+e^{−10p})−1; shallow: constant). 0 switches transfer
        off (the source-only network).
    backbone : torch.nn.Module or None
        Feature extractor G_f; None builds an MLP sized from the input.
    hidden : int, tuple of int or None
        Widths of the MLP's hidden layers (the last one is the representation).
    domain_hidden : int or None
        Width of the domain classifier's hidden layer (deep; 0 = logistic
        regression, the shallow architecture's domain regressor).
    dropout, n_epochs, batch_size, lr : as in every deep tltk method; None
        takes the architecture's value. ``n_epochs`` counts passes over the
        source; the target is cycled alongside (one target batch per source batch).
    device : "auto", "cpu", "cuda", ...
    random_state : int or None
        Seeds weights, dropout and batch order (reproducible on CPU).
    progress : None, True or callable(i, n, info)
        True writes progress lines to stderr.
    """

    info = INFO
    _trade_off_name = "adaptation"

    def __init__(self, architecture="deep", adaptation=None, backbone=None, hidden=None,
                 domain_hidden=None, dropout=None, n_epochs=None, batch_size=None, lr=None,
                 device="auto", random_state=None, progress=None):
        self.architecture = architecture
        self.adaptation = adaptation
        self.backbone = backbone
        self.hidden = hidden
        self.domain_hidden = domain_hidden
        self.dropout = dropout
        self.n_epochs = n_epochs
        self.batch_size = batch_size
        self.lr = lr
        self.device = device
        self.random_state = random_state
        self.progress = progress

    def _arch(self):
        check_param(self.architecture, "architecture", choices=tuple(ARCHITECTURES))
        return ARCHITECTURES[self.architecture]

    def _value(self, name):
        v = getattr(self, name)
        return self._arch()[name] if v is None else v

    def _settings(self):
        a = self._arch()
        hidden = self._value("hidden")
        return dict(hidden=(hidden,) if isinstance(hidden, int) else tuple(hidden),
                    dropout=self._value("dropout"), n_epochs=self._value("n_epochs"),
                    batch_size=self._value("batch_size"), lr=self._value("lr"),
                    optimizer=a["optimizer"], momentum=a["momentum"],
                    weight_decay=a["weight_decay"], anneal_lr=a["anneal_lr"],
                    activation=a["activation"],
                    # an instance attribute overrides the set (as for the other deep plugins)
                    max_grad_norm=vars(self).get("max_grad_norm", a["max_grad_norm"]))

    def _check_params(self):
        self._arch()
        check_param(self._value("adaptation"), "adaptation", kind=float, low=0.0)
        check_param(self.domain_hidden, "domain_hidden", kind=int, low=0, allow_none=True)
        super()._check_params()

    def _trade_off(self):
        return self._value("adaptation")

    def _transfer(self, net, width, n_classes, trade_off):
        arch = self._arch()
        h = self.domain_hidden
        if h is None:
            h = 0 if self.architecture == "shallow" else max(width, 2)
        if h:
            head = nn.Sequential(nn.Linear(width, h), nn.ReLU(), nn.Dropout(0.5),
                                 nn.Linear(h, h), nn.ReLU(), nn.Dropout(0.5), nn.Linear(h, 1))
        else:
            head = nn.Linear(width, 1)
        if arch["schedule"]:   # ICML 2015: G_d at full rate, reversed gradient × λ_p
            def weights(p):
                return 1.0, trade_off * dann_lambda(p)
        else:                  # JMLR 2016 Algorithm 1: λ scales G_d's loss and the reversal
            def weights(p):
                return trade_off, 1.0

        def domain_loss(fs, ls, ft, lt, p):
            w, lam = weights(p)
            ds = head(grad_reverse(fs, lam)).squeeze(1)
            dt = head(grad_reverse(ft, lam)).squeeze(1)
            # source = 1, target = 0; the mean over each domain, summed (Algorithm 1
            # takes one source and one target example per step)
            return w * (F.binary_cross_entropy_with_logits(ds, torch.ones_like(ds))
                        + F.binary_cross_entropy_with_logits(dt, torch.zeros_like(dt)))

        self.domain_classifier_ = head
        return domain_loss, (head,)
