"""Discovery of method and dataset plugins through the ``tltk`` entry-point group.

A plugin is a distribution that declares an entry point in group ``tltk``; the
object it points at implements the ``tltk_register_methods(register)`` hook,
the ``tltk_register_datasets(register)`` hook, or both.
Each plugin is loaded and asked for its methods on its own, so a plugin that
fails to import, raises in its hook or registers a name that is already taken
is recorded as *broken* with its error while every other method (and dataset)
keeps working. A plugin that fails to import is shown as broken both among
the methods and among the datasets, since it cannot say which it provides.

Set ``TLTK_PLUGINS`` to a comma-separated list of distribution names to load
only those plugins (an empty value loads none).
"""
from __future__ import annotations

import importlib
import os
import re
from dataclasses import dataclass
from typing import Optional

import pluggy

from . import hookspecs
from .errors import BrokenMethodError, InputError, UnknownMethodError
from .info import MethodInfo

ENTRY_POINT_GROUP = "tltk"
PLUGINS_ENV = "TLTK_PLUGINS"


def _normalise(dist_name: str) -> str:
    return re.sub(r"[-_.]+", "-", dist_name).lower()


def _describe(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0]}" if text and text[0] else type(exc).__name__


@dataclass
class MethodEntry:
    """One registered method (or one broken plugin) as ``tltk list`` shows it."""

    name: str
    info: Optional[MethodInfo]
    target: object  # the class, or "module:Class", or None when broken
    distribution: Optional[str]
    version: Optional[str]
    plugin: str
    status: str = "ok"
    error: Optional[str] = None

    def as_dict(self) -> dict:
        info = self.info
        return {
            "name": self.name,
            "family": info.family if info else None,
            "settings": list(info.settings) if info else [],
            "sparse": info.sparse if info else None,
            "distribution": self.distribution,
            "version": self.version,
            "status": self.status,
            "error": self.error,
        }

    def load_class(self):
        """Import and return the method class (imports its dependencies)."""
        if self.status != "ok":
            raise BrokenMethodError(f"method {self.name!r} is broken: {self.error}")
        if isinstance(self.target, str):
            module_name, _, attr = self.target.partition(":")
            try:
                cls = getattr(importlib.import_module(module_name), attr)
            except Exception as exc:  # report, do not crash the caller
                raise BrokenMethodError(
                    f"method {self.name!r} from {self.distribution} could not be loaded "
                    f"from {self.target}: {_describe(exc)}") from exc
            _check_class(cls, self.name)
            self.target = cls
        return self.target


def _check_class(cls, name):
    from .method import TransferMethod

    if not (isinstance(cls, type) and issubclass(cls, TransferMethod)):
        raise BrokenMethodError(f"method {name!r} does not point at a TransferMethod subclass")
    info = getattr(cls, "info", None)
    if not isinstance(info, MethodInfo) or info.name != name:
        raise BrokenMethodError(
            f"method {name!r}: its class carries info for {getattr(info, 'name', None)!r}")


@dataclass
class DatasetEntry:
    """One registered dataset (or one broken dataset plugin)."""

    name: str
    info: object  # DatasetInfo, or None when broken
    distribution: Optional[str]
    version: Optional[str]
    plugin: str
    status: str = "ok"
    error: Optional[str] = None

    def as_dict(self, root=None) -> dict:
        if self.info is None:
            out = {"name": self.name, "tasks": [], "n_features": None, "present": False,
                   "source": None}
        else:
            out = self.info.as_dict(root)
        out.update({"distribution": self.distribution, "version": self.version,
                    "status": self.status, "error": self.error})
        return out


