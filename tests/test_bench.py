"""tltk bench: the store, resuming after an interrupt, failing runs, parallel and
Dask execution giving the same rows, the summary and the report."""
import json
import os
import signal
import sqlite3
import subprocess
import sys
import time

import pytest

from core_helpers import fake_dataset_dist, fake_method_dist, run_tltk, write_dist, write_toy_csvs
from tltk_core import InputError
from tltk_core.bench import RunSpec, Store, expand_grid, format_summary, summarise

FAKES = '''
import time

import numpy as np
from sklearn.neighbors import KNeighborsClassifier
from tltk_core import MethodInfo, TransferMethod, hookimpl


class Sleepy(TransferMethod):
    """1-NN on a seed-dependent 70% of the source, after sleeping ``delay`` s."""
    info = MethodInfo("sleepy", "instance", summary="sleeps", reference="@misc{x}")

    def __init__(self, delay=0.0, random_state=None):
        self.delay = delay
        self.random_state = random_state

    def _default_estimator(self):
        return KNeighborsClassifier(n_neighbors=1)

    def _fit(self, Xs, ys, Xt, yt):
        time.sleep(self.delay)
        keep = np.random.RandomState(self.random_state).rand(ys.size) < 0.7
        self.est_ = KNeighborsClassifier(n_neighbors=1).fit(Xs[keep], ys[keep])

    def _predict(self, X):
        return self.est_.predict(X)


class Exploding(TransferMethod):
    """Fails inside fit."""
    info = MethodInfo("exploding", "feature", summary="fails", reference="@misc{x}")

    def _fit(self, Xs, ys, Xt, yt):
        raise RuntimeError("singular matrix in step 3")

    def _predict(self, X):
        return X[:, 0] * 0


@hookimpl
def tltk_register_methods(register):
    register(Sleepy)
    register(Exploding)
'''

TIMING = {"fit_seconds", "peak_rss_mib", "started_at", "finished_at", "host", "result",
          "warnings"}


@pytest.fixture(scope="module")
def env(tmp_path_factory):
    root = tmp_path_factory.mktemp("bench")
    plugins, data = root / "plugins", root / "data"
    sha_a, sha_b = write_toy_csvs(data / "toy")
    fake_method_dist(plugins)
    fake_dataset_dist(plugins, sha_a=sha_a, sha_b=sha_b)
    write_dist(plugins, "tltk-benchfakes", {"tltk_benchfakes.py": FAKES},
               {"benchfakes": "tltk_benchfakes"})
    return {"plugins": plugins, "TLTK_DATA": str(data),
            "TLTK_PLUGINS": "tltk-centre,tltk-toydata,tltk-benchfakes"}


def tltk(env, *args):
    return run_tltk(list(args), pythonpath=[env["plugins"]],
                    env={"TLTK_DATA": env["TLTK_DATA"], "TLTK_PLUGINS": env["TLTK_PLUGINS"]})


def rows(path):
    con = sqlite3.connect(str(path))
    con.row_factory = sqlite3.Row
    out = [dict(r) for r in con.execute("SELECT * FROM runs ORDER BY key")]
    con.close()
    return out


def comparable(rs):
    return [{k: v for k, v in r.items() if k not in TIMING} for r in rs]


# -- the grid and the store ------------------------------------------------------------
def test_grid_keys_are_stable_and_duplicates_refused():
    a = expand_grid(["tca", "jda"], "d", ["x:y"], [0, 1], {"tca": {"mu": 1}})
    b = expand_grid(["tca", "jda"], "d", ["x:y"], [0, 1], {"tca": {"mu": 1}})
    assert [s.key for s in a] == [s.key for s in b] and len({s.key for s in a}) == 4
    assert RunSpec("d", "x:y", "tca", 0, '{"b": 1, "a": 2}').key != \
        RunSpec("d", "x:y", "tca", 0, "{}").key
    with pytest.raises(InputError, match="same run twice"):
        expand_grid(["tca", "tca"], "d", ["x:y"], [0])


