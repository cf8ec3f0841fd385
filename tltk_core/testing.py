"""Conformance suite for tltk methods (compare scikit-learn's check_estimator).

In a plugin's tests::

    from tltk_core.testing import check_method
    from tltk_mymethod import MyMethod

    def test_conformance():
        check_method(MyMethod)

or one test per check, so failures are reported separately::

    import pytest
    from tltk_core.testing import method_checks

    @pytest.mark.parametrize("check", method_checks(MyMethod), ids=lambda c: c.__name__)
    def test_conformance(check):
        check()

``params`` (e.g. fewer epochs) are passed to the constructor in every check.
The data are small synthetic count-like domains (non-negative, so
factorisation and text methods can take them too) with a shift between source
and target.
"""
from __future__ import annotations

import functools
import inspect
import warnings

import numpy as np
import scipy.sparse as sp

from .errors import InputError
from .info import MethodInfo
from .validation import DensifyWarning, PoolingWarning


def make_domains(n_classes=2, n_source=80, n_target=60, n_features=8, shift=0.6,
                 random_state=0):
    """Synthetic source and target domains with a feature shift.

    Each class has its own non-negative feature profile; the target perturbs
    the profiles by ``shift``. Returns ``Xs, ys, Xt, yt`` (dense float64).
    """
    rng = np.random.RandomState(random_state)
    profiles = rng.gamma(2.0, 1.0, size=(n_classes, n_features))
    for c in range(n_classes):  # make every class recognisable
        profiles[c, c % n_features] += 4.0
    drift = rng.gamma(2.0, shift, size=n_features)

    def sample(n, prof):
        y = np.arange(n) % n_classes
        rng.shuffle(y)
        return rng.poisson(prof[y]).astype(np.float64), y

    Xs, ys = sample(n_source, profiles)
    Xt, yt = sample(n_target, profiles + drift)
    return Xs, ys, Xt, yt


def _partial_labels(yt, cls, fraction=0.3, random_state=0):
    """Target labels with most entries hidden (-1), at least one per class."""
    if "few-labels" not in cls.info.settings:
        return None
    rng = np.random.RandomState(random_state)
    out = np.full(yt.shape, -1, dtype=np.int64)
    for c in np.unique(yt):
        idx = np.flatnonzero(yt == c)
        k = max(2, int(fraction * idx.size))
        out[rng.choice(idx, size=min(k, idx.size), replace=False)] = c
    return out


def _hide_labels(yt_enc, labels):
    """Map an encoded partial label vector (-1 unknown) to ``labels`` (None unknown)."""
    if yt_enc is None:
        return None
    out = np.empty(yt_enc.shape, dtype=object)
    known = yt_enc >= 0
    out[known] = np.asarray(labels, dtype=object)[yt_enc[known]]
    out[~known] = None
    return out


