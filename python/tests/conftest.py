"""Fixtures of the Python package's tests: hela's own sample events in a fresh lake."""

from pathlib import Path

import pytest

import hela


@pytest.fixture(scope="session")
def sample_file(tmp_path_factory) -> Path:
    """hela's sample: Sysmon and Security events with one WMI lateral movement."""
    path = tmp_path_factory.mktemp("sample") / "sample.json"
    assert hela.command("sample", "--out", path, "--events", "3000") == 0
    return path


@pytest.fixture()
def lake(tmp_path, sample_file) -> hela.Connection:
    """A connection to a fresh lake holding the sample."""
    connection = hela.Connection(tmp_path / "lake")
    connection.ingest(sample_file)
    return connection