def test_a_corrupt_store_is_an_error_and_is_left_untouched(tmp_path):
    bad = tmp_path / "bad.sqlite"
    bad.write_bytes(b"this is not a database\n" * 10)
    before = bad.read_bytes()
    with pytest.raises(InputError, match="bad.sqlite: not a tltk result store"):
        Store(bad)
    assert bad.read_bytes() == before

    other = tmp_path / "other.sqlite"
    con = sqlite3.connect(str(other))
    con.execute("CREATE TABLE mine (x)")
    con.commit()
    con.close()
    before = other.read_bytes()
    with pytest.raises(InputError, match="not a tltk result store .*tables: mine"):
        Store(other)
    assert other.read_bytes() == before

    truncated = tmp_path / "trunc.sqlite"
    Store(truncated).close()
    truncated.write_bytes(truncated.read_bytes()[:200])
    with pytest.raises(InputError, match="trunc.sqlite"):
        Store(truncated).rows()


def test_corrupt_store_from_the_command_line_is_one_error_line(env, tmp_path):
    bad = tmp_path / "s.sqlite"
    bad.write_text("hello")
    r = tltk(env, "bench", "--methods", "centre", "--dataset", "toy", "--store", str(bad))
    assert r.returncode == 2
    assert r.stderr.strip().splitlines() == [
        f"Error: --store {bad}: not a tltk result store (not a SQLite file); refusing to "
        "touch it"]
    assert bad.read_text() == "hello"


def test_a_failing_method_is_recorded_and_the_grid_goes_on(env, tmp_path):
    store = tmp_path / "s.sqlite"
    r = tltk(env, "bench", "--methods", "centre,exploding", "--dataset", "toy",
             "--store", str(store))
    assert r.returncode == 0, r.stderr
    got = rows(store)
    assert len(got) == 4
    failed = [x for x in got if x["method"] == "exploding"]
    assert [x["status"] for x in failed] == ["failed", "failed"]
    assert all("RuntimeError: singular matrix in step 3" in x["error"] for x in failed)
    ok = [x for x in got if x["method"] == "centre"]
    assert all(x["status"] == "ok" and 0 < x["accuracy"] <= 1 for x in ok)
    assert all(x["tltk_version"] and x["distribution"] == "tltk-centre"
               and x["method_version"] == "1.0" and x["finished_at"] for x in ok)
    assert "2 of 4 runs failed" in r.stderr
    assert "centre" in r.stdout and "toy/a:b" in r.stdout

    again = tltk(env, "bench", "--methods", "centre,exploding", "--dataset", "toy",
                 "--store", str(store))
    assert "0 to run" in again.stderr
    assert rows(store) == got                          # nothing re-run, nothing rewritten
    retry = tltk(env, "bench", "--methods", "centre,exploding", "--dataset", "toy",
                 "--store", str(store), "--retry-failed")
    assert "2 to run" in retry.stderr and len(rows(store)) == 4


