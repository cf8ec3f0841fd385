"""Reading the user's files: every format, every failure one clear error."""
import numpy as np
import pytest
import scipy.io
import scipy.sparse as sp

from tltk_core import InputError
from tltk_core.io import load_files, read_csv, read_mat, read_npz


def test_csv_with_and_without_header_and_string_labels(tmp_path):
    a = tmp_path / "a.csv"
    a.write_text("f1,f2,label\n1,2,cat\n3,4.5,dog\n")
    X, y = read_csv(a)
    assert X.tolist() == [[1, 2], [3, 4.5]] and y.tolist() == ["cat", "dog"]
    b = tmp_path / "b.csv"
    b.write_text("1,2,0\n3,4,1\n")
    X, y = read_csv(b)
    assert X.shape == (2, 2) and y.dtype.kind == "i" and y.tolist() == [0, 1]
    c = tmp_path / "c.tsv"
    c.write_text("1\t2\t1.0\n3\t4\t2.0\n")
    assert read_csv(c)[1].tolist() == [1, 2]


@pytest.mark.parametrize("content,match", [
    ("1,2,0\n3,4\n", "line 2 has 2 columns, expected 3"),
    ("a,b,label\n", "header but no data"),
    ("1,2,0\n3,oops,1\n", "non-numeric feature value"),
    ("7\n8\n", "at least two columns"),
])
def test_bad_csv_is_one_error_naming_the_file(tmp_path, content, match):
    p = tmp_path / "bad.csv"
    p.write_text(content)
    with pytest.raises(InputError, match=match) as e:
        read_csv(p)
    assert str(p) in str(e.value)


def test_missing_and_empty_files(tmp_path):
    with pytest.raises(InputError, match="no such file"):
        load_files([tmp_path / "nope.csv"])
    e = tmp_path / "empty.svm"
    e.write_text("")
    with pytest.raises(InputError, match="empty.svm: file is empty"):
        load_files([e])
    with pytest.raises(InputError, match="unknown file type '.xyz'"):
        (tmp_path / "a.xyz").write_text("1")
        load_files([tmp_path / "a.xyz"])


def test_npz_dense_sparse_and_sibling_labels(tmp_path):
    X = np.arange(6.0).reshape(3, 2)
    np.savez(tmp_path / "d.npz", X=X, y=np.array([0, 1, 0]))
    Xd, yd = read_npz(tmp_path / "d.npz")
    assert np.array_equal(Xd, X) and yd.tolist() == [0, 1, 0]
    S = sp.csr_matrix(X)
    sp.save_npz(tmp_path / "s.npz", S)
    np.save(tmp_path / "s.labels.npy", np.array(["a", "b", "a"]))
    Xs, ys = read_npz(tmp_path / "s.npz")
    assert sp.issparse(Xs) and ys.tolist() == ["a", "b", "a"]
    sp.save_npz(tmp_path / "t.npz", S)  # an unlabelled target
    assert read_npz(tmp_path / "t.npz")[1] is None


def test_npz_never_unpickles_and_names_missing_keys(tmp_path):
    np.savez(tmp_path / "obj.npz", X=np.array([{"a": 1}], dtype=object), y=np.array([1]))
    with pytest.raises(InputError, match="pickled objects"):
        read_npz(tmp_path / "obj.npz")
    np.savez(tmp_path / "k.npz", A=np.eye(2))
    with pytest.raises(InputError, match="expected arrays 'X' and 'y'.*found A"):
        read_npz(tmp_path / "k.npz")
    (tmp_path / "trunc.npz").write_bytes(b"PK\x03\x04garbage")
    with pytest.raises(InputError, match="trunc.npz: not a readable NPZ"):
        read_npz(tmp_path / "trunc.npz")


def test_mat_key_pairs_and_named_keys(tmp_path):
    X = np.random.RandomState(0).rand(5, 3)
    scipy.io.savemat(tmp_path / "a.mat", {"fts": X, "labels": np.arange(5)[:, None] % 2})
    Xa, ya = read_mat(tmp_path / "a.mat")
    assert np.allclose(Xa, X) and ya.tolist() == [0, 1, 0, 1, 0]
    scipy.io.savemat(tmp_path / "b.mat", {"A": X, "B": np.arange(5)})
    with pytest.raises(InputError, match="X/y, fts/labels.*--keys"):
        read_mat(tmp_path / "b.mat")
    Xb, yb = read_mat(tmp_path / "b.mat", keys=["A", "B"])
    assert yb.tolist() == [0, 1, 2, 3, 4]
    with pytest.raises(InputError, match="no variable 'C'"):
        read_mat(tmp_path / "b.mat", keys=["C", "B"])
    (tmp_path / "c.mat").write_bytes(b"MATLAB 5.0 MAT-file truncated")
    with pytest.raises(InputError, match="c.mat: not a readable MATLAB"):
        read_mat(tmp_path / "c.mat")


def test_svmlight_files_share_features_and_int32_indices(tmp_path):
    (tmp_path / "s.svm").write_text("1 0:1.5 2:1\n0 1:2\n")
    (tmp_path / "t.svmlight").write_text("1 5:1\n0 0:1\n")
    (Xs, ys), (Xt, yt) = load_files([tmp_path / "s.svm", tmp_path / "t.svmlight"])
    assert Xs.shape[1] == Xt.shape[1] == 6
    assert Xs.indices.dtype == np.int32 and Xt.indptr.dtype == np.int32
    assert ys.dtype.kind == "i"
    (tmp_path / "bad.svm").write_text("1 0:1\n0 x:y\n")
    with pytest.raises(InputError, match="bad.svm.*not readable as svmlight"):
        load_files([tmp_path / "bad.svm"])


def test_feature_counts_must_agree_across_formats(tmp_path):
    (tmp_path / "a.csv").write_text("1,2,0\n3,4,1\n")
    (tmp_path / "b.csv").write_text("1,2,3,0\n3,4,5,1\n")
    with pytest.raises(InputError, match="b.csv: has 3 features but .*a.csv has 2"):
        load_files([tmp_path / "a.csv", tmp_path / "b.csv"])
