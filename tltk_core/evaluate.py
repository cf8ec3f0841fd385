"""One method on one task: accuracy beside the no-transfer baseline.

The baseline is the method's own final classifier
(:meth:`TransferMethod.baseline_estimator`) trained on the source alone, on the
same input, so the reported gain is what the transfer adds and nothing else.
With several source domains the baseline is trained on them pooled, and the
same classifier trained on each source alone is reported too: the best single
source is the second bar a multi-source method must clear.
When target labels are revealed to the method (``target_labels=N``), the
classifier trained on source plus those labelled target samples is reported
too, and every accuracy is measured on the target samples that stayed hidden.

A benchmark task (:func:`tltk_core.load_task`) carries its protocol: the
method gets the protocol's hyperparameters and final classifier (``params``
given here override them), the published number for the method and task is
reported beside tltk's, and when the task has a separate ``evaluation``
domain the method adapts to the target and is scored on that domain.
"""
from __future__ import annotations

import resource
import sys
import time
import warnings

from .errors import InputError
from .registry import get_registry


def _jsonable(value):
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    try:
        import numpy as np

        if isinstance(value, np.generic):
            return value.item()
    except ImportError:  # pragma: no cover
        pass
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    return repr(value)


def reveal_target_labels(y, n, seed):
    """Indices of ``n`` target samples, stratified by class, chosen by ``seed``."""
    import numpy as np
    from sklearn.model_selection import train_test_split

    y = np.asarray(y)
    if n >= y.shape[0]:
        raise InputError(f"--target-labels {n} must be smaller than the target "
                         f"({y.shape[0]} samples)")
    classes, counts = np.unique(y, return_counts=True)
    idx = np.arange(y.shape[0])
    if n < classes.size or counts.min() < 2:
        rng = np.random.RandomState(seed)
        return np.sort(rng.choice(idx, size=n, replace=False))
    chosen, _ = train_test_split(idx, train_size=n, stratify=y, random_state=seed)
    return np.sort(chosen)


def _stack(Xs):
    from .validation import stack_rows

    return Xs[0] if len(Xs) == 1 else stack_rows(*Xs)


def _peak_rss_mib():
    """Peak resident memory of this process in MiB: the kernel's high-water mark
    (``VmHWM``, which ``tltk bench`` resets before each run of a long-lived
    worker) where there is one, else ``getrusage``."""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except (OSError, ValueError, IndexError):
        pass
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return rss / (1024 * 1024) if sys.platform == "darwin" else rss / 1024


def _strong_baseline(task, Xs_all, ys_all):
    """The strong no-transfer baseline fitted on the task's (pooled) sources; fitted
    once per task object and kept on it, since every run of a grid shares it."""
    from .baselines import strong_baseline_estimator

    cached = task.extra.get("_strong_baseline")
    if cached is None:
        cached = strong_baseline_estimator().fit(Xs_all, ys_all)
        task.extra["_strong_baseline"] = cached
    return cached


def _baseline(est, cls, protocol):
    """The no-transfer classifier to report: the method's own final classifier
    (its ``estimator``, which a protocol sets) or its own baseline (a deep
    method's source-only network); for a method with neither — it has no final
    classifier, e.g. the concept methods — the protocol's classifier."""
    from .method import TransferMethod

    own = type(est).baseline_estimator is not TransferMethod.baseline_estimator
    if own or "estimator" in cls._get_param_names() or protocol is None:
        return est.baseline_estimator()
    made = protocol.classifier_estimator()
    return made if made is not None else est.baseline_estimator()


