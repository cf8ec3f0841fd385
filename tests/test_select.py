"""tltk select: candidates from search spaces, scored without target labels,
source-only among them, accuracy only as information."""
import json

import numpy as np
import pytest
from click.testing import CliRunner

from tltk_core.cli import cli
from tltk_core.registry import get_registry
from tltk_core.testing import make_domains

INSTALLED = {e.name for e in get_registry().entries() if e.status == "ok"}
pytestmark = pytest.mark.skipif(not {"tca", "source-only"} <= INSTALLED,
                                reason="needs the tca and source-only plugins")


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    root = tmp_path_factory.mktemp("select")
    Xs, ys, Xt, yt = make_domains(n_source=90, n_target=70, n_features=6, random_state=2)
    np.savez(root / "s.npz", X=Xs, y=ys)
    np.savez(root / "t.npz", X=Xt, y=yt)
    np.savez(root / "t_shuffled.npz", X=Xt, y=np.random.RandomState(0).permutation(yt))
    np.savez(root / "t_unlabelled.npz", X=Xt)
    return root


def select(*args):
    r = CliRunner().invoke(cli, ["select", *map(str, args)])
    return r


def test_json_ranks_candidates_with_source_only_and_reports_accuracy_apart(files):
    r = select("--source", files / "s.npz", "--target", files / "t.npz", "--methods", "tca",
               "-p", "tca.n_components=2,3", "--json")
    assert r.exit_code == 0, r.stderr
    out = json.loads(r.stdout)
    assert set(out) >= {"chosen", "scorer", "candidates"}
    cands = out["candidates"]
    tca = sorted((c["params"]["n_components"], c["params"]["mu"]) for c in cands
                 if c["method"] == "tca")
    assert tca == [(2, 0.1), (2, 1.0), (3, 0.1), (3, 1.0)]       # -p x declared search space
    assert any(c["method"] == "source-only" for c in cands)
    scores = [c["score"] for c in cands]
    ranked = [x for x in scores if x is not None]
    assert ranked and ranked == sorted(ranked, reverse=True)
    assert scores == ranked + [None] * (len(scores) - len(ranked))   # unranked ones last
    assert out["chosen"] == {"method": cands[0]["method"], "params": cands[0]["params"]}
    assert all(0.0 <= c["accuracy"] <= 1.0 for c in cands)


def test_target_labels_never_change_the_choice(files):
    runs = [json.loads(select("--source", files / "s.npz", "--target", files / t, "--methods",
                              "tca", "-p", "tca.n_components=2,3", "-p", "tca.mu=1.0",
                              "--json").stdout)
            for t in ("t.npz", "t_shuffled.npz", "t_unlabelled.npz")]
    strip = [[(c["method"], c["params"], c["score"]) for c in r["candidates"]] for r in runs]
    assert strip[0] == strip[1] == strip[2]
    assert runs[0]["chosen"] == runs[1]["chosen"] == runs[2]["chosen"]
    assert all(c["accuracy"] is None for c in runs[2]["candidates"])


def test_source_only_is_chosen_when_its_score_is_best(files, monkeypatch):
    import tltk_core.selection as selection

    def fake(candidates, Xs, ys, Xt, scorers, random_state=0, fitted=None, **kw):
        (name, factory), = candidates.items()
        est = factory()
        if fitted is not None:
            fitted[name] = est.fit(Xs, ys, Xt)
        score = 1.0 if type(est).__name__ == "SourceOnly" else 0.5
        return {name: {scorers[0]: score}}

    monkeypatch.setattr(selection, "score_candidates", fake)
    r = select("--source", files / "s.npz", "--target", files / "t.npz", "--methods", "tca",
               "-p", "tca.n_components=2", "-p", "tca.mu=1.0")
    assert r.exit_code == 0, r.stderr
    assert "source-only" in r.stdout.splitlines()[1] and "<- chosen" in r.stdout
    assert "adaptation does not pay here" in r.stdout
    assert "for your information only" in r.stdout


def test_budget_stops_starting_candidates(files):
    r = select("--source", files / "s.npz", "--target", files / "t.npz", "--methods", "tca",
               "-p", "tca.n_components=2,3", "--budget", "0", "--json")
    out = json.loads(r.stdout)
    assert len(out["candidates"]) == 1 and len(out["skipped"]) == 4


