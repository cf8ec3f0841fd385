"""The tltk command, driven as a user would, against a plugin written here."""
import json
import sys

import numpy as np
import pytest
import scipy.sparse as sp
from click.testing import CliRunner

import tltk_core.registry as registry
from core_helpers import fake_method_dist, run_tltk, write_dist
from tltk_core.cli import cli
from tltk_core.testing import make_domains

FAILING = '''
from tltk_core import MethodInfo, TransferMethod, hookimpl

class Exploding(TransferMethod):
    """Fails inside fit."""
    info = MethodInfo("exploding", "feature", summary="fails", reference="@misc{x}")
    def __init__(self, when="fit"):
        self.when = when
    def _fit(self, Xs, ys, Xt, yt):
        raise RuntimeError("singular matrix in step 3")
    def _predict(self, X):
        return X[:, 0] * 0

@hookimpl
def tltk_register_methods(register):
    register(Exploding)
'''


@pytest.fixture(scope="module")
def plugins(tmp_path_factory):
    root = tmp_path_factory.mktemp("plugins")
    fake_method_dist(root)
    write_dist(root, "tltk-exploding", {"tltk_exploding.py": FAILING},
               {"exploding": "tltk_exploding"})
    sys.path.insert(0, str(root))
    saved = registry._REGISTRY
    registry._REGISTRY = registry.Registry().load_entry_points()
    yield root
    registry._REGISTRY = saved
    sys.path.remove(str(root))


def invoke(*args):
    """Run the command in-process; ``tltk run`` skips the strong baseline (a
    cross-validated logistic regression, seconds per call) except where a test
    asks for it with ``--strong``."""
    args = list(args)
    if args and args[0] == "run":
        if "--strong" in args:
            args.remove("--strong")
        else:
            args.append("--no-strong-baseline")
    return CliRunner().invoke(cli, args)


def one_error_line(result, code):
    assert result.exit_code == code, (result.output, result.stderr)
    lines = result.stderr.strip().splitlines()
    assert lines and lines[-1].startswith("Error: "), result.stderr
    assert not any(ln.startswith("Error") for ln in lines[:-1])
    assert "Traceback" not in result.stderr
    return lines[-1]


def test_run_json_on_bundled_task(plugins):
    r = invoke("run", "centre", "--json")
    assert r.exit_code == 0, r.stderr
    out = json.loads(r.stdout)
    for key in ("method", "task", "accuracy", "baseline_accuracy", "fit_seconds", "params",
                "n_source", "n_target", "n_features"):
        assert key in out
    assert out["method"] == "centre"
    assert out["task"] == "office-caltech-surf:amazon->webcam"
    assert (out["n_source"], out["n_target"], out["n_features"]) == (958, 295, 800)
    assert out["params"] == {"shrink": 1.0, "estimator": None}
    assert 0.0 < out["accuracy"] <= 1.0 and 0.0 < out["baseline_accuracy"] <= 1.0
    # the baseline is 1-NN on the source alone: the JDA paper's NN column for A->W
    assert out["baseline"] == "KNeighborsClassifier"
    assert round(100 * out["baseline_accuracy"], 1) == 29.8


def test_run_human_output(plugins):
    r = invoke("run", "centre", "-p", "shrink=0.5")
    assert r.exit_code == 0, r.stderr
    assert "accuracy" in r.stdout and "baseline" in r.stdout and "fit time" in r.stdout
    assert "KNeighborsClassifier on the source alone" in r.stdout


@pytest.mark.parametrize("args,code,match", [
    (["run", "nosuch"], 2, "unknown method 'nosuch'"),
    (["run", "centre", "-p", "shrink=2.0"], 2, "shrink must be <= 1"),
    (["run", "centre", "-p", "speed=3"], 2, "unknown hyperparameter speed for method"),
    (["run", "centre", "-p", "noequals"], 2, "-p expects KEY=VALUE"),
    (["run", "centre", "--source", "x.csv"], 2, "give both --source and --target"),
    (["run", "exploding"], 1, "method 'exploding' failed: RuntimeError: singular matrix"),
    (["info", "nosuch"], 2, "unknown method"),
])
def test_errors_are_one_line_with_the_right_status(plugins, args, code, match):
    line = one_error_line(invoke(*args), code)
    assert match in line


