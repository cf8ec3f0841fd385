"""Reuters-21578 transfer splits in the manner of Dai et al., built from the raw collection.

Dai, Xue, Yang and Yu (KDD 2007) and Dai, Yang, Xue and Yu (ICML 2007) made three
tasks from the ``<ORGS>``, ``<PEOPLE>`` and ``<PLACES>`` tags of Reuters-21578:
each task separates two top categories, and the source and the target use
different sub-categories (organisation, person or place names) of each. Their
exact recipe is not published (their files have no word names, and their
document counts — orgs 1175, people 1270, places 884 — include stories counted
once per sub-category). This module builds splits of the same kind,
deterministically, with a real vocabulary:

1. **Stories.** All 21,578 stories of the 22 ``reut2-0NN.sgm`` files, in NEWID
   order; the text is TITLE + BODY (entities decoded, the closing "Reuter"
   signature removed), or the TEXT element of the unprocessed stories. Stories
   with no text are dropped.
2. **Top category of a story, for a task.** PLACES is on almost every story
   (the dateline's country), so a story counts as a *places* story only when it
   has no ORGS and no PEOPLE tag; an *orgs* (*people*) story has an ORGS (PEOPLE)
   tag. A story that belongs to both categories of the task (orgs and people)
   is dropped.
3. **Sub-category halves, per top category (the same in every task).** The
   sub-categories of a top category are sorted by the number of stories
   tagged with them (descending, then by name) and each is given, in turn, to
   the half that has fewer stories so far (ties to the source): a greedy,
   size-balanced split. For places this puts ``usa`` alone in the source half:
   the places source is US news, the target news from elsewhere.
4. **Side of a story.** A story goes to the source when all its
   sub-categories of its class are in the source half, to the target when all
   are in the target half; stories straddling both halves are dropped. So
   source and target never share a sub-category.
5. **Size cap.** With ``max_per_class`` (default 600) a class keeps at most
   that many stories per side, taken evenly spaced in NEWID order (the places
   class has about 17,000 stories).
6. **Features.** Lower-cased alphabetic tokens of two letters or more,
   scikit-learn's English stop-word list removed, words in fewer than ``min_df``
   of the task's stories (source and target together, no labels) dropped;
   tf-idf with L2-normalised rows (scikit-learn's ``TfidfVectorizer``). The
   word names are in ``task.extra["feature_names"]``.

Label 0 is the first top category of the task's name, 1 the second
(``orgs_vs_people``: 0 = orgs, 1 = people) — note that the distributed ``reuters``
files of Dai et al. number their classes the other way round.
"""
from __future__ import annotations

import html
import re
import tarfile
from functools import lru_cache
from pathlib import Path

import numpy as np

from tltk_core import InputError
from tltk_core.data import Domain, Task

TOP = ("orgs", "people", "places")
TASKS = {"orgs_vs_people": ("orgs", "people"), "orgs_vs_places": ("orgs", "places"),
         "people_vs_places": ("people", "places")}
_FILE_RE = re.compile(r"(^|/)reut2-\d{3}\.sgm$")
_STORY_RE = re.compile(r"<REUTERS\b([^>]*)>(.*?)</REUTERS>", re.S)
_NEWID_RE = re.compile(r'NEWID="(\d+)"')
_D_RE = re.compile(r"<D>(.*?)</D>", re.S)
_TAG_RE = re.compile(r"<[^>]*>")
_CTRL_RE = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")
_SIGNATURE_RE = re.compile(r"\s*\breuter\s*$", re.I)


def _element(text, tag):
    m = re.search(rf"<{tag}\b[^>]*>(.*?)</{tag}>", text, re.S)
    return None if m is None else m.group(1)


def _clean(fragment):
    return _CTRL_RE.sub(" ", html.unescape(_TAG_RE.sub(" ", fragment or "")))


def parse_sgml(text):
    """The stories of one ``.sgm`` file: dicts with ``newid``, ``orgs``,
    ``people``, ``places`` (tuples of sub-category names) and ``text``."""
    out = []
    for m in _STORY_RE.finditer(text):
        attrs, body = m.groups()
        nid = _NEWID_RE.search(attrs)
        story = {"newid": int(nid.group(1)) if nid else -1}
        for top in TOP:
            inner = _element(body, top.upper()) or ""
            story[top] = tuple(sorted({d.strip().lower() for d in _D_RE.findall(inner)
                                       if d.strip()}))
        title, main = _element(body, "TITLE"), _element(body, "BODY")
        if title is None and main is None:  # TYPE="UNPROC": raw text only
            words = _clean(_element(body, "TEXT"))
        else:
            words = _clean(title) + "\n" + _clean(main)
        story["text"] = _SIGNATURE_RE.sub("", words).strip()
        out.append(story)
    return out


def read_reuters(path):
    """All stories of the collection, in NEWID order, from the
    ``reuters21578-sgm.tar.gz`` tarball (read in place, nothing extracted) or a
    folder holding the ``reut2-0NN.sgm`` files. Decoded as latin-1 (the files
    are mostly ASCII with a few stray bytes)."""
    path = Path(path)
    st = path.stat()
    return list(_read_cached(str(path.resolve()), st.st_size, st.st_mtime_ns))


