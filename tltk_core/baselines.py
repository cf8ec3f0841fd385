"""The strong no-transfer baseline, and loud checks on results that look broken.

A protocol's baseline (1-NN on Office-Caltech, a LinearSVC with default C on
text) is often weak: a well-regularised logistic regression trained on the
source alone beats most published adaptation results on Office-Caltech10 SURF
(46.9 against 43–46) and matches the DANN paper on Amazon reviews. tltk
reports it beside every result so that a gain over a weak baseline is not
mistaken for a gain over no transfer.
"""
from __future__ import annotations

import warnings

import numpy as np

STRONG_CS = tuple(float(c) for c in np.logspace(-2, 2, 5))
STRONG_FOLDS = 3


class SuspiciousResultWarning(UserWarning):
    """A result that is probably a silent failure (e.g. one class predicted for all)."""


def strong_baseline_estimator(random_state=0, n_jobs=None):
    """Logistic regression whose C is chosen by stratified 3-fold cross-validation
    on the source only, over ``10^-2 .. 10^2``, then refitted on the whole
    source: the strong no-transfer baseline. Dense or sparse input; it never
    sees the target.
    """
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import GridSearchCV, StratifiedKFold

    return GridSearchCV(LogisticRegression(max_iter=2000, tol=1e-3), {"C": list(STRONG_CS)},
                        cv=StratifiedKFold(STRONG_FOLDS, shuffle=True,
                                           random_state=random_state),
                        scoring="accuracy", n_jobs=n_jobs)


def describe_strong_baseline(fitted):
    """A short description of a fitted strong baseline (the C that CV chose)."""
    c = fitted.best_params_["C"]
    return f"logistic regression, C={c:g} by {STRONG_FOLDS}-fold CV on the source"


def check_predictions(pred, n_source_classes, y_true=None, threshold=0.9):
    """Warn when predictions collapse onto one class.

    Without labels: every prediction is the same class although the source has
    several. With labels: one class takes at least ``threshold`` of the
    predictions while the true classes are balanced (the smallest class holds
    at least half its fair share). Returns the warning text, or None.
    """
    pred = np.asarray(pred)
    if pred.size == 0 or n_source_classes < 2:
        return None
    values, counts = np.unique(pred, return_counts=True)
    top = counts.argmax()
    share = counts[top] / pred.size
    message = None
    if y_true is None:
        if values.size == 1:
            message = (f"the method predicts the single class {values[0].item()!r} for every target "
                       f"sample although the source has {n_source_classes} classes")
    else:
        _, true_counts = np.unique(np.asarray(y_true), return_counts=True)
        k = true_counts.size
        balanced = k >= 2 and true_counts.min() / pred.size >= 0.5 / k
        if balanced and share >= threshold:
            message = (f"the method predicts class {values[top].item()!r} for {100 * share:.0f}% of "
                       f"the target, whose {k} classes are balanced (smallest "
                       f"{100 * true_counts.min() / pred.size:.0f}%): a collapsed solution")
    if message:
        warnings.warn(message, SuspiciousResultWarning, stacklevel=2)
    return message


class NotConvergedWarning(SuspiciousResultWarning):
    """An iterative solver stopped before its convergence criterion was met."""


def warn_not_converged(solver, detail, hint="raise max_iter"):
    """Say loudly that ``solver`` stopped early (``detail``: its own message)."""
    warnings.warn(f"{solver} did not converge ({detail}); the result may be far from the "
                  f"optimum: {hint}", NotConvergedWarning, stacklevel=3)
