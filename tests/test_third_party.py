"""A plugin written outside the repository, installed with pip, just works."""
import json
import os
import subprocess
import sys
import textwrap

import pytest

PYPROJECT = """
[build-system]
requires = ["setuptools>=61"]
build-backend = "setuptools.build_meta"

[project]
name = "tltk-nearest-mean"
version = "0.3.0"
dependencies = ["tltk-core"]

[project.entry-points.tltk]
nearest-mean = "tltk_nearest_mean"
"""

MODULE = '''
import numpy as np
from tltk_core import MethodInfo, TransferMethod, hookimpl


class NearestMean(TransferMethod):
    """Nearest class mean after removing each domain's mean."""

    info = MethodInfo("nearest-mean", "feature", summary="nearest class mean",
                      reference="@misc{nm, title={Nearest mean}}")

    def _fit(self, Xs, ys, Xt, yt):
        self.shift_ = Xt.mean(0)
        Zs = Xs - Xs.mean(0)
        self.means_ = np.stack([Zs[ys == c].mean(0) for c in range(len(self.classes_))])

    def _predict(self, X):
        Z = X - self.shift_
        return ((Z[:, None, :] - self.means_[None]) ** 2).sum(-1).argmin(1)


@hookimpl
def tltk_register_methods(register):
    register(NearestMean)
'''


def test_pip_installed_plugin_is_listed_and_runs(tmp_path):
    src = tmp_path / "tltk-nearest-mean"
    (src / "tltk_nearest_mean").mkdir(parents=True)
    (src / "pyproject.toml").write_text(textwrap.dedent(PYPROJECT))
    (src / "tltk_nearest_mean" / "__init__.py").write_text(MODULE)
    target = tmp_path / "site"
    # a normal pip install (build isolation fetches setuptools from the package index)
    pip = subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps",
                          "--target", str(target), str(src)], capture_output=True, text=True)
    if pip.returncode != 0 and any(s in pip.stderr for s in (
            "No matching distribution", "Could not find a version", "NewConnectionError")):
        pytest.skip("no package index reachable to build the plugin")
    assert pip.returncode == 0, pip.stderr
    env = dict(os.environ, PYTHONPATH=str(target))
    cmd = [sys.executable, "-c", "from tltk_core.cli import main; main()"]
    listed = subprocess.run(cmd + ["list", "--json"], capture_output=True, text=True, env=env)
    assert listed.returncode == 0, listed.stderr
    row = next(m for m in json.loads(listed.stdout)["methods"] if m["name"] == "nearest-mean")
    assert row["status"] == "ok" and row["distribution"] == "tltk-nearest-mean"
    assert row["version"] == "0.3.0"
    ran = subprocess.run(cmd + ["run", "nearest-mean", "--json"], capture_output=True,
                         text=True, env=env)
    assert ran.returncode == 0, ran.stderr
    out = json.loads(ran.stdout)
    assert out["method"] == "nearest-mean" and 0 < out["accuracy"] <= 1
