"""Domains, tasks and the small real task that ships with the core.

The bundled task is the Amazon -> Webcam pair of Office-Caltech10 with SURF
features (800-bin bag-of-visual-words histograms, 10 classes; Gong et al.,
CVPR 2012; Saenko et al., ECCV 2010), stored as raw counts (135 kB). It is
loaded under the protocol of Long et al. (ICCV 2013): each histogram scaled to
sum 1, then each domain z-scored on its own.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from importlib import resources
from typing import Optional

DATA_ENV = "TLTK_DATA"


def data_home():
    """Where benchmark files live: ``$TLTK_DATA``, else a per-user cache folder."""
    import os
    from pathlib import Path

    env = os.environ.get(DATA_ENV)
    if env:
        return Path(env).expanduser().resolve()
    cache = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(cache) / "tltk"


from .benchmarks import DataFile, DatasetInfo, Protocol, Reference, fetch, load_task  # noqa: E402

BUNDLED_TASK = "office-caltech-surf:amazon->webcam"

BUNDLED_REFERENCE = """\
@inproceedings{gong2012gfk,
  title     = {Geodesic flow kernel for unsupervised domain adaptation},
  author    = {Gong, Boqing and Shi, Yuan and Sha, Fei and Grauman, Kristen},
  booktitle = {CVPR},
  pages     = {2066--2073},
  year      = {2012}
}
@inproceedings{saenko2010adapting,
  title     = {Adapting visual category models to new domains},
  author    = {Saenko, Kate and Kulis, Brian and Fritz, Mario and Darrell, Trevor},
  booktitle = {ECCV},
  pages     = {213--226},
  year      = {2010}
}"""


@dataclass
class Domain:
    """Samples of one domain: features ``X`` (dense or sparse), labels ``y``."""

    X: object
    y: Optional[object]
    name: str

    @property
    def n_samples(self):
        return self.X.shape[0]


@dataclass
class Task:
    """One or more labelled source domains and a target domain.

    ``evaluation``: where accuracy is measured when that is not the target
    itself (the DANN protocol on Amazon reviews adapts to the target's
    unlabelled training reviews and scores its test reviews); None means the
    target. Benchmark tasks (:func:`load_task`) also carry their ``dataset``
    name, the canonical ``task_id`` (``"C:A"``) and the dataset's ``protocol``.
    """

    name: str
    sources: list
    target: Domain
    description: str = ""
    reference: str = ""
    extra: dict = field(default_factory=dict)
    evaluation: Optional[Domain] = None
    dataset: Optional[str] = None
    task_id: Optional[str] = None
    protocol: Optional[object] = None

    @property
    def n_features(self):
        return self.target.X.shape[1]


def histogram_zscore(X):
    """Scale each row to sum 1, then z-score each column (std 0 -> left at 0)."""
    import numpy as np

    X = np.asarray(X, dtype=np.float64)
    sums = X.sum(axis=1, keepdims=True)
    X = np.divide(X, sums, out=np.zeros_like(X), where=sums > 0)
    mean = X.mean(axis=0)
    std = X.std(axis=0)
    return np.divide(X - mean, std, out=np.zeros_like(X), where=std > 0)


def bundled_task() -> Task:
    """Office-Caltech10 SURF, Amazon (958 images) -> Webcam (295), 10 classes."""
    import numpy as np

    path = resources.files(__name__).joinpath("office_caltech_surf_amazon_webcam.npz")
    with resources.as_file(path) as p, np.load(p, allow_pickle=False) as f:
        Xs, ys, Xt, yt = (f[k] for k in ("Xs", "ys", "Xt", "yt"))
    return Task(
        name=BUNDLED_TASK,
        sources=[Domain(histogram_zscore(Xs), ys.astype(np.int64), "amazon")],
        target=Domain(histogram_zscore(Xt), yt.astype(np.int64), "webcam"),
        description=("Office-Caltech10 SURF, Amazon -> Webcam: 800-bin SURF histograms, "
                     "10 classes; each histogram scaled to sum 1, each domain z-scored "
                     "(the protocol of Long et al., ICCV 2013)"),
        reference=BUNDLED_REFERENCE,
    )
