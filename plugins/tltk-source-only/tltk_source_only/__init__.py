"""tltk plugin: no transfer, as a method (family ``baseline``).

Importing this package is cheap: the estimator loads scikit-learn only when used.
"""
from tltk_core import MethodInfo, hookimpl, lazy_exports

__version__ = "0.1.0"

INFO = MethodInfo(
    name="source-only",
    family="baseline",
    settings=("unsupervised", "multi-source"),
    sparse=True,
    summary=("No transfer: logistic regression with C chosen by cross-validation on the "
             "(pooled) source; the candidate every transfer method must beat."),
    reference="""\
@misc{tltk_source_only,
  title  = {Source-only baseline: a classifier trained on the labelled source domain(s)
            alone, regularisation chosen by cross-validation on the source},
  author = {{tltk developers}},
  note   = {The no-transfer reference point of every domain-adaptation benchmark},
  year   = {2026}
}""",
    extra={"test_params": {}},
)


@hookimpl
def tltk_register_methods(register):
    register(INFO, "tltk_source_only._source_only:SourceOnly")


__getattr__, __dir__ = lazy_exports(__name__, {
    "SourceOnly": "tltk_source_only._source_only:SourceOnly",
})