def test_debug_shows_the_traceback(plugins):
    r = invoke("run", "exploding", "--debug")
    assert r.exit_code == 1
    assert "Traceback" in r.stderr and "singular matrix" in r.stderr


def test_param_literals(plugins):
    from tltk_core.cli import _parse_params

    assert _parse_params(["a=1", "b=0.5", "c=True", "d=None", "e=rbf", "f='x y'",
                          "g=[1, 2]"]) == {"a": 1, "b": 0.5, "c": True, "d": None,
                                          "e": "rbf", "f": "x y", "g": [1, 2]}


def test_run_on_user_files_csv_and_svmlight(plugins, tmp_path):
    from tltk_core.testing import make_domains

    Xs, ys, Xt, yt = make_domains()
    names = np.array(["no", "yes"])
    for path, X, y in ((tmp_path / "s.csv", Xs, ys), (tmp_path / "t.csv", Xt, yt)):
        rows = ["a,b,c,d,e,f,g,h,label"] + [",".join(map(str, r)) + f",{names[l]}"
                                           for r, l in zip(X, y)]
        path.write_text("\n".join(rows) + "\n")
    r = invoke("run", "centre", "--source", str(tmp_path / "s.csv"), "--target",
               str(tmp_path / "t.csv"), "--json", "--predictions", str(tmp_path / "p.txt"))
    assert r.exit_code == 0, r.stderr
    out = json.loads(r.stdout)
    assert out["n_source"] == 80 and out["n_target"] == 60 and out["accuracy"] is not None
    pred = (tmp_path / "p.txt").read_text().split()
    assert len(pred) == 60 and set(pred) <= {"no", "yes"}

    from sklearn.datasets import dump_svmlight_file

    dump_svmlight_file(Xs, ys, str(tmp_path / "s.svm"), zero_based=True)
    dump_svmlight_file(Xt[:, :5], yt, str(tmp_path / "t.svm"), zero_based=True)  # fewer columns
    r = invoke("run", "centre", "--source", str(tmp_path / "s.svm"), "--target",
               str(tmp_path / "t.svm"), "--json")
    assert r.exit_code == 0, r.stderr  # aligned on one feature count
    assert json.loads(r.stdout)["n_features"] == 8


def test_multiple_sources_are_pooled_for_single_source_methods(plugins, tmp_path):
    from tltk_core.testing import make_domains

    Xs, ys, Xt, yt = make_domains(n_source=120)
    np.savez(tmp_path / "s1.npz", X=Xs[:60], y=ys[:60])
    np.savez(tmp_path / "s2.npz", X=Xs[60:], y=ys[60:])
    np.savez(tmp_path / "t.npz", X=Xt, y=yt)
    r = invoke("run", "centre", "--source", str(tmp_path / "s1.npz"), "--source",
               str(tmp_path / "s2.npz"), "--target", str(tmp_path / "t.npz"), "--json")
    assert r.exit_code == 0, r.stderr
    assert json.loads(r.stdout)["n_source"] == 120
    assert "Warning: method 'centre' is single-source: pooling the 2 source domains" \
        in r.stderr


def test_multi_source_run_reports_pooled_and_best_single_source(plugins, tmp_path):
    """Two sources, one of them with its labels flipped: pooling hurts, the good
    source alone is the bar, and each single-source figure is the baseline
    classifier fitted on that source alone."""
    from tltk_core import load

    Xs, ys, Xt, yt = make_domains(n_source=120, shift=0.2)
    np.savez(tmp_path / "good.npz", X=Xs[:60], y=ys[:60])
    np.savez(tmp_path / "flipped.npz", X=Xs[60:], y=1 - ys[60:])
    np.savez(tmp_path / "t.npz", X=Xt, y=yt)
    r = invoke("run", "centre", "--source", str(tmp_path / "flipped.npz"), "--source",
               str(tmp_path / "good.npz"), "--target", str(tmp_path / "t.npz"), "--json")
    assert r.exit_code == 0, r.stderr
    out = json.loads(r.stdout)
    want = []
    for X, y in ((Xs[60:], 1 - ys[60:]), (Xs[:60], ys[:60])):
        base = load("centre").baseline_estimator().fit(X, y)
        want.append(float(np.mean(base.predict(Xt) == yt)))
    assert out["baseline_single_source_accuracies"] == pytest.approx(want)
    assert out["baseline_best_single_source"].endswith("good.npz")
    assert out["baseline_best_single_source_accuracy"] == max(want)
    assert out["baseline_best_single_source_accuracy"] > out["baseline_accuracy"]
    human = invoke("run", "centre", "--source", str(tmp_path / "flipped.npz"), "--source",
                   str(tmp_path / "good.npz"), "--target", str(tmp_path / "t.npz"))
    assert "on the sources pooled" in human.stdout
    assert "best single source" in human.stdout and "good.npz alone" in human.stdout


