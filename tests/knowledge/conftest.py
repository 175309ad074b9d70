"""Fixtures for the knowledge tests: a private copy of a few cards and a store in the test's data dir."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from kb_helpers import CARDS_DIR


@pytest.fixture
def cards(tmp_path: Path) -> Path:
    """A writable copy of the test cards (DDIM, low-dose CT denoising, SAM)."""
    target = tmp_path / "cards"
    shutil.copytree(CARDS_DIR, target)
    return target


@pytest.fixture
def store():
    from knowledge.store import open_store

    return open_store()
