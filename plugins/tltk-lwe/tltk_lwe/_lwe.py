"""Locally weighted ensemble (LWE): Gao, Fan, Jiang, Han, "Knowledge transfer via
multiple model local structure mapping", KDD 2008.

Several classifiers, each trained on each source domain, are combined on the
target with a weight per model *and per target sample*:

    P(y | x, E) = sum_i w_i(x) P(y | x, M_i),    sum_i w_i(x) = 1.

The weight approximates how well model M_i fits the target around x, measured
without target labels by the paper's graph heuristic ("clustering-manifold"
assumption: samples of one target cluster tend to share a label). Two graphs on
the target samples are compared around x:

* G_M: x is linked to every sample that M_i puts in x's predicted class;
* G_T: x is linked to every sample in x's cluster of the target.

With V_M(x), V_T(x) the neighbourhoods of x in the two graphs, the similarity is
the share of common neighbours

    s_i(x) = |V_M(x) ∩ V_T(x)| / |V_M(x) ∪ V_T(x)|,   w_i(x) = s_i(x) / sum_j s_j(x).

Both neighbourhoods are whole classes/clusters, so with C_i = A_i^T B the
(class x cluster) contingency table of model i (A_i, B one-hot predicted
classes and clusters) every s_i(x) is a lookup: C_i[a, b] / (n_a + n_b -
C_i[a, b]) for x predicted a and clustered b. One pass over the samples per
model, no n x n graph.

Local-structure adjustment (the paper's threshold delta): where the average
similarity s_avg(x) = mean_i s_i(x) is below delta, the models' structure
disagrees with the target's around x and their weights are not trusted; x
then takes the mean ensemble prediction of the confidently weighted target
samples (s_avg >= delta) of its own cluster, i.e. its label is propagated
along the target's cluster graph. A cluster with no confident sample falls back
to uniform weights (plain model averaging).

The method is transductive on the target given to ``fit``. ``predict(X)`` on new
samples assigns them to the fitted clusters (the fitted k-means) and measures
their neighbourhoods inside the fitted target (the stored contingency tables),
so ``predict(Xt)`` on the fitted target reproduces the transductive result.
"""
from __future__ import annotations

import numpy as np
import scipy.sparse as sp
from sklearn.base import clone

from tltk_core import InputError, TransferMethod, check_param

from . import INFO


def default_models():
    """The default base learners, unfitted: the paper's three text classifiers.

    Gao et al. combine logistic regression, an SVM and Winnow. The SVM here is
    a linear SVM trained by SGD (hinge loss): liblinear's ``LinearSVC`` needs
    minutes on small dense multi-class data (the bundled Office-Caltech task),
    SGD a few seconds everywhere. scikit-learn has no Winnow; the Perceptron
    is the additive member of the same family of online mistake-driven linear
    learners. All three take sparse input and are seeded.
    """
    from sklearn.linear_model import LogisticRegression, Perceptron, SGDClassifier

    return [LogisticRegression(max_iter=1000),
            SGDClassifier(loss="hinge", random_state=0),
            Perceptron(random_state=0)]


def contingency(pred, clusters, n_classes, n_clusters):
    """Table ``C[a, b]``: samples predicted class ``a`` and in cluster ``b``.

    Equal to ``A.T @ B`` for the one-hot matrices of ``pred`` and ``clusters``,
    computed as one ``bincount`` (O(n)).
    """
    pred = np.asarray(pred, dtype=np.intp)
    clusters = np.asarray(clusters, dtype=np.intp)
    flat = np.bincount(pred * n_clusters + clusters, minlength=n_classes * n_clusters)
    return flat.reshape(n_classes, n_clusters).astype(np.float64)


def neighbourhood_similarity(pred, clusters, table):
    """Jaccard similarity of the model and cluster neighbourhoods of each sample.

    ``pred``, ``clusters``: predicted class and cluster of each sample;
    ``table``: the contingency table (:func:`contingency`) of the graph's samples.
    Returns ``s`` with ``s[j] = C[a, b] / (n_a + n_b - C[a, b])`` for ``a =
    pred[j]``, ``b = clusters[j]`` (0 when both neighbourhoods are empty).
    """
    n_a = table.sum(axis=1)
    n_b = table.sum(axis=0)
    inter = table[pred, clusters]
    union = n_a[pred] + n_b[clusters] - inter
    return np.divide(inter, union, out=np.zeros(inter.shape), where=union > 0)


