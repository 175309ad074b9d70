"""The session workspace: read-only content-addressed copies with stable, persistent ids."""

from __future__ import annotations

import hashlib
import stat
import zipfile

import numpy as np
import pytest

from agent.errors import AccessDeniedError, InvalidInputError, NotFoundError
from imaging_helpers import write_series
from tools.imaging.access import sample_file
from tools.imaging.load import load_image
from tools.imaging.workspace import Workspace, current_session, get_workspace


def test_add_gives_stable_ids_and_read_only_copies(inputs):
    ws = get_workspace()
    src = inputs / "ct.dcm"
    src.write_bytes(sample_file("CT_small.dcm").read_bytes())
    before = hashlib.sha256(src.read_bytes()).hexdigest()
    first = ws.add(src)
    assert first.id == "img-1" and first.modality == "CT" and first.kind == "dicom"
    assert first.sha256 == before and first.path.name.startswith(before)
    assert not first.path.stat().st_mode & (stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH)
    assert hashlib.sha256(src.read_bytes()).hexdigest() == before and src.exists()
    again = inputs / "same-content.dcm"
    again.write_bytes(src.read_bytes())
    assert ws.add(again).id == "img-1"
    second = ws.add(sample_file("MR_small.dcm"))
    assert second.id == "img-2"
    # a fresh object (a restart) sees the same ids
    restarted = get_workspace()
    assert [e.id for e in restarted.list()] == ["img-1", "img-2"]
    assert restarted.resolve("img-2") == second.path


def test_load_image_by_id_uses_the_current_session(inputs):
    entry = get_workspace().add(sample_file("MR_small.dcm"))
    img = load_image(entry.id)
    assert img.image_id == entry.id and img.modality == "MR"
    np.testing.assert_array_equal(img.pixels, load_image(sample_file("MR_small.dcm")).pixels)
    token = current_session.set("other")
    try:
        with pytest.raises(NotFoundError):
            load_image(entry.id)
        assert get_workspace().add(sample_file("CT_small.dcm")).id == "img-1"
    finally:
        current_session.reset(token)
    assert load_image("img-1").modality == "MR"


def test_series_folder_and_zip_become_one_entry(inputs):
    files = write_series(inputs / "series", n=4)
    ws = get_workspace("s1")
    entry = ws.add(inputs / "series")
    assert entry.kind == "series" and entry.files == 4 and entry.path.is_dir()
    archive = inputs / "series.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        for p in files:
            zf.write(p, f"x/{p.name}")
    assert ws.add(archive).id == entry.id  # same content, same id
    token = current_session.set("s1")
    try:
        assert load_image(entry.id).pixels.shape == (4, 16, 16)
    finally:
        current_session.reset(token)


def test_add_refuses_non_images_outside_paths_and_bad_sessions(inputs, tmp_path):
    (inputs / "notes.txt").write_text("hello")
    with pytest.raises(InvalidInputError):
        get_workspace().add(inputs / "notes.txt")
    outside = tmp_path / "x.dcm"
    outside.write_bytes(sample_file("CT_small.dcm").read_bytes())
    with pytest.raises(AccessDeniedError):
        get_workspace().add(outside)
    assert get_workspace().list() == []
    for bad in ("../escape", "a/b", "", "x" * 100):
        with pytest.raises(InvalidInputError):
            get_workspace(bad)


def test_trusted_add_for_program_outputs(tmp_path):
    outside = tmp_path / "made.dcm"
    outside.write_bytes(sample_file("CT_small.dcm").read_bytes())
    assert get_workspace().add(outside, trusted=True).id == "img-1"


def test_damaged_index_is_reported(isolated_data_dir):
    ws = get_workspace()
    ws.add(sample_file("CT_small.dcm"))
    ws.index_path.write_text("{not json")
    with pytest.raises(InvalidInputError, match="damaged"):
        Workspace(ws.root, "default").list()
