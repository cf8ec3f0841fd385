"""The conformance suite, run over every installed plugin and on itself."""
import numpy as np
import pytest

from tltk_core import MethodInfo, TransferMethod
from tltk_core.registry import get_registry
from tltk_core.testing import CHECKS, check_method, method_checks

INSTALLED = [e for e in get_registry().entries() if e.status == "ok"]


def _plugin_modules():
    from importlib_metadata import entry_points

    return sorted({ep.value.split(":")[0] for ep in entry_points(group="tltk")})


@pytest.mark.parametrize("module", _plugin_modules())
def test_installed_plugin_imports_nothing_heavy(module):
    from tltk_core.testing import check_light_import

    check_light_import(module)


def test_light_import_check_catches_a_heavy_plugin(tmp_path, monkeypatch):
    from tltk_core.testing import check_light_import

    (tmp_path / "heavy_plugin_xyz.py").write_text("import scipy.sparse\n")
    monkeypatch.setenv("PYTHONPATH", str(tmp_path))
    with pytest.raises(AssertionError, match="imported scipy"):
        check_light_import("heavy_plugin_xyz")


def test_no_installed_plugin_is_broken():
    broken = [f"{e.name} ({e.distribution}): {e.error}" for e in get_registry().entries()
              if e.status != "ok"]
    assert not broken, "broken plugins: " + "; ".join(broken)


@pytest.mark.parametrize("entry,check", [(e, c) for e in INSTALLED for c in CHECKS],
                         ids=lambda v: getattr(v, "name", v))
def test_installed_method_conforms(entry, check):
    cls = entry.load_class()
    params = cls.info.extra.get("test_params")
    next(c for c in method_checks(cls, params) if c.__name__ == check)()


# -- the suite must catch what it claims to catch --------------------------------
class Good(TransferMethod):
    """Majority class of the source."""

    info = MethodInfo("good", "baseline", summary="majority", reference="@misc{x}", sparse=True)

    def __init__(self, flip=False):
        self.flip = flip

    def _fit(self, Xs, ys, Xt, yt):
        self.major_ = np.bincount(ys).argmax()

    def _predict(self, X):
        return np.full(X.shape[0], self.major_)


def test_good_method_passes():
    check_method(Good)


class WorkInInit(Good):
    def __init__(self, flip=False):
        self.flip = flip
        self.fitted_ = True


class MutatesInput(Good):
    def fit(self, Xs, ys, Xt, yt=None):
        np.asarray(Xt)[0, 0] += 1.0
        return super().fit(Xs, ys, Xt, yt)


class OutOfLabels(Good):
    def _predict(self, X):
        return np.full(X.shape[0], 0) + 0 * self.major_

    def predict(self, X):
        return np.full(np.shape(X)[0], 99)


class Random(Good):
    def __init__(self, random_state=None):
        self.random_state = random_state

    def _predict(self, X):
        return np.random.randint(0, 2, X.shape[0])


class ClaimsSparseButDensifies(Good):
    def _fit(self, Xs, ys, Xt, yt):
        from tltk_core import check_array

        super()._fit(check_array(Xs, "Xs", sparse_ok=False), ys, Xt, yt)


class NoReference(Good):
    info = MethodInfo("g", "baseline", summary="s", reference="")


@pytest.mark.parametrize("cls,check", [
    (WorkInInit, "check_params_round_trip"),
    (MutatesInput, "check_inputs_not_modified"),
    (OutOfLabels, "check_fit_predict"),
    (Random, "check_deterministic"),
    (ClaimsSparseButDensifies, "check_sparse_input"),
    (NoReference, "check_info"),
])
def test_suite_catches_defects(cls, check):
    fn = next(c for c in method_checks(cls) if c.__name__ == check)
    with pytest.raises(AssertionError):
        fn()
