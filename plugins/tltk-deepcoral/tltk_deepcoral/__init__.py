"""tltk plugin: Deep CORAL (Sun & Saenko, ECCV Workshops 2016).

Importing this package is cheap: torch is loaded only when the method is used,
so that ``tltk list`` stays fast.
"""
from tltk_core import MethodInfo, hookimpl, lazy_exports

__version__ = "0.1.0"

INFO = MethodInfo(
    name="deepcoral",
    family="deep",
    settings=("unsupervised",),
    sparse=True,
    requires=("torch",),
    summary=("Deep CORAL: a network trained on source labels while the covariances of "
             "its classifier-layer outputs on source and target are aligned "
             "(Sun & Saenko, ECCV-W 2016)."),
    reference="""\
@inproceedings{sun2016deep,
  title     = {Deep {CORAL}: Correlation Alignment for Deep Domain Adaptation},
  author    = {Sun, Baochen and Saenko, Kate},
  booktitle = {Computer Vision -- ECCV 2016 Workshops},
  series    = {Lecture Notes in Computer Science},
  volume    = {9915},
  pages     = {443--450},
  year      = {2016}
}""",
    extra={"test_params": {"hidden": (8,), "n_epochs": 2, "batch_size": 16}},
)


@hookimpl
def tltk_register_methods(register):
    register(INFO, "tltk_deepcoral._deepcoral:DeepCORAL")


__getattr__, __dir__ = lazy_exports(__name__, {
    "DeepCORAL": "tltk_deepcoral._deepcoral:DeepCORAL"})
