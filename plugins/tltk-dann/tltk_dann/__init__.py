"""tltk plugin: domain-adversarial neural networks, DANN (Ganin & Lempitsky,
ICML 2015; Ganin et al., JMLR 2016).

Importing this package is cheap: torch is loaded only when the method is used,
so that ``tltk list`` stays fast.
"""
from tltk_core import MethodInfo, hookimpl, lazy_exports

__version__ = "0.1.0"

INFO = MethodInfo(
    name="dann",
    family="deep",
    settings=("unsupervised",),
    sparse=True,
    requires=("torch",),
    summary=("Domain-adversarial network: a feature extractor trained to predict source "
             "labels and, through gradient reversal, to fool a domain classifier "
             "(Ganin & Lempitsky, ICML 2015)."),
    reference="""\
@inproceedings{ganin2015unsupervised,
  title     = {Unsupervised Domain Adaptation by Backpropagation},
  author    = {Ganin, Yaroslav and Lempitsky, Victor},
  booktitle = {Proceedings of the 32nd International Conference on Machine Learning (ICML)},
  pages     = {1180--1189},
  year      = {2015}
}
@article{ganin2016domain,
  title   = {Domain-Adversarial Training of Neural Networks},
  author  = {Ganin, Yaroslav and Ustinova, Evgeniya and Ajakan, Hana and Germain, Pascal and
             Larochelle, Hugo and Laviolette, Fran{\\c{c}}ois and Marchand, Mario and
             Lempitsky, Victor},
  journal = {Journal of Machine Learning Research},
  volume  = {17},
  number  = {59},
  pages   = {1--35},
  year    = {2016}
}""",
    extra={"test_params": {"hidden": (8,), "domain_hidden": 8, "n_epochs": 2,
                           "batch_size": 16}},
)


@hookimpl
def tltk_register_methods(register):
    register(INFO, "tltk_dann._dann:DANN")


__getattr__, __dir__ = lazy_exports(__name__, {"DANN": "tltk_dann._dann:DANN"})
