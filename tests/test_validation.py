"""Input handling done once in the core: errors name the argument."""
import warnings

import numpy as np
import pytest
import scipy.sparse as sp

from tltk_core import InputError, MethodInfo, TransferMethod
from tltk_core.testing import make_domains
from tltk_core.validation import DensifyWarning, PoolingWarning, check_array, check_fit_input


class Recorder(TransferMethod):
    """Keeps what _fit received, predicts the majority source class."""

    info = MethodInfo("recorder", "baseline", ("unsupervised", "few-labels"), sparse=True,
                      summary="s", reference="@misc{x}")

    def _fit(self, Xs, ys, Xt, yt):
        self.got_ = (Xs, ys, Xt, yt)
        self.major_ = np.bincount(np.concatenate(ys) if isinstance(ys, list) else ys).argmax()

    def _predict(self, X):
        return np.full(X.shape[0], self.major_)


class DenseRecorder(Recorder):
    info = MethodInfo("dense-recorder", "baseline", sparse=False, summary="s",
                      reference="@misc{x}")


class MultiRecorder(Recorder):
    info = MethodInfo("multi-recorder", "baseline", ("unsupervised", "multi-source"),
                      sparse=True, summary="s", reference="@misc{x}")


@pytest.fixture
def data():
    return make_domains()


@pytest.mark.parametrize("arg,build,match", [
    ("Xs", lambda d: (np.full_like(d[0], np.nan), d[1], d[2]), "Xs contains NaN"),
    ("Xs", lambda d: (np.where(d[0] > 3, np.inf, d[0]), d[1], d[2]), "Xs contains NaN or inf"),
    ("Xt", lambda d: (d[0], d[1], d[2][:, :3]), "Xt has 3 features but the source has 8"),
    ("Xt", lambda d: (d[0], d[1], d[2][:0]), "Xt is empty"),
    ("Xs", lambda d: (d[0][:0], d[1][:0], d[2]), "Xs is empty"),
    ("ys", lambda d: (d[0], np.ones_like(d[1]), d[2]), "ys has a single class"),
    ("ys", lambda d: (d[0], d[1][:-1], d[2]), "ys has 79 labels but Xs has 80 samples"),
    ("Xs", lambda d: (d[0][:, 0], d[1], d[2]), "Xs must be 2-D"),
    ("Xs", lambda d: (np.array([["a"] * 8] * 80), d[1], d[2]), "Xs must hold numbers"),
    ("ys", lambda d: (d[0], np.where(d[1] == 0, np.nan, 1.0), d[2]), "ys contains missing"),
])
def test_bad_input_names_the_argument(data, arg, build, match):
    Xs, ys, Xt = build(data)
    with pytest.raises(InputError, match=match):
        Recorder().fit(Xs, ys, Xt)


def test_target_labels_wrong_length_and_unknown_label(data):
    Xs, ys, Xt, yt = data
    with pytest.raises(InputError, match="yt has 10 labels but Xt has 60"):
        Recorder().fit(Xs, ys, Xt, yt[:10])
    bad = yt.copy()
    bad[0] = 7
    with pytest.raises(InputError, match="yt contains label 7"):
        Recorder().fit(Xs, ys, Xt, bad)


def test_target_label_markers_nan_none_minus_one(data):
    Xs, ys, Xt, yt = data
    for unknown, dtype in ((np.nan, float), (None, object), (-1, int)):
        y = np.array(yt, dtype=dtype)
        y[5:] = unknown
        got = Recorder().fit(Xs, ys, Xt, y).got_[3]
        assert np.array_equal(got[:5], yt[:5]) and np.all(got[5:] == -1)


def test_string_labels_round_trip(data):
    Xs, ys, Xt, yt = data
    names = np.array(["cat", "dog"])
    m = Recorder().fit(Xs, names[ys], Xt, np.array([None] * 59 + ["dog"], dtype=object))
    assert list(m.classes_) == ["cat", "dog"]
    assert set(m.predict(Xt)) <= {"cat", "dog"}
    assert m.got_[3][-1] == 1 and np.all(m.got_[3][:-1] == -1)


def test_integral_float_labels_match_integers(data):
    Xs, ys, Xt, yt = data
    m = Recorder().fit(Xs, ys.astype(float) + 1, Xt, (yt + 1).astype(np.int64))
    assert m.classes_.dtype.kind == "i" and list(m.classes_) == [1, 2]


def test_inputs_are_never_modified_and_dense_views_are_read_only(data):
    Xs, ys, Xt, yt = data
    before = Xs.copy()
    m = Recorder().fit(Xs, ys, Xt)
    assert np.array_equal(Xs, before) and Xs.flags.writeable
    got = m.got_[0]
    assert not got.flags.writeable
    with pytest.raises(ValueError):
        got[0, 0] = 1.0


def test_sparse_stays_sparse_with_int32_indices(data):
    Xs, ys, Xt, yt = data
    S = sp.csr_matrix(Xs)
    S64 = S.copy()
    S64.indices, S64.indptr = S.indices.astype(np.int64), S.indptr.astype(np.int64)
    assert S64.indices.dtype == np.int64
    m = Recorder().fit(S64, ys, sp.coo_matrix(Xt))
    Xs_got, _, Xt_got, _ = m.got_
    assert sp.isspmatrix_csr(Xs_got) and sp.isspmatrix_csr(Xt_got)
    assert Xs_got.indices.dtype == np.int32
    assert S64.indices.dtype == np.int64  # caller's matrix untouched


