"""tltk plugin: HIDC, concept learning with identical, alike and distinct word
concepts (Zhuang, Luo, Yin, He, Shi, IJCAI 2013).

Importing this package is cheap: the estimator (numpy, scipy, scikit-learn) is
loaded only when it is used, so that ``tltk list`` stays fast.
"""
from tltk_core import MethodInfo, hookimpl, lazy_exports

__version__ = "0.1.0"

INFO = MethodInfo(
    name="hidc",
    family="concept",
    settings=("unsupervised", "multi-source"),
    sparse=True,
    summary=("Generative word-concept model with identical, alike and distinct "
             "concepts across domains, fitted by EM on the sparse document-word "
             "matrix; target classes are inferred (Zhuang et al., IJCAI 2013)."),
    reference="""\
@inproceedings{zhuang2013hidc,
  title     = {Concept Learning for Cross-Domain Text Classification: A General Probabilistic Framework},
  author    = {Zhuang, Fuzhen and Luo, Ping and Yin, Peifeng and He, Qing and Shi, Zhongzhi},
  booktitle = {Proceedings of the Twenty-Third International Joint Conference on Artificial Intelligence (IJCAI)},
  pages     = {1960--1966},
  year      = {2013}
}""",
    extra={"test_params": {"n_identical": 3, "n_alike": 3, "n_distinct": 2, "n_iter": 15,
                           "n_init_iter": 5, "fold_in_iter": 10}},
)


@hookimpl
def tltk_register_methods(register):
    register(INFO, "tltk_hidc._hidc:HIDC")


__getattr__, __dir__ = lazy_exports(__name__, {
    "HIDC": "tltk_hidc._hidc:HIDC",
})