def run(name, task, params=None, target_labels=None, seed=0, strong_baseline=True):
    """Fit method ``name`` on ``task`` and measure it. Returns a JSON-ready dict.

    ``target_labels``: number of target labels revealed to the method; None
    means 0 for unsupervised methods and 3 per class for methods that need
    labelled target samples. ``strong_baseline``: also report the strong
    no-transfer baseline (:func:`tltk_core.baselines.strong_baseline_estimator`).
    """
    import numpy as np

    from .registry import load

    entry = get_registry().get(name)
    info = entry.info
    params = dict(params or {})
    cls = entry.load_class()
    protocol = getattr(task, "protocol", None)
    if protocol is not None:
        params = protocol.params_for(name, cls._get_param_names(), params)
    if "random_state" in cls._get_param_names() and "random_state" not in params:
        params["random_state"] = seed
    est = load(name, **params)

    Xs = [d.X for d in task.sources]
    ys = [np.asarray(d.y) for d in task.sources]
    Xt, yt = task.target.X, task.target.y
    labelled = yt is not None
    n_t = Xt.shape[0]
    if target_labels is None:
        target_labels = 0
        if info.needs_target_labels:
            if not labelled:
                raise InputError(f"method {name!r} needs labelled target samples, and the "
                                 "target file has no labels")
            target_labels = 3 * np.unique(yt).size
    if target_labels and not labelled:
        raise InputError("--target-labels needs a target file with labels")
    revealed = (reveal_target_labels(yt, target_labels, seed) if target_labels
                else np.array([], dtype=np.intp))
    hidden = np.setdiff1d(np.arange(n_t), revealed)

    yt_fit = None
    if revealed.size:
        yt_arr = np.asarray(yt)
        yt_fit = np.empty(n_t, dtype=object)
        yt_fit[revealed] = yt_arr[revealed]
        yt_fit[hidden] = None

    # several sources go to fit as lists: multi-source methods use them as such,
    # and the core pools them for the others with a PoolingWarning the user sees
    sources = Xs if len(Xs) > 1 else Xs[0]
    source_labels = ys if len(ys) > 1 else ys[0]
    with warnings.catch_warnings():
        warnings.simplefilter("default")
        t0 = time.perf_counter()
        est.fit(sources, source_labels, Xt, yt_fit)
        fit_seconds = time.perf_counter() - t0
    evaluation = getattr(task, "evaluation", None)
    if evaluation is None:
        X_eval = Xt[hidden] if revealed.size else Xt
        y_eval = np.asarray(yt)[hidden] if labelled else None
    else:
        X_eval = evaluation.X
        y_eval = None if evaluation.y is None else np.asarray(evaluation.y)
    pred = est.predict(X_eval)
    from .baselines import check_predictions

    n_classes = len(np.unique(np.concatenate([np.asarray(y) for y in ys])))
    suspicious = check_predictions(pred, n_classes, y_eval)

    result = {
        "method": name,
        "task": task.name,
        "accuracy": None,
        "baseline_accuracy": None,
        "fit_seconds": round(fit_seconds, 4),
        "params": _jsonable(est.get_params(deep=False)),
        "n_source": int(sum(X.shape[0] for X in Xs)),
        "n_target": int(n_t),
        "n_features": int(Xt.shape[1]),
        "n_target_labelled": int(revealed.size),
        "n_evaluated": int(hidden.size if evaluation is None else X_eval.shape[0]),
        "seed": seed,
        "baseline": None,
        "baseline_source_target_accuracy": None,
        "strong_baseline_accuracy": None,
        "strong_baseline": None,
        "beats_strong_baseline": None,
        "suspicious": None,
        "source_domains": [d.name for d in task.sources],
        "baseline_single_source_accuracies": None,
        "baseline_best_single_source_accuracy": None,
        "baseline_best_single_source": None,
        "peak_rss_mib": None,
        "distribution": entry.distribution,
        "version": entry.version,
        "dataset": getattr(task, "dataset", None),
        "published_accuracy": None,
        "published_source": None,
    }
    ref = None if protocol is None else protocol.reference(name, getattr(task, "task_id", None))
    if ref is not None:
        result["published_accuracy"] = round(ref.accuracy / 100.0, 4)
        result["published_source"] = ref.source
    if y_eval is not None:
        result["accuracy"] = float(np.mean(pred == y_eval))
        Xs_all, ys_all = _stack(Xs), np.concatenate(ys)
        base = _baseline(est, cls, protocol)
        result["baseline"] = type(base).__name__
        base.fit(Xs_all, ys_all)
        result["baseline_accuracy"] = float(np.mean(base.predict(X_eval) == y_eval))
        if len(Xs) > 1:
            # the pooled classifier above, and each source on its own: the best single
            # source is the other bar a multi-source method has to clear (an oracle
            # choice made with the target labels, so it is reported, never used)
            single = []
            for X_k, y_k in zip(Xs, ys):
                one = _baseline(est, cls, protocol)
                one.fit(X_k, y_k)
                single.append(float(np.mean(one.predict(X_eval) == y_eval)))
            best = int(np.argmax(single))
            result["baseline_single_source_accuracies"] = single
            result["baseline_best_single_source_accuracy"] = single[best]
            result["baseline_best_single_source"] = task.sources[best].name
        if strong_baseline:
            from .baselines import describe_strong_baseline

            strong = _strong_baseline(task, Xs_all, ys_all)
            result["strong_baseline_accuracy"] = float(np.mean(strong.predict(X_eval) == y_eval))
            result["strong_baseline"] = describe_strong_baseline(strong)
            result["beats_strong_baseline"] = bool(result["accuracy"] >
                                                   result["strong_baseline_accuracy"])
        if revealed.size:
            both = _baseline(est, cls, protocol)
            both.fit(_stack([Xs_all, Xt[revealed]]),
                     np.concatenate([ys_all, np.asarray(yt)[revealed]]))
            result["baseline_source_target_accuracy"] = float(
                np.mean(both.predict(X_eval) == y_eval))
    result["suspicious"] = suspicious
    chosen = getattr(est, "trade_off_selection_", None)
    if chosen:   # a trade-off chosen inside fit (e.g. DAN's mmd_weight="auto")
        result["trade_off_selection"] = {"param": est._trade_off_name,
                                         "chosen": float(est._trade_off()),
                                         "candidates": _jsonable(chosen)}
    result["predictions"] = pred
    result["estimator"] = est
    result["peak_rss_mib"] = round(_peak_rss_mib(), 1)
    return result
