"""The no-transfer method: conformance, what it fits, that it ignores the target."""
import numpy as np
import pytest
from sklearn.neighbors import KNeighborsClassifier

from tltk_core.baselines import strong_baseline_estimator
from tltk_core.testing import check_light_import, make_domains, method_checks
from tltk_source_only import SourceOnly


@pytest.mark.parametrize("check", method_checks(SourceOnly), ids=lambda c: c.__name__)
def test_conformance(check):
    check()


def test_registered_light_and_listed_as_a_baseline():
    from tltk_core import get_method
    from tltk_core.registry import get_registry

    assert get_method("source-only") is SourceOnly
    check_light_import("tltk_source_only")
    entry = get_registry().get("source-only")
    assert entry.info.family == "baseline" and entry.info.multi_source


def test_default_is_the_strong_baseline_and_ignores_the_target():
    Xs, ys, Xt, yt = make_domains(n_source=120, random_state=5)
    est = SourceOnly().fit(Xs, ys, Xt)
    ref = strong_baseline_estimator().fit(Xs, ys)
    np.testing.assert_array_equal(est.predict(Xt), ref.predict(Xt))
    assert est.estimator_.best_params_ == ref.best_params_
    other = SourceOnly().fit(Xs, ys, Xt[::-1] * 3.0)          # a different target
    np.testing.assert_array_equal(other.predict(Xt), est.predict(Xt))
    np.testing.assert_array_equal(est.transform(Xt), Xt)


def test_several_sources_are_pooled_without_a_warning():
    import warnings

    Xs, ys, Xt, yt = make_domains(n_source=120, random_state=6)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        est = SourceOnly(classifier=KNeighborsClassifier(1)).fit([Xs[:50], Xs[50:]],
                                                                [ys[:50], ys[50:]], Xt)
    ref = KNeighborsClassifier(1).fit(Xs, ys)
    np.testing.assert_array_equal(est.predict(Xt), ref.predict(Xt))
    assert isinstance(est.estimator_, KNeighborsClassifier)


def test_a_protocol_classifier_does_not_weaken_it():
    """Benchmark protocols set ``estimator`` (e.g. 1-NN) for every method; the
    no-transfer candidate keeps its cross-validated classifier."""
    from tltk_core import InputError

    assert "estimator" not in SourceOnly._get_param_names()
    with pytest.raises(InputError, match="classifier must be"):
        SourceOnly(classifier="knn").fit(*make_domains()[:3])


def test_probabilities_only_when_the_classifier_has_them():
    from sklearn.svm import LinearSVC

    Xs, ys, Xt, yt = make_domains(random_state=7)
    assert not hasattr(SourceOnly(classifier=LinearSVC()), "predict_proba")
    est = SourceOnly().fit(Xs, ys, Xt)
    P = est.predict_proba(Xt)
    np.testing.assert_allclose(P.sum(axis=1), 1.0)
    np.testing.assert_array_equal(est.classes_[P.argmax(axis=1)], est.predict(Xt))
