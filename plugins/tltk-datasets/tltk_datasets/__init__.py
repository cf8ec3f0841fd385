"""tltk plugin: cross-domain benchmark datasets with their published protocols.

Importing this package is cheap: it only declares metadata
(:class:`~tltk_core.DatasetInfo`); the loaders (numpy, scipy, scikit-learn)
are imported when a task is loaded, so that ``tltk datasets`` stays fast.

Datasets: ``office-caltech-surf``, ``20ng-sci-talk``, ``amazon-reviews``,
``reuters`` (the Dai et al. splits), ``reuters21578`` (splits of the same kind built from
the raw collection, with a real vocabulary), ``20newsgroups`` (the Dai et al. splits built from the raw
corpus), ``synthetic`` (shifted toy tasks, no files).
"""
from itertools import permutations

from tltk_core import DataFile, DatasetInfo, Protocol, Reference, hookimpl, lazy_exports

__version__ = "0.1.0"


def _pairs(domains):
    return tuple(f"{s}:{t}" for s, t in permutations(domains, 2))


def _refs(method, tasks, values, source):
    assert len(tasks) == len(values)
    return tuple(Reference(method, t, v, source) for t, v in zip(tasks, values))


# -- Office-Caltech10, SURF ---------------------------------------------------
_OFFICE_TASKS = ("C:A", "C:W", "C:D", "A:C", "A:W", "A:D",
                 "W:C", "W:A", "W:D", "D:C", "D:A", "D:W")
_JDA_PAPER = "Long et al., ICCV 2013 (JDA): SURF, 1-NN, 100 dimensions"
_OFFICE_URL = ("https://raw.githubusercontent.com/jindongwang/transferlearning/"
               "73cb050b7e8b969b9d0ebb04a9377aa033043eb2/code/BDA/data/")
OFFICE_FILES = {
    "C": ("Caltech10_SURF_L10.mat", "4f9334c8ced489d5054de97a5fd51a61f017f3bcd1f38c9a85c6d78cb9d7bda5"),
    "A": ("amazon_SURF_L10.mat", "df32548b994e18d364c99e1f317e1fae100597259f0423a41b90f4f68187bb1f"),
    "W": ("webcam_SURF_L10.mat", "a6a9c78b4b7181dfbb58bcfd351d4ebd737f171c31247b8884948aa156d3f700"),
    "D": ("dslr_SURF_L10.mat", "44d673c68e1d07b837893aa74dba3b986e4a6cc3fd66f0dd357683bdef059216"),
}

