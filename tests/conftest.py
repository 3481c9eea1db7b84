"""Root conftest: its folder (tests/) goes on sys.path, so every package can import `mltest`."""

import pytest


@pytest.fixture(autouse=True)
def _own_data_dir(tmp_path, monkeypatch):
    """Every test's in-process servers get a session store of their own (the default one is
    a file under MLPY_DATA_DIR, shared by every server of the machine on purpose)."""
    monkeypatch.setenv("MLPY_DATA_DIR", str(tmp_path / "mlpy-data"))