def _wait_for_rows(store, n, proc, timeout=60):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if proc.poll() is not None:
            raise AssertionError(f"bench ended early: {proc.communicate()}")
        try:
            if store.exists() and len(rows(store)) >= n:
                return
        except sqlite3.Error:
            pass
        time.sleep(0.05)
    raise AssertionError("no row appeared")


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGKILL], ids=["ctrl-c", "killed"])
def test_interrupted_grid_resumes_with_every_run_exactly_once(env, tmp_path, sig):
    store = tmp_path / "s.sqlite"
    args = ["bench", "--methods", "sleepy", "--dataset", "toy", "--seeds", "0,1,2,3",
            "-p", "delay=0.4", "--store", str(store)]
    full_env = dict(os.environ, TLTK_DATA=env["TLTK_DATA"], TLTK_PLUGINS=env["TLTK_PLUGINS"],
                    PYTHONPATH=os.pathsep.join([str(env["plugins"]),
                                                os.environ.get("PYTHONPATH", "")]))
    # a test run started in the background by a non-interactive shell (nohup
    # ... &) inherits SIGINT ignored, and Python then never raises
    # KeyboardInterrupt: the child gets the default handling back first
    proc = subprocess.Popen([sys.executable, "-c", "from tltk_core.cli import main; main()",
                             *args], env=full_env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True,
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    _wait_for_rows(store, 2, proc)
    proc.send_signal(sig)
    _, err = proc.communicate(timeout=60)
    if sig == signal.SIGINT:
        assert proc.returncode == 130
        assert "Error: interrupted: the finished runs are in" in err
    else:
        assert proc.returncode == -signal.SIGKILL
    first = rows(store)
    assert 2 <= len(first) < 8 and all(r["status"] == "ok" for r in first)

    r = tltk(env, *args)
    assert r.returncode == 0, r.stderr
    assert f"{len(first)} already in" in r.stderr
    final = rows(store)
    assert len(final) == 8 and len({x["key"] for x in final}) == 8
    by_key = {x["key"]: x for x in final}
    assert all(by_key[x["key"]] == x for x in first)      # finished runs kept as they were
    assert sorted((x["task"], x["seed"]) for x in final) == sorted(
        (t, s) for t in ("a:b", "b:a") for s in range(4))


def test_parallel_jobs_give_the_same_rows(env, tmp_path):
    one, two = tmp_path / "one.sqlite", tmp_path / "two.sqlite"
    grid = ["bench", "--methods", "sleepy,centre", "--dataset", "toy", "--seeds", "0,1"]
    r1 = tltk(env, *grid, "--store", str(one))
    r2 = tltk(env, *grid, "--store", str(two), "--jobs", "2")
    assert r1.returncode == 0 and r2.returncode == 0, (r1.stderr, r2.stderr)
    assert comparable(rows(one)) == comparable(rows(two)) and len(rows(one)) == 8
    # seeds matter for the seeded method: the summary shows a spread
    out = json.loads(tltk(env, *grid, "--store", str(one), "--json").stdout)
    assert out["ran"] == 0 and out["runs"] == 8
    sleepy = [s for s in out["summary"] if s["method"] == "sleepy"]
    assert all(s["runs"] == 2 for s in sleepy)


def test_dask_local_cluster_gives_the_same_rows(env, tmp_path, monkeypatch):
    distributed = pytest.importorskip("distributed")
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join([str(env["plugins"]),
                                                      os.environ.get("PYTHONPATH", "")]))
    monkeypatch.setenv("TLTK_DATA", env["TLTK_DATA"])
    monkeypatch.setenv("TLTK_PLUGINS", env["TLTK_PLUGINS"])
    monkeypatch.syspath_prepend(str(env["plugins"]))   # spawned workers copy sys.path
    local, remote = tmp_path / "local.sqlite", tmp_path / "dask.sqlite"
    grid = ["bench", "--methods", "sleepy,centre,exploding", "--dataset", "toy",
            "--seeds", "0,1"]
    assert tltk(env, *grid, "--store", str(local)).returncode == 0
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, host="127.0.0.1",
                                  dashboard_address=None, processes=True) as cluster:
        r = tltk(env, *grid, "--store", str(remote), "--scheduler", cluster.scheduler_address)
    assert r.returncode == 0, r.stderr
    assert "on tcp://127.0.0.1:" in r.stderr
    assert [r["error"] for r in rows(remote)] == [r["error"] for r in rows(local)]
    assert comparable(rows(local)) == comparable(rows(remote)) and len(rows(remote)) == 12


def test_unreachable_scheduler_is_one_clear_error(env, tmp_path):
    pytest.importorskip("distributed")
    r = tltk(env, "bench", "--methods", "centre", "--dataset", "toy", "--store",
             str(tmp_path / "s.sqlite"), "--scheduler", "tcp://127.0.0.1:9")
    assert r.returncode == 2 and "--scheduler tcp://127.0.0.1:9: cannot connect" in r.stderr


@pytest.mark.parametrize("args,match", [
    (["-p", "centre.nope=1"], "method 'centre' has no hyperparameter 'nope'"),
    (["-p", "tca.shrink=1"], "method 'tca' is not in --methods"),
    (["-p", "nope=1"], "no method of the grid has a hyperparameter 'nope'"),
    (["--seeds", "a,b"], "--seeds 'a,b': expected integers"),
    (["--tasks", "a:zz"], "zz"),
], ids=["key", "method", "anykey", "seeds", "task"])
def test_bad_grid_arguments_fail_before_running(env, tmp_path, args, match):
    store = tmp_path / "s.sqlite"
    r = tltk(env, "bench", "--methods", "centre", "--dataset", "toy", "--store", str(store),
             *args)
    assert r.returncode == 2 and match in r.stderr, r.stderr
    assert not store.exists()


