"""Training time of SDA as the SDA papers train it against tltk's mSDA with the
same number of layers, on the same task, in the same process.

    export TLTK_DATA=/work/shared/data OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 MKL_NUM_THREADS=1
    python benchmarks/sda_msda_speed.py [--tasks 20ng-sci-talk/crypt-guns:med-misc \\
        amazon-reviews/books:kitchen] [--layers 5] [--width 5000] [--epochs 15] [--batches 30]

mSDA (Chen et al., ICML 2012): ``tltk_core.load("msda", n_layers=L)`` with its
defaults otherwise, fitted completely (closed-form layers *and* the final
classifier, so its seconds are an upper bound of its representation time).

SDA (Glorot et al., ICML 2011), trained the way the papers describe: L layers
of ``--width`` rectifier units (Glorot et al. use hidden layers of 5000 units;
Chen et al. compare mSDA with SDA at the same depth), each pre-trained greedily
by SGD on the unlabelled rows of both domains for ``--epochs`` epochs. Neither
paper's text, as available to us, states the epoch count; 15 is
``pretraining_epochs`` of the SdA tutorial of the same lab (deeplearning.net,
Theano), the code base of that work. The SGD step is tltk-sda's own
(``tltk_sda._train.train_layer``: masked input, rectifier encoder, sigmoid +
cross-entropy decoder on the first layer, softplus + squared error above,
SGD with momentum on mini-batches of 64, the plugin's default).

A full run would take hours on this machine, so SDA is timed on a bounded
number of mini-batches and extrapolated, explicitly:

- first layer: ``--batches`` mini-batches of the real (sparse, binarised) input
  (the first batch, warm-up, is not counted), seconds per batch ``t1``;
- an upper layer (width -> width, dense input): the same on a dense
  non-negative n x width matrix (rectifier codes of a randomly initialised
  first layer; the cost of a dense step does not depend on the values), ``tu``;
- one SDA epoch = n_batches * (t1 + (L - 1) * tu); SDA = epochs * one epoch.

The table prints mSDA's seconds (the whole fit, and the layers alone: the
same fit with a ``DummyClassifier`` as final classifier), SDA's measured seconds per batch, its
extrapolated seconds for 1 epoch (a lower bound of any SDA training) and for
``--epochs`` epochs, and the ratios SDA / mSDA (against mSDA's *whole* fit,
classifier included: the conservative ratio). The paper's first layer used
reconstruction sampling (Dauphin et al., 2011) to cut the decoder's cost on
sparse input; tltk-sda has no reconstruction sampling, so the first-layer
figure is the full decoder's. The upper layers (dense codes) are unaffected,
and the ratio is also printed for them alone ("upper layers only"), which no
sampling trick changes. Also printed: SDA with the width of mSDA's hidden
layers (``n_reconstruct`` = 2000: both vocabularies are wider), the
like-for-like size. torch runs on one thread.
"""
from __future__ import annotations

import argparse
import os
import time

import numpy as np

DEFAULT_TASKS = ["20ng-sci-talk/crypt-guns:med-misc", "amazon-reviews/books:kitchen"]


class _Stop(Exception):
    pass


def seconds_per_batch(X, width, loss, n_batches, batch_size=64):
    """Mean wall-clock seconds of one SGD mini-batch of one denoising
    autoencoder layer on ``X``, over ``n_batches`` batches after a warm-up one."""
    import torch

    from tltk_sda._train import train_layer

    stamps = []

    def progress(i, n, info):
        stamps.append(time.perf_counter())
        if len(stamps) > n_batches:
            raise _Stop

    try:
        train_layer(X, width, loss=loss, noise=0.5, n_epochs=1, batch_size=batch_size,
                    lr=0.01, generator=torch.Generator().manual_seed(0), device="cpu",
                    progress=progress)
    except _Stop:
        pass
    return (stamps[-1] - stamps[0]) / (len(stamps) - 1)


def time_msda(task, n_layers):
    """(seconds of the whole fit, seconds without the final classifier, width).

    The second fit passes a ``DummyClassifier`` as the final classifier, so it
    times the closed-form layers and the representation of the source alone."""
    import tltk_core
    from sklearn.dummy import DummyClassifier

    out = []
    for est in (None, DummyClassifier()):
        m = tltk_core.load("msda", n_layers=n_layers, estimator=est)
        t0 = time.perf_counter()
        m.fit(task.sources[0].X, task.sources[0].y, task.target.X)
        out.append(time.perf_counter() - t0)
    return out[0], out[1], m.layers_[0][0].shape[1]


def sda_costs(task, width, n_batches, batch_size=64):
    """(seconds per first-layer batch, per upper-layer batch, rows n)."""
    import scipy.sparse as sp

    from tltk_core import stack_rows

    X = sp.csr_matrix(stack_rows(task.sources[0].X, task.target.X), dtype=np.float32)
    X.data = (X.data != 0).astype(np.float32)          # the paper's binary input
    t1 = seconds_per_batch(X, width, "cross-entropy", n_batches, batch_size)
    rng = np.random.RandomState(0)
    W0 = rng.uniform(-1, 1, size=(X.shape[1], width)).astype(np.float32) / np.sqrt(X.shape[1])
    H = np.maximum(np.asarray(X @ W0), 0.0).astype(np.float32)
    tu = seconds_per_batch(H, width, "softplus", n_batches, batch_size)
    return t1, tu, X.shape[0]


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--tasks", nargs="+", default=DEFAULT_TASKS, help="DATASET/S:T")
    ap.add_argument("--layers", type=int, default=5)
    ap.add_argument("--width", type=int, default=5000)
    ap.add_argument("--epochs", type=int, default=15)
    ap.add_argument("--batches", type=int, default=30)
    ap.add_argument("--batch-size", type=int, default=64)
    args = ap.parse_args()

    import torch

    from tltk_core import load_task

    torch.set_num_threads(1)
    L, E = args.layers, args.epochs
    print(f"| task | n rows | mSDA {L} layers s (whole fit) | mSDA layers only s | SDA width | s / batch, layer 1 | "
          f"s / batch, upper | SDA 1 epoch s (extrap.) | SDA {E} epochs s (extrap.) | "
          f"ratio 1 epoch | ratio {E} epochs | ratio {E} epochs, upper layers only | load |")
    print("|---|" + "---:|" * 12)
    for spec in args.tasks:
        dataset, name = spec.split("/", 1)
        task = load_task(dataset, name)
        t_msda, t_layers, msda_width = time_msda(task, L)
        for width in dict.fromkeys([args.width, msda_width]):
            t1, tu, n = sda_costs(task, width, args.batches, args.batch_size)
            nb = -(-n // args.batch_size)
            epoch = nb * (t1 + (L - 1) * tu)
            upper = E * nb * (L - 1) * tu
            print(f"| {spec} | {n} | {t_msda:.1f} | {t_layers:.1f} | {width} | {t1:.3f} | {tu:.3f} | "
                  f"{epoch:.0f} | {E * epoch:.0f} | {epoch / t_msda:.0f}x | "
                  f"{E * epoch / t_msda:.0f}x | {upper / t_msda:.0f}x | "
                  f"{os.getloadavg()[0]:.1f} |", flush=True)


if __name__ == "__main__":
    main()