OFFICE_CALTECH_SURF = DatasetInfo(
    name="office-caltech-surf",
    summary=("Office-Caltech10: 10 object classes in 4 image domains, 800-bin SURF "
             "bag-of-visual-words histograms (Gong et al., CVPR 2012)"),
    domains=("C", "A", "W", "D"),
    aliases={"caltech": "C", "caltech10": "C", "amazon": "A", "webcam": "W", "dslr": "D"},
    sizes={"C": 1123, "A": 958, "W": 295, "D": 157},
    tasks=_OFFICE_TASKS,
    n_features=800,
    loader="tltk_datasets._loaders:load_office",
    files=tuple(DataFile(f"office-caltech-surf/{fn}", sha, _OFFICE_URL + fn)
                for fn, sha in OFFICE_FILES.values()),
    source=("jindongwang/transferlearning code/BDA/data @73cb050 (the files of the "
            "JDA/GFK code)"),
    licence=("research use: images from Saenko et al. (ECCV 2010) and Caltech-256 "
             "(Griffin et al., 2007); SURF features by Gong et al. (CVPR 2012)"),
    protocol=Protocol(
        preprocessing="each histogram scaled to sum 1, each domain z-scored on its own",
        preprocess="tltk_datasets._loaders:histogram_zscore_each",
        classifier="1-nearest-neighbour",
        make_classifier="tltk_datasets._loaders:one_nn",
        metric="accuracy on the target",
        evaluation="all target samples (transductive)",
        # GFK keeps its own default subspace size (20): the JDA paper says 100 for
        # all methods, but GFK at d=100 averages 39.0, and its published column is
        # matched task for task by d in {10, 20} (benchmarks/office_caltech_table.py)
        method_params={"tca": {"n_components": 100}, "jda": {"n_components": 100}},
        references=(
            _refs("1-nn (no transfer)", _OFFICE_TASKS, (23.7, 25.8, 25.5, 26.0, 29.8, 25.5, 19.9,
                                                 23.0, 59.2, 26.3, 28.5, 63.4), _JDA_PAPER)
            + _refs("tca", _OFFICE_TASKS, (38.2, 38.6, 41.4, 37.8, 37.6, 33.1, 29.3, 30.1,
                                           87.3, 31.7, 32.2, 86.1), _JDA_PAPER)
            + _refs("gfk", _OFFICE_TASKS, (41.0, 40.7, 38.9, 40.3, 39.0, 36.3, 30.7, 29.8,
                                           80.9, 30.3, 32.1, 75.6), _JDA_PAPER)
            + _refs("jda", _OFFICE_TASKS, (44.8, 41.7, 45.2, 39.4, 38.0, 39.5, 31.2, 32.8,
                                           89.2, 31.5, 33.1, 89.5), _JDA_PAPER)),
        source="Long, Wang, Ding, Sun, Yu, ICCV 2013",
    ),
    citation="""\
@inproceedings{long2013jda,
  title     = {Transfer Feature Learning with Joint Distribution Adaptation},
  author    = {Long, Mingsheng and Wang, Jianmin and Ding, Guiguang and Sun, Jiaguang and Yu, Philip S.},
  booktitle = {ICCV},
  pages     = {2200--2207},
  year      = {2013}
}
@inproceedings{gong2012gfk,
  title     = {Geodesic flow kernel for unsupervised domain adaptation},
  author    = {Gong, Boqing and Shi, Yuan and Sha, Fei and Grauman, Kristen},
  booktitle = {CVPR},
  pages     = {2066--2073},
  year      = {2012}
}""",
)

# -- 20 Newsgroups, sci vs talk, four domains ---------------------------------
_NG_DOMAINS = ("crypt-guns", "electronics-mideast", "med-misc", "space-religion")
_NG_MULTI = tuple("+".join(d for d in _NG_DOMAINS if d != t) + ":" + t for t in _NG_DOMAINS)

NG_SCI_TALK = DatasetInfo(
    name="20ng-sci-talk",
    summary=("20 Newsgroups sci vs talk: 4 domains, each one sci.* against one talk.* "
             "sub-category; tf-idf over one 16249-word vocabulary"),
    domains=_NG_DOMAINS,
    aliases={"crypt": "crypt-guns", "electronics": "electronics-mideast", "med": "med-misc",
             "space": "space-religion"},
    sizes={"crypt-guns": 1898, "electronics-mideast": 1924, "med-misc": 1761,
           "space-religion": 1612},
    tasks=_pairs(_NG_DOMAINS) + _NG_MULTI,
    n_features=16249,
    loader="tltk_datasets._loaders:load_20ng_sci_talk",
    files=tuple(DataFile(f"20ng-sci-talk/{d}.svm") for d in _NG_DOMAINS),
    source=("FuzhenZhuang/Transfer-Learning-Toolkit (MIT): the tf-idf sub-category files "
            "of its CCR3 experiments"),
    fetch_hint=("no fetcher (no published checksum for the original files): copy the four "
                "<domain>.svm files into <data dir>/20ng-sci-talk/"),
    licence="20 Newsgroups: public research corpus (Lang, 1995); files MIT",
    protocol=Protocol(
        preprocessing=("each tf-idf document vector scaled to unit length (no labels "
                       "used), sparse"),
        preprocess="tltk_datasets._loaders:unit_rows_each",
        classifier="linear SVM (scikit-learn LinearSVC)",
        make_classifier="tltk_datasets._loaders:linear_svm",
        metric="accuracy on the target",
        evaluation="all target samples (transductive); multi-source tasks pool the "
                   "sources for single-source methods",
        source="Zhuang et al., Transfer Learning Toolkit (arXiv:1911.08967)",
    ),
    citation="""\
@article{zhuang2019tltk,
  title   = {Transfer Learning Toolkit: Primers and Benchmarks},
  author  = {Zhuang, Fuzhen and Duan, Keyu and Guo, Tongjia and Zhu, Yongchun and Xi, Dongbo and Qi, Zhiyuan and He, Qing},
  journal = {arXiv preprint arXiv:1911.08967},
  year    = {2019}
}""",
)

