"""Deep CORAL (Sun & Saenko, ECCV Workshops 2016).

The network is trained on the source labels while the CORAL loss
‖C_s − C_t‖²_F / (4d²) — the distance between the covariances (over samples)
of the source and target activations of one layer — pulls the two domains'
second-order statistics together. As in the paper the loss sits on the last,
classification layer (``layer="logits"``); ``layer="features"`` puts it on the
learnt representation instead. The total loss is ℓ_class + λ ℓ_CORAL with λ =
``coral_weight``.

torch is imported with this module, which the plugin loads only on use.
"""
from __future__ import annotations

from tltk_core import check_param
from tltk_core.deep import DeepTransferMethod, coral_loss

from . import INFO


class DeepCORAL(DeepTransferMethod):
    """Deep CORAL on an MLP (or any given backbone).

    Parameters
    ----------
    coral_weight : float
        λ, the weight of the CORAL loss (the paper chooses it so that both
        losses are of the same size at the end of training; 1 by default).
        0 switches transfer off (the source-only network).
    layer : {"logits", "features"}
        Where the CORAL loss is computed: the classifier layer (paper) or the
        last hidden layer.
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
    _trade_off_name = "coral_weight"

    def __init__(self, coral_weight=1.0, layer="logits", backbone=None, hidden=(256, 256),
                 dropout=0.5, n_epochs=50, batch_size=32, lr=0.01, device="auto",
                 random_state=None, progress=None):
        self.coral_weight = coral_weight
        self.layer = layer
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
        check_param(self.layer, "layer", choices=("logits", "features"))
        super()._check_params()

    def _transfer(self, net, width, n_classes, trade_off):
        on_logits = self.layer == "logits"

        def loss(fs, ls, ft, lt, p):
            return trade_off * (coral_loss(ls, lt) if on_logits else coral_loss(fs, ft))

        return loss, ()
