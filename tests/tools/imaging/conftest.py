"""Fixtures for the imaging tests: an input folder images may be opened from."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture
def inputs(isolated_data_dir: Path) -> Path:
    """A folder images may be opened from (inside the per-test data dir)."""
    folder = isolated_data_dir / "inputs"
    folder.mkdir(parents=True, exist_ok=True)
    return folder
