"""Reading the user's own source and target files.

Formats, chosen by extension:

- CSV / TSV (``.csv``, ``.tsv``, ``.txt``): one sample per row, the last column is
  the label (numbers or strings); a header line is detected and skipped.
- NPZ (``.npz``): arrays ``X`` and ``y`` (``y`` optional for a target), or a
  sparse matrix written by ``scipy.sparse.save_npz``, with its labels in a
  ``y`` array of the same file or in a sibling ``<name>.labels.npy`` /
  ``<name>.labels.txt``. Never unpickled.
- svmlight / libsvm (``.svm``, ``.svmlight``, ``.libsvm``): loaded together so
  that every file gets the same feature count and index base; sparse indices
  come back as int32.
- MATLAB (``.mat``, v5/v7): the first present key pair among ``X``/``y``,
  ``fts``/``labels``, ``features``/``labels`` (any case), or keys named by the
  caller.

Every problem is one :class:`~tltk_core.InputError` naming the file.
"""
from __future__ import annotations

import csv
import os
from pathlib import Path

from .errors import InputError

SVMLIGHT_EXT = (".svm", ".svmlight", ".libsvm")
CSV_EXT = (".csv", ".tsv", ".txt")
MAT_KEY_PAIRS = (("x", "y"), ("fts", "labels"), ("features", "labels"), ("data", "labels"))


def _fail(path, what):
    return InputError(f"{path}: {what}")


def _check_exists(path):
    p = Path(path)
    if not p.exists():
        raise _fail(path, "no such file")
    if p.is_dir():
        raise _fail(path, "is a directory, expected a file")
    if p.stat().st_size == 0:
        raise _fail(path, "file is empty")
    return p


def _labels_from_strings(values):
    import numpy as np

    arr = np.asarray(values, dtype=str)
    try:
        num = arr.astype(np.float64)
    except ValueError:
        return arr
    return num.astype(np.int64) if np.all(num == np.round(num)) else num


def read_csv(path):
    import numpy as np

    p = _check_exists(path)
    with open(p, newline="", encoding="utf-8", errors="replace") as f:
        first = f.readline()
    delimiter = "\t" if (p.suffix == ".tsv" or ("\t" in first and "," not in first)) else ","
    fields = next(csv.reader([first], delimiter=delimiter))
    if len(fields) < 2:
        raise _fail(path, "expected at least two columns (features, then the label)")

    def numeric(s):
        try:
            float(s)
            return True
        except ValueError:
            return False

    header = not all(numeric(s) for s in fields[:-1])
    try:
        with open(p, newline="", encoding="utf-8", errors="replace") as f:
            rows = [r for r in csv.reader(f, delimiter=delimiter) if r]
    except csv.Error as exc:
        raise _fail(path, f"not a valid CSV file ({exc})") from None
    if header:
        rows = rows[1:]
    if not rows:
        raise _fail(path, "has a header but no data rows")
    width = len(fields)
    for i, r in enumerate(rows, 2 if header else 1):
        if len(r) != width:
            raise _fail(path, f"line {i} has {len(r)} columns, expected {width} "
                              "(truncated or ragged file?)")
    try:
        X = np.array([r[:-1] for r in rows], dtype=np.float64)
    except ValueError as exc:
        raise _fail(path, f"non-numeric feature value ({exc})") from None
    y = _labels_from_strings([r[-1].strip() for r in rows])
    return X, y


def _sibling_labels(p):
    import numpy as np

    stem = p.with_suffix("")
    for cand in (Path(f"{stem}.labels.npy"), Path(f"{stem}.labels.txt")):
        if cand.exists():
            try:
                if cand.suffix == ".npy":
                    return np.load(cand, allow_pickle=False)
                return _labels_from_strings(cand.read_text().split())
            except Exception as exc:
                raise _fail(cand, f"cannot read labels ({exc})") from None
    return None


def read_npz(path):
    import numpy as np
    import scipy.sparse as sp

    p = _check_exists(path)
    try:
        with np.load(p, allow_pickle=False) as f:
            keys = set(f.files)
            if {"format", "shape", "data"} <= keys:
                X = sp.load_npz(p)
                y = f["y"] if "y" in keys else _sibling_labels(p)
            elif "X" in keys:
                X = f["X"]
                y = f["y"] if "y" in keys else _sibling_labels(p)
            else:
                raise _fail(path, f"expected arrays 'X' and 'y' (or a scipy.sparse "
                                  f"save_npz matrix); found {', '.join(sorted(keys)) or 'none'}")
    except InputError:
        raise
    except ValueError as exc:
        if "pickle" in str(exc).lower():
            raise _fail(path, "holds pickled objects, which tltk never loads") from None
        raise _fail(path, f"not a readable NPZ file ({exc})") from None
    except Exception as exc:
        raise _fail(path, f"not a readable NPZ file ({type(exc).__name__}: {exc})") from None
    return X, (None if y is None else np.asarray(y).ravel())


