"""Input checking shared by every method: one clear error naming the argument.

Nothing here writes into the caller's arrays. Dense inputs come back as
read-only float64 views or copies, so a method that tried to modify its input
in place would fail loudly instead of silently corrupting the caller's data.
"""
from __future__ import annotations

import os
import warnings
from dataclasses import dataclass
from typing import Optional

import numpy as np
import scipy.sparse as sp

from .errors import InputError


class DensifyWarning(UserWarning):
    """A sparse input was densified for a method that needs dense input."""


class PoolingWarning(UserWarning):
    """Several source domains were pooled for a single-source method."""


def _available_memory():
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_AVPHYS_PAGES")
    except (ValueError, OSError, AttributeError):  # pragma: no cover - non-POSIX
        return None


def _fmt_bytes(n):
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if n < 1024 or unit == "TiB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024


def check_array(X, name, *, sparse_ok=True, n_features=None, method=None):
    """Validate one feature matrix.

    Returns a CSR matrix (float64, int32 indices where they fit) when ``X`` is
    sparse and ``sparse_ok``; otherwise a read-only float64 ndarray. Raises
    :class:`InputError` naming ``name`` for anything else.
    """
    if X is None:
        raise InputError(f"{name} is required")
    if sp.issparse(X):
        if X.ndim != 2:
            raise InputError(f"{name} must be 2-D (n_samples, n_features)")
        _check_shape(X.shape, name, n_features)
        if not np.issubdtype(X.dtype, np.number) or np.issubdtype(X.dtype, np.complexfloating):
            raise InputError(f"{name} must hold real numbers, got dtype {X.dtype}")
        if not sparse_ok:
            size = X.shape[0] * X.shape[1] * 8
            avail = _available_memory()
            who = f"method {method!r}" if method else "this method"
            if avail is not None and size > 0.5 * avail:
                raise InputError(
                    f"{name}: {who} needs dense input, and densifying this "
                    f"{X.shape[0]}x{X.shape[1]} sparse matrix needs {_fmt_bytes(size)} "
                    f"(only {_fmt_bytes(avail)} free); reduce the features first")
            warnings.warn(
                f"{name}: {who} needs dense input; densifying a {X.shape[0]}x{X.shape[1]} "
                f"sparse matrix ({_fmt_bytes(size)})", DensifyWarning, stacklevel=3)
            return check_array(X.toarray(), name, n_features=n_features)
        X = as_csr32(X)  # copies unless already CSR float64 with int32 indices
        if not np.all(np.isfinite(X.data)):
            raise InputError(f"{name} contains NaN or infinite values")
        return X
    try:
        arr = np.asarray(X)
    except Exception as exc:
        raise InputError(f"{name} could not be read as an array: {exc}") from None
    if arr.dtype == object or not (np.issubdtype(arr.dtype, np.number) or arr.dtype == bool):
        try:
            arr = arr.astype(np.float64)
        except (TypeError, ValueError):
            raise InputError(f"{name} must hold numbers, got dtype {arr.dtype}") from None
    if np.issubdtype(arr.dtype, np.complexfloating):
        raise InputError(f"{name} must hold real numbers, got dtype {arr.dtype}")
    if arr.ndim != 2:
        raise InputError(
            f"{name} must be 2-D (n_samples, n_features), got an array of shape {arr.shape}")
    _check_shape(arr.shape, name, n_features)
    arr = np.asarray(arr, dtype=np.float64)
    if not np.all(np.isfinite(arr)):
        raise InputError(f"{name} contains NaN or infinite values")
    view = arr.view()
    view.flags.writeable = False
    return view


def as_csr32(X):
    """CSR float64 with int32 indices where they fit (what scikit-learn's
    liblinear-based estimators accept); a new matrix, the input untouched."""
    X = sp.csr_matrix(X, dtype=np.float64)
    if X.indices.dtype != np.int32 and X.nnz < 2**31 - 1 and max(X.shape) < 2**31 - 1:
        X = sp.csr_matrix((X.data, X.indices.astype(np.int32),
                           X.indptr.astype(np.int32)), shape=X.shape)
    return X


def stack_rows(*blocks):
    """Samples of several matrices stacked in order: CSR (int32 indices) when any
    block is sparse, else a dense array. Methods pool source and target with it."""
    if any(sp.issparse(B) for B in blocks):
        return as_csr32(sp.vstack([sp.csr_matrix(B) for B in blocks], format="csr"))
    return np.vstack(blocks)


def _check_shape(shape, name, n_features):
    if shape[0] == 0:
        raise InputError(f"{name} is empty: it has no samples")
    if shape[1] == 0:
        raise InputError(f"{name} has no features")
    if n_features is not None and shape[1] != n_features:
        raise InputError(
            f"{name} has {shape[1]} features but the source has {n_features}")


def _as_label_array(y, name, n, xname):
    if y is None:
        raise InputError(f"{name} is required")
    arr = np.asarray(y)
    if arr.ndim == 2 and 1 in arr.shape:
        arr = arr.ravel()
    if arr.ndim != 1:
        raise InputError(f"{name} must be 1-D (n_samples,), got shape {arr.shape}")
    if arr.shape[0] != n:
        raise InputError(f"{name} has {arr.shape[0]} labels but {xname} has {n} samples")
    return arr


def _is_missing(arr):
    """Mask of unknown labels: NaN or None."""
    if arr.dtype.kind == "f":
        return np.isnan(arr)
    if arr.dtype == object:
        return np.array([v is None or (isinstance(v, float) and np.isnan(v)) for v in arr],
                        dtype=bool)
    return np.zeros(arr.shape, dtype=bool)


