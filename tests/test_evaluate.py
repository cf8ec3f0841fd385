"""Which no-transfer classifier a run reports, and what a protocol may set."""
import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.neighbors import KNeighborsClassifier

from tltk_core import MethodInfo, Protocol, TransferMethod
from tltk_core.evaluate import _baseline
from tltk_core.registry import get_registry

PROTOCOL = Protocol(preprocessing="none", classifier="1-NN",
                    make_classifier="sklearn.neighbors:KNeighborsClassifier")


class WithFinal(TransferMethod):
    info = MethodInfo("withfinal", "feature", summary="s", reference="r")

    def __init__(self, estimator=None):
        self.estimator = estimator

    def _fit(self, Xs, ys, Xt, yt):
        self.est_ = self._make_estimator().fit(Xs, ys)

    def _predict(self, X):
        return self.est_.predict(X)


class Initialised(WithFinal):
    """A concept-style method: its classifier only initialises it."""
    info = MethodInfo("initialised", "concept", summary="s", reference="r")
    _estimator_param = "init_estimator"

    def __init__(self, init_estimator=None):
        self.init_estimator = init_estimator


def test_a_protocol_sets_the_final_classifier_not_an_initialiser():
    assert isinstance(PROTOCOL.params_for("withfinal", WithFinal._get_param_names())
                      ["estimator"], KNeighborsClassifier)
    assert PROTOCOL.params_for("initialised", Initialised._get_param_names()) == {}


def test_baseline_is_the_final_classifier_or_else_the_protocols():
    est = WithFinal(estimator=KNeighborsClassifier(3))
    assert isinstance(_baseline(est, WithFinal, PROTOCOL), KNeighborsClassifier)
    init = Initialised()
    assert isinstance(_baseline(init, Initialised, PROTOCOL), KNeighborsClassifier)
    assert isinstance(_baseline(init, Initialised, None), LogisticRegression)


def test_initialiser_is_used_and_checked_under_its_own_name():
    import pytest

    from tltk_core import InputError
    from tltk_core.testing import make_domains

    Xs, ys, Xt, _ = make_domains()
    m = Initialised(init_estimator=KNeighborsClassifier(1)).fit(Xs, ys, Xt)
    assert isinstance(m.est_, KNeighborsClassifier)
    with pytest.raises(InputError, match="init_estimator must be a scikit-learn classifier"):
        Initialised(init_estimator="lr").fit(Xs, ys, Xt)
    assert np.all(np.isin(m.predict(Xt), ys))


def test_installed_methods_name_their_classifier_consistently():
    """A method's classifier parameter exists under the name the core reads."""
    for entry in get_registry().entries():
        if entry.status != "ok":
            continue
        cls = entry.load_class()
        name = cls._estimator_param
        params = cls._get_param_names()
        assert name == "estimator" or name in params, entry.name
        if entry.info.family == "concept":
            assert "estimator" not in params, (
                f"{entry.name}: a concept method's classifier initialises it and must not "
                "be named 'estimator' (a protocol would replace it)")
