"""Lazy module attributes (PEP 562), so that importing a package stays cheap."""
import importlib


def lazy_exports(module_name, exports):
    """``__getattr__`` and ``__dir__`` for a module whose names load on first use.

    ``exports`` maps an attribute name to ``"package.module:attr"``. A plugin's
    ``__init__`` uses it so that ``from tltk_tca import TCA`` works while
    ``tltk list`` (which imports the package) imports nothing heavy::

        __getattr__, __dir__ = lazy_exports(__name__, {"TCA": "tltk_tca._tca:TCA"})
    """
    import sys

    def __getattr__(name):
        target = exports.get(name)
        if target is None:
            raise AttributeError(f"module {module_name!r} has no attribute {name!r}")
        mod, _, attr = target.partition(":")
        value = getattr(importlib.import_module(mod), attr or name)
        setattr(sys.modules[module_name], name, value)
        return value

    def __dir__():
        return sorted(set(vars(sys.modules[module_name])) | set(exports))

    return __getattr__, __dir__
