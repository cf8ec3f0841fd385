"""The method protocol: :class:`TransferMethod`.

A method subclasses ``TransferMethod``, sets the class attribute ``info`` to a
:class:`~tltk_core.MethodInfo`, takes its hyperparameters as keyword arguments
of ``__init__`` (stored unchanged, no work done there) and implements

- ``_fit(Xs, ys, Xt, yt)`` — inputs already validated: matrices are read-only
  float64 arrays or CSR matrices (or lists of them for multi-source methods),
  labels are integer codes ``0..n_classes-1`` (``yt`` is ``None`` or holds
  ``-1`` for unknown target labels);
- ``_predict(X)`` returning integer codes;

and, where the method has them, ``_predict_proba``, ``_decision_function`` and
``_transform``. The public ``fit``, ``predict``, ``predict_proba``,
``decision_function``, ``transform`` and ``score`` validate the input once,
translate labels to and from the caller's labels (strings work) and exist
only when the private counterpart does.
"""
from __future__ import annotations

import numbers

import numpy as np
from sklearn.base import BaseEstimator, clone
from sklearn.utils.metaestimators import available_if
from sklearn.utils.validation import check_is_fitted

from .errors import InputError
from .info import MethodInfo
from .validation import check_array, check_fit_input


def _has(name):
    return lambda self: hasattr(self, name)


def _has_proba(self):
    """``_predict_proba``, or a feature method whose final classifier (fitted,
    else the one it will fit) has ``predict_proba``."""
    if hasattr(self, "_predict_proba"):
        return True
    if not getattr(self, "_classifies_features", False):
        return False
    est = getattr(self, "estimator_", None)
    if est is None:
        try:
            est = self._make_estimator()
        except Exception:  # an invalid estimator: fit() will say so
            return False
    return hasattr(est, "predict_proba")


_PROBA_CHUNK = 2048  # rows per call: some representations are wide (mSDA)


class TransferMethod(BaseEstimator):
    """Base class of every tltk method (a scikit-learn estimator)."""

    info: MethodInfo = None

    #: True for a method whose predictions are its final classifier
    #: ``estimator_`` applied to ``_transform(X)`` (the feature methods): it then
    #: offers ``predict_proba`` exactly when that classifier does
    _classifies_features = False

    # -- public API ------------------------------------------------------
    def fit(self, Xs, ys, Xt, yt=None):
        """Learn from labelled source ``(Xs, ys)`` and target ``Xt``.

        ``yt`` optionally gives target labels, NaN/None/-1 where unknown.
        Multi-source methods take ``Xs`` and ``ys`` as lists; single-source
        methods given lists pool them (with a warning).
        """
        info = self._info()
        self._check_estimator()
        self._check_params()
        data = check_fit_input(
            Xs, ys, Xt, yt, sparse_ok=info.sparse, multi_source=info.multi_source,
            needs_target_labels=info.needs_target_labels, method=info.name)
        self.classes_ = data.classes
        self.n_features_in_ = data.n_features
        self._fit(data.Xs, data.ys, data.Xt, data.yt)
        return self

    def predict(self, X):
        """Predicted labels (in the caller's label values) for samples ``X``."""
        codes = np.asarray(self._predict(self._check_X(X)))
        return self.classes_[codes]

    @available_if(_has_proba)
    def predict_proba(self, X):
        """Class probabilities, one column per entry of ``classes_``.

        A feature method (``_classifies_features``) has it exactly when its
        final classifier does: the classifier's probabilities on the learnt
        representation.
        """
        X = self._check_X(X)
        if hasattr(self, "_predict_proba"):
            return self._predict_proba(X)
        # estimator_ was fitted on the source codes 0..k-1, every class present:
        # its columns are those of classes_
        parts = [np.asarray(self.estimator_.predict_proba(self._transform(X[i:i + _PROBA_CHUNK])),
                            dtype=np.float64)
                 for i in range(0, X.shape[0], _PROBA_CHUNK)]
        return np.concatenate(parts) if parts else np.zeros((0, len(self.classes_)))

    @available_if(_has("_decision_function"))
    def decision_function(self, X):
        """Confidence scores of the final classifier."""
        return self._decision_function(self._check_X(X))

    @available_if(_has("_transform"))
    def transform(self, X):
        """The learnt representation of samples ``X`` (either domain)."""
        return self._transform(self._check_X(X))

    def score(self, X, y):
        """Accuracy of ``predict(X)`` against ``y``."""
        y = np.asarray(y)
        if y.ndim != 1 or y.shape[0] != np.shape(X)[0]:
            raise InputError(f"y must be 1-D with one label per row of X; got shape {y.shape}")
        return float(np.mean(self.predict(X) == y))

    def baseline_estimator(self):
        """The method's final classifier, unfitted: what no transfer would use.

        ``tltk run`` trains it on the source alone to report the honest
        no-transfer baseline beside the method.
        """
        return self._make_estimator()

    # -- helpers for subclasses -----------------------------------------
    def _default_estimator(self):
        """The final classifier used when ``estimator`` is None."""
        from sklearn.linear_model import LogisticRegression

        return LogisticRegression(max_iter=1000)

    #: the hyperparameter holding the method's classifier. "estimator" is the final
    #: classifier that a benchmark protocol may set; a method whose classifier only
    #: initialises it (the concept methods) names it differently, so that no
    #: protocol replaces it
    _estimator_param = "estimator"

    def _make_estimator(self):
        est = getattr(self, self._estimator_param, None)
        return clone(est) if est is not None else self._default_estimator()

    def _check_params(self):
        """Validate hyperparameters; raise InputError naming the bad one."""

    def _check_estimator(self):
        name = self._estimator_param
        est = getattr(self, name, None)
        if est is not None and not (hasattr(est, "fit") and hasattr(est, "predict")
                                    and hasattr(est, "get_params")):
            raise InputError(f"{name} must be a scikit-learn classifier (with fit, "
                             f"predict and get_params) or None; got {est!r}")

    def _check_X(self, X, name="X"):
        check_is_fitted(self, "classes_")
        return check_array(X, name, sparse_ok=self._info().sparse,
                           n_features=self.n_features_in_, method=self._info().name)

    @classmethod
    def _info(cls) -> MethodInfo:
        if not isinstance(cls.info, MethodInfo):
            raise TypeError(f"{cls.__name__}.info must be a MethodInfo")
        return cls.info

    def _fit(self, Xs, ys, Xt, yt):  # pragma: no cover - abstract
        raise NotImplementedError(f"{type(self).__name__} must implement _fit")

    def _predict(self, X):  # pragma: no cover - abstract
        raise NotImplementedError(f"{type(self).__name__} must implement _predict")


