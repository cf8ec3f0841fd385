"""MethodInfo validates what a plugin declares, including its search space."""
import pytest

from tltk_core import MethodInfo


def test_bad_metadata_is_refused_with_the_field_named():
    with pytest.raises(ValueError, match="lower-case identifier"):
        MethodInfo("TCA", "feature")
    with pytest.raises(ValueError, match="family must be one of"):
        MethodInfo("x", "magic")
    with pytest.raises(ValueError, match="settings must be a non-empty subset"):
        MethodInfo("x", "feature", settings=("psychic",))
    with pytest.raises(ValueError, match="search_space maps hyperparameter names"):
        MethodInfo("x", "feature", search_space={"mu": 1.0})
    with pytest.raises(ValueError, match="search_space"):
        MethodInfo("x", "feature", search_space={"mu": ()})


def test_search_space_is_normalised_and_exported():
    info = MethodInfo("x", "feature", search_space={"mu": [0.1, 1.0]})
    assert info.search_space == {"mu": (0.1, 1.0)}
    assert info.as_dict()["search_space"] == {"mu": [0.1, 1.0]}
    assert MethodInfo("y", "feature").search_space == {}


def test_installed_search_spaces_name_real_hyperparameters():
    from tltk_core.registry import get_registry

    for entry in get_registry().entries():
        if entry.status != "ok" or not entry.info.search_space:
            continue
        names = set(entry.load_class()._get_param_names())
        assert set(entry.info.search_space) <= names, entry.name