def test_strong_baseline_is_reported_and_judged_in_words(plugins):
    """The strong no-transfer baseline (C by CV on the source) is in the JSON and
    the human output says whether the method beat it."""
    from tltk_core.baselines import strong_baseline_estimator
    from tltk_core.data import bundled_task

    out = json.loads(invoke("run", "centre", "--json", "--strong").stdout)
    task = bundled_task()
    want = strong_baseline_estimator().fit(task.sources[0].X, task.sources[0].y)
    acc = float(np.mean(want.predict(task.target.X) == task.target.y))
    assert out["strong_baseline_accuracy"] == pytest.approx(acc)
    assert out["beats_strong_baseline"] == (out["accuracy"] > acc)
    assert "C=" in out["strong_baseline"]
    human = invoke("run", "centre", "--strong").stdout
    assert "strong baseline" in human
    verdict = ("centre beats the strong no-transfer baseline" if out["beats_strong_baseline"]
               else "centre does NOT beat the strong no-transfer baseline")
    assert verdict in human
    skipped = json.loads(invoke("run", "centre", "--json").stdout)
    assert skipped["strong_baseline_accuracy"] is None


def test_plot_before_and_after_adaptation(plugins, tmp_path):
    pytest.importorskip("matplotlib")
    png = tmp_path / "adapt.png"
    r = invoke("run", "centre", "--plot", str(png))
    assert r.exit_code == 0, r.stderr
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and "plot written to" in r.stderr
    bad = invoke("run", "exploding", "--plot", str(tmp_path / "x.png"))
    assert "method 'exploding' has no transform" in one_error_line(bad, 2)
    assert not (tmp_path / "x.png").exists()


def test_projection_keeps_sparse_input_sparse():
    import scipy.sparse as sp

    from tltk_core.plots import project_2d

    Xs, ys, Xt, yt = make_domains()
    a, b = project_2d(sp.csr_matrix(Xs), sp.csr_matrix(Xt))
    assert a.shape == (Xs.shape[0], 2) and b.shape == (Xt.shape[0], 2)


def test_single_source_run_has_no_single_source_figures(plugins, tmp_path):
    Xs, ys, Xt, yt = make_domains()
    np.savez(tmp_path / "s.npz", X=Xs, y=ys)
    np.savez(tmp_path / "t.npz", X=Xt, y=yt)
    out = json.loads(invoke("run", "centre", "--source", str(tmp_path / "s.npz"), "--target",
                            str(tmp_path / "t.npz"), "--json").stdout)
    assert out["baseline_best_single_source_accuracy"] is None
    assert out["source_domains"] == [str(tmp_path / "s.npz")]


def test_unlabelled_target_gives_predictions_without_accuracy(plugins, tmp_path):
    from tltk_core.testing import make_domains

    Xs, ys, Xt, yt = make_domains()
    np.savez(tmp_path / "s.npz", X=Xs, y=ys)
    sp.save_npz(tmp_path / "t.npz", sp.csr_matrix(Xt))
    r = invoke("run", "centre", "--source", str(tmp_path / "s.npz"), "--target",
               str(tmp_path / "t.npz"), "--json", "--predictions", str(tmp_path / "p.txt"))
    assert r.exit_code == 0, r.stderr
    out = json.loads(r.stdout)
    assert out["accuracy"] is None and out["baseline_accuracy"] is None
    assert len((tmp_path / "p.txt").read_text().split()) == 60
    r = invoke("run", "centre", "--source", str(tmp_path / "s.npz"), "--target",
               str(tmp_path / "t.npz"), "--target-labels", "5")
    assert "needs a target file with labels" in one_error_line(r, 2)


