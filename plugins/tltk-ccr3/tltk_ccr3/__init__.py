"""tltk plugin: consensus regularisation over multiple source domains, CCR3
(Luo, Zhuang, Xiong, Xiong, He, CIKM 2008; Zhuang, Luo, Xiong, Xiong, He, Shi,
IEEE TKDE 2010).

Importing this package is cheap: the estimator (numpy, scipy, scikit-learn)
is loaded only when it is used, so that ``tltk list`` stays fast.
"""
from tltk_core import MethodInfo, hookimpl, lazy_exports

__version__ = "0.1.0"

INFO = MethodInfo(
    name="ccr3",
    family="parameter",
    settings=("unsupervised", "multi-source"),
    search_space={"theta": (0.1, 0.25, 0.5)},
    sparse=True,
    summary=("One logistic-regression classifier per source domain, learnt jointly "
             "with a consensus regulariser that makes their averaged prediction on "
             "the unlabelled target confident (Luo et al., CIKM 2008)."),
    reference="""\
@inproceedings{luo2008ccr,
  title     = {Transfer Learning from Multiple Source Domains via Consensus Regularization},
  author    = {Luo, Ping and Zhuang, Fuzhen and Xiong, Hui and Xiong, Yuhong and He, Qing},
  booktitle = {Proceedings of the 17th ACM Conference on Information and Knowledge Management (CIKM)},
  pages     = {103--112},
  year      = {2008}
}
@article{zhuang2010ccr,
  title     = {Cross-Domain Learning from Multiple Sources: A Consensus Regularization Perspective},
  author    = {Zhuang, Fuzhen and Luo, Ping and Xiong, Hui and Xiong, Yuhong and He, Qing and Shi, Zhongzhi},
  journal   = {IEEE Transactions on Knowledge and Data Engineering},
  volume    = {22},
  number    = {12},
  pages     = {1664--1678},
  year      = {2010}
}""",
    extra={"test_params": {"max_iter": 50}},
)


@hookimpl
def tltk_register_methods(register):
    register(INFO, "tltk_ccr3._ccr3:CCR3")


__getattr__, __dir__ = lazy_exports(__name__, {
    "CCR3": "tltk_ccr3._ccr3:CCR3",
    "ccr_objective": "tltk_ccr3._ccr3:ccr_objective",
})