class _Checks:
    def __init__(self, cls, params):
        self.cls = cls
        self.params = dict(params or {})

    def make(self, **extra):
        return self.cls(**{**self.params, **extra})

    def fit(self, est, Xs, ys, Xt, yt=None):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DensifyWarning)
            warnings.simplefilter("ignore", PoolingWarning)
            return est.fit(Xs, ys, Xt, yt)

    # -- the checks --------------------------------------------------------
    def check_info(self):
        info = getattr(self.cls, "info", None)
        assert isinstance(info, MethodInfo), f"{self.cls.__name__}.info must be a MethodInfo"
        assert info.summary.strip(), "info.summary is empty"
        assert "@" in info.reference, "info.reference must hold BibTeX"

    def check_params_round_trip(self):
        from sklearn.base import clone

        est = self.make()
        params = est.get_params(deep=False)
        sig = inspect.signature(self.cls.__init__)
        for name, p in sig.parameters.items():
            if name == "self":
                continue
            assert p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD), \
                "__init__ must not take *args or **kwargs"
            assert p.default is not p.empty, f"hyperparameter {name!r} has no default"
        assert set(params) == set(sig.parameters) - {"self"}, \
            "get_params() must return exactly the __init__ arguments"
        fitted_attrs = [a for a in vars(est) if a.endswith("_") and not a.startswith("_")]
        assert not fitted_attrs, f"__init__ sets fitted attributes {fitted_attrs}"
        twin = clone(est)
        assert twin.get_params(deep=False).keys() == params.keys()
        for k, v in params.items():
            w = twin.get_params(deep=False)[k]
            assert w is v or type(w) is type(v), f"clone changed hyperparameter {k!r}"
        est.set_params(**params)
        repr(est)

    def check_fit_predict(self):
        Xs, ys, Xt, yt = make_domains()
        est = self.make()
        assert self.fit(est, Xs, ys, Xt, _partial_labels(yt, self.cls)) is est, \
            "fit must return self"
        pred = est.predict(Xt)
        assert pred.shape == (Xt.shape[0],), f"predict returned shape {pred.shape}"
        assert set(np.unique(pred)) <= set(np.unique(ys)), \
            f"predict returned labels outside the source labels: {np.unique(pred)}"
        np.testing.assert_array_equal(est.classes_, np.unique(ys))
        assert est.n_features_in_ == Xs.shape[1]
        acc = est.score(Xt, yt)
        assert 0.0 <= acc <= 1.0

    def check_string_labels(self):
        Xs, ys, Xt, yt = make_domains()
        names = np.array(["neg", "pos"])
        yt_part = _hide_labels(_partial_labels(yt, self.cls), names)
        est = self.fit(self.make(), Xs, names[ys], Xt, yt_part)
        pred = est.predict(Xt)
        assert set(pred) <= {"neg", "pos"}, f"string labels came back as {set(pred)}"

    def check_multiclass(self):
        Xs, ys, Xt, yt = make_domains(n_classes=3, n_source=90, n_target=60)
        est = self.make()
        try:
            self.fit(est, Xs, ys, Xt, _partial_labels(yt, self.cls))
        except InputError as exc:  # a binary-only method must say so clearly
            assert "class" in str(exc), f"unclear error for three classes: {exc}"
            return
        pred = est.predict(Xt)
        assert set(np.unique(pred)) <= {0, 1, 2}

    def check_sparse_input(self):
        Xs, ys, Xt, yt = make_domains()
        est = self.make()
        Ss, St = sp.csr_matrix(Xs), sp.csr_matrix(Xt)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            est.fit(Ss, ys, St, _partial_labels(yt, self.cls))
            pred = est.predict(St)
        densified = any(issubclass(w.category, DensifyWarning) for w in caught)
        if self.cls.info.sparse:
            assert not densified, "info.sparse is True but sparse input was densified"
        else:
            assert densified, "sparse input to a dense method must warn (DensifyWarning)"
        assert pred.shape == (Xt.shape[0],)
        if hasattr(est, "transform"):
            est.transform(St[:5])

    def check_inputs_not_modified(self):
        Xs, ys, Xt, yt = make_domains()
        ytp = _partial_labels(yt, self.cls)
        copies = [a.copy() for a in (Xs, ys, Xt)] + [None if ytp is None else ytp.copy()]
        est = self.fit(self.make(), Xs, ys, Xt, ytp)
        est.predict(Xt)
        for name, a, b in zip(("Xs", "ys", "Xt", "yt"), (Xs, ys, Xt, ytp), copies):
            if a is not None:
                np.testing.assert_array_equal(a, b, err_msg=f"fit/predict modified {name}")
        Ss = sp.csr_matrix(Xs)
        data = Ss.data.copy()
        self.fit(self.make(), Ss, ys, sp.csr_matrix(Xt), ytp)
        np.testing.assert_array_equal(Ss.data, data, err_msg="fit modified sparse Xs")

    def check_deterministic(self):
        Xs, ys, Xt, yt = make_domains()
        ytp = _partial_labels(yt, self.cls)
        extra = {"random_state": 0} if "random_state" in self.make().get_params() else {}
        p1 = self.fit(self.make(**extra), Xs, ys, Xt, ytp).predict(Xt)
        p2 = self.fit(self.make(**extra), Xs, ys, Xt, ytp).predict(Xt)
        np.testing.assert_array_equal(p1, p2, err_msg="two fits with the same "
                                      "random_state gave different predictions")

    def check_predict_proba(self):
        Xs, ys, Xt, yt = make_domains()
        est = self.fit(self.make(), Xs, ys, Xt, _partial_labels(yt, self.cls))
        if not hasattr(est, "predict_proba"):
            return
        P = est.predict_proba(Xt)
        assert P.shape == (Xt.shape[0], 2), f"predict_proba returned shape {P.shape}"
        assert np.all(P >= -1e-12) and np.allclose(P.sum(axis=1), 1.0), \
            "predict_proba rows must be probabilities summing to 1"

    def check_transform(self):
        Xs, ys, Xt, yt = make_domains()
        est = self.fit(self.make(), Xs, ys, Xt, _partial_labels(yt, self.cls))
        if not hasattr(est, "transform"):
            return
        Z = est.transform(Xt[:7])
        assert Z.shape[0] == 7, "transform must return one row per sample"

    def check_bad_input(self):
        Xs, ys, Xt, yt = make_domains()
        ytp = _partial_labels(yt, self.cls)
        cases = {
            "Xs": lambda: (np.where(np.arange(Xs.size).reshape(Xs.shape) == 3, np.nan, Xs),
                           ys, Xt, ytp),
            "Xt": lambda: (Xs, ys, Xt[:, :-1], ytp),
            "ys": lambda: (Xs, np.zeros_like(ys), Xt, ytp),
            "yt": lambda: (Xs, ys, Xt, np.zeros(Xt.shape[0] + 3)),
        }
        empty = (Xs, ys, Xt[:0], None)
        for name, build in list(cases.items()) + [("Xt", lambda: empty)]:
            try:
                self.fit(self.make(), *build())
            except InputError as exc:
                assert name in str(exc), f"the error for bad {name} does not name it: {exc}"
            else:
                raise AssertionError(f"bad {name} was accepted without an InputError")
        est = self.fit(self.make(), Xs, ys, Xt, ytp)
        try:
            est.predict(Xt[:, :-1])
        except InputError as exc:
            assert "X" in str(exc)
        else:
            raise AssertionError("predict accepted the wrong number of features")

    def check_sources_as_lists(self):
        Xs, ys, Xt, yt = make_domains(n_source=120)
        ytp = _partial_labels(yt, self.cls)
        halves = ([Xs[:60], Xs[60:]], [ys[:60], ys[60:]])
        est = self.make()
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            est.fit(*halves, Xt, ytp)
        pooled = any(issubclass(w.category, PoolingWarning) for w in caught)
        if self.cls.info.multi_source:
            assert not pooled, "a multi-source method must not pool its sources"
        else:
            assert pooled, "a single-source method given lists must pool with a warning"
        assert est.predict(Xt).shape == (Xt.shape[0],)


