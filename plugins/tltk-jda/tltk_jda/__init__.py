"""tltk plugin: Joint Distribution Adaptation (Long, Wang, Ding, Sun, Yu, ICCV 2013).

Importing this package is cheap: the estimator class (and scikit-learn,
scipy) is loaded only when it is used, so that ``tltk list`` stays fast.
"""
from tltk_core import MethodInfo, hookimpl, lazy_exports

__version__ = "0.1.0"

INFO = MethodInfo(
    name="jda",
    family="feature",
    settings=("unsupervised",),
    search_space={"n_components": (10, 30, 100), "mu": (0.1, 1.0)},
    sparse=True,
    summary=("Kernel feature extraction that shrinks the MMD of both the marginal and "
             "the class-conditional distributions, with iteratively refined target "
             "pseudo-labels (Long et al., ICCV 2013)."),
    reference="""\
@inproceedings{long2013jda,
  title     = {Transfer Feature Learning with Joint Distribution Adaptation},
  author    = {Long, Mingsheng and Wang, Jianmin and Ding, Guiguang and Sun, Jiaguang
               and Yu, Philip S.},
  booktitle = {IEEE International Conference on Computer Vision (ICCV)},
  pages     = {2200--2207},
  year      = {2013},
  doi       = {10.1109/ICCV.2013.274}
}""",
)


@hookimpl
def tltk_register_methods(register):
    register(INFO, "tltk_jda._jda:JDA")


__getattr__, __dir__ = lazy_exports(__name__, {"JDA": "tltk_jda._jda:JDA"})
