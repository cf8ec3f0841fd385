"""Method metadata: :class:`MethodInfo`.

Kept free of heavy imports so that listing methods stays cheap.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

FAMILIES = ("instance", "feature", "parameter", "concept", "deep", "baseline")
SETTINGS = ("unsupervised", "few-labels", "multi-source")

_NAME_RE = re.compile(r"^[a-z][a-z0-9_-]*$")


@dataclass(frozen=True)
class MethodInfo:
    """What the toolkit knows about a method without importing it.

    Parameters
    ----------
    name : str
        Registered name, lower case (``"tca"``).
    family : str
        One of ``instance, feature, parameter, concept, deep, baseline``.
    settings : tuple of str
        Subset of ``unsupervised`` (labelled source + unlabelled target),
        ``few-labels`` (also needs some labelled target samples) and
        ``multi-source`` (accepts lists of source domains).
    sparse : bool
        True when the method takes scipy.sparse input as it is; otherwise the
        core densifies sparse input with a warning.
    requires : tuple of str
        Extra distributions the method needs beyond the core (``("torch",)``).
    summary : str
        One line saying what the method does.
    reference : str
        BibTeX of the paper the method implements.
    search_space : dict
        A small default grid for model selection without target labels
        (``tltk select``): hyperparameter name → a few values to try, e.g.
        ``{"n_components": (20, 50, 100)}``. Empty means the defaults only.
    """

    name: str
    family: str
    settings: tuple = ("unsupervised",)
    sparse: bool = False
    requires: tuple = ()
    summary: str = ""
    reference: str = ""
    extra: dict = field(default_factory=dict, compare=False, hash=False)
    search_space: dict = field(default_factory=dict, compare=False, hash=False)

    def __post_init__(self):
        if not isinstance(self.name, str) or not _NAME_RE.match(self.name):
            raise ValueError(
                f"MethodInfo.name must be a lower-case identifier, got {self.name!r}")
        if self.family not in FAMILIES:
            raise ValueError(
                f"MethodInfo.family must be one of {', '.join(FAMILIES)}; got {self.family!r}")
        settings = (self.settings,) if isinstance(self.settings, str) else tuple(self.settings)
        unknown = [s for s in settings if s not in SETTINGS]
        if unknown or not settings:
            raise ValueError(
                f"MethodInfo.settings must be a non-empty subset of {', '.join(SETTINGS)}; "
                f"got {self.settings!r}")
        object.__setattr__(self, "settings", settings)
        requires = (self.requires,) if isinstance(self.requires, str) else tuple(self.requires)
        object.__setattr__(self, "requires", requires)
        object.__setattr__(self, "sparse", bool(self.sparse))
        space = dict(self.search_space or {})
        for key, values in space.items():
            if (not isinstance(key, str) or not isinstance(values, (list, tuple))
                    or not values):
                raise ValueError("MethodInfo.search_space maps hyperparameter names to "
                                 f"non-empty lists of values; got {key!r}: {values!r}")
        object.__setattr__(self, "search_space", {k: tuple(v) for k, v in space.items()})

    @property
    def multi_source(self) -> bool:
        return "multi-source" in self.settings

    @property
    def needs_target_labels(self) -> bool:
        return "few-labels" in self.settings and "unsupervised" not in self.settings

    def as_dict(self) -> dict:
        return {
            "name": self.name,
            "family": self.family,
            "settings": list(self.settings),
            "sparse": self.sparse,
            "requires": list(self.requires),
            "summary": self.summary,
            "reference": self.reference,
            "search_space": {k: list(v) for k, v in self.search_space.items()},
        }
