"""tltk plugin: stacked denoising autoencoders for domain adaptation (Glorot,
Bordes, Bengio, ICML 2011).

Importing this package is cheap: the estimator is loaded only when it is used,
and torch only when it is fitted, so that ``tltk list`` stays fast.
"""
from tltk_core import MethodInfo, hookimpl, lazy_exports

__version__ = "0.1.0"

INFO = MethodInfo(
    name="sda",
    family="feature",
    settings=("unsupervised",),
    sparse=True,
    requires=("torch",),
    summary=("Stacked denoising autoencoders with rectifier units, pre-trained layer by "
             "layer on the unlabelled rows of both domains; a linear classifier on the "
             "source representation (Glorot et al., ICML 2011)."),
    reference="""\
@inproceedings{glorot2011domain,
  title     = {Domain Adaptation for Large-Scale Sentiment Classification: A Deep Learning Approach},
  author    = {Glorot, Xavier and Bordes, Antoine and Bengio, Yoshua},
  booktitle = {Proceedings of the 28th International Conference on Machine Learning (ICML)},
  pages     = {513--520},
  year      = {2011}
}""",
    extra={"test_params": {"hidden": (6, 4), "n_epochs": 2, "batch_size": 16}},
)


@hookimpl
def tltk_register_methods(register):
    register(INFO, "tltk_sda._sda:SDA")


__getattr__, __dir__ = lazy_exports(__name__, {"SDA": "tltk_sda._sda:SDA"})
