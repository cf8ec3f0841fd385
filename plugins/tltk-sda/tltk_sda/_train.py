"""Greedy layer-wise training of denoising autoencoders (the torch part of SDA).

This module imports torch at module level; :class:`tltk_sda.SDA` imports it
only inside ``fit``, so that loading the estimator (``tltk list``,
``get_method("sda")``) never imports torch.

One layer (Vincent et al. 2008; Glorot, Bordes, Bengio 2011)
-------------------------------------------------------------
Input rows x (n x d_in). Masking noise: every input entry is set to 0 with
probability ``noise`` (an entry already 0 stays 0), giving x~. Encoder with
rectifier units, decoder back to the input space::

    h = max(0, x~ W + b)          r = h V + c

and the reconstruction loss of the *clean* x, summed over the d_in outputs and
averaged over the batch:

- ``"cross-entropy"``: sigmoid decoder, cross-entropy
  -sum_j [x_j log s(r_j) + (1 - x_j) log(1 - s(r_j))] — the paper's first
  layer, whose input is binary (presence of a word);
- ``"softplus"``: softplus decoder, squared error sum_j (softplus(r_j) - x_j)^2
  — the paper's upper layers, whose inputs (rectifier codes) are non-negative
  reals;
- ``"squared"``: linear decoder, squared error — a first layer fed real
  inputs outside [0, 1] (not in the paper; dense real-valued data).

Minimised by SGD (with momentum) over mini-batches for a fixed number of epochs per layer
(no early stopping, no validation data, no labels). The noise mask of a batch
is one uniform draw per entry of the batch (b x d_in) from the seeded
generator, so that a sparse and a dense copy of the same input see the same
corruption; a sparse batch is corrupted on its nonzeros only and multiplied
into the encoder with :func:`torch.sparse.mm`, never densified (the clean
target batch, b x d_in, is dense: the decoder's output is dense anyway).
"""
from __future__ import annotations

import math

import numpy as np
import scipy.sparse as sp
import torch
from torch import nn
from torch.nn import functional as F

from tltk_core.deep import batch_tensor

__all__ = ["train_layer"]


def _reconstruction_loss(r, target, loss):
    """Reconstruction loss of the decoder pre-activations ``r`` against the
    clean ``target``, summed over entries."""
    if loss == "cross-entropy":
        return F.binary_cross_entropy_with_logits(r, target, reduction="sum")
    if loss == "softplus":
        return (F.softplus(r) - target).pow(2).sum()
    return (r - target).pow(2).sum()


def _corrupted_batch(X, rows, noise, generator, device):
    """(corrupted input, clean dense target) for ``rows`` of ``X``.

    The mask is one uniform per entry of the b x d batch: an entry is kept
    when its uniform is >= ``noise``. A CSR ``X`` gives a sparse corrupted
    batch (its nonzeros only), a dense ``X`` a dense one; both use the same
    draws, so they agree.
    """
    b, d = len(rows), X.shape[1]
    U = torch.rand(b, d, generator=generator)
    target = batch_tensor(X, rows, "cpu", sparse=False)
    if sp.issparse(X):
        B = X[rows].tocoo()
        r = torch.from_numpy(B.row.astype(np.int64))
        c = torch.from_numpy(B.col.astype(np.int64))
        keep = U[r, c] >= noise
        idx = torch.stack([r[keep], c[keep]])
        val = torch.from_numpy(B.data.astype(np.float32))[keep]
        x = torch.sparse_coo_tensor(idx, val, (b, d), check_invariants=False).coalesce()
    else:
        x = target * (U >= noise)
    return x.to(device), target.to(device)


def train_layer(X, n_hidden, *, loss, noise, n_epochs, batch_size, lr, generator,
                device="cpu", progress=None, step0=0, n_steps=None, layer=0, momentum=0.9):
    """Train one denoising autoencoder on the rows of ``X`` (CSR or dense float32).

    Returns ``(W, b, history)``: the encoder as numpy float32 arrays
    (``W`` is d_in x n_hidden, so that ``h = max(0, x W + b)``) and one dict
    per epoch with the mean reconstruction loss over the epoch's batches.
    The optimiser is SGD with ``momentum``.
    ``progress(i, n, info)`` is called after every mini-batch; ``step0`` and
    ``n_steps`` place this layer within the whole training.
    """
    device = torch.device(device)
    n, d = X.shape
    bs = min(batch_size, n)
    enc = nn.Linear(d, n_hidden).to(device)
    dec = nn.Linear(n_hidden, d).to(device)
    opt = torch.optim.SGD([*enc.parameters(), *dec.parameters()], lr=lr, momentum=momentum)
    n_batches = math.ceil(n / bs)
    n_steps = n_steps if n_steps is not None else n_epochs * n_batches
    history, step = [], step0
    for epoch in range(n_epochs):
        perm = torch.randperm(n, generator=generator).numpy()
        total = 0.0
        for start in range(0, n, bs):
            rows = perm[start:start + bs]
            x, target = _corrupted_batch(X, rows, noise, generator, device)
            if x.is_sparse:
                z = torch.sparse.mm(x, enc.weight.t()) + enc.bias
            else:
                z = enc(x)
            value = _reconstruction_loss(dec(torch.relu(z)), target, loss) / len(rows)
            opt.zero_grad(set_to_none=True)
            value.backward()
            opt.step()
            v = float(value.detach())
            if not math.isfinite(v):
                raise FloatingPointError(f"layer {layer} diverged at epoch {epoch} (loss {v});"
                                         f" lower lr")
            total += v * len(rows)
            step += 1
            if progress is not None:
                progress(step, n_steps, {"layer": float(layer), "loss": v})
        history.append({"layer": layer, "epoch": epoch, "loss": total / n})
    W = enc.weight.detach().cpu().numpy().T.copy()
    b = enc.bias.detach().cpu().numpy().copy()
    return W, b, history

