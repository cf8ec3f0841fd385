"""tltk plugin: Collaborative Dual-PLSA (Zhuang, Luo, Shen, He, Xiong, Shi,
Xiong, CIKM 2010).

Importing this package is cheap: the estimator (and numpy, scipy,
scikit-learn) is loaded only when it is used, so that ``tltk list`` stays fast.
"""
from tltk_core import MethodInfo, hookimpl, lazy_exports

__version__ = "0.1.0"

INFO = MethodInfo(
    name="cdplsa",
    family="concept",
    settings=("unsupervised", "multi-source"),
    sparse=True,
    summary=("Dual PLSA with word concepts y and document classes z: P(w|y) and "
             "P(d|z) differ per domain, the association P(y,z) is shared; EM on "
             "all domains with the source classes fixed by their labels "
             "(Zhuang et al., CIKM 2010)."),
    reference="""\
@inproceedings{zhuang2010cdplsa,
  title     = {Collaborative Dual-{PLSA}: Mining Distinction and Commonality across
               Multiple Domains for Text Classification},
  author    = {Zhuang, Fuzhen and Luo, Ping and Shen, Zhiyong and He, Qing and
               Xiong, Yuhong and Shi, Zhongzhi and Xiong, Hui},
  booktitle = {Proceedings of the 19th ACM International Conference on Information
               and Knowledge Management (CIKM)},
  year      = {2010},
  doi       = {10.1145/1871437.1871486}
}""",
    extra={"test_params": {"n_concepts": 4, "max_iter": 15, "plsa_iter": 10}},
)


@hookimpl
def tltk_register_methods(register):
    register(INFO, "tltk_cdplsa._cdplsa:CDPLSA")


__getattr__, __dir__ = lazy_exports(__name__, {
    "CDPLSA": "tltk_cdplsa._cdplsa:CDPLSA",
    "em_step": "tltk_cdplsa._cdplsa:em_step",
})