# -- Amazon reviews, DANN protocol --------------------------------------------
_AMZ = ("books", "dvd", "electronics", "kitchen")
_AMZ_TASKS = _pairs(_AMZ)  # B:D B:E B:K D:B D:E D:K E:B E:D E:K K:B K:D K:E
_AMZ_FILES = {
    "books": ("5355bb97c7161546e989b1be06d266bab319cdb313c2438e6c3fceefa0be6c6a",
              "0564355b9db6a3ddcca4bbba18e783f12757bc0b3a748224a00db0d70faffe54"),
    "dvd": ("cfa185371d203e8013e2e7bc2fce095a75b14c52a3b181f52ec001a0ae5a8967",
            "8b1fd73d25a830fde980f481deba1c7879b481b91032c88f0aa78ddf46edb29c"),
    "electronics": ("cc6662ef76d7aa30d3fa558be6d9d1c467c80b73263e5072fb08fad9a3f35ea3",
                    "7c2f0790e117a044d2c1f5c525fa90da47f706f59955fc921dbbe9617bd6acaf"),
    "kitchen": ("c3588b3a5733d479c24f1aa9271973617f58329292767d47c86a1aa6e5c9205f",
                "744393130e3f0f18027d10832698102eaace4a4fbaa8d5854c222433fcade416"),
}
_DANN = "Ganin et al., JMLR 2016 (DANN): 5000 features"

AMAZON_REVIEWS = DatasetInfo(
    name="amazon-reviews",
    summary=("Amazon product reviews, sentiment (Blitzer et al., ACL 2007): 4 domains, "
             "5000 unigram+bigram counts (the mSDA/DANN version)"),
    domains=_AMZ,
    aliases={"B": "books", "D": "dvd", "E": "electronics", "K": "kitchen"},
    sizes={"books": 2000 + 4465, "dvd": 2000 + 3586, "electronics": 2000 + 5681,
           "kitchen": 2000 + 5945},
    tasks=_AMZ_TASKS,
    n_features=5000,
    loader="tltk_datasets._loaders:load_amazon",
    files=tuple(DataFile(f"amazon-reviews-5000/{d}{suffix}.svm", sha)
                for d, shas in _AMZ_FILES.items()
                for suffix, sha in zip(("", "-test"), shas)),
    source=("GRAAL-Research/domain_adversarial_neural_network data/ @74eec5e, labels "
            "rewritten -1/+1 -> 0/1"),
    fetch_hint=("no fetcher (the files are converted from the DANN repository's; their "
                "SHA-256 is in the code): copy <domain>.svm and <domain>-test.svm into "
                "<data dir>/amazon-reviews-5000/"),
    licence="JHU Multi-Domain Sentiment Dataset: research use; conversion BSD-2-style",
    protocol=Protocol(
        preprocessing="none: word counts as distributed, sparse",
        classifier="logistic regression (scikit-learn, max_iter=1000)",
        make_classifier="tltk_datasets._loaders:logistic",
        metric="accuracy on the target's test reviews",
        evaluation=("the source's 2000 labelled reviews train; the target's 2000 reviews "
                    "are used without labels for adaptation; accuracy on the target's "
                    "test file (<domain>-test.svm)"),
        references=(
            _refs("dann", _AMZ_TASKS, (78.4, 73.3, 77.9, 72.3, 75.4, 78.3, 71.3, 73.8,
                                       85.4, 70.9, 74.0, 84.3), _DANN)
            + _refs("msda+dann", _AMZ_TASKS, (82.9, 80.4, 84.3, 82.5, 80.9, 84.9, 77.4,
                                              78.1, 88.1, 71.8, 78.9, 85.6),
                    _DANN + ", DANN on mSDA features")),
        source="Ganin et al., JMLR 2016",
    ),
    citation="""\
@article{ganin2016dann,
  title   = {Domain-Adversarial Training of Neural Networks},
  author  = {Ganin, Yaroslav and Ustinova, Evgeniya and Ajakan, Hana and Germain, Pascal and Larochelle, Hugo and Laviolette, Fran{\\c{c}}ois and Marchand, Mario and Lempitsky, Victor},
  journal = {Journal of Machine Learning Research},
  volume  = {17},
  number  = {59},
  pages   = {1--35},
  year    = {2016}
}
@inproceedings{blitzer2007biographies,
  title     = {Biographies, Bollywood, Boom-boxes and Blenders: Domain Adaptation for Sentiment Classification},
  author    = {Blitzer, John and Dredze, Mark and Pereira, Fernando},
  booktitle = {ACL},
  pages     = {440--447},
  year      = {2007}
}""",
)