class Registry:
    """The methods and datasets installed in this environment."""

    def __init__(self):
        self.pm = pluggy.PluginManager(ENTRY_POINT_GROUP)
        self.pm.add_hookspecs(hookspecs)
        self._entries: list[MethodEntry] = []
        self._by_name: dict[str, MethodEntry] = {}
        self._datasets: list[DatasetEntry] = []
        self._datasets_by_name: dict[str, DatasetEntry] = {}

    # -- discovery -------------------------------------------------------
    def load_entry_points(self, allowed=None):
        """Load every plugin of the ``tltk`` group (or those in ``allowed``)."""
        from importlib_metadata import entry_points

        if allowed is None:
            env = os.environ.get(PLUGINS_ENV)
            if env is not None:
                allowed = [p for p in env.split(",") if p.strip()]
        allowed = None if allowed is None else {_normalise(a.strip()) for a in allowed}
        eps = sorted(entry_points(group=ENTRY_POINT_GROUP),
                     key=lambda ep: ((ep.dist.name if ep.dist else ""), ep.name))
        seen = set()
        for ep in eps:
            dist = ep.dist.name if ep.dist else None
            version = ep.dist.version if ep.dist else None
            key = (dist, ep.name, ep.value)
            if key in seen:  # the same distribution visible twice on sys.path
                continue
            seen.add(key)
            if allowed is not None and _normalise(dist or "") not in allowed:
                continue
            try:
                plugin = ep.load()
            except Exception as exc:
                error = f"plugin failed to import ({ep.value}): {_describe(exc)}"
                self._add_broken(ep.name, dist, version, ep.name, error)
                self._add_broken_dataset(ep.name, dist, version, ep.name, error)
                continue
            self.add_plugin(plugin, name=ep.name, distribution=dist, version=version)
        return self

    def add_plugin(self, plugin, name, distribution=None, version=None):
        """Register one plugin object and collect the methods it registers."""
        try:
            self.pm.register(plugin, name=f"{distribution}:{name}")
        except Exception as exc:
            self._add_broken(name, distribution, version, name,
                             f"plugin could not be registered: {_describe(exc)}")
            return
        for impl in self.pm.hook.tltk_register_methods.get_hookimpls():
            if impl.plugin is not plugin:
                continue
            collected = []
            try:
                impl.function(register=lambda obj, target=None: collected.append((obj, target)))
            except Exception as exc:
                self._add_broken(name, distribution, version, name,
                                 f"tltk_register_methods failed: {_describe(exc)}")
                continue
            for obj, target in collected:
                self._add_method(obj, target, name, distribution, version)
        for impl in self.pm.hook.tltk_register_datasets.get_hookimpls():
            if impl.plugin is not plugin:
                continue
            collected = []
            try:
                impl.function(register=collected.append)
            except Exception as exc:
                self._add_broken_dataset(name, distribution, version, name,
                                         f"tltk_register_datasets failed: {_describe(exc)}")
                continue
            for obj in collected:
                self._add_dataset(obj, name, distribution, version)

    def _add_dataset(self, info, plugin, distribution, version):
        from .data.benchmarks import DatasetInfo

        if not isinstance(info, DatasetInfo):
            self._add_broken_dataset(plugin, distribution, version, plugin,
                                     f"register() takes a DatasetInfo, got {info!r}")
            return
        existing = self._datasets_by_name.get(info.name)
        if existing is not None:
            self._add_broken_dataset(info.name, distribution, version, plugin,
                                     f"name {info.name!r} is already registered by "
                                     f"{existing.distribution} {existing.version}")
            return
        entry = DatasetEntry(info.name, info, distribution, version, plugin)
        self._datasets.append(entry)
        self._datasets_by_name[info.name] = entry

    def _add_broken_dataset(self, name, distribution, version, plugin, error):
        self._datasets.append(DatasetEntry(name, None, distribution, version, plugin,
                                           status="broken", error=error))

    def _add_method(self, obj, target, plugin, distribution, version):
        try:
            if isinstance(obj, MethodInfo):
                info = obj
                if not (isinstance(target, str) and ":" in target):
                    raise TypeError('register(info, target) needs target "module:Class"')
            elif isinstance(obj, type):
                info, target = getattr(obj, "info", None), obj
                if not isinstance(info, MethodInfo):
                    raise TypeError(f"{obj.__name__} has no MethodInfo in its 'info' attribute")
            else:
                raise TypeError(f"register() takes a method class or a MethodInfo, got {obj!r}")
        except TypeError as exc:
            self._add_broken(plugin, distribution, version, plugin, str(exc))
            return
        existing = self._by_name.get(info.name)
        if existing is not None:
            self._add_broken(info.name, distribution, version, plugin,
                             f"name {info.name!r} is already registered by "
                             f"{existing.distribution} {existing.version}", info=info)
            return
        entry = MethodEntry(info.name, info, target, distribution, version, plugin)
        self._entries.append(entry)
        self._by_name[info.name] = entry

    def _add_broken(self, name, distribution, version, plugin, error, info=None):
        self._entries.append(MethodEntry(name, info, None, distribution, version, plugin,
                                         status="broken", error=error))

    # -- queries ---------------------------------------------------------
    def entries(self):
        return sorted(self._entries, key=lambda e: (e.name, e.status != "ok"))

    def get(self, name) -> MethodEntry:
        entry = self._by_name.get(name)
        if entry is not None:
            return entry
        broken = [e for e in self._entries if e.name == name]
        if broken:
            raise BrokenMethodError(f"method {name!r} is broken: {broken[0].error}")
        known = ", ".join(sorted(self._by_name)) or "none installed"
        raise UnknownMethodError(f"unknown method {name!r} (available: {known})")


    def dataset_entries(self):
        return sorted(self._datasets, key=lambda e: (e.name, e.status != "ok"))

    def get_dataset(self, name) -> DatasetEntry:
        entry = self._datasets_by_name.get(name)
        if entry is not None:
            return entry
        broken = [e for e in self._datasets if e.name == name]
        if broken:
            raise BrokenMethodError(f"dataset {name!r} is broken: {broken[0].error}")
        known = ", ".join(sorted(self._datasets_by_name)) or "none installed"
        raise InputError(f"unknown dataset {name!r} (available: {known})")


_REGISTRY: Optional[Registry] = None


def get_registry(refresh: bool = False) -> Registry:
    """The process-wide registry, discovered on first use."""
    global _REGISTRY
    if _REGISTRY is None or refresh:
        _REGISTRY = Registry().load_entry_points()
    return _REGISTRY


def methods(refresh: bool = False) -> list:
    """Every installed method (and broken plugin) as :class:`MethodEntry`.

    Imports no method class: metadata only.
    """
    return get_registry(refresh).entries()


def datasets(refresh: bool = False) -> list:
    """Every installed benchmark dataset (and broken dataset plugin) as
    :class:`DatasetEntry`; ``entry.info`` is its
    :class:`~tltk_core.data.DatasetInfo`. Metadata only: loads no data."""
    return get_registry(refresh).dataset_entries()


def get_method(name: str):
    """The class of method ``name``."""
    return get_registry().get(name).load_class()


def load(name: str, **params):
    """An unfitted estimator of method ``name`` with the given hyperparameters."""
    cls = get_method(name)
    valid = cls._get_param_names()
    unknown = sorted(set(params) - set(valid))
    if unknown:
        raise InputError(
            f"unknown hyperparameter{'s' if len(unknown) > 1 else ''} "
            f"{', '.join(unknown)} for method {name!r} (valid: {', '.join(valid) or 'none'})")
    return cls(**params)
