"""tltk plugin: locally weighted ensemble, LWE (Gao, Fan, Jiang, Han, KDD 2008).

Importing this package is cheap: the estimator (and scikit-learn, scipy) is
loaded only when it is used, so that ``tltk list`` stays fast.
"""
from tltk_core import MethodInfo, hookimpl, lazy_exports

__version__ = "0.1.0"

INFO = MethodInfo(
    name="lwe",
    family="parameter",
    settings=("unsupervised", "multi-source"),
    search_space={"delta": (0.3, 0.5, 0.7)},
    sparse=True,
    summary=("Ensemble of classifiers trained on each source, weighted per target "
             "sample by how well each model's predicted-class neighbourhood matches "
             "the target's cluster neighbourhood (Gao et al., KDD 2008)."),
    reference="""\
@inproceedings{gao2008lwe,
  title     = {Knowledge Transfer via Multiple Model Local Structure Mapping},
  author    = {Gao, Jing and Fan, Wei and Jiang, Jing and Han, Jiawei},
  booktitle = {Proceedings of the 14th ACM SIGKDD International Conference on
               Knowledge Discovery and Data Mining (KDD)},
  pages     = {283--291},
  year      = {2008},
  doi       = {10.1145/1401890.1401928}
}""",
    extra={"test_params": {}},
)


@hookimpl
def tltk_register_methods(register):
    register(INFO, "tltk_lwe._lwe:LWE")


__getattr__, __dir__ = lazy_exports(__name__, {
    "LWE": "tltk_lwe._lwe:LWE",
    "default_models": "tltk_lwe._lwe:default_models",
    "contingency": "tltk_lwe._lwe:contingency",
    "neighbourhood_similarity": "tltk_lwe._lwe:neighbourhood_similarity",
})
