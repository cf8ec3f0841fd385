"""No transfer: the final classifier trained on the source alone."""
from __future__ import annotations

import numpy as np

from tltk_core import TransferMethod, stack_rows
from tltk_core.baselines import strong_baseline_estimator

from . import INFO


class SourceOnly(TransferMethod):
    """A classifier trained on the labelled source alone; the target is ignored.

    Parameters
    ----------
    classifier : scikit-learn classifier or None
        None is tltk's strong no-transfer baseline: logistic regression whose C
        is chosen by stratified 3-fold cross-validation on the source. (Named
        ``classifier``, not ``estimator``, so that a benchmark protocol's final
        classifier — often a weak 1-NN — does not replace it: this method *is*
        the strong baseline.)
    random_state : int
        Seeds the cross-validation folds of the default estimator.

    Several source domains are pooled. ``transform`` is the identity (the
    representation of no transfer is the input).
    """

    info = INFO

    def __init__(self, classifier=None, random_state=0):
        self.classifier = classifier
        self.random_state = random_state

    def _default_estimator(self):
        return strong_baseline_estimator(random_state=self.random_state)

    def _make_estimator(self):
        from sklearn.base import clone

        if self.classifier is None:
            return self._default_estimator()
        if not (hasattr(self.classifier, "fit") and hasattr(self.classifier, "predict")):
            from tltk_core import InputError

            raise InputError(f"classifier must be a scikit-learn classifier or None; got "
                             f"{self.classifier!r}")
        return clone(self.classifier)

    def _fit(self, Xs, ys, Xt, yt):
        X = Xs[0] if len(Xs) == 1 else stack_rows(*Xs)
        y = np.concatenate(ys)
        self.estimator_ = self._make_estimator().fit(X, y)
        return self

    def _predict(self, X):
        return self.estimator_.predict(X)

    @property
    def _predict_proba(self):
        # predict_proba exists only when the classifier has it (a LinearSVC has not),
        # so that scorers and pipelines that ask for probabilities see the truth
        if self.classifier is not None and not hasattr(self.classifier, "predict_proba"):
            raise AttributeError(f"{type(self.classifier).__name__} has no predict_proba")
        return self._proba

    def _proba(self, X):
        return self.estimator_.predict_proba(X)

    def _transform(self, X):
        return X
