"""The strong no-transfer baseline and the loud checks on collapsed results."""
import warnings

import numpy as np
import pytest

from tltk_core.baselines import (SuspiciousResultWarning, check_predictions,
                                 describe_strong_baseline, strong_baseline_estimator)
from tltk_core.testing import make_domains


def test_strong_baseline_chooses_C_on_the_source_only():
    Xs, ys, Xt, yt = make_domains(n_source=150, random_state=3)
    est = strong_baseline_estimator().fit(Xs, ys)
    again = strong_baseline_estimator().fit(Xs, ys)
    assert est.best_params_ == again.best_params_                 # deterministic
    np.testing.assert_array_equal(est.predict(Xt), again.predict(Xt))
    assert est.best_params_["C"] in (0.01, 0.1, 1.0, 10.0, 100.0)
    assert "by 3-fold CV on the source" in describe_strong_baseline(est)
    # the choice is the C with the best source CV accuracy, whatever the target says
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import StratifiedKFold, cross_val_score

    cv = StratifiedKFold(3, shuffle=True, random_state=0)
    scores = {c: cross_val_score(LogisticRegression(C=c, max_iter=2000), Xs, ys, cv=cv).mean()
              for c in (0.01, 0.1, 1.0, 10.0, 100.0)}
    assert scores[est.best_params_["C"]] == max(scores.values())


def test_strong_baseline_takes_sparse_input():
    import scipy.sparse as sp

    Xs, ys, Xt, yt = make_domains(random_state=4)
    est = strong_baseline_estimator().fit(sp.csr_matrix(Xs), ys)
    assert est.predict(sp.csr_matrix(Xt)).shape == yt.shape


def test_collapse_on_a_balanced_target_warns():
    y = np.array([0, 1] * 50)
    with pytest.warns(SuspiciousResultWarning, match="predicts class 1 for 97% of the target"):
        check_predictions(np.r_[np.ones(97), np.zeros(3)].astype(int), 2, y)


def test_no_warning_when_the_target_itself_is_skewed_or_predictions_spread():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        skewed = np.r_[np.ones(98), np.zeros(2)].astype(int)
        assert check_predictions(np.ones(100, int), 2, skewed) is None
        assert check_predictions(np.array([0, 1] * 50), 2, np.array([0, 1] * 50)) is None
        assert check_predictions(np.array([0, 0, 1]), 2, None) is None


def test_without_labels_a_single_predicted_class_warns():
    with pytest.warns(SuspiciousResultWarning, match="single class 'a' for every target"):
        check_predictions(np.array(["a"] * 10), 3, None)


def test_not_converged_is_a_loud_suspicious_result():
    from tltk_core.baselines import NotConvergedWarning, warn_not_converged

    with pytest.warns(NotConvergedWarning, match="my solver did not converge .*raise max_iter"):
        warn_not_converged("my solver", "10 iterations")
    assert issubclass(NotConvergedWarning, SuspiciousResultWarning)


def test_a_ninety_three_percent_collapse_is_caught():
    """TriTL on Reuters orgs_vs_people put 93% of a 49/51 target in one class."""
    y = np.r_[np.zeros(51), np.ones(49)].astype(int)
    pred = np.r_[np.zeros(93), np.ones(7)].astype(int)
    with pytest.warns(SuspiciousResultWarning, match="93% of the target"):
        check_predictions(pred, 2, y)