# -- Reuters-21578, Dai et al. splits ----------------------------------------
REUTERS_TASKS = ("orgs_vs_people", "orgs_vs_places", "people_vs_places")
_REUTERS_SHA = {
    "labels.json": "8d6b2a40c99290a60673e9422fb7f53c503c08b0d746d0f200b73555dff7be77",
    "orgs_vs_people-source.svm": "5f6146544816ca4fc85c3be6c3944c99ce89e06c6c390d1ec9289b8ea6edc30c",
    "orgs_vs_people-target.svm": "bb59f2990fef5f156308ae37a31f229672139dc6b82ac21fddc7e5538cc850ed",
    "orgs_vs_places-source.svm": "45e133d3014e3bdcd6b23515da08ff58e8989d7e2b3118b8d6a7697b87b82062",
    "orgs_vs_places-target.svm": "edccc251c1a91c80bcedb6b3595b59474d6b04592c5307e44ad3091add4ce06a",
    "people_vs_places-source.svm": "2c2a76004e939576e0bd8384eb660b4b03f8489e8ab2f0d24ac9b02dfb158ca9",
    "people_vs_places-target.svm": "ccec7d841c7691525a3c07dbac4db7e0d3b2e52f521bbcafcb020f3035910604",
}
REUTERS_RAW_SHA = "05b36241fc08958f2de3e74282edbbb7230fc598f79dce3c4dedc1794e78945c"
_DAI = "Dai et al., ICML 2007 (TrAdaBoost), SVM trained on the source"

REUTERS = DatasetInfo(
    name="reuters",
    summary=("Reuters-21578 transfer splits of Dai et al. (KDD/ICML 2007): two top "
             "categories, different sub-categories in source and target"),
    domains=tuple(f"{t}-{side}" for t in REUTERS_TASKS for side in ("source", "target")),
    sizes={"orgs_vs_people-source": 1237, "orgs_vs_people-target": 1208,
           "orgs_vs_places-source": 1016, "orgs_vs_places-target": 1043,
           "people_vs_places-source": 1077, "people_vs_places-target": 1077},
    tasks=REUTERS_TASKS,
    n_features=None,  # each task has its own vocabulary: 4771, 4415, 4562
    loader="tltk_datasets._loaders:load_reuters",
    files=tuple(DataFile(f"reuters-dai2007/{fn}", sha) for fn, sha in _REUTERS_SHA.items()),
    source="ChristophRaab/nso data/Reuters/*_1.mat @686490a (MIT), transposed, labels 1/0",
    fetch_hint="no fetcher (converted files): copy them into <data dir>/reuters-dai2007/",
    licence="Reuters-21578 Distribution 1.0: research use",
    protocol=Protocol(
        preprocessing="none: weights as distributed, sparse",
        classifier="logistic regression (scikit-learn, max_iter=1000)",
        make_classifier="tltk_datasets._loaders:logistic",
        metric="accuracy on the target",
        evaluation="all target samples (transductive)",
        references=_refs("svm (no transfer)", REUTERS_TASKS, (73.7, 68.7, 62.6), _DAI),
        source="Dai, Yang, Xue, Yu, ICML 2007",
    ),
    citation="""\
@inproceedings{dai2007tradaboost,
  title     = {Boosting for Transfer Learning},
  author    = {Dai, Wenyuan and Yang, Qiang and Xue, Gui-Rong and Yu, Yong},
  booktitle = {ICML},
  pages     = {193--200},
  year      = {2007}
}""",
)