@lru_cache(maxsize=2)
def _read_cached(path, size, mtime):
    path = Path(path)
    texts = {}
    if path.is_dir():
        for f in sorted(path.glob("reut2-*.sgm")):
            texts[f.name] = f.read_bytes().decode("latin-1")
    else:
        try:
            with tarfile.open(path) as tar:
                for m in tar:
                    if m.isfile() and _FILE_RE.search(m.name):
                        texts[m.name] = tar.extractfile(m).read().decode("latin-1")
        except (tarfile.TarError, EOFError, OSError) as exc:
            raise InputError(f"{path}: not a readable Reuters-21578 archive: "
                             f"{type(exc).__name__}: {exc}") from None
    if not texts:
        raise InputError(f"{path}: no reut2-NNN.sgm file in it (is it the Reuters-21578 "
                         "Distribution 1.0 archive?)")
    stories = [s for name in sorted(texts) for s in parse_sgml(texts[name])]
    stories.sort(key=lambda s: s["newid"])
    return tuple(stories)


def split_subcategories(stories, top):
    """``(source half, target half)`` of the sub-categories of ``top``: by
    decreasing story count (then name), each to the lighter half."""
    counts = {}
    for s in stories:
        for c in s[top]:
            counts[c] = counts.get(c, 0) + 1
    halves, load = (set(), set()), [0, 0]
    for c in sorted(counts, key=lambda c: (-counts[c], c)):
        side = 0 if load[0] <= load[1] else 1
        halves[side].add(c)
        load[side] += counts[c]
    return frozenset(halves[0]), frozenset(halves[1])


def _class_of(story, first, second):
    def has(top):
        if top == "places":  # places only counts when no org and no person is named
            return bool(story["places"]) and not story["orgs"] and not story["people"]
        return bool(story[top])

    a, b = has(first), has(second)
    return None if a == b else (0 if a else 1)


def _evenly(items, cap):
    if cap is None or len(items) <= cap:
        return items
    keep = np.unique(np.round(np.linspace(0, len(items) - 1, cap)).astype(int))
    return [items[i] for i in keep]


def reuters_splits(stories, task, min_df=3, max_features=None, max_per_class=600):
    """Source and target :class:`Domain` of ``task``, the feature names and a
    description of the split (``dict``: sub-category halves, NEWIDs)."""
    from sklearn.feature_extraction.text import TfidfVectorizer

    if task not in TASKS:
        raise InputError(f"unknown Reuters-21578 task {task!r} (valid: {', '.join(TASKS)})")
    if max_per_class is not None and (isinstance(max_per_class, bool)
                                      or not isinstance(max_per_class, int)
                                      or max_per_class < 1):
        raise InputError(f"max_per_class must be a positive integer or None, "
                         f"not {max_per_class!r}")
    first, second = TASKS[task]
    stories = [s for s in stories if s["text"]]
    halves = {top: split_subcategories(stories, top) for top in (first, second)}
    sides = {(label, side): [] for label in (0, 1) for side in (0, 1)}
    for s in stories:
        label = _class_of(s, first, second)
        if label is None:
            continue
        subs = set(s[(first, second)[label]])
        src, tgt = halves[(first, second)[label]]
        if subs <= src:
            sides[(label, 0)].append(s)
        elif subs <= tgt:
            sides[(label, 1)].append(s)
    for key in sides:
        sides[key] = _evenly(sides[key], max_per_class)
    empty = [f"{(first, second)[lab]} {('source', 'target')[side]}"
             for (lab, side), v in sides.items() if not v]
    if empty:
        raise InputError(f"Reuters-21578 task {task}: no stories for {', '.join(empty)}")

    def side(k):
        docs = sides[(0, k)] + sides[(1, k)]
        y = np.asarray([0] * len(sides[(0, k)]) + [1] * len(sides[(1, k)]), dtype=np.int64)
        return docs, y

    (ds, ys), (dt, yt) = side(0), side(1)
    vec = TfidfVectorizer(lowercase=True, token_pattern=r"(?u)\b[a-zA-Z][a-zA-Z]+\b",
                          stop_words="english", min_df=min_df, max_features=max_features,
                          dtype=np.float64)
    try:
        X = vec.fit_transform([s["text"] for s in ds + dt]).tocsr()
    except ValueError as exc:  # empty vocabulary: min_df too high for the stories
        raise InputError(f"Reuters-21578 task {task}: {exc}") from None
    X.indices = X.indices.astype(np.int32)
    X.indptr = X.indptr.astype(np.int32)
    source = Domain(X[: len(ds)], ys, f"{task}-source")
    target = Domain(X[len(ds):], yt, f"{task}-target")
    info = {
        "class_names": {"0": first, "1": second},
        "source_subcategories": {top: sorted(halves[top][0]) for top in (first, second)},
        "target_subcategories": {top: sorted(halves[top][1]) for top in (first, second)},
        "source_newids": [s["newid"] for s in ds],
        "target_newids": [s["newid"] for s in dt],
    }
    return source, target, vec.get_feature_names_out(), info


def load_reuters21578(info, task, sources, target, root, min_df=3, max_features=None,
                      max_per_class=600):
    archive = root / info.files[0].path
    src, tgt, names, extra = reuters_splits(read_reuters(archive), task, min_df=min_df,
                                            max_features=max_features,
                                            max_per_class=max_per_class)
    return Task(name="", sources=[src], target=tgt, description=info.summary,
                reference=info.citation, extra={"feature_names": names, **extra})
