"""tltk plugin: deep adaptation networks, DAN (Long, Cao, Wang, Jordan, ICML 2015).

Importing this package is cheap: torch is loaded only when the method is used,
so that ``tltk list`` stays fast.
"""
from tltk_core import MethodInfo, hookimpl, lazy_exports

__version__ = "0.1.0"

INFO = MethodInfo(
    name="dan",
    family="deep",
    settings=("unsupervised",),
    sparse=True,
    requires=("torch",),
    summary=("Deep adaptation network: source-label training plus a multi-kernel MMD "
             "between the domains on the last hidden layers and the classifier layer "
             "with learned kernel weights (Long et al., ICML 2015)."),
    reference="""\
@inproceedings{long2015learning,
  title     = {Learning Transferable Features with Deep Adaptation Networks},
  author    = {Long, Mingsheng and Cao, Yue and Wang, Jianmin and Jordan, Michael I.},
  booktitle = {Proceedings of the 32nd International Conference on Machine Learning (ICML)},
  pages     = {97--105},
  year      = {2015}
}""",
    extra={"test_params": {"hidden": (8, 8), "n_epochs": 2, "batch_size": 16}},
)


@hookimpl
def tltk_register_methods(register):
    register(INFO, "tltk_dan._dan:DAN")


__getattr__, __dir__ = lazy_exports(__name__, {"DAN": "tltk_dan._dan:DAN"})
