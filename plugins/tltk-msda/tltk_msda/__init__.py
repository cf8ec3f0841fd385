"""tltk plugin: marginalized stacked denoising autoencoders (Chen, Xu,
Weinberger, Sha, ICML 2012).

Importing this package is cheap: the estimator (and scikit-learn, scipy) is
loaded only when it is used, so that ``tltk list`` stays fast.
"""
from tltk_core import MethodInfo, hookimpl, lazy_exports

__version__ = "0.1.0"

INFO = MethodInfo(
    name="msda",
    family="feature",
    settings=("unsupervised",),
    search_space={"p": (0.3, 0.5, 0.7)},
    sparse=True,
    summary=("Closed-form stacked denoising autoencoder learnt on both domains; "
             "a linear classifier on [x, h1..hl] of the source "
             "(Chen et al., ICML 2012)."),
    reference="""\
@inproceedings{chen2012msda,
  title     = {Marginalized Denoising Autoencoders for Domain Adaptation},
  author    = {Chen, Minmin and Xu, Zhixiang and Weinberger, Kilian Q. and Sha, Fei},
  booktitle = {Proceedings of the 29th International Conference on Machine Learning (ICML)},
  pages     = {767--774},
  year      = {2012}
}""",
)


@hookimpl
def tltk_register_methods(register):
    register(INFO, "tltk_msda._msda:MSDA")


__getattr__, __dir__ = lazy_exports(__name__, {
    "MSDA": "tltk_msda._msda:MSDA",
    "mda_weights": "tltk_msda._msda:mda_weights",
})