@pytest.mark.parametrize("setup,match", [
    (lambda p: (p / "s.csv").write_text("1,2,0\n3,4\n"), "s.csv: line 2 has 2 columns"),
    (lambda p: (p / "s.csv").write_text(""), "s.csv: file is empty"),
    (lambda p: (p / "s.csv").write_text("1,nan,0\n3,4,1\n"), "s.csv contains NaN"),
    (lambda p: (p / "s.csv").write_text("1,2,3,0\n3,4,5,1\n"), "t.csv: has 2 features"),
    (lambda p: (p / "s.csv").write_text("1,2,0\n3,4,0\n"), "ys has a single class"),
    (lambda p: None, "s.csv: no such file"),
])
def test_bad_files_exit_2_with_one_line(plugins, tmp_path, setup, match):
    (tmp_path / "t.csv").write_text("1,2,0\n3,4,1\n")
    setup(tmp_path)
    r = invoke("run", "centre", "--source", str(tmp_path / "s.csv"), "--target",
               str(tmp_path / "t.csv"))
    assert match in one_error_line(r, 2)


def test_target_labels_reveal_and_report_both_baselines(plugins):
    r = invoke("run", "centre", "--target-labels", "20", "--seed", "3", "--json")
    assert r.exit_code == 0, r.stderr
    out = json.loads(r.stdout)
    assert out["n_target_labelled"] == 20 and out["n_evaluated"] == 275
    assert out["baseline_source_target_accuracy"] is not None and out["seed"] == 3


def test_info_lists_hyperparameters_and_reference(plugins):
    r = invoke("info", "centre")
    assert r.exit_code == 0, r.stderr
    assert "shrink" in r.stdout and "= 1.0" in r.stdout and "@misc{fake}" in r.stdout
    out = json.loads(invoke("info", "centre", "--json").stdout)
    assert {"name": "shrink", "default": 1.0} in out["hyperparameters"]
    assert out["distribution"] == "tltk-centre" and out["family"] == "feature"


def test_list_human_and_json(plugins):
    r = invoke("list")
    assert r.exit_code == 0
    assert any(ln.split()[0] == "centre" and ln.rstrip().endswith("ok")
               for ln in r.stdout.splitlines()[1:])
    out = json.loads(invoke("list", "--json").stdout)
    row = next(m for m in out["methods"] if m["name"] == "centre")
    assert set(row) == {"name", "family", "settings", "sparse", "distribution", "version",
                        "status", "error"}


def test_console_usage_errors_are_one_line(tmp_path):
    for args, match in ((["run"], "Missing argument 'NAME'"),
                        (["nosuchcommand"], "No such command"),
                        (["run", "x", "--target-labels", "-1"], "--target-labels")):
        r = run_tltk(args, cwd=tmp_path)
        assert r.returncode == 2
        assert r.stderr.strip().startswith("Error: ") and match in r.stderr
        assert len(r.stderr.strip().splitlines()) == 1


def test_each_distinct_warning_is_shown_once(capsys, monkeypatch):
    import warnings

    from tltk_core.cli import _show_warnings

    monkeypatch.setattr(warnings, "showwarning", warnings.showwarning)
    _show_warnings()
    with warnings.catch_warnings():
        warnings.simplefilter("always")
        for _ in range(5):
            warnings.warn("solver failed to converge")
        warnings.warn("another thing")
    err = capsys.readouterr().err.splitlines()
    assert err == ["Warning: solver failed to converge", "Warning: another thing"]


def test_progress_line_for_long_runs_is_erased_and_silent_when_quick():
    import io
    import time

    from tltk_core.cli import Progress

    out = io.StringIO()
    with Progress("tca on task", stream=out, delay=0.05, interval=0.05) as p:
        time.sleep(0.3)
    text = out.getvalue()
    assert p.shown and "running tca on task ... 0 s" in text and text.endswith("\r\033[K")
    quick = io.StringIO()
    with Progress("tca", stream=quick, delay=5.0):
        pass
    assert quick.getvalue() == ""
    off = io.StringIO()
    with Progress("tca", stream=off, enabled=False, delay=0.0):
        time.sleep(0.1)
    assert off.getvalue() == ""
    bar = io.StringIO()
    with Progress("dann", stream=bar, delay=0.0, interval=0.02) as p:
        p.step(5, 20)                       # what a deep method's callback reports
        time.sleep(0.15)
    assert "running dann ... [#####...............] 5/20" in bar.getvalue()
