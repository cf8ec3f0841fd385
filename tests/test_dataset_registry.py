"""Dataset plugins: the hook, listing, broken plugins, load_task, tltk run --dataset."""
import json
import os
import subprocess
import sys

import pytest

from core_helpers import (fake_dataset_dist, fake_method_dist, run_tltk, write_dist,
                          write_toy_csvs)


@pytest.fixture
def toy(tmp_path):
    """A fake method plugin and a fake dataset plugin, with the data written."""
    plugins = tmp_path / "plugins"
    data = tmp_path / "data"
    sha_a, sha_b = write_toy_csvs(data / "toy")
    fake_method_dist(plugins)
    fake_dataset_dist(plugins, sha_a=sha_a, sha_b=sha_b)
    return plugins, data


def toy_env(data):
    return {"TLTK_DATA": str(data), "TLTK_PLUGINS": "tltk-centre,tltk-toydata"}


def test_datasets_json_lists_the_dataset_present(toy):
    plugins, data = toy
    r = run_tltk(["datasets", "--json"], pythonpath=[plugins], env=toy_env(data))
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    (row,) = out["datasets"]
    assert {"name", "tasks", "n_features", "present", "source"} <= set(row)
    assert row["name"] == "toy" and row["tasks"] == ["a:b", "b:a"]
    assert row["present"] is True and row["n_features"] == 8
    assert row["status"] == "ok" and row["distribution"] == "tltk-toydata"
    (data / "toy" / "b.csv").unlink()
    r = run_tltk(["datasets", "--json"], pythonpath=[plugins], env=toy_env(data))
    assert json.loads(r.stdout)["datasets"][0]["present"] is False
    human = run_tltk(["datasets"], pythonpath=[plugins], env=toy_env(data))
    assert human.returncode == 0
    line = next(ln for ln in human.stdout.splitlines() if ln.startswith("toy"))
    assert line.split()[1:5] == ["2", "140", "8", "no"]


def test_run_under_the_protocol_reports_the_published_number(toy):
    plugins, data = toy
    r = run_tltk(["run", "centre", "--dataset", "toy", "--task", "first->b", "--json"],
                 pythonpath=[plugins], env=toy_env(data))
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    assert out["dataset"] == "toy" and out["task"] == "toy/a:b"
    assert out["published_accuracy"] == 0.615
    assert out["published_source"] == "Fake et al., 2020"
    # the protocol's fixed hyperparameter (only those the method takes) and classifier
    assert out["params"]["shrink"] == 0.5
    assert out["params"]["estimator"] == "KNeighborsClassifier(n_neighbors=1)"
    assert out["baseline"] == "KNeighborsClassifier"
    # -p overrides the protocol; a task without a published number gives null
    r = run_tltk(["run", "centre", "--dataset", "toy", "--task", "b:a", "-p", "shrink=1.0",
                  "--json"], pythonpath=[plugins], env=toy_env(data))
    out = json.loads(r.stdout)
    assert out["params"]["shrink"] == 1.0 and out["published_accuracy"] is None
    human = run_tltk(["run", "centre", "--dataset", "toy", "--task", "a:b"],
                     pythonpath=[plugins], env=toy_env(data))
    assert "published              61.50%   (Fake et al., 2020)" in human.stdout


@pytest.mark.parametrize("args, match", [
    (["--dataset", "nope", "--task", "a:b"], "unknown dataset 'nope' (available: toy)"),
    (["--dataset", "toy", "--task", "a:c"], "unknown task 'a:c' for dataset 'toy' "
                                            "(valid: a:b, b:a)"),
    (["--dataset", "toy"], "needs --task (one of: a:b, b:a)"),
    (["--task", "a:b"], "--task and --data-option need --dataset"),
    (["--dataset", "toy", "--task", "a:b", "--data-option", "x=1"], "takes no option x"),
])
def test_bad_dataset_or_task_is_one_line_exit_2(toy, args, match):
    plugins, data = toy
    r = run_tltk(["run", "centre", *args], pythonpath=[plugins], env=toy_env(data))
    assert r.returncode == 2, r.stderr
    assert r.stderr.startswith("Error: ") and len(r.stderr.strip().splitlines()) == 1
    assert match in r.stderr


def test_missing_files_exit_2_naming_paths_and_how_to_fetch(toy, tmp_path):
    plugins, _ = toy
    empty = tmp_path / "empty"
    r = run_tltk(["run", "centre", "--dataset", "toy", "--task", "a:b"], pythonpath=[plugins],
                 env=toy_env(empty))
    assert r.returncode == 2
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: dataset 'toy': missing ")
    assert str(empty / "toy" / "a.csv") in lines[0] and f"TLTK_DATA={empty}" in lines[0]
    assert "the test writes them" in lines[0]


def test_corrupt_cached_file_is_an_error_not_reused(toy):
    plugins, data = toy
    with open(data / "toy" / "a.csv", "a") as f:
        f.write("0,0,0,0,0,0,0,0,1\n")
    r = run_tltk(["run", "centre", "--dataset", "toy", "--task", "a:b"], pythonpath=[plugins],
                 env=toy_env(data))
    assert r.returncode == 2
    assert "SHA-256" in r.stderr and "a.csv" in r.stderr


