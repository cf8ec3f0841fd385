import pytest


@pytest.fixture
def plugin_path(tmp_path):
    """A folder on which fake plugin distributions are written (put on PYTHONPATH)."""
    return tmp_path
