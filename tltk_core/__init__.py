"""tltk: transfer-learning methods and benchmark datasets, as plugins.

Light names (metadata, plugin hooks, discovery) import nothing heavy;
``TransferMethod`` and the other estimator-side names load scikit-learn on
first use, so that listing methods stays fast.
"""
from .errors import BrokenMethodError, InputError, UnknownMethodError
from .hookspecs import hookimpl, hookspec
from .info import FAMILIES, SETTINGS, MethodInfo
from .data.benchmarks import DataFile, DatasetInfo, Protocol, Reference, fetch, load_task
from .registry import datasets, get_method, load, methods

__version__ = "0.1.0"

from ._lazy import lazy_exports

_LAZY = {
    "TransferMethod": "tltk_core.method:TransferMethod",
    "check_param": "tltk_core.method:check_param",
    "check_widths": "tltk_core.method:check_widths",
    "check_array": "tltk_core.validation:check_array",
    "stack_rows": "tltk_core.validation:stack_rows",
    "as_csr32": "tltk_core.validation:as_csr32",
    "DensifyWarning": "tltk_core.validation:DensifyWarning",
    "PoolingWarning": "tltk_core.validation:PoolingWarning",
}

__all__ = [
    "FAMILIES", "SETTINGS", "MethodInfo", "hookimpl", "hookspec", "methods", "load",
    "get_method", "InputError", "UnknownMethodError", "BrokenMethodError", "lazy_exports",
    "__version__", "datasets", "load_task", "fetch", "DatasetInfo", "Protocol", "Reference",
    "DataFile", *_LAZY,
]

__getattr__, __dir__ = lazy_exports(__name__, _LAZY)
