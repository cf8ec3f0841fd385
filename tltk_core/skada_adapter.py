"""Use a tltk method through skada's ``sample_domain`` convention.

skada (scikit-learn domain adaptation) passes source and target rows stacked in
one ``X``, with ``sample_domain`` giving each row's domain: non-negative ids for
source domains, negative ids for the target, whose labels in ``y`` are masked
(-1 for classification). tltk methods take ``fit(Xs, ys, Xt)`` instead.
:class:`SkadaAdapter` translates, so a tltk method can sit at the end of a
``skada.make_da_pipeline``, of a scikit-learn ``Pipeline`` or inside
``GridSearchCV`` (with :class:`tltk_core.selection.DomainAwareSplit`, which
keeps target rows out of the validation folds).

skada is not a dependency: nothing here imports it. The adapter declares its
``sample_domain`` request with scikit-learn's metadata-routing class
attributes, which is all skada's pipeline needs.
"""
from __future__ import annotations

import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator, ClassifierMixin, clone
from sklearn.utils.metaestimators import available_if
from sklearn.utils.validation import check_is_fitted

from .errors import InputError
from .selection import _target_mask


def _method_has(name):
    def check(self):
        fitted = getattr(self, "method_", None)
        return hasattr(fitted if fitted is not None else self.method, name)
    return check


class SkadaAdapter(ClassifierMixin, BaseEstimator):
    """A tltk method behind ``fit(X, y, sample_domain=None)``.

    Parameters
    ----------
    method : TransferMethod
        An unfitted tltk method (``tltk_core.load("tca")``); it is cloned at fit
        time, and its hyperparameters are reachable as ``method__<name>``
        (``GridSearchCV`` grids, ``set_params``).

    In ``fit``, rows with ``sample_domain < 0`` form the target (their labels are
    never read); the others form the source. Without ``sample_domain``, rows whose
    label is masked (-1, NaN or None) are the target, as in skada. Several
    source domains are passed as a list to a multi-source method and pooled for
    the others; a single target domain is required.
    """

    __metadata_request__fit = {"sample_domain": True}
    __metadata_request__predict = {"sample_domain": True}
    __metadata_request__predict_proba = {"sample_domain": True}
    __metadata_request__decision_function = {"sample_domain": True}
    __metadata_request__score = {"sample_domain": True}

    def __init__(self, method=None):
        self.method = method

    def fit(self, X, y, sample_domain=None, **params):
        if self.method is None or not hasattr(self.method, "fit"):
            raise InputError(f"method must be a tltk method (tltk_core.load(name)); "
                             f"got {self.method!r}")
        n = X.shape[0] if hasattr(X, "shape") else len(X)
        y = np.asarray(y)
        if y.shape[0] != n:
            raise InputError(f"y must have one entry per row of X ({n}); got {y.shape[0]}")
        target = _target_mask(n, y=y, sample_domain=sample_domain)
        if not target.any():
            raise InputError("no target rows: mark them with sample_domain < 0 (or mask "
                             "their labels as -1)")
        if target.all():
            raise InputError("no source rows: sample_domain >= 0 marks labelled source rows")
        if sample_domain is not None:
            dom = np.asarray(sample_domain)
            if np.unique(dom[target]).size > 1:
                raise InputError("sample_domain marks several target domains; tltk methods "
                                 "adapt to one target at a time")
            src_ids = np.unique(dom[~target])
        else:
            dom, src_ids = None, np.array([0])
        X = sp.csr_matrix(X) if sp.issparse(X) else np.asarray(X)
        Xt = X[np.flatnonzero(target)]
        info = getattr(self.method, "info", None)
        if src_ids.size > 1 and info is not None and info.multi_source:
            rows = [np.flatnonzero(dom == d) for d in src_ids]
            Xs, ys = [X[r] for r in rows], [y[r] for r in rows]
        else:
            src = np.flatnonzero(~target)
            Xs, ys = X[src], y[src]
        self.method_ = clone(self.method).fit(Xs, ys, Xt)
        self.classes_ = self.method_.classes_
        self.n_features_in_ = self.method_.n_features_in_
        return self

    def predict(self, X, sample_domain=None, **params):
        """Labels of the rows of ``X`` (``sample_domain`` is accepted and ignored:
        the method predicts every row the same way)."""
        check_is_fitted(self, "method_")
        return self.method_.predict(X)

    @available_if(_method_has("predict_proba"))
    def predict_proba(self, X, sample_domain=None, **params):
        check_is_fitted(self, "method_")
        return self.method_.predict_proba(X)

    @available_if(_method_has("decision_function"))
    def decision_function(self, X, sample_domain=None, **params):
        check_is_fitted(self, "method_")
        return self.method_.decision_function(X)

    def score(self, X, y, sample_domain=None, sample_weight=None, **params):
        """Accuracy on the source rows of ``X``: rows with ``sample_domain < 0``
        are left out; without ``sample_domain`` every row counts (labels are
        taken as given, so a class called -1 is scored like any other)."""
        n = X.shape[0] if hasattr(X, "shape") else len(X)
        y = np.asarray(y)
        keep = (np.ones(n, dtype=bool) if sample_domain is None
                else ~_target_mask(n, sample_domain=sample_domain))
        if not keep.any():
            raise InputError("score needs labelled (source) rows; every row is target")
        rows = np.flatnonzero(keep)
        X = sp.csr_matrix(X)[rows] if sp.issparse(X) else np.asarray(X)[rows]
        pred = self.predict(X)
        right = np.asarray(pred == y[rows], dtype=float)
        if sample_weight is not None:
            return float(np.average(right, weights=np.asarray(sample_weight)[rows]))
        return float(right.mean())
