"""tltk plugin: Transfer Component Analysis (Pan, Tsang, Kwok, Yang, IEEE TNN 2011).

Importing this package is cheap: the estimator class (and scikit-learn,
scipy) is loaded only when it is used, so that ``tltk list`` stays fast.
"""
from tltk_core import MethodInfo, hookimpl, lazy_exports

__version__ = "0.1.0"

INFO = MethodInfo(
    name="tca",
    family="feature",
    settings=("unsupervised",),
    search_space={"n_components": (10, 30, 100), "mu": (0.1, 1.0)},
    sparse=True,
    summary=("Kernel feature extraction that keeps the data variance while "
             "shrinking the MMD between source and target (Pan et al., IEEE TNN 2011)."),
    reference="""\
@article{pan2011tca,
  title     = {Domain Adaptation via Transfer Component Analysis},
  author    = {Pan, Sinno Jialin and Tsang, Ivor W. and Kwok, James T. and Yang, Qiang},
  journal   = {IEEE Transactions on Neural Networks},
  volume    = {22},
  number    = {2},
  pages     = {199--210},
  year      = {2011},
  doi       = {10.1109/TNN.2010.2091281}
}""",
)


@hookimpl
def tltk_register_methods(register):
    register(INFO, "tltk_tca._tca:TCA")


__getattr__, __dir__ = lazy_exports(__name__, {"TCA": "tltk_tca._tca:TCA"})
