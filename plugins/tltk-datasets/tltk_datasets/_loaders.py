"""Loaders of the file-based datasets, and the protocols' pieces.

Each loader is called by :func:`tltk_core.load_task` after the files were
found and their SHA-256 verified, as ``loader(info, task, sources, target,
root, **options)``, and returns a :class:`tltk_core.data.Task`.
"""
from __future__ import annotations

import json

import numpy as np

from tltk_core.data import Domain, Task, histogram_zscore
from tltk_core.io import read_mat, read_svmlight_files


# -- protocol pieces -----------------------------------------------------------
def histogram_zscore_each(domains):
    """Long et al. (ICCV 2013): each histogram to sum 1, each domain z-scored."""
    return [Domain(histogram_zscore(d.X), d.y, d.name) for d in domains]


def unit_rows_each(domains):
    """Each document vector scaled to unit L2 length (no labels used; sparse stays
    sparse). Without it the longest documents dominate kernels and scatter
    matrices: tf-idf row lengths in 20ng-sci-talk range from 0.7 to 1900."""
    from sklearn.preprocessing import normalize

    from tltk_core import as_csr32

    out = []
    for d in domains:
        X = normalize(d.X, norm="l2", copy=True)
        out.append(Domain(as_csr32(X) if hasattr(X, "tocsr") else X, d.y, d.name))
    return out


def one_nn():
    from sklearn.neighbors import KNeighborsClassifier

    return KNeighborsClassifier(n_neighbors=1)


def linear_svm():
    from sklearn.svm import LinearSVC

    return LinearSVC()


def logistic():
    from sklearn.linear_model import LogisticRegression

    return LogisticRegression(max_iter=1000)


# -- loaders -------------------------------------------------------------------
def _path(info, root, name):
    for f in info.files:
        if f.path.endswith("/" + name):
            return root / f.path
    raise KeyError(name)


def load_office(info, task, sources, target, root):
    from . import OFFICE_FILES

    doms = []
    for d in sources + [target]:
        X, y = read_mat(_path(info, root, OFFICE_FILES[d][0]), keys=("fts", "labels"))
        doms.append(Domain(np.asarray(X, dtype=np.float64), np.asarray(y).astype(np.int64), d))
    return Task(name=f"{info.name}:{task}", sources=doms[:-1], target=doms[-1],
                description=info.summary, reference=info.citation)


def load_20ng_sci_talk(info, task, sources, target, root):
    names = sources + [target]
    loaded = read_svmlight_files([_path(info, root, f"{d}.svm") for d in names])
    doms = [_with_features(Domain(X, y, d), info.n_features) for (X, y), d in zip(loaded, names)]
    return Task(name=f"{info.name}:{task}", sources=doms[:-1], target=doms[-1],
                description=info.summary, reference=info.citation)


def _with_features(dom, n_features):
    """Pad a CSR matrix to the dataset's vocabulary size (a file's largest index
    may be below it)."""
    import scipy.sparse as sp

    X = dom.X
    if X.shape[1] < n_features:
        X = sp.csr_matrix((X.data, X.indices, X.indptr), shape=(X.shape[0], n_features))
    elif X.shape[1] > n_features:
        raise ValueError(f"{dom.name}: {X.shape[1]} features, more than {n_features}")
    return Domain(X, dom.y, dom.name)


def load_amazon(info, task, sources, target, root):
    (s,), t = sources, target
    paths = [_path(info, root, f"{s}.svm"), _path(info, root, f"{t}.svm"),
             _path(info, root, f"{t}-test.svm")]
    (Xs, ys), (Xt, yt), (Xe, ye) = read_svmlight_files(paths)
    n = info.n_features
    src, tgt, ev = (_with_features(Domain(X, y, name), n) for X, y, name in
                    ((Xs, ys, s), (Xt, yt, t), (Xe, ye, f"{t}-test")))
    return Task(name=f"{info.name}:{task}", sources=[src], target=tgt, evaluation=ev,
                description=info.summary, reference=info.citation)


def load_reuters(info, task, sources, target, root):
    (Xs, ys), (Xt, yt) = read_svmlight_files([_path(info, root, f"{task}-source.svm"),
                                              _path(info, root, f"{task}-target.svm")])
    labels = json.loads(_path(info, root, "labels.json").read_text())
    names = labels.get(task)
    return Task(name=f"{info.name}:{task}",
                sources=[Domain(Xs, ys, f"{task}-source")],
                target=Domain(Xt, yt, f"{task}-target"),
                description=info.summary, reference=info.citation,
                extra={"class_names": names})