def test_report_formats_and_plot(env, tmp_path):
    store = tmp_path / "s.sqlite"
    assert tltk(env, "bench", "--methods", "centre", "--dataset", "toy", "--store",
                str(store)).returncode == 0
    md = tltk(env, "bench", "report", "--store", str(store), "--format", "markdown").stdout
    assert md.splitlines()[0].startswith("| method | task | accuracy %")
    assert "| centre | toy/a:b |" in md and "61.50" in md       # the published number
    csv = tltk(env, "bench", "report", "--store", str(store), "--format", "csv").stdout
    assert csv.splitlines()[0].startswith("dataset,task,method,params,runs")
    js = json.loads(tltk(env, "bench", "report", "--store", str(store), "--format",
                         "json").stdout)
    assert {s["task"] for s in js} == {"a:b", "b:a"}
    missing = tltk(env, "bench", "report", "--store", str(tmp_path / "none.sqlite"))
    assert missing.returncode == 2 and "no such store" in missing.stderr
    pytest.importorskip("matplotlib")
    png = tmp_path / "gain.png"
    r = tltk(env, "bench", "report", "--store", str(store), "--plot", str(png))
    assert r.returncode == 0 and png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_summary_is_mean_and_sample_std_over_seeds():
    def row(seed, acc, base, status="ok"):
        return {"dataset": "d", "task": "s:t", "method": "m", "params": "{}", "seed": seed,
                "status": status, "accuracy": acc, "baseline_accuracy": base,
                "published_accuracy": 0.5, "fit_seconds": 1.0, "peak_rss_mib": 10.0}

    s, = summarise([row(0, 0.6, 0.5), row(1, 0.8, 0.5), row(2, None, None, "failed")])
    assert s["accuracy_mean"] == pytest.approx(0.7)
    assert s["accuracy_std"] == pytest.approx(0.1414213562)
    assert s["gain"] == pytest.approx(0.2) and (s["runs"], s["failed"]) == (3, 1)
    assert s["significant"] is True and s["gain_over_strong"] is None
    table = format_summary([s])
    assert "70.00 ± 14.14" in table and "+20.00" in table and "2/3" in table
    assert "n.s." not in table
    # a gain smaller than the spread over seeds is marked not significant
    noisy, = summarise([row(0, 0.4, 0.5), row(1, 0.8, 0.5)])
    assert noisy["gain"] == pytest.approx(0.1) and noisy["significant"] is False
    assert "+10.00 (n.s.)" in format_summary([noisy])
    one, = summarise([row(0, 0.6, 0.5)])
    assert one["significant"] is None and "n.s." not in format_summary([one])
    two = summarise([row(0, 0.6, 0.5), dict(row(0, 0.8, 0.7), task="u:v")])
    mean_line = [ln for ln in format_summary(two).splitlines() if "mean of 2 tasks" in ln]
    assert len(mean_line) == 1 and "70.00" in mean_line[0] and "60.00" in mean_line[0]
    loud = summarise([dict(row(0, 0.6, 0.5), warnings='["SuspiciousResultWarning: x"]')])
    assert loud[0]["suspicious"] == 1 and "60.00 !" in format_summary(loud)
    assert "looks broken" in format_summary(loud, "markdown")
    assert "!" not in format_summary([one])
    strong = [dict(row(0, 0.6, 0.5), strong_baseline_accuracy=0.65)]
    assert summarise(strong)[0]["gain_over_strong"] == pytest.approx(-0.05)
    assert "-5.00" in format_summary(summarise(strong))


@pytest.mark.skipif(not os.path.exists("/proc/self/clear_refs"), reason="Linux only")
def test_peak_memory_is_per_run_in_a_long_lived_worker():
    import numpy as np

    from tltk_core.bench import _reset_peak_rss
    from tltk_core.evaluate import _peak_rss_mib

    big = np.ones(64 * 2**20 // 8)          # 64 MiB touched
    del big
    high = _peak_rss_mib()
    assert _reset_peak_rss()
    assert _peak_rss_mib() < high - 32