@pytest.mark.parametrize("args,match", [
    (["--scorer", "magic"], "unknown scorer 'magic'; valid scorers: "),
    (["--compare", "iwv,magic"], "unknown scorer 'magic'; valid scorers: "),
    (["-p", "tca.nope=1,2"], "method 'tca' has no hyperparameter 'nope'"),
    (["--methods", "nosuch"], "nosuch"),
])
def test_bad_arguments_are_one_clear_error(files, args, match):
    from tltk_core.cli import main

    with pytest.raises(SystemExit) as ex:
        main(["select", "--source", str(files / "s.npz"), "--target", str(files / "t.npz"),
              "--methods", "tca", *args])
    assert ex.value.code == 2


def test_scorer_names_in_the_help_are_the_real_ones():
    from tltk_core.selection import DEFAULT_SCORER, SCORERS

    text = CliRunner().invoke(cli, ["select", "--help"]).stdout
    import re

    for name in SCORERS:
        assert re.search(rf"\b{name}\b", text), name
    assert f"{DEFAULT_SCORER} (default)" in text


def test_ensv_scores_every_candidate_against_all_of_them(files):
    for jobs in ("1", "2"):
        r = select("--source", files / "s.npz", "--target", files / "t.npz", "--methods",
                   "tca", "-p", "tca.n_components=2,3", "-p", "tca.mu=1.0", "--scorer", "ensv",
                   "--jobs", jobs, "--json")
        assert r.exit_code == 0, r.stderr
        out = json.loads(r.stdout)
        assert out["scorer"] == "ensv"
        scores = [c["score"] for c in out["candidates"]]
        assert len(scores) == 3 and all(0.0 <= s <= 1.0 for s in scores)
        # pooled over the three candidates, not each against itself (which gives 1.0)
        assert min(scores) < 1.0
        if jobs == "1":
            first = out
        else:
            assert out == {**first, "candidates": [
                {**c, "seconds": o["seconds"]} for c, o in zip(first["candidates"],
                                                                out["candidates"])]}


def test_compare_shows_other_scorers_without_changing_the_choice(files):
    """--compare: each other scorer's score of every candidate and its own pick,
    identical with --jobs 1 and 2 (ensv is pooled); the choice and the deciding
    scores are those of a run without --compare."""
    base = ["--source", files / "s.npz", "--target", files / "t.npz", "--methods", "tca",
            "-p", "tca.n_components=2,3", "-p", "tca.mu=1.0", "--scorer", "iwv"]
    plain = json.loads(select(*base, "--json").stdout)
    runs = []
    for jobs in ("1", "2"):
        r = select(*base, "--compare", "reverse,ensv,iwv", "--jobs", jobs, "--json")
        assert r.exit_code == 0, r.stderr
        runs.append(json.loads(r.stdout))
    out = runs[0]
    assert out["chosen"] == plain["chosen"] and out["scorer"] == "iwv"
    assert [(c["method"], c["params"], c["score"]) for c in out["candidates"]] == \
        [(c["method"], c["params"], c["score"]) for c in plain["candidates"]]
    assert set(out["compare"]) == {"reverse", "ensv"}  # the deciding scorer is not repeated
    for name, pick in out["compare"].items():  # its pick has its highest score
        top = max(c["scores"][name] for c in out["candidates"])
        picked = next(c for c in out["candidates"]
                      if (c["method"], c["params"]) == (pick["method"], pick["params"]))
        assert picked["scores"][name] == top
    assert all(c["scores"]["iwv"] == c["score"] for c in out["candidates"])
    strip = [[(c["method"], c["params"], c["scores"]) for c in o["candidates"]] for o in runs]
    assert strip[0] == strip[1] and runs[0]["compare"] == runs[1]["compare"]

    text = select(*base, "--compare", "reverse,ensv")
    assert text.exit_code == 0, text.stderr
    header = text.stdout.splitlines()[0].split()
    assert header[:3] == ["rank", "candidate", "score"] and header[3:5] == ["reverse", "ensv"]
    lines = text.stdout.splitlines()[1:len(out["candidates"]) + 1]
    rows = [ln.replace("<- chosen", "").split() for ln in lines]
    for name in ("reverse", "ensv"):  # each column ranks every candidate 1..n once
        k = header.index(name) - len(header)  # counted from the right (labels have spaces)
        assert sorted(int(r[k]) for r in rows) == list(range(1, len(rows) + 1)), name
    assert "Other scorers" in text.stdout and "do not change the choice" in text.stdout