HEAVY_MODULES = ("sklearn", "scipy", "torch", "pandas", "matplotlib")


def check_light_import(module):
    """Importing plugin module ``module`` and listing methods and datasets must not
    import a heavy library: ``tltk list`` imports every plugin's entry point.
    Runs in a fresh interpreter; raises AssertionError naming what was imported."""
    import subprocess
    import sys

    code = (f"import sys, importlib; importlib.import_module({module!r}); "
            "import tltk_core; tltk_core.methods(); tltk_core.datasets(); "
            f"print(','.join(m for m in {HEAVY_MODULES!r} if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.returncode == 0, f"importing {module} failed: {out.stderr.strip()[-500:]}"
    heavy = out.stdout.strip()
    assert not heavy, f"importing {module} (and listing) imported {heavy}"


def data_file(*parts):
    """Path of a benchmark file under :func:`tltk_core.data.data_home`.

    Skips the calling pytest test when the file is absent, so tests on real
    data run where the data are and skip elsewhere.
    """
    from .data import data_home

    path = data_home().joinpath(*parts)
    if not path.exists():
        import pytest

        pytest.skip(f"real data not found: {path} (set TLTK_DATA)")
    return path


CHECKS = [name for name in vars(_Checks) if name.startswith("check_")]


def method_checks(cls, params=None):
    """The conformance checks for ``cls`` as a list of zero-argument callables."""
    runner = _Checks(cls, params)
    out = []
    for name in CHECKS:
        fn = functools.partial(getattr(runner, name))
        fn.__name__ = name
        out.append(fn)
    return out


def check_method(cls, params=None):
    """Run every conformance check on method class ``cls``; raise on the first failure."""
    for check in method_checks(cls, params):
        try:
            check()
        except AssertionError as exc:
            raise AssertionError(f"{cls.__name__} fails {check.__name__}: {exc}") from exc