def _unique(values, name):
    try:
        return np.unique(values)
    except TypeError:
        raise InputError(f"{name} mixes label types (e.g. numbers and strings)") from None


def _canonical_labels(arr):
    """Integral floats (1.0, 2.0) become ints so they match integer labels."""
    if arr.dtype.kind == "f" and arr.size and np.all(arr == np.round(arr)):
        return arr.astype(np.int64)
    if arr.dtype.kind == "b":
        return arr.astype(np.int64)
    return arr


@dataclass
class FitData:
    """Validated training data; labels are codes 0..n_classes-1 (-1: unknown)."""

    Xs: object  # one matrix, or a list of them for multi-source methods
    ys: object  # codes, or a list of code arrays
    Xt: object
    yt: Optional[np.ndarray]
    classes: np.ndarray
    n_features: int
    sparse: bool


def check_fit_input(Xs, ys, Xt, yt=None, *, sparse_ok=True, multi_source=False,
                    needs_target_labels=False, method=None) -> FitData:
    """Validate the arguments of ``fit(Xs, ys, Xt, yt)`` and encode the labels."""
    many = isinstance(Xs, (list, tuple))
    if many:
        if not isinstance(ys, (list, tuple)) or len(ys) != len(Xs):
            raise InputError("ys must be a list with one label vector per source domain "
                             "when Xs is a list")
        if len(Xs) == 0:
            raise InputError("Xs is an empty list: give at least one source domain")
        Xs_list = [check_array(X, f"Xs[{i}]", sparse_ok=sparse_ok, method=method)
                   for i, X in enumerate(Xs)]
        d = Xs_list[0].shape[1]
        for i, X in enumerate(Xs_list[1:], 1):
            if X.shape[1] != d:
                raise InputError(f"Xs[{i}] has {X.shape[1]} features but Xs[0] has {d}")
        ys_list = [_as_label_array(y, f"ys[{i}]", X.shape[0], f"Xs[{i}]")
                   for i, (X, y) in enumerate(zip(Xs_list, ys))]
        names = [f"ys[{i}]" for i in range(len(ys_list))]
    else:
        Xs_list = [check_array(Xs, "Xs", sparse_ok=sparse_ok, method=method)]
        d = Xs_list[0].shape[1]
        ys_list = [_as_label_array(ys, "ys", Xs_list[0].shape[0], "Xs")]
        names = ["ys"]
    ys_list = [_canonical_labels(y) for y in ys_list]
    for y, nm in zip(ys_list, names):
        if _is_missing(y).any():
            raise InputError(f"{nm} contains missing labels (NaN or None); "
                             "every source sample must be labelled")
        if len(_unique(y, nm)) < 2:
            raise InputError(f"{nm} has a single class; a source domain needs at least two")
    classes = _unique(np.concatenate([np.asarray(y, dtype=object) if y.dtype == object else y
                                      for y in ys_list]) if len(ys_list) > 1 else ys_list[0],
                      "ys")
    codes = [np.searchsorted(classes, y).astype(np.intp) for y in ys_list]

    Xt = check_array(Xt, "Xt", sparse_ok=sparse_ok, n_features=d, method=method)
    yt_codes = None
    if yt is not None:
        arr = _canonical_labels(_as_label_array(yt, "yt", Xt.shape[0], "Xt"))
        unknown = _is_missing(arr)
        if not np.any(classes == -1) and arr.dtype.kind in "iuf":
            unknown |= (arr == -1)
        known = arr[~unknown]
        if known.dtype == object and known.size:
            known = _canonical_labels(np.asarray(known.tolist()))
        yt_codes = np.full(arr.shape[0], -1, dtype=np.intp)
        if known.size:
            try:
                known_canon = known.astype(classes.dtype) if classes.dtype.kind in "iuf" \
                    and known.dtype.kind in "iuf" else known
                pos = np.searchsorted(classes, known_canon)
                pos = np.clip(pos, 0, len(classes) - 1)
                ok = classes[pos] == known_canon
            except TypeError:
                ok = np.zeros(known.shape, dtype=bool)
                pos = None
            if not np.all(ok):
                bad = known[~ok][0]
                raise InputError(f"yt contains label {_show(bad)}, which no source sample has "
                                 f"(source classes: {', '.join(map(str, classes))})")
            yt_codes[~unknown] = pos
    if needs_target_labels and (yt_codes is None or not np.any(yt_codes >= 0)):
        raise InputError(f"yt: method {method!r} needs some labelled target samples "
                         "(give yt with labels, NaN or -1 where unknown)")

    sparse = any(sp.issparse(X) for X in Xs_list + [Xt])
    if many and not multi_source:
        if len(Xs_list) > 1:
            warnings.warn(f"method {method!r} is single-source: pooling the "
                          f"{len(Xs_list)} source domains into one", PoolingWarning,
                          stacklevel=3)
        Xs_out = check_array(stack_rows(*Xs_list), "Xs", sparse_ok=True)
        ys_out = np.concatenate(codes)
    elif multi_source:
        Xs_out, ys_out = Xs_list, codes
    else:
        Xs_out, ys_out = Xs_list[0], codes[0]
    return FitData(Xs_out, ys_out, Xt, yt_codes, classes, d, sparse)


def _show(value):
    """A label as the user wrote it (no numpy scalar repr)."""
    return repr(value.item() if isinstance(value, np.generic) else value)