def test_sparse_nan_is_rejected():
    X = sp.csr_matrix(np.array([[1.0, np.nan], [0.0, 2.0]]))
    with pytest.raises(InputError, match="Xs contains NaN"):
        check_array(X, "Xs")


def test_dense_method_densifies_with_a_warning_stating_memory(data):
    Xs, ys, Xt, yt = data
    with pytest.warns(DensifyWarning, match=r"densifying a 80x8 sparse matrix \(5\.0 KiB\)"):
        m = DenseRecorder().fit(sp.csr_matrix(Xs), ys, Xt)
    assert isinstance(m.got_[0], np.ndarray)


def test_too_large_densification_is_refused(monkeypatch):
    import tltk_core.validation as v

    monkeypatch.setattr(v, "_available_memory", lambda: 1000)
    X = sp.random(100, 100, density=0.01, format="csr")
    with pytest.raises(InputError, match="Xs: method 'm' needs dense input.*reduce"):
        check_array(X, "Xs", sparse_ok=False, method="m")


def test_single_source_method_pools_lists_with_a_warning(data):
    Xs, ys, Xt, yt = data
    with pytest.warns(PoolingWarning, match="pooling the 2 source domains"):
        m = Recorder().fit([Xs[:40], Xs[40:]], [ys[:40], ys[40:]], Xt)
    assert m.got_[0].shape == (80, 8)


def test_multi_source_method_gets_lists_with_shared_classes(data):
    Xs, ys, Xt, yt = data
    names = np.array(["a", "b", "c"])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        m = MultiRecorder().fit([Xs[:40], Xs[40:]], [names[ys[:40]], names[ys[40:] + 1]], Xt)
    assert list(m.classes_) == ["a", "b", "c"]
    Xs_got, ys_got, _, _ = m.got_
    assert isinstance(Xs_got, list) and len(Xs_got) == 2
    assert set(ys_got[1]) == {1, 2}


def test_multi_source_errors_name_the_source(data):
    Xs, ys, Xt, yt = data
    with pytest.raises(InputError, match=r"Xs\[1\] has 3 features but Xs\[0\] has 8"):
        MultiRecorder().fit([Xs, Xs[:, :3]], [ys, ys], Xt)
    with pytest.raises(InputError, match=r"ys\[1\] has a single class"):
        MultiRecorder().fit([Xs, Xs], [ys, np.zeros_like(ys)], Xt)
    with pytest.raises(InputError, match="one label vector per source"):
        MultiRecorder().fit([Xs, Xs], ys, Xt)


def test_few_labels_method_requires_some_target_labels(data):
    Xs, ys, Xt, yt = data

    class NeedsLabels(Recorder):
        info = MethodInfo("needs", "instance", ("few-labels",), summary="s",
                          reference="@misc{x}")

    with pytest.raises(InputError, match="yt: method 'needs' needs some labelled target"):
        NeedsLabels().fit(Xs, ys, Xt)
    with pytest.raises(InputError, match="yt: method 'needs'"):
        NeedsLabels().fit(Xs, ys, Xt, np.full(Xt.shape[0], -1))


def test_predict_checks_features_and_fitted():
    from sklearn.exceptions import NotFittedError

    Xs, ys, Xt, yt = make_domains()
    with pytest.raises(NotFittedError):
        Recorder().predict(Xt)
    m = Recorder().fit(Xs, ys, Xt)
    with pytest.raises(InputError, match="X has 7 features but the source has 8"):
        m.predict(Xt[:, :7])


def test_method_info_validation():
    with pytest.raises(ValueError, match="family"):
        MethodInfo("x", "magic")
    with pytest.raises(ValueError, match="settings"):
        MethodInfo("x", "feature", ("semi",))
    with pytest.raises(ValueError, match="name"):
        MethodInfo("Bad Name", "feature")
    assert MethodInfo("x", "feature", "unsupervised").settings == ("unsupervised",)


def test_check_fit_input_encodes_codes_in_sorted_class_order():
    X = np.eye(4)
    d = check_fit_input(X, ["b", "a", "b", "c"], X)
    assert list(d.classes) == ["a", "b", "c"]
    assert list(d.ys) == [1, 0, 1, 2]


def test_estimator_that_is_not_a_classifier_is_an_input_error(data):
    Xs, ys, Xt, yt = data

    class WithEstimator(Recorder):
        def __init__(self, estimator=None):
            self.estimator = estimator

    with pytest.raises(InputError, match="estimator must be a scikit-learn classifier"):
        WithEstimator(estimator="svm").fit(Xs, ys, Xt)


def test_stack_rows_keeps_sparse_sparse_with_int32_indices():
    from tltk_core import stack_rows

    A, B = np.eye(2), np.ones((1, 2))
    assert isinstance(stack_rows(A, B), np.ndarray) and stack_rows(A, B).shape == (3, 2)
    S = stack_rows(sp.csr_matrix(A), B)
    assert sp.isspmatrix_csr(S) and S.indices.dtype == np.int32
    assert np.array_equal(S.toarray(), np.vstack([A, B]))
