"""tltk plugin: MTrick (Zhuang, Luo, Xiong, He, Xiong, Shi, SDM 2010;
Statistical Analysis and Data Mining 4(1), 2011).

Importing this package is cheap: the estimator (numpy, scipy, scikit-learn)
is loaded only when it is used, so that ``tltk list`` stays fast.
"""
from tltk_core import MethodInfo, hookimpl, lazy_exports

__version__ = "0.1.0"

INFO = MethodInfo(
    name="mtrick",
    family="concept",
    settings=("unsupervised",),
    sparse=True,
    summary=("Joint non-negative matrix tri-factorisation of the source and target "
             "word x document matrices sharing the word-cluster/class association S; "
             "the target classes are the argmax of G_t (Zhuang et al., SDM 2010)."),
    reference="""\
@inproceedings{zhuang2010mtrick,
  title     = {Exploiting Associations between Word Clusters and Document Classes
               for Cross-domain Text Categorization},
  author    = {Zhuang, Fuzhen and Luo, Ping and Xiong, Hui and He, Qing and
               Xiong, Yuhong and Shi, Zhongzhi},
  booktitle = {Proceedings of the 2010 SIAM International Conference on Data Mining (SDM)},
  pages     = {13--24},
  year      = {2010}
}
@article{zhuang2011mtrick,
  title   = {Exploiting Associations between Word Clusters and Document Classes
             for Cross-domain Text Categorization},
  author  = {Zhuang, Fuzhen and Luo, Ping and Xiong, Hui and He, Qing and
             Xiong, Yuhong and Shi, Zhongzhi},
  journal = {Statistical Analysis and Data Mining},
  volume  = {4},
  number  = {1},
  pages   = {100--114},
  year    = {2011}
}""",
    extra={"test_params": {"n_clusters": 4, "max_iter": 20, "init_iter": 10}},
)


@hookimpl
def tltk_register_methods(register):
    register(INFO, "tltk_mtrick._mtrick:MTrick")


__getattr__, __dir__ = lazy_exports(__name__, {
    "MTrick": "tltk_mtrick._mtrick:MTrick",
    "mtrick_update": "tltk_mtrick._mtrick:mtrick_update",
    "mtrick_objective": "tltk_mtrick._mtrick:mtrick_objective",
    "plsa_word_clusters": "tltk_mtrick._mtrick:plsa_word_clusters",
})