def read_mat(path, keys=None):
    import numpy as np
    import scipy.io

    p = _check_exists(path)
    try:
        data = scipy.io.loadmat(p)
    except NotImplementedError:
        raise _fail(path, "MATLAB v7.3 (HDF5) files are not supported; save with "
                          "save(..., '-v7')") from None
    except Exception as exc:
        raise _fail(path, f"not a readable MATLAB file ({type(exc).__name__}: {exc})") from None
    names = {k.lower(): k for k in data if not k.startswith("__")}
    if keys:
        fx, fy = (list(keys) + [None])[:2]
        if fx not in data:
            raise _fail(path, f"has no variable {fx!r} (found {', '.join(sorted(names.values()))})")
        if fy is not None and fy not in data:
            raise _fail(path, f"has no variable {fy!r} (found {', '.join(sorted(names.values()))})")
    else:
        for a, b in MAT_KEY_PAIRS:
            if a in names:
                fx, fy = names[a], names.get(b)
                break
        else:
            raise _fail(path, "found none of the variable pairs X/y, fts/labels, "
                              f"features/labels (it has {', '.join(sorted(names.values()))}); "
                              "name them with --keys FEATURES,LABELS")
    X = data[fx]
    y = None if fy is None else np.asarray(data[fy]).ravel()
    if y is not None and y.dtype.kind == "U":
        y = np.char.strip(y)
    return X, y


def read_svmlight_files(paths):
    """Load svmlight files together: one feature count and index base for all."""
    import numpy as np
    import scipy.sparse as sp
    from sklearn.datasets import load_svmlight_files

    for p in paths:
        _check_exists(p)
    try:
        out = load_svmlight_files([str(p) for p in paths], dtype=np.float64)
    except Exception as exc:
        raise InputError(f"{', '.join(map(str, paths))}: not readable as svmlight "
                         f"({type(exc).__name__}: {exc})") from None
    result = []
    for X, y in zip(out[0::2], out[1::2]):
        X = sp.csr_matrix((X.data, X.indices.astype(np.int32), X.indptr.astype(np.int32)),
                          shape=X.shape)
        result.append((X, _canonical(y)))
    return result


def _canonical(y):
    import numpy as np

    y = np.asarray(y)
    if y.dtype.kind == "f" and np.all(y == np.round(y)):
        return y.astype(np.int64)
    return y


def load_files(paths, keys=None):
    """Read several files (sources then target) into ``[(X, y), ...]``.

    svmlight files are read together so they share one feature count; every
    other file must have the same number of features as the rest.
    """
    paths = [Path(os.fspath(p)) for p in paths]
    out = [None] * len(paths)
    svm = [i for i, p in enumerate(paths) if p.suffix.lower() in SVMLIGHT_EXT]
    if svm:
        for i, pair in zip(svm, read_svmlight_files([paths[i] for i in svm])):
            out[i] = pair
    for i, p in enumerate(paths):
        if out[i] is not None:
            continue
        ext = p.suffix.lower()
        if ext in CSV_EXT:
            out[i] = read_csv(p)
        elif ext == ".npz":
            out[i] = read_npz(p)
        elif ext == ".mat":
            out[i] = read_mat(p, keys)
        else:
            raise InputError(f"{p}: unknown file type {ext or '(none)'!r}; use .csv, .tsv, "
                             ".npz, .mat, .svm, .svmlight or .libsvm")
    for (X, y), p in zip(out, paths):
        if getattr(X, "ndim", 2) != 2:
            raise InputError(f"{p}: features must be a 2-D matrix, got shape {X.shape}")
        if y is not None and len(y) != X.shape[0]:
            raise InputError(f"{p}: {X.shape[0]} samples but {len(y)} labels")
        if X.shape[0] == 0:
            raise InputError(f"{p}: holds no samples")
    d = out[0][0].shape[1]
    for (X, _), p in zip(out[1:], paths[1:]):
        if X.shape[1] != d:
            raise InputError(f"{p}: has {X.shape[1]} features but {paths[0]} has {d}")
    return out