def test_info_describes_a_dataset(toy):
    plugins, data = toy
    r = run_tltk(["info", "toy"], pythonpath=[plugins], env=toy_env(data))
    assert r.returncode == 0, r.stderr
    assert "tasks (2): a:b b:a" in r.stdout and "final classifier: 1-NN" in r.stdout
    assert "Fake et al., 2020" in r.stdout and "[present]" in r.stdout
    r = run_tltk(["info", "toy", "--json"], pythonpath=[plugins], env=toy_env(data))
    out = json.loads(r.stdout)
    assert out["protocol"]["references"][0]["accuracy"] == 61.5
    r = run_tltk(["info", "neither"], pythonpath=[plugins], env=toy_env(data))
    assert r.returncode == 2 and "unknown method or dataset 'neither'" in r.stderr


def test_broken_and_duplicate_dataset_plugins_are_reported(toy):
    plugins, data = toy
    write_dist(plugins, "tltk-badsets", {"tltk_badsets.py": """
        from tltk_core import hookimpl

        @hookimpl
        def tltk_register_datasets(register):
            raise RuntimeError("boom in dataset hook")
        """}, {"badsets": "tltk_badsets"})
    fake_dataset_dist(plugins, dist="tltk-zcopy", pkg="tltk_zcopy")
    env = {"TLTK_DATA": str(data), "TLTK_PLUGINS": "tltk-toydata,tltk-badsets,tltk-zcopy"}
    r = run_tltk(["datasets", "--json"], pythonpath=[plugins], env=env)
    assert r.returncode == 0, r.stderr
    rows = json.loads(r.stdout)["datasets"]
    bad = next(d for d in rows if d["name"] == "badsets")
    assert bad["status"] == "broken" and "boom in dataset hook" in bad["error"]
    toys = [d for d in rows if d["name"] == "toy"]
    assert sorted(d["status"] for d in toys) == ["broken", "ok"]
    assert "already registered by tltk-toydata" in next(
        d for d in toys if d["status"] == "broken")["error"]
    human = run_tltk(["datasets"], pythonpath=[plugins], env=env)
    assert any(ln.startswith("badsets") and "broken: " in ln for ln in human.stdout.splitlines())


def test_listing_datasets_imports_no_heavy_dependency(toy):
    plugins, data = toy
    code = ("import sys\nimport tltk_core\nds = tltk_core.datasets()\n"
            "assert [d.name for d in ds] == ['toy'], ds\n"
            "assert ds[0].info.present()\n"
            "heavy = [m for m in ('numpy', 'sklearn', 'scipy', 'torch') if m in sys.modules]\n"
            "print(','.join(heavy))")
    env = dict(os.environ, PYTHONPATH=str(plugins), **toy_env(data))
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "", f"listing datasets imported {r.stdout.strip()}"


def test_load_task_from_python(toy, monkeypatch):
    plugins, data = toy
    import tltk_core
    import tltk_core.registry as registry

    monkeypatch.syspath_prepend(str(plugins))
    monkeypatch.setenv("TLTK_DATA", str(data))
    monkeypatch.setattr(registry, "_REGISTRY",
                        registry.Registry().load_entry_points(["tltk-toydata", "tltk-centre"]))
    task = tltk_core.load_task("toy", "b:first")
    assert task.task_id == "b:a" and task.dataset == "toy" and task.evaluation is None
    assert [d.name for d in task.sources] == ["b"] and task.target.name == "a"
    assert task.protocol.reference("centre", "a:b").accuracy == 61.5
    params = task.protocol.params_for("centre", ["shrink", "estimator"], {"shrink": 0.1})
    assert params["shrink"] == 0.1 and repr(params["estimator"]) == \
        "KNeighborsClassifier(n_neighbors=1)"
    with pytest.raises(tltk_core.InputError, match="unknown task 'x' .*valid: a:b, b:a"):
        tltk_core.load_task("toy", "x")


def test_evaluation_domain_scores_a_separate_test_set(toy, monkeypatch):
    """A task with an evaluation domain: adapt to the target, score the test set."""
    import numpy as np

    import tltk_core.registry as registry
    from tltk_core.data import Domain, Task
    from tltk_core.evaluate import run
    from tltk_core.testing import make_domains

    plugins, _ = toy
    monkeypatch.syspath_prepend(str(plugins))
    monkeypatch.setattr(registry, "_REGISTRY",
                        registry.Registry().load_entry_points(["tltk-centre"]))
    Xs, ys, Xt, yt = make_domains(n_features=8, n_target=100)
    task = Task("t", [Domain(Xs, ys, "s")], Domain(Xt[:60], None, "t"),
                evaluation=Domain(Xt[60:], yt[60:], "t-test"))
    r = run("centre", task)
    assert r["n_target"] == 60 and r["n_evaluated"] == 40 and len(r["predictions"]) == 40
    assert r["accuracy"] is not None and r["baseline_accuracy"] is not None
    assert r["dataset"] is None and r["published_accuracy"] is None
    assert np.isfinite(r["accuracy"])
