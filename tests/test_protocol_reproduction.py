"""Under the office-caltech-surf protocol every installed kernel method shows
the paper's baseline and reproduces its published number on C->A."""
import pytest

from tltk_core.registry import get_registry


def _installed(name):
    return any(e.name == name and e.status == "ok" for e in get_registry().entries())


@pytest.mark.parametrize("method", ["tca", "jda", "gfk"])
def test_office_caltech_protocol_reproduces_the_published_number(method):
    if not _installed(method) or not any(d.name == "office-caltech-surf"
                                         for d in get_registry().dataset_entries()):
        pytest.skip(f"{method} or the office-caltech-surf dataset is not installed")
    from tltk_core import InputError, load_task
    from tltk_core.evaluate import run

    try:
        task = load_task("office-caltech-surf", "C:A")
    except InputError as exc:
        pytest.skip(str(exc))
    r = run(method, task)
    assert r["baseline_accuracy"] == pytest.approx(0.237, abs=0.0005)  # the paper's NN
    assert r["published_accuracy"] is not None
    assert r["accuracy"] == pytest.approx(r["published_accuracy"], abs=0.005)
    assert r["accuracy"] > r["baseline_accuracy"] + 0.1
