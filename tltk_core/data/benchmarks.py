"""Benchmark datasets: what a dataset plugin registers, and loading its tasks.

A dataset is registered by a plugin's ``tltk_register_datasets(register)``
hook as a :class:`DatasetInfo` — metadata only (domains, tasks, sizes, files
with their SHA-256, where they come from, citation, licence and the
:class:`Protocol`), with the loader given as an import path, so that listing
datasets imports nothing heavy.

Tasks are written ``S:T`` (one source) or ``A+B+C:T`` (several sources);
``S->T`` is accepted too, and domain aliases (``books`` for ``B``...) are
resolved. A dataset may also name tasks that have no ``S:T`` form (the
Reuters splits: ``orgs_vs_people``).

:func:`load_task` checks that the files are there (one :class:`InputError`
naming the paths searched and how to fetch them otherwise), verifies their
SHA-256, calls the loader, applies the protocol's preprocessing and returns a
:class:`~tltk_core.data.Task` carrying its ``protocol`` and ``dataset``.
"""
from __future__ import annotations

import importlib
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Mapping, Optional

from ..errors import InputError

_NAME_RE = re.compile(r"^[a-z0-9][a-z0-9_.-]*$")


def _import(target: str):
    module, _, attr = target.partition(":")
    return getattr(importlib.import_module(module), attr)


@dataclass(frozen=True)
class Reference:
    """A published result: ``method`` on ``task`` reached ``accuracy`` percent."""

    method: str
    task: str
    accuracy: float  # percent, as papers print it
    source: str      # the paper (short form: "Long et al., ICCV 2013, Table 2")

    def as_dict(self):
        return {"method": self.method, "task": self.task, "accuracy": self.accuracy,
                "source": self.source}


@dataclass(frozen=True)
class Protocol:
    """How a benchmark is run in the paper that made it standard.

    Parameters
    ----------
    preprocessing : str
        What is done to the features, in words.
    preprocess : str or None
        ``"module:function"`` taking the list of domains (sources, target, then
        the evaluation domain if any) and returning the preprocessed list.
    classifier : str
        The final classifier, in words.
    make_classifier : str or None
        ``"module:function"`` returning that classifier, unfitted. ``tltk run
        --dataset`` passes it to a method as its ``estimator`` hyperparameter
        (when it has one and the user did not set it), so the no-transfer
        baseline is the protocol's source-only number.
    metric : str
        What is measured.
    evaluation : str
        On which samples (transductive on the target, or a separate test set).
    method_params : mapping
        Hyperparameters the paper fixes, per method name (``"*"`` for every
        method); only those a method accepts are passed; ``-p`` overrides them.
    references : tuple of Reference
        Published numbers under this protocol.
    """

    preprocessing: str = "none: features as distributed"
    preprocess: Optional[str] = None
    classifier: str = "the method's own final classifier"
    make_classifier: Optional[str] = None
    metric: str = "accuracy on the target"
    evaluation: str = "all target samples (transductive)"
    method_params: Mapping[str, Mapping] = field(default_factory=dict)
    references: tuple = ()
    source: str = ""  # the paper whose protocol this is

    def reference(self, method: str, task: str) -> Optional[Reference]:
        for ref in self.references:
            if ref.method == method and ref.task == task:
                return ref
        return None

    def classifier_estimator(self):
        return None if self.make_classifier is None else _import(self.make_classifier)()

    def apply(self, domains):
        return list(domains) if self.preprocess is None else list(
            _import(self.preprocess)(list(domains)))

    def params_for(self, method: str, valid, user_params=None) -> dict:
        """The hyperparameters a run under this protocol uses for ``method``.

        The protocol's fixed values (those the method accepts) and its final
        classifier as ``estimator``, then ``user_params`` on top.
        """
        valid = set(valid)
        user = dict(user_params or {})
        params = {}
        for key in ("*", method):
            params.update({k: v for k, v in dict(self.method_params.get(key, {})).items()
                           if k in valid})
        if "estimator" in valid and "estimator" not in user and self.make_classifier:
            params["estimator"] = self.classifier_estimator()
        params.update(user)
        return params

    def as_dict(self):
        return {
            "preprocessing": self.preprocessing, "classifier": self.classifier,
            "metric": self.metric, "evaluation": self.evaluation,
            "method_params": {k: dict(v) for k, v in self.method_params.items()},
            "references": [r.as_dict() for r in self.references], "source": self.source,
        }


