"""tltk plugin: Geodesic Flow Kernel (Gong, Shi, Sha, Grauman, CVPR 2012).

Importing this package is cheap: the estimator class (and scikit-learn,
scipy) is loaded only when it is used, so that ``tltk list`` stays fast.
"""
from tltk_core import MethodInfo, hookimpl, lazy_exports

__version__ = "0.1.0"

INFO = MethodInfo(
    name="gfk",
    family="feature",
    settings=("unsupervised",),
    search_space={"n_components": (10, 20, 50)},
    sparse=True,
    summary=("Integrates all subspaces on the geodesic between the source and target "
             "PCA subspaces into one kernel, and classifies (1-NN) in its metric "
             "(Gong et al., CVPR 2012)."),
    reference="""\
@inproceedings{gong2012gfk,
  title     = {Geodesic Flow Kernel for Unsupervised Domain Adaptation},
  author    = {Gong, Boqing and Shi, Yuan and Sha, Fei and Grauman, Kristen},
  booktitle = {IEEE Conference on Computer Vision and Pattern Recognition (CVPR)},
  pages     = {2066--2073},
  year      = {2012},
  doi       = {10.1109/CVPR.2012.6247911}
}""",
)


@hookimpl
def tltk_register_methods(register):
    register(INFO, "tltk_gfk._gfk:GFK")


__getattr__, __dir__ = lazy_exports(__name__, {"GFK": "tltk_gfk._gfk:GFK"})
