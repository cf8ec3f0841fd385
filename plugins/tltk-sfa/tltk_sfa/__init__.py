"""tltk plugin: spectral feature alignment (Pan, Ni, Sun, Yang, Chen, WWW 2010).

Importing this package is cheap: the estimator (and scikit-learn, scipy) is
loaded only when it is used, so that ``tltk list`` stays fast.
"""
from tltk_core import MethodInfo, hookimpl, lazy_exports

__version__ = "0.1.0"

INFO = MethodInfo(
    name="sfa",
    family="feature",
    settings=("unsupervised",),
    sparse=True,
    summary=("Domain-independent features (frequent in both domains, low mutual "
             "information with the domain) bridge the domain-specific ones: spectral "
             "clustering of the bipartite co-occurrence graph gives shared features "
             "(Pan et al., WWW 2010)."),
    reference="""\
@inproceedings{pan2010sfa,
  title     = {Cross-Domain Sentiment Classification via Spectral Feature Alignment},
  author    = {Pan, Sinno Jialin and Ni, Xiaochuan and Sun, Jian-Tao and Yang, Qiang and Chen, Zheng},
  booktitle = {Proceedings of the 19th International Conference on World Wide Web (WWW)},
  pages     = {751--760},
  year      = {2010},
  doi       = {10.1145/1772690.1772767}
}""",
    extra={"test_params": {"n_domain_independent": 4, "n_components": 2, "min_df": 1}},
)


@hookimpl
def tltk_register_methods(register):
    register(INFO, "tltk_sfa._sfa:SFA")


__getattr__, __dir__ = lazy_exports(__name__, {
    "SFA": "tltk_sfa._sfa:SFA",
    "domain_mutual_info": "tltk_sfa._sfa:domain_mutual_info",
    "select_domain_independent": "tltk_sfa._sfa:select_domain_independent",
    "cooccurrence": "tltk_sfa._sfa:cooccurrence",
    "spectral_alignment": "tltk_sfa._sfa:spectral_alignment",
})
