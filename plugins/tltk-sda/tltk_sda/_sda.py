"""Stacked denoising autoencoders for domain adaptation (SDA).

Glorot, Bordes and Bengio, "Domain adaptation for large-scale sentiment
classification: a deep learning approach", ICML 2011.

The protocol of the paper, in two steps:

1. **Unsupervised representation learning on both domains.** A stack of
   denoising autoencoders with rectifier units max(0, .) is trained greedily,
   layer by layer, on the *unlabelled rows of source and target together*
   (no labels of either domain). Each layer is trained to reconstruct its
   clean input from a copy corrupted by masking noise (every entry zeroed
   with probability ``noise``). The first layer, fed binary bag-of-words
   vectors, decodes with a sigmoid and the cross-entropy loss; the upper
   layers, fed non-negative rectifier codes, decode with a softplus and the
   squared error. Layer l + 1 is trained on the (clean) codes of layer l.
   See :mod:`tltk_sda._train` for the per-layer objective.
2. **A linear classifier on the source representation**, applied to the
   target representation.

The representation is ``[x, h_1, ..., h_L]`` (the default,
``representation="input+concat"``), ``[h_1, ..., h_L]`` (``"concat"``) or
``h_L`` alone (``"top"``); with ``normalize=True`` (default) every row of it is
scaled to unit length before the classifier (not in the paper; see the README).

Training uses a fixed number of epochs per layer, fixed in advance: no early
stopping, no validation set, and never a target label. The original
toolkit pre-trained on the source rows only and used the target as an
early-stopping validation set; here the target rows are training data.

torch is imported inside :meth:`SDA._fit` only.
"""
from __future__ import annotations


import numpy as np
import scipy.sparse as sp

from tltk_core import InputError, TransferMethod, check_param, check_widths, stack_rows
from tltk_core.sparse_ops import unit_rows_

from . import INFO

_CHUNK = 2048