def _model_proba(model, X, n_classes):
    """P(y | x, M) on all ``n_classes`` codes (zero for classes M never saw).

    ``predict_proba`` where the model has it; otherwise the logistic (binary)
    or softmax (several classes) of ``decision_function``; otherwise the
    one-hot of ``predict``.
    """
    from scipy.special import expit, softmax

    classes = np.asarray(model.classes_, dtype=np.intp)
    if hasattr(model, "predict_proba"):
        P = np.asarray(model.predict_proba(X), dtype=np.float64)
    elif hasattr(model, "decision_function"):
        d = np.asarray(model.decision_function(X), dtype=np.float64)
        P = np.column_stack([expit(-d), expit(d)]) if d.ndim == 1 else softmax(d, axis=1)
    else:
        pred = np.asarray(model.predict(X))
        P = (pred[:, None] == classes[None, :]).astype(np.float64)
    out = np.zeros((X.shape[0], n_classes))
    out[:, classes] = P
    return out


class LWE(TransferMethod):
    """Locally weighted ensemble of source classifiers (Gao et al., KDD 2008).

    Parameters
    ----------
    models : list of scikit-learn classifiers or None
        Base learners, cloned and trained on every source domain (so
        ``len(models) * n_sources`` models); never fitted in place. None uses
        :func:`default_models` (logistic regression, linear SVM by SGD,
        perceptron).
    delta : float in [0, 1]
        Threshold on the average neighbourhood similarity below which a target
        sample is labelled from the confident samples of its cluster instead of
        by the weighted models (the paper's local-structure adjustment). 0
        turns the adjustment off.
    n_clusters : int or None
        Number of target clusters; None = number of classes.
    svd_components : int or None
        The target is clustered by k-means; sparse rows (text) are scaled to
        unit length and, when they have more features than this, projected on
        this many latent-semantic (truncated SVD) components and scaled to unit
        length again (spherical k-means in LSA space). None clusters in the
        input space.
    random_state : int, RandomState or None
        Seeds the SVD and k-means (10 restarts).
    """

    info = INFO

    def __init__(self, models=None, delta=0.5, n_clusters=None, svd_components=100,
                 random_state=0):
        self.models = models
        self.delta = delta
        self.n_clusters = n_clusters
        self.svd_components = svd_components
        self.random_state = random_state

    # -- hyperparameters -------------------------------------------------------
    def _check_params(self):
        check_param(self.delta, "delta", kind=float, low=0.0, high=1.0)
        check_param(self.n_clusters, "n_clusters", kind=int, low=2, allow_none=True)
        check_param(self.svd_components, "svd_components", kind=int, low=1,
                    allow_none=True)
        check_param(self.random_state, "random_state",
                    kind=(int, np.random.RandomState), allow_none=True)
        if self.models is None:
            return
        if not isinstance(self.models, (list, tuple)) or len(self.models) == 0:
            raise InputError("models must be a non-empty list of scikit-learn "
                             f"classifiers or None; got {self.models!r}")
        for i, m in enumerate(self.models):
            if isinstance(m, type) or not (hasattr(m, "fit") and hasattr(m, "predict")
                                           and hasattr(m, "get_params")):
                raise InputError(f"models[{i}] must be an unfitted scikit-learn "
                                 f"classifier instance (with fit, predict and "
                                 f"get_params); got {m!r}")

    def _base_models(self):
        return list(self.models) if self.models is not None else default_models()

    # -- fitting -----------------------------------------------------------------
    def _fit(self, Xs, ys, Xt, yt):
        from sklearn.utils import check_random_state

        n_classes = len(self.classes_)
        n_clusters = self.n_clusters if self.n_clusters is not None else n_classes
        if n_clusters > Xt.shape[0]:
            raise InputError(f"n_clusters={n_clusters} exceeds the {Xt.shape[0]} target "
                             "samples in Xt")
        rng = check_random_state(self.random_state)

        # one model per (source, learner); the user's estimators are cloned
        self.models_, self.model_sources_ = [], []
        for s, (X, y) in enumerate(zip(Xs, ys)):
            for base in self._base_models():
                self.models_.append(clone(base).fit(X, y))
                self.model_sources_.append(s)
        self.model_sources_ = np.asarray(self.model_sources_)

        # the target's own structure: k-means clusters (the paper used CLUTO)
        clusters = self._fit_clusters(Xt, n_clusters, rng)

        P = self._probas(Xt)                                # (models, n, classes)
        pred = P.argmax(axis=2)
        self.contingency_ = np.stack([contingency(p, clusters, n_classes, n_clusters)
                                      for p in pred])
        S = self._similarities(pred, clusters)             # (n, models)
        confident = S.mean(axis=1) >= self.delta
        PE = self._weighted(P, S)

        # mean ensemble prediction of the confident samples of each cluster
        self.cluster_proba_ = np.full((n_clusters, n_classes), np.nan)
        counts = np.bincount(clusters[confident], minlength=n_clusters)
        sums = np.zeros((n_clusters, n_classes))
        np.add.at(sums, clusters[confident], PE[confident])
        has = counts > 0
        self.cluster_proba_[has] = sums[has] / counts[has, None]

        self.target_clusters_ = clusters
        self.target_similarity_ = S
        self.target_confident_ = confident
        self.target_proba_ = self._adjust(P, PE, clusters, confident)
        return self

    def _fit_clusters(self, Xt, n_clusters, rng):
        from sklearn.cluster import KMeans

        self.svd_ = None
        Z = self._cluster_space(Xt, fit=True, rng=rng)
        self.kmeans_ = KMeans(n_clusters=n_clusters, n_init=10, random_state=rng).fit(Z)
        return self.kmeans_.labels_.astype(np.intp)

    def _cluster_space(self, X, fit=False, rng=None):
        """Rows as k-means sees them: unit-length (sparse), LSA-projected if wide."""
        from sklearn.preprocessing import normalize

        if fit:
            self.cluster_sparse_ = sp.issparse(X)
        if self.cluster_sparse_:
            X = normalize(X)
        if fit and self.svd_components is not None and X.shape[1] > self.svd_components:
            k = min(self.svd_components, X.shape[0] - 1)
            if k >= 1:
                from sklearn.decomposition import TruncatedSVD

                self.svd_ = TruncatedSVD(n_components=k, random_state=rng).fit(X)
        if self.svd_ is not None:
            X = self.svd_.transform(X)
            if self.cluster_sparse_:
                X = normalize(X)
        return X

    # -- the weights ---------------------------------------------------------------
    def _probas(self, X):
        n_classes = len(self.classes_)
        return np.stack([_model_proba(m, X, n_classes) for m in self.models_])

    def _similarities(self, pred, clusters):
        """s_i(x) of every sample (rows) and model (columns), in the fitted graphs."""
        return np.column_stack([neighbourhood_similarity(p, clusters, C)
                                for p, C in zip(pred, self.contingency_)])

    @staticmethod
    def _weighted(P, S):
        """sum_i w_i(x) P(y|x,M_i) with w = S normalised per sample (uniform if S = 0)."""
        total = S.sum(axis=1, keepdims=True)
        W = np.where(total > 0, S / np.where(total > 0, total, 1.0), 1.0 / S.shape[1])
        return np.einsum("nm,mnk->nk", W, P)

    def _adjust(self, P, PE, clusters, confident):
        """Local-structure adjustment of the samples whose s_avg is below delta."""
        out = PE.copy()
        low = ~confident
        if low.any():
            prop = self.cluster_proba_[clusters[low]]
            missing = np.isnan(prop[:, 0])
            prop[missing] = P[:, low][:, missing].mean(axis=0)   # uniform weights
            out[low] = prop
        return out

    # -- prediction ----------------------------------------------------------------
    def _combine(self, X):
        clusters = self.kmeans_.predict(self._cluster_space(X)).astype(np.intp)
        P = self._probas(X)
        S = self._similarities(P.argmax(axis=2), clusters)
        confident = S.mean(axis=1) >= self.delta
        return self._adjust(P, self._weighted(P, S), clusters, confident)

    def _predict_proba(self, X):
        return self._combine(X)

    def _predict(self, X):
        return self._combine(X).argmax(axis=1)

    def _default_estimator(self):
        """The no-transfer baseline: the first base learner on the (pooled) source."""
        return clone(self._base_models()[0])