def test_default_scorer_says_what_it_cannot_rank_and_falls_back_when_it_ranks_nothing(
        files, monkeypatch):
    """TCA's default 1-NN gives 0/1 probabilities, which the default scorer (im)
    cannot rank: the output says so. The default needs no fold fits, so the
    fallback scorer (iwv) is not computed unless needed. When the default can
    rank no candidate at all, the choice is made by iwv, and says so; a scorer
    the user names never falls back."""
    from tltk_core import selection as S

    assert S.DEFAULT_SCORER == "im" and S.FALLBACK_SCORER == "iwv"
    args = ["--source", files / "s.npz", "--target", files / "t.npz", "--methods", "tca",
            "-p", "tca.n_components=2", "-p", "tca.mu=1.0"]
    real_iwv = S.IWV._score
    calls = []

    def counted(self, fits):
        calls.append(1)
        return real_iwv(self, fits)

    monkeypatch.setattr(S.IWV, "_score", counted)
    r = select(*args)
    assert r.exit_code == 0, r.stderr
    assert "1 candidate could not be ranked by im" in r.stdout
    out = json.loads(select(*args, "--json").stdout)
    assert out["scorer"] == "im" and out["chosen"]["method"] == "source-only"
    assert [c["score"] is None for c in out["candidates"]] == [False, True]
    assert calls == []                     # the fallback was not scored alongside

    def unscorable(self, fits):
        raise S.NotScorable("probabilities all 0 or 1")

    monkeypatch.setattr(S.InformationMaximisation, "_score", unscorable)
    r = select(*args)
    assert r.exit_code == 0, r.stderr
    assert "could rank no candidate" in r.stderr and "choosing by 'iwv'" in r.stderr
    assert "which fits them again" in r.stderr
    assert "the highest iwv score" in r.stdout
    assert len(calls) == 2                 # one per candidate, after im had failed
    out = json.loads(select(*args, "--json").stdout)
    assert out["scorer"] == "iwv" and all(c["score"] is not None for c in out["candidates"])
    iwv = json.loads(select(*args, "--scorer", "iwv", "--json").stdout)
    assert out["chosen"] == iwv["chosen"]
    assert [c["score"] for c in out["candidates"]] == [c["score"] for c in iwv["candidates"]]
    # iwv already compared: its scores are reused, and --compare keeps the same result
    both = json.loads(select(*args, "--compare", "iwv", "--json").stdout)
    assert both["scorer"] == "iwv" and both["chosen"] == iwv["chosen"]
    r = select(*args, "--scorer", "im")                        # named: no fallback
    assert r.exit_code != 0 and "no candidate could be scored" in r.stderr

    real = S.applicable
    monkeypatch.setattr(S, "applicable", lambda s, m: s not in ("im", S.SCORERS["im"])
                        and real(s, m))
    r = select(*args)
    assert r.exit_code == 0, r.stderr
    assert "needs probabilities that none of these methods gives" in r.stderr
    assert json.loads(select(*args, "--json").stdout)["scorer"] == "iwv"


def test_why_line_names_the_runner_up_of_the_ranking(files):
    """'chosen: X, ... ahead of Y': Y is the second row of the ranked table (not
    the second candidate tried), and the margin is the difference of their scores."""
    r = select("--source", files / "s.npz", "--target", files / "t.npz", "--methods", "tca",
               "-p", "tca.n_components=1,2,3", "-p", "tca.mu=1.0", "--scorer", "iwv",
               "--json")
    out = json.loads(r.stdout)
    first, second = out["candidates"][:2]
    text = select("--source", files / "s.npz", "--target", files / "t.npz", "--methods", "tca",
                  "-p", "tca.n_components=1,2,3", "-p", "tca.mu=1.0", "--scorer", "iwv")
    assert text.exit_code == 0, text.stderr
    why = next(ln for ln in text.stdout.splitlines() if ln.startswith("chosen:"))
    label = ("source-only" if second["method"] == "source-only" else
             "tca " + ",".join(f"{k}={v}" for k, v in sorted(second["params"].items())))
    assert why.endswith(f"ahead of {label}."), why
    assert f"{first['score'] - second['score']:.4f} ahead" in why
