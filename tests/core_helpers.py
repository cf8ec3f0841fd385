import os
import subprocess
import sys
import textwrap
from pathlib import Path

FAKE_IMPL = '''
import numpy as np
from sklearn.neighbors import KNeighborsClassifier
from tltk_core import TransferMethod, check_param
from {pkg} import INFO


class {cls}(TransferMethod):
    """Nearest class mean after centring each domain on its own mean."""

    info = INFO

    def __init__(self, shrink=1.0, estimator=None):
        self.shrink = shrink
        self.estimator = estimator

    def _check_params(self):
        check_param(self.shrink, "shrink", kind=float, low=0.0, high=1.0)

    def _default_estimator(self):
        return KNeighborsClassifier(n_neighbors=1)

    def _fit(self, Xs, ys, Xt, yt):
        self.mu_s_ = np.asarray(Xs.mean(axis=0)).ravel()
        self.mu_t_ = np.asarray(Xt.mean(axis=0)).ravel()
        self.est_ = self._make_estimator().fit(self._transform_source(Xs), ys)

    def _transform_source(self, X):
        return np.asarray(X - self.shrink * self.mu_s_)

    def _transform(self, X):
        return np.asarray(X - self.shrink * self.mu_t_)

    def _predict(self, X):
        return self.est_.predict(self._transform(X))
'''

FAKE_PLUGIN = '''
from tltk_core import MethodInfo, hookimpl

INFO = MethodInfo("{name}", "feature", ("unsupervised",), sparse=False,
                  summary="centre each domain, then classify", reference="@misc{{fake}}")


@hookimpl
def tltk_register_methods(register):
    register(INFO, "{pkg}_impl:{cls}")
'''


def write_dist(root, dist, module_files, entry_points, version="1.0"):
    """A minimal installed distribution (dist-info + modules) under ``root``."""
    root = Path(root)
    info = root / f"{dist.replace('-', '_')}-{version}.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {dist}\nVersion: {version}\n")
    eps = "[tltk]\n" + "".join(f"{k} = {v}\n" for k, v in entry_points.items())
    (info / "entry_points.txt").write_text(eps)
    for name, text in module_files.items():
        (root / name).write_text(textwrap.dedent(text))
    return root


def fake_method_dist(root, name="centre", dist="tltk-centre", pkg="tltk_centre", cls="Centre"):
    return write_dist(root, dist, {
        f"{pkg}.py": FAKE_PLUGIN.format(name=name, pkg=pkg, cls=cls),
        f"{pkg}_impl.py": FAKE_IMPL.format(pkg=pkg, cls=cls),
    }, {name: pkg})


def run_tltk(args, pythonpath=None, env=None, cwd=None):
    """Run the tltk command in a fresh interpreter (so discovery starts clean)."""
    full_env = dict(os.environ)
    if pythonpath:
        full_env["PYTHONPATH"] = os.pathsep.join(
            [str(p) for p in pythonpath] + [full_env.get("PYTHONPATH", "")])
    full_env.update(env or {})
    return subprocess.run([sys.executable, "-c", "from tltk_core.cli import main; main()",
                           *args], capture_output=True, text=True, env=full_env, cwd=cwd,
                          timeout=600)


FAKE_DATASET_PLUGIN = '''
from tltk_core import DataFile, DatasetInfo, Protocol, Reference, hookimpl

INFO = DatasetInfo(
    name="{name}",
    summary="two tiny CSV domains",
    domains=("a", "b"),
    aliases={{"first": "a"}},
    sizes={{"a": 80, "b": 60}},
    tasks=("a:b", "b:a"),
    n_features=8,
    loader="{pkg}_load:load",
    files=(DataFile("{name}/a.csv", {sha_a!r}, {url_a!r}), DataFile("{name}/b.csv", {sha_b!r})),
    source="written by the test",
    fetch_hint="the test writes them",
    protocol=Protocol(
        preprocessing="none", classifier="1-NN", make_classifier="{pkg}_load:one_nn",
        method_params={{"centre": {{"shrink": 0.5, "no_such_param": 1}}}},
        references=(Reference("centre", "a:b", 61.5, "Fake et al., 2020"),),
        source="Fake et al., 2020"),
)


@hookimpl
def tltk_register_datasets(register):
    register(INFO)
'''

FAKE_DATASET_LOADER = '''
from tltk_core.data import Domain, Task
from tltk_core.io import read_csv


def one_nn():
    from sklearn.neighbors import KNeighborsClassifier
    return KNeighborsClassifier(n_neighbors=1)


def load(info, task, sources, target, root):
    doms = [Domain(*read_csv(root / info.name / f"{{d}}.csv"), d) for d in sources + [target]]
    return Task(name="", sources=doms[:-1], target=doms[-1])
'''


def fake_dataset_dist(root, name="toy", dist="tltk-toydata", pkg="tltk_toydata",
                      sha_a=None, sha_b=None, url_a=None):
    return write_dist(root, dist, {
        f"{pkg}.py": FAKE_DATASET_PLUGIN.format(name=name, pkg=pkg, sha_a=sha_a, sha_b=sha_b,
                                                url_a=url_a),
        f"{pkg}_load.py": FAKE_DATASET_LOADER.format(),
    }, {name: pkg})


def write_toy_csvs(folder):
    """The two domains of the fake dataset, as CSV files; returns their SHA-256."""
    import hashlib

    import numpy as np

    from tltk_core.testing import make_domains

    Xs, ys, Xt, yt = make_domains(n_features=8)
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    out = []
    for fn, X, y in (("a.csv", Xs, ys), ("b.csv", Xt, yt)):
        np.savetxt(folder / fn, np.column_stack([X, y]), delimiter=",", fmt="%g")
        out.append(hashlib.sha256((folder / fn).read_bytes()).hexdigest())
    return out
