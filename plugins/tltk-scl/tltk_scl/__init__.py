"""tltk plugin: structural correspondence learning (Blitzer, McDonald, Pereira,
EMNLP 2006; pivots by mutual information: Blitzer, Dredze, Pereira, ACL 2007).

Importing this package is cheap: the estimator (and scikit-learn, scipy) is
loaded only when it is used, so that ``tltk list`` stays fast.
"""
from tltk_core import MethodInfo, hookimpl, lazy_exports

__version__ = "0.1.0"

INFO = MethodInfo(
    name="scl",
    family="feature",
    settings=("unsupervised",),
    sparse=True,
    summary=("Pivot features frequent in both domains and predictive of the source "
             "label; the top singular vectors of the pivot predictors give shared "
             "features (Blitzer et al., EMNLP 2006 / ACL 2007)."),
    reference="""\
@inproceedings{blitzer2006scl,
  title     = {Domain Adaptation with Structural Correspondence Learning},
  author    = {Blitzer, John and McDonald, Ryan and Pereira, Fernando},
  booktitle = {Proceedings of the 2006 Conference on Empirical Methods in Natural Language Processing (EMNLP)},
  pages     = {120--128},
  year      = {2006}
}
@inproceedings{blitzer2007biographies,
  title     = {Biographies, Bollywood, Boom-boxes and Blenders: Domain Adaptation for Sentiment Classification},
  author    = {Blitzer, John and Dredze, Mark and Pereira, Fernando},
  booktitle = {Proceedings of the 45th Annual Meeting of the Association for Computational Linguistics (ACL)},
  pages     = {440--447},
  year      = {2007}
}""",
)


@hookimpl
def tltk_register_methods(register):
    register(INFO, "tltk_scl._scl:SCL")


__getattr__, __dir__ = lazy_exports(__name__, {
    "SCL": "tltk_scl._scl:SCL",
    "select_pivots": "tltk_scl._scl:select_pivots",
    "pivot_predictors": "tltk_scl._scl:pivot_predictors",
})
