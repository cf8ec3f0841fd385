"""DAN: deep adaptation network (Long, Cao, Wang, Jordan, ICML 2015).

The network is trained on the source labels plus λ Σ_l MK-MMD²(source, target)
over the adapted layers l — the hidden layers of the MLP backbone (or a given
backbone's output) and the classifier layer — with the multi-kernel Gaussian
MMD of :func:`tltk_core.deep.mk_mmd`: bandwidths from 2^-8 γ to 2^8 γ with a
multiplicative step 2^(1/2) around γ, the batch's mean pairwise squared
distance, estimated in linear time as in the paper (``mmd_estimator="biased"``
gives the quadratic estimate).

torch is imported with this module, which the plugin loads only on use.
"""
from __future__ import annotations

from tltk_core import check_param
from tltk_core.deep import DeepTransferMethod, mk_mmd

from . import INFO


class DAN(DeepTransferMethod):
    """Deep adaptation network on an MLP (or any given backbone).

    Parameters
    ----------
    mmd_weight : float
        λ, the weight of the MK-MMD penalty. 0 switches transfer off (the
        source-only network).
    mmd_estimator : {"linear", "biased"}
        MK-MMD estimate: the unbiased linear-time one of the paper, or the
        biased quadratic one.
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
    """

    info = INFO
    _trade_off_name = "mmd_weight"

    def __init__(self, mmd_weight=1.0, mmd_estimator="linear", n_adapted=None, backbone=None,
                 hidden=(256, 256), dropout=0.5, n_epochs=50, batch_size=32, lr=0.01,
                 device="auto", random_state=None, progress=None):
        self.mmd_weight = mmd_weight
        self.mmd_estimator = mmd_estimator
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
        check_param(self.mmd_estimator, "mmd_estimator", choices=("linear", "biased"))
        check_param(self.n_adapted, "n_adapted", kind=int, low=1, allow_none=True)
        super()._check_params()

    def _transfer(self, net, width, n_classes, trade_off):
        backbone = net.backbone
        n_adapted = self.n_adapted
        estimator = self.mmd_estimator

        def loss(fs, ls, ft, lt, p):
            k = fs.shape[0]
            hidden = getattr(backbone, "hidden_outputs", None) or [None]
            if hidden[0] is None or hidden[-1].shape[0] != k + ft.shape[0]:
                layers = [(fs, ft)]          # a backbone that does not expose its layers
            else:
                chosen = hidden if n_adapted is None else hidden[-n_adapted:]
                layers = [(h[:k], h[k:]) for h in chosen]
            layers.append((ls, lt))
            return trade_off * sum(mk_mmd(s, t, estimator=estimator) for s, t in layers)

        return loss, ()
