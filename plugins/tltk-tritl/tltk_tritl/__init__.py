"""tltk plugin: Triplex Transfer Learning, TriTL (Zhuang, Luo, Du, He, Shi,
Xiong, WSDM 2013; extended in IEEE Transactions on Cybernetics 44(7), 2014).

Importing this package is cheap: the estimator (and numpy, scipy,
scikit-learn) is loaded only when it is used, so that ``tltk list`` stays fast.
"""
from tltk_core import MethodInfo, hookimpl, lazy_exports

__version__ = "0.1.0"

INFO = MethodInfo(
    name="tritl",
    family="concept",
    settings=("unsupervised", "multi-source"),
    sparse=True,
    summary=("Joint non-negative tri-factorisation of every domain's word x document "
             "matrix with identical, alike and distinct concepts (word clusters); "
             "source labels fixed, the target's document-class matrix is learnt "
             "(Zhuang et al., WSDM 2013)."),
    reference="""\
@inproceedings{zhuang2013tritl,
  title     = {Triplex Transfer Learning: Exploiting Both Shared and Distinct Concepts for Text Classification},
  author    = {Zhuang, Fuzhen and Luo, Ping and Du, Changying and He, Qing and Shi, Zhongzhi},
  booktitle = {Proceedings of the Sixth ACM International Conference on Web Search and Data Mining (WSDM)},
  pages     = {425--434},
  year      = {2013}
}
@article{zhuang2014tritl,
  title     = {Triplex Transfer Learning: Exploiting Both Shared and Distinct Concepts for Text Classification},
  author    = {Zhuang, Fuzhen and Luo, Ping and Du, Changying and He, Qing and Shi, Zhongzhi and Xiong, Hui},
  journal   = {IEEE Transactions on Cybernetics},
  volume    = {44},
  number    = {7},
  pages     = {1191--1203},
  year      = {2014}
}""",
    extra={"test_params": {"n_identical": 3, "n_alike": 3, "n_distinct": 2, "n_iter": 20,
                           "plsa_iter": 5}},
)


@hookimpl
def tltk_register_methods(register):
    register(INFO, "tltk_tritl._tritl:TriTL")


__getattr__, __dir__ = lazy_exports(__name__, {
    "TriTL": "tltk_tritl._tritl:TriTL",
})
