"""Plugin discovery through entry points, with broken plugins reported."""
import json
import subprocess
import sys

import pytest

from core_helpers import fake_method_dist, run_tltk, write_dist


def listing(path, env=None):
    r = run_tltk(["list", "--json"], pythonpath=[path], env=env)
    assert r.returncode == 0, r.stderr
    return {m["name"]: m for m in json.loads(r.stdout)["methods"] if m["name"] in
            {"centre", "centre2", "broken", "twice", "badhook", "tltk-broken"}}, r


def test_plugin_is_discovered_with_distribution_and_version(plugin_path):
    fake_method_dist(plugin_path)
    found, _ = listing(plugin_path)
    m = found["centre"]
    assert m["status"] == "ok" and m["error"] is None
    assert m["distribution"] == "tltk-centre" and m["version"] == "1.0"
    assert m["family"] == "feature" and m["settings"] == ["unsupervised"]
    assert m["sparse"] is False


def test_broken_import_is_reported_and_others_keep_working(plugin_path):
    fake_method_dist(plugin_path)
    write_dist(plugin_path, "tltk-broken", {"tltk_broken.py": "import no_such_module_xyz\n"},
               {"broken": "tltk_broken"})
    found, r = listing(plugin_path)
    assert found["centre"]["status"] == "ok"
    assert found["broken"]["status"] == "broken"
    assert "no_such_module_xyz" in found["broken"]["error"]
    human = run_tltk(["list"], pythonpath=[plugin_path])
    assert human.returncode == 0
    line = next(ln for ln in human.stdout.splitlines() if ln.startswith("broken"))
    assert "broken: " in line and "no_such_module_xyz" in line
    # running a broken method says why in one line, exit 1
    r = run_tltk(["run", "broken"], pythonpath=[plugin_path])
    assert r.returncode == 1
    assert r.stderr.startswith("Error: ") and len(r.stderr.strip().splitlines()) == 1
    assert "no_such_module_xyz" in r.stderr
    # and the working method still runs
    ok = run_tltk(["run", "centre", "--json"], pythonpath=[plugin_path])
    assert ok.returncode == 0, ok.stderr


def test_duplicate_name_is_reported_first_one_wins(plugin_path):
    fake_method_dist(plugin_path)
    fake_method_dist(plugin_path, name="centre", dist="tltk-zcopy", pkg="tltk_zcopy", cls="Z")
    r = run_tltk(["list", "--json"], pythonpath=[plugin_path])
    rows = [m for m in json.loads(r.stdout)["methods"] if m["name"] == "centre"]
    assert sorted(m["status"] for m in rows) == ["broken", "ok"]
    ok = next(m for m in rows if m["status"] == "ok")
    bad = next(m for m in rows if m["status"] == "broken")
    assert ok["distribution"] == "tltk-centre"
    assert "already registered by tltk-centre" in bad["error"]
    assert bad["distribution"] == "tltk-zcopy"


def test_failing_hook_is_reported(plugin_path):
    write_dist(plugin_path, "tltk-badhook", {"tltk_badhook.py": """
        from tltk_core import hookimpl

        @hookimpl
        def tltk_register_methods(register):
            raise RuntimeError("boom in hook")
        """}, {"badhook": "tltk_badhook"})
    fake_method_dist(plugin_path)
    found, _ = listing(plugin_path)
    assert found["badhook"]["status"] == "broken"
    assert "boom in hook" in found["badhook"]["error"]
    assert found["centre"]["status"] == "ok"


def test_lazy_target_that_fails_to_import_is_a_clear_error(plugin_path):
    write_dist(plugin_path, "tltk-twice", {"tltk_twice.py": """
        from tltk_core import MethodInfo, hookimpl
        INFO = MethodInfo("twice", "feature", summary="s", reference="@misc{x}")

        @hookimpl
        def tltk_register_methods(register):
            register(INFO, "tltk_twice_missing:Nope")
        """}, {"twice": "tltk_twice"})
    r = run_tltk(["run", "twice"], pythonpath=[plugin_path])
    assert r.returncode == 1
    assert r.stderr.startswith("Error: ") and "tltk_twice_missing" in r.stderr
    assert "Traceback" not in r.stderr


def test_tltk_plugins_restricts_loading(plugin_path):
    fake_method_dist(plugin_path)
    fake_method_dist(plugin_path, name="centre2", dist="tltk-centre2", pkg="tltk_centre2",
                     cls="C2")
    found, _ = listing(plugin_path, env={"TLTK_PLUGINS": "tltk_centre2"})
    assert set(found) == {"centre2"}
    r = run_tltk(["list", "--json"], pythonpath=[plugin_path], env={"TLTK_PLUGINS": ""})
    assert json.loads(r.stdout)["methods"] == []


def test_listing_imports_no_heavy_dependency(plugin_path):
    fake_method_dist(plugin_path)
    code = ("import sys\nfrom tltk_core.registry import methods\n"
            "names = [m.name for m in methods()]\nassert 'centre' in names, names\n"
            "heavy = [m for m in ('sklearn', 'scipy', 'torch') if m in sys.modules]\n"
            "print(','.join(heavy))")
    import os
    env = dict(os.environ, PYTHONPATH=str(plugin_path))
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "", f"listing imported {r.stdout.strip()}"


def test_load_rejects_unknown_hyperparameter():
    from tltk_core import InputError, UnknownMethodError, load

    with pytest.raises(UnknownMethodError, match="unknown method 'no-such-method'"):
        load("no-such-method")
    from tltk_core.registry import get_registry

    ok = [e for e in get_registry().entries() if e.status == "ok"]
    if not ok:
        pytest.skip("no plugin installed")
    with pytest.raises(InputError, match="unknown hyperparameter not_a_param"):
        load(ok[0].name, not_a_param=1)
