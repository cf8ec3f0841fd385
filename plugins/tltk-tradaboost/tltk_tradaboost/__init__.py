"""tltk plugin: TrAdaBoost (Dai, Yang, Xue, Yu, ICML 2007).

Importing this package is cheap: the estimator class (and scikit-learn) is
loaded only when it is used, so that ``tltk list`` stays fast.
"""
from tltk_core import MethodInfo, hookimpl, lazy_exports

__version__ = "0.1.0"

INFO = MethodInfo(
    name="tradaboost",
    family="instance",
    settings=("few-labels",),
    sparse=True,
    summary=("Boosting over labelled source + a few labelled target samples: "
             "source samples the weak learner gets wrong lose weight, target "
             "samples it gets wrong gain weight (Dai et al., ICML 2007)."),
    reference="""\
@inproceedings{dai2007boosting,
  title     = {Boosting for Transfer Learning},
  author    = {Dai, Wenyuan and Yang, Qiang and Xue, Gui-Rong and Yu, Yong},
  booktitle = {Proceedings of the 24th International Conference on Machine Learning (ICML)},
  pages     = {193--200},
  year      = {2007},
  doi       = {10.1145/1273496.1273521}
}""",
)


@hookimpl
def tltk_register_methods(register):
    register(INFO, "tltk_tradaboost._tradaboost:TrAdaBoost")


__getattr__, __dir__ = lazy_exports(__name__, {"TrAdaBoost": "tltk_tradaboost._tradaboost:TrAdaBoost"})