# -- Reuters-21578, Dai-style splits built from the raw collection -------------
REUTERS21578_ARCHIVE = DataFile("reuters21578/reuters21578-sgm.tar.gz", REUTERS_RAW_SHA)

REUTERS21578 = DatasetInfo(
    name="reuters21578",
    summary=("Reuters-21578 orgs/people/places tasks in the manner of Dai et al. (KDD/ICML "
             "2007), built from the raw SGML collection: two top categories, disjoint "
             "sub-category halves in source and target, tf-idf over a real vocabulary"),
    domains=tuple(f"{t}-{side}" for t in REUTERS_TASKS for side in ("source", "target")),
    tasks=REUTERS_TASKS,
    n_features=None,  # the vocabulary is built per task (min_df option)
    loader="tltk_datasets._reuters21578:load_reuters21578",
    files=(REUTERS21578_ARCHIVE,),
    source=("Reuters-21578 Distribution 1.0 (Lewis), reuters21578-sgm.tar.gz: the 22 "
            "reut2-0NN.sgm files, lewis.dtd and the category lists"),
    fetch_hint=("no fetcher (no public URL with a known checksum): obtain the Reuters-21578 "
                "Distribution 1.0 archive reuters21578-sgm.tar.gz (the copy in the GitHub "
                "repository Arthur-sauvage/Reuter, commit d0a779d) and store it as "
                "<data dir>/reuters21578/reuters21578-sgm.tar.gz; its SHA-256 must be "
                f"{REUTERS_RAW_SHA} (a re-packed archive fails the check)"),
    licence="Reuters-21578 Distribution 1.0: research use (Reuters Ltd. and Carnegie Group)",
    options={"min_df": 3, "max_features": None, "max_per_class": 600},
    protocol=Protocol(
        preprocessing=("TITLE + BODY, lower-cased alphabetic tokens, English stop words "
                       "removed, words in fewer than min_df stories of the task dropped, "
                       "tf-idf, rows L2-normalised; label 0 = the first category named"),
        classifier="logistic regression (scikit-learn, max_iter=1000)",
        make_classifier="tltk_datasets._loaders:logistic",
        metric="accuracy on the target",
        evaluation="all target samples (transductive)",
        source="recipe of this toolkit in the manner of Dai, Xue, Yang, Yu, KDD 2007",
    ),
    citation="""\
@inproceedings{dai2007cocc,
  title     = {Co-clustering based Classification for Out-of-domain Documents},
  author    = {Dai, Wenyuan and Xue, Gui-Rong and Yang, Qiang and Yu, Yong},
  booktitle = {KDD},
  pages     = {210--219},
  year      = {2007}
}
@misc{lewis1997reuters,
  title  = {Reuters-21578 text categorization test collection, Distribution 1.0},
  author = {Lewis, David D.},
  year   = {1997}
}""",
)

# -- 20 Newsgroups, the Dai et al. splits from the raw corpus -----------------
NEWSGROUPS_TASKS = ("rec-vs-talk", "rec-vs-sci", "sci-vs-talk",
                    "comp-vs-rec", "comp-vs-sci", "comp-vs-talk")
