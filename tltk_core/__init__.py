"""tltk: transfer-learning methods behind one interface, as plugins.

Light names (metadata, plugin hooks, discovery) import nothing heavy;
``TransferMethod`` and the other estimator-side names load scikit-learn on
first use, so that listing methods stays fast.
"""
from .errors import BrokenMethodError, InputError, UnknownMethodError
from .hookspecs import hookimpl, hookspec
from .info import FAMILIES, SETTINGS, MethodInfo
from .registry import get_method, load, methods

__version__ = "0.1.0"

_LAZY = {
    "TransferMethod": ("tltk_core.method", "TransferMethod"),
    "check_param": ("tltk_core.method", "check_param"),
    "check_array": ("tltk_core.validation", "check_array"),
    "DensifyWarning": ("tltk_core.validation", "DensifyWarning"),
    "PoolingWarning": ("tltk_core.validation", "PoolingWarning"),
}

__all__ = [
    "FAMILIES", "SETTINGS", "MethodInfo", "hookimpl", "hookspec", "methods", "load",
    "get_method", "InputError", "UnknownMethodError", "BrokenMethodError", "__version__",
    *_LAZY,
]


def __getattr__(name):
    if name in _LAZY:
        import importlib

        module, attr = _LAZY[name]
        value = getattr(importlib.import_module(module), attr)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'tltk_core' has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(_LAZY))