@dataclass(frozen=True)
class DataFile:
    """A file of a dataset, relative to the data directory.

    ``sha256`` is verified before the file is read; ``url`` (only where the
    public source and its checksum are known) lets :func:`fetch` download it.
    ``extract`` names the folder an archive is unpacked into after fetching.
    """

    path: str
    sha256: Optional[str] = None
    url: Optional[str] = None
    required: bool = True


@dataclass(frozen=True)
class DatasetInfo:
    """What the toolkit knows about a benchmark dataset without loading it.

    ``loader`` is ``"module:function"``, called as
    ``loader(info, task, sources, target, root, **options)`` with the
    canonical task name, the source and target domain names (``sources`` is
    empty for a named task) and the data directory; it returns a
    :class:`~tltk_core.data.Task` (optionally with an ``evaluation`` domain).
    """

    name: str
    summary: str
    domains: tuple
    tasks: tuple
    loader: str
    n_features: Optional[int] = None
    sizes: Mapping[str, int] = field(default_factory=dict)  # samples per domain
    files: tuple = ()               # DataFile, ...
    source: str = ""                # where the data come from (public source)
    fetch_hint: str = ""            # how to obtain the files when there is no fetcher
    citation: str = ""              # BibTeX
    licence: str = ""
    protocol: Protocol = field(default_factory=Protocol)
    aliases: Mapping[str, str] = field(default_factory=dict)  # alias -> domain
    options: Mapping[str, object] = field(default_factory=dict)  # loader options, defaults

    def __post_init__(self):
        if not (isinstance(self.name, str) and _NAME_RE.match(self.name)):
            raise ValueError(f"dataset name {self.name!r} must be lower case: letters, "
                             "digits, '-', '_', '.'")
        if not self.tasks:
            raise ValueError(f"dataset {self.name!r} has no tasks")
        if not (isinstance(self.loader, str) and ":" in self.loader):
            raise ValueError(f'dataset {self.name!r}: loader must be "module:function"')

    # -- tasks -----------------------------------------------------------
    def _domain(self, text):
        text = text.strip()
        for d in self.domains:
            if d == text or d.lower() == text.lower():
                return d
        for a, d in self.aliases.items():
            if a.lower() == text.lower():
                return d
        return None

    def resolve_task(self, spec: str):
        """``(canonical task, sources, target)``; InputError listing the valid tasks."""
        spec = str(spec).strip()
        if spec in self.tasks and ":" not in spec:
            return spec, [], spec
        text = spec.replace("->", ":")
        if ":" in text:
            left, _, right = text.rpartition(":")
            sources = [self._domain(s) for s in left.split("+")]
            target = self._domain(right)
            if target is not None and sources and None not in sources:
                canonical = "+".join(sources) + ":" + target
                if canonical in self.tasks:
                    return canonical, sources, target
        raise InputError(f"unknown task {spec!r} for dataset {self.name!r} "
                         f"(valid: {', '.join(self.tasks)})")

    # -- files -----------------------------------------------------------
    def file_paths(self, root=None):
        from . import data_home

        root = Path(root) if root is not None else data_home()
        return [(f, root / f.path) for f in self.files]

    def present(self, root=None) -> bool:
        return all(p.is_file() for f, p in self.file_paths(root) if f.required)

    def total_samples(self):
        return sum(self.sizes.values()) if self.sizes else None

    def as_dict(self, root=None):
        return {
            "name": self.name, "summary": self.summary, "domains": list(self.domains),
            "sizes": dict(self.sizes), "tasks": list(self.tasks),
            "n_features": self.n_features, "present": self.present(root),
            "source": self.source, "licence": self.licence,
            "files": [{"path": f.path, "sha256": f.sha256, "url": f.url} for f in self.files],
            "protocol": self.protocol.as_dict(), "citation": self.citation,
        }