class SDA(TransferMethod):
    """Stacked denoising autoencoder features + a linear classifier (Glorot et al., 2011).

    Parameters
    ----------
    hidden : int or tuple of int, default=(500,)
        Widths of the hidden (rectifier) layers, one autoencoder each. The
        paper uses up to three layers of 5000 units on the full Amazon data
        (340 000 reviews, GPU). The default, one layer of 500 units on the
        5000 unigram/bigram features with 5 epochs, trains in about a minute
        on one amazon-reviews task (4000 unlabelled rows) on one shared CPU
        thread; widen or deepen it when time allows.
    noise : float, default=0.5
        Masking-noise probability: each input entry is set to 0 with this
        probability while training a layer, in [0, 1).
    n_epochs : int, default=5
        Training epochs of each layer (fixed; no early stopping).
    batch_size : int, default=64
    lr : float, default=0.01
        SGD learning rate (momentum 0.9).
    binarize : bool, default=True
        Feed the presence indicators (x != 0) of the input features, the
        paper's binary bag-of-words input. With False the values are used
        as given: the first layer then decodes with a sigmoid and
        cross-entropy when every value lies in [0, 1], else with a linear
        decoder and the squared error.
    representation : {"concat", "top", "input+concat"}, default="input+concat"
        The features given to the classifier: every hidden layer
        concatenated, the top one only, or the (prepared) input followed by
        every hidden layer — ``[x, h_1, ..., h_L]``, the convention of the
        mSDA paper (Chen et al. 2012). The default was chosen on the three
        Reuters tasks (a dataset outside the issue's Amazon/20ng evaluation):
        mean 0.708 against 0.700 for "concat" and 0.681 for no transfer.
    normalize : bool, default=True
        Scale every row of the representation to unit Euclidean length (the
        classifier's input and ``transform``'s output). The binary input and
        the unbounded rectifier codes give rows far longer than the unit
        tf-idf rows a linear SVM with a fixed C is usually given (a 20ng
        document has about 100 distinct words: ||x|| ~ 10); the same choice
        as tltk-msda's ``normalize``, made on the Reuters tasks (see the
        README). False: the unscaled representation.
    estimator : classifier or None, default=None
        Final linear classifier trained on the source representation; None
        gives ``LogisticRegression(max_iter=1000)`` (the paper uses an
        L2-regularised linear SVM). Cloned, never modified.
    device : str, default="auto"
        "auto" (CUDA when available, else CPU), "cpu", "cuda" or "cuda:N".
    random_state : int or None, default=0
        Seeds the weights, the batch order and the noise; the same value
        gives the same model on the CPU. None: a fresh random run.
    progress : None, True or callable, default=None
        True writes ``iteration i/n`` lines to stderr; a callable is called
        as ``progress(i, n, info)`` after every mini-batch.

    Attributes
    ----------
    layers_ : list of (W, b)
        The encoders, numpy float32: layer l maps H to ``max(0, H @ W + b)``.
    first_loss_ : str
        The first layer's reconstruction loss ("cross-entropy" or "squared").
    history_ : list of dict
        Mean reconstruction loss of every epoch of every layer
        (keys ``layer``, ``epoch``, ``loss``).
    n_pretrain_rows_ : int
        Rows the autoencoders were trained on (source + target).
    estimator_ : classifier
        The final classifier fitted on the source representation.
    device_ : str
    """

    info = INFO
    _classifies_features = True  # predict_proba when the final classifier has it

    def __init__(self, hidden=(500,), noise=0.5, n_epochs=5, batch_size=64, lr=0.01,
                 binarize=True, representation="input+concat", normalize=True, estimator=None,
                 device="auto", random_state=0, progress=None):
        self.hidden = hidden
        self.noise = noise
        self.n_epochs = n_epochs
        self.batch_size = batch_size
        self.lr = lr
        self.binarize = binarize
        self.representation = representation
        self.normalize = normalize
        self.estimator = estimator
        self.device = device
        self.random_state = random_state
        self.progress = progress

    # -- parameters ---------------------------------------------------------
    def _widths(self):
        return check_widths(self.hidden)

    def _check_params(self):
        check_widths(self.hidden)
        check_param(self.noise, "noise", kind=float, low=0.0)
        if not self.noise < 1.0:
            raise InputError(f"noise (masking probability) must be < 1; got {self.noise!r}")
        check_param(self.n_epochs, "n_epochs", kind=int, low=1)
        check_param(self.batch_size, "batch_size", kind=int, low=1)
        check_param(self.lr, "lr", kind=float, low=0.0, low_inclusive=False)
        check_param(self.binarize, "binarize", kind=bool)
        check_param(self.representation, "representation", choices=("concat", "top", "input+concat"))
        check_param(self.normalize, "normalize", kind=bool)
        check_param(self.random_state, "random_state", kind=int, allow_none=True)
        if self.progress is not None and not (self.progress is True or callable(self.progress)):
            raise InputError(f"progress must be None, True or a callable(i, n, info); "
                             f"got {self.progress!r}")
        if not (self.device is None or isinstance(self.device, str)):
            raise InputError(f"device must be 'auto', 'cpu', 'cuda' or 'cuda:N'; "
                             f"got {self.device!r}")

    # -- fitting ------------------------------------------------------------
    def _fit(self, Xs, ys, Xt, yt):
        import torch

        from tltk_core.deep import choose_device, make_generator, seeded, text_progress

        from ._train import train_layer

        device = choose_device(self.device)
        ns = Xs.shape[0]
        # the unlabelled rows of BOTH domains (Glorot et al.); no label is used
        X = stack_rows(Xs, Xt)
        if self.binarize and _has_negative(X):
            # presence indicators of real-valued (e.g. z-scored) features are
            # 1 almost everywhere: every row would become the same vector
            raise InputError("binarize=True reads the input as word counts (1 = present), but "
                             "Xs/Xt have negative values (real-valued or standardised "
                             "features), so every row would become the same vector; pass "
                             "binarize=False")
        X = self._prepare(X)
        self.n_pretrain_rows_ = X.shape[0]
        self.first_loss_ = "cross-entropy" if _in_unit_interval(X) else "squared"
        widths = self._widths()
        bs = min(self.batch_size, X.shape[0])
        n_steps = len(widths) * self.n_epochs * -(-X.shape[0] // bs)
        progress = text_progress() if self.progress is True else self.progress
        self.layers_, self.history_ = [], []
        with seeded(self.random_state):
            seed = (self.random_state if self.random_state is not None
                    else int(torch.randint(0, 2**31 - 1, (1,))))
            generator = make_generator(seed)
            H = X
            for layer, width in enumerate(widths):
                W, b, hist = train_layer(
                    H, width, loss=self.first_loss_ if layer == 0 else "softplus",
                    noise=float(self.noise), n_epochs=self.n_epochs, batch_size=bs,
                    lr=float(self.lr), generator=generator, device=device, progress=progress,
                    step0=layer * (n_steps // len(widths)), n_steps=n_steps, layer=layer)
                self.layers_.append((W, b))
                self.history_.extend(hist)
                if layer + 1 < len(widths):
                    H = _encode(H, W, b)
        self.device_ = str(device)
        Zs = self._represent(X[:ns])
        self.estimator_ = self._make_estimator().fit(Zs, ys)
        return self

    def _prepare(self, X):
        """Float32 input of the first layer: presence indicators when
        ``binarize`` (a copy; the caller's array is never touched)."""
        if sp.issparse(X):
            X = sp.csr_matrix(X, dtype=np.float32, copy=True)
            if self.binarize:
                X.data = (X.data != 0).astype(np.float32)
                X.eliminate_zeros()
            return X
        X = np.asarray(X, dtype=np.float32)
        return (X != 0).astype(np.float32) if self.binarize else X.copy()

    def _represent(self, X):
        """The representation of prepared rows ``X`` (dense float64), rows
        scaled to unit length when ``normalize``."""
        out, H = [], X
        for W, b in self.layers_:
            H = _encode(H, W, b)
            out.append(H)
        if self.representation == "top":
            Z = out[-1].astype(np.float64)
        else:
            if self.representation == "input+concat":
                out.insert(0, X.toarray() if sp.issparse(X) else X)
            Z = np.hstack(out).astype(np.float64)
        return unit_rows_(Z) if self.normalize else Z   # zero rows (dead units) stay zero

    # -- using the representation -------------------------------------------
    def _transform(self, X):
        """Dense hidden codes: ``[h_1, ..., h_L]`` or ``h_L`` (``representation``)."""
        parts = [self._represent(self._prepare(X[i:i + _CHUNK]))
                 for i in range(0, X.shape[0], _CHUNK)]
        return np.vstack(parts)

    def _chunked(self, fn, X):
        return np.concatenate([np.asarray(fn(self._transform(X[i:i + _CHUNK])))
                               for i in range(0, X.shape[0], _CHUNK)])

    def _predict(self, X):
        return self._chunked(self.estimator_.predict, X).astype(np.int64)

    @property
    def _decision_function(self):
        """Present only when the final classifier has ``decision_function``."""
        est = getattr(self, "estimator_", None)
        est = est if est is not None else self._make_estimator()
        if not hasattr(est, "decision_function"):
            raise AttributeError("the final classifier has no decision_function")
        return lambda X: self._chunked(self.estimator_.decision_function, X)


def _has_negative(X):
    v = X.data if sp.issparse(X) else X
    return v.size > 0 and float(v.min()) < 0.0


def _in_unit_interval(X):
    v = X.data if sp.issparse(X) else X
    return v.size == 0 or (float(v.min()) >= 0.0 and float(v.max()) <= 1.0)


def _encode(H, W, b):
    """max(0, H W + b) as a dense float32 array (``H`` CSR or dense)."""
    Z = np.asarray(H @ W, dtype=np.float32)
    Z += b
    np.maximum(Z, 0.0, out=Z)
    return Z