NEWSGROUPS_ARCHIVE = DataFile(
    "20newsgroups/20news-bydate.tar.gz",
    # the archive scikit-learn's fetch_20newsgroups downloads, with the checksum
    # written in scikit-learn's code (sklearn/datasets/_twenty_newsgroups.py)
    "8f1b2514ca22a5ade8fbb9cfa5727df95fa587f4c87b786e15c759fa66d95610",
    "https://ndownloader.figshare.com/files/5975967",
)

NEWSGROUPS = DatasetInfo(
    name="20newsgroups",
    summary=("20 Newsgroups transfer splits of Dai et al. (ICML 2007) and the "
             "co-clustering papers, built from the raw corpus: two top categories, "
             "different sub-categories in source and target"),
    domains=tuple(f"{t}-{side}" for t in NEWSGROUPS_TASKS for side in ("source", "target")),
    tasks=NEWSGROUPS_TASKS,
    n_features=None,  # the vocabulary is built per task (min_df option)
    loader="tltk_datasets._newsgroups:load_newsgroups",
    files=(NEWSGROUPS_ARCHIVE,),
    source="20news-bydate.tar.gz (Lang; the archive scikit-learn's fetch_20newsgroups uses)",
    licence="20 Newsgroups: public research corpus (Lang, 1995)",
    options={"min_df": 3, "max_features": None},
    protocol=Protocol(
        preprocessing=("headers kept as distributed; lower-cased word tokens, words in "
                       "fewer than min_df documents of the task dropped, tf-idf, rows "
                       "L2-normalised"),
        classifier="logistic regression (scikit-learn, max_iter=1000)",
        make_classifier="tltk_datasets._loaders:logistic",
        metric="accuracy on the target",
        evaluation="all target samples (transductive)",
        source="Dai, Xue, Yang, Yu, KDD 2007 (co-clustering); ICML 2007",
    ),
    citation="""\
@inproceedings{dai2007cocc,
  title     = {Co-clustering based Classification for Out-of-domain Documents},
  author    = {Dai, Wenyuan and Xue, Gui-Rong and Yang, Qiang and Yu, Yong},
  booktitle = {KDD},
  pages     = {210--219},
  year      = {2007}
}""",
)

# -- synthetic ----------------------------------------------------------------
SYNTHETIC_TASKS = ("covariate", "prior", "conditional", "subspace")

SYNTHETIC = DatasetInfo(
    name="synthetic",
    summary=("shifted toy tasks made on the fly (covariate, prior, conditional, subspace "
             "shift; dense or sparse; any size and seed): tests, demos, scaling studies"),
    domains=("source", "target"),
    tasks=SYNTHETIC_TASKS,
    n_features=None,  # option n_features (default 20)
    loader="tltk_datasets._synthetic:load_synthetic",
    source="generated (no download)",
    licence="public domain",
    options={"n_samples": 1000, "n_target": None, "n_features": 20, "n_classes": 2,
             "shift": 1.0, "sparse": False, "density": 0.1, "seed": 0},
    protocol=Protocol(
        classifier="logistic regression (scikit-learn, max_iter=1000)",
        make_classifier="tltk_datasets._loaders:logistic",
        evaluation="all target samples (transductive)",
    ),
)

DATASETS = (OFFICE_CALTECH_SURF, NG_SCI_TALK, AMAZON_REVIEWS, REUTERS, REUTERS21578,
            NEWSGROUPS, SYNTHETIC)


@hookimpl
def tltk_register_datasets(register):
    for info in DATASETS:
        register(info)


__getattr__, __dir__ = lazy_exports(__name__, {
    "newsgroups_splits": "tltk_datasets._newsgroups:newsgroups_splits",
    "read_newsgroups": "tltk_datasets._newsgroups:read_newsgroups",
    "make_shifted": "tltk_datasets._synthetic:make_shifted",
    "read_reuters": "tltk_datasets._reuters21578:read_reuters",
    "reuters_splits": "tltk_datasets._reuters21578:reuters_splits",
})
