"""pluggy hook specifications of the ``tltk`` plugin group."""
import pluggy

hookspec = pluggy.HookspecMarker("tltk")
hookimpl = pluggy.HookimplMarker("tltk")


@hookspec
def tltk_register_methods(register):
    """Register transfer-learning methods.

    ``register`` takes either a :class:`~tltk_core.TransferMethod` subclass
    (which carries its :class:`~tltk_core.MethodInfo` as ``info``), or a
    ``MethodInfo`` and an import path ``"package.module:Class"`` — the lazy form,
    which keeps listing methods cheap because the class (and whatever heavy
    library it imports) is loaded only when the method is used::

        @hookimpl
        def tltk_register_methods(register):
            register(INFO, "tltk_tca._tca:TCA")
    """


@hookspec
def tltk_register_datasets(register):
    """Register benchmark datasets.

    ``register`` takes a :class:`~tltk_core.data.DatasetInfo`: metadata only
    (domains, tasks, files and their SHA-256, source, citation, licence,
    protocol), with its loader as an import path ``"package.module:function"``
    so that listing datasets imports nothing heavy::

        @hookimpl
        def tltk_register_datasets(register):
            register(OFFICE_CALTECH_SURF)
    """