# -- loading -----------------------------------------------------------------
def missing_files_error(info: DatasetInfo, missing, root) -> InputError:
    """One line: which files are missing, where we looked, how to get them."""
    from . import DATA_ENV

    import os

    where = (f"${DATA_ENV}={os.environ[DATA_ENV]}" if os.environ.get(DATA_ENV)
             else f"{root} (the cache; set ${DATA_ENV} to use another folder)")
    names = ", ".join(str(p) for _, p in missing[:4]) + (
        f" and {len(missing) - 4} more" if len(missing) > 4 else "")
    urls = [f.url for f, _ in missing if f.url]
    if urls:
        how = (f"fetch with 'tltk fetch {info.name}' (downloads {urls[0]}"
               + (f" and {len(urls) - 1} more" if len(urls) > 1 else "") + ")")
    else:
        how = info.fetch_hint or f"obtain them from {info.source or 'the dataset source'}"
    return InputError(f"dataset {info.name!r}: missing {names}; looked in {where}; {how}")


def check_files(info: DatasetInfo, root=None, verify=True):
    """Raise InputError if a required file is missing or fails its SHA-256."""
    from .download import verify_file

    root = Path(root) if root is not None else _root()
    paths = info.file_paths(root)
    missing = [(f, p) for f, p in paths if f.required and not p.is_file()]
    if missing:
        raise missing_files_error(info, missing, root)
    if verify:
        for f, p in paths:
            if f.sha256 and p.is_file():
                verify_file(p, f.sha256)


def _root():
    from . import data_home

    return data_home()


def load_task(dataset: str, task: str, *, preprocess: bool = True, data_home=None,
              **options):
    """Load ``task`` of benchmark ``dataset`` under its protocol.

    Returns a :class:`~tltk_core.data.Task` whose ``sources``, ``target``
    (and ``evaluation`` when the protocol measures on a separate test set)
    are :class:`~tltk_core.data.Domain` objects and whose ``protocol`` is the
    dataset's :class:`Protocol`. ``preprocess=False`` skips the protocol's
    preprocessing. ``options`` go to the loader (e.g. the synthetic
    dataset's ``n_samples``, ``sparse``, ``seed``).
    """
    from ..registry import get_registry

    entry = get_registry().get_dataset(dataset)
    info = entry.info
    canonical, sources, target = info.resolve_task(task)
    unknown = sorted(set(options) - set(info.options))
    if unknown:
        raise InputError(f"dataset {info.name!r} takes no option {', '.join(unknown)} "
                         f"(valid: {', '.join(info.options) or 'none'})")
    root = Path(data_home) if data_home is not None else _root()
    check_files(info, root)
    opts = {**dict(info.options), **options}
    try:
        loader = _import(info.loader)
    except Exception as exc:
        from ..errors import BrokenMethodError

        raise BrokenMethodError(f"dataset {info.name!r}: its loader {info.loader} could "
                                f"not be imported: {type(exc).__name__}: {exc}") from exc
    result = loader(info, canonical, list(sources), target, root, **opts)
    if preprocess and info.protocol.preprocess:
        doms = list(result.sources) + [result.target] + (
            [result.evaluation] if result.evaluation is not None else [])
        doms = info.protocol.apply(doms)
        n = len(result.sources)
        result.sources, result.target = doms[:n], doms[n]
        if result.evaluation is not None:
            result.evaluation = doms[n + 1]
    result.dataset = info.name
    result.task_id = canonical
    result.protocol = info.protocol
    result.name = f"{info.name}/{canonical}"
    return result


def fetch(dataset: str, data_home=None, force: bool = False):
    """Download every file of ``dataset`` that has a public URL, verify, store.

    Returns the list of paths. Files already present are verified, not
    downloaded again (unless ``force``).
    """
    from ..registry import get_registry
    from .download import download, verify_file

    info = get_registry().get_dataset(dataset).info
    root = Path(data_home) if data_home is not None else _root()
    fetchable = [(f, p) for f, p in info.file_paths(root) if f.url]
    if not fetchable:
        raise InputError(f"dataset {info.name!r} has no fetcher (no public URL with a known "
                         f"checksum); {info.fetch_hint or 'obtain its files from ' + info.source}")
    out = []
    for f, p in fetchable:
        if p.is_file() and not force:
            verify_file(p, f.sha256)
        else:
            download(f.url, p, f.sha256)
        out.append(p)
    return out