def check_widths(hidden, name="hidden"):
    """Layer widths given as one positive integer or a non-empty sequence of them;
    returns them as a tuple, or raises one :class:`InputError` naming ``name``."""
    import numbers

    def is_int(v):
        return isinstance(v, numbers.Integral) and not isinstance(v, bool)

    if is_int(hidden):
        widths = (hidden,)
    else:
        try:
            widths = tuple(hidden)
        except TypeError:
            widths = ()
        if not widths or not all(is_int(v) for v in widths):
            raise InputError(f"{name} must be a positive integer or a non-empty tuple of "
                             f"them; got {hidden!r}")
    for v in widths:
        check_param(v, name, kind=int, low=1)
    return widths


def check_param(value, name, *, kind=None, low=None, high=None, choices=None,
                allow_none=False, low_inclusive=True):
    """Raise :class:`InputError` naming ``name`` unless ``value`` is acceptable."""
    if value is None and allow_none:
        return
    if choices is not None:
        if value not in choices:
            raise InputError(f"{name} must be one of {', '.join(map(repr, choices))}; "
                             f"got {value!r}")
        return
    if kind is not None:
        kinds = kind if isinstance(kind, tuple) else (kind,)
        kinds = tuple(numbers.Integral if k is int else numbers.Real if k is float else k
                      for k in kinds)
        ok = isinstance(value, kinds) and not (isinstance(value, bool) and bool not in kinds)
        if not ok:
            names = " or ".join({"Integral": "an integer", "Real": "a number"}.get(
                k.__name__, k.__name__) for k in kinds)
            raise InputError(f"{name} must be {names}; got {value!r}")
    if low is not None and (value < low or (not low_inclusive and value == low)):
        sign = ">=" if low_inclusive else ">"
        raise InputError(f"{name} must be {sign} {low}; got {value!r}")
    if high is not None and value > high:
        raise InputError(f"{name} must be <= {high}; got {value!r}")
