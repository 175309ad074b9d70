"""Property test: mutated real DICOM bytes either load cleanly or raise InvalidInputError, nothing else."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from agent.errors import InvalidInputError
from agent.settings import get_settings
from tools.imaging.access import sample_file
from tools.imaging.load import load_image

SEEDS = ("MR_small.dcm", "MR_small_RLE.dcm", "MR_small_jpeg_ls_lossless.dcm", "MR_small_jp2klossless.dcm",
         "CT_small.dcm", "SC_rgb_small_odd_jpeg.dcm", "emri_small_RLE.dcm", "OT-PAL-8-face.dcm")
SAMPLES = [sample_file(name).read_bytes() for name in SEEDS]
FUZZ = settings(max_examples=700, deadline=None, derandomize=True,
                suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                       HealthCheck.data_too_large])


@pytest.fixture
def target(isolated_data_dir, monkeypatch):
    # a low pixel budget keeps hostile headers from spending time on huge decodes
    monkeypatch.setenv("RADAGENT_IMAGING__MAX_PIXELS", "2000000")
    get_settings.cache_clear()
    folder = isolated_data_dir / "fuzz"
    folder.mkdir(parents=True, exist_ok=True)
    return folder / "input.dcm"


def _check(path, data: bytes) -> None:
    path.write_bytes(data)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            img = load_image(path)
        except InvalidInputError as err:
            assert err.message
            return
    assert img.pixels.dtype == np.float32 and img.pixels.size > 0
    assert np.isfinite(img.pixels).all()
    assert isinstance(img.metadata, dict)  # the lazily built header summary never raises


@FUZZ
@given(sample=st.sampled_from(range(len(SAMPLES))), cut=st.floats(0.0, 1.0))
def test_truncation(target, sample, cut):
    data = SAMPLES[sample]
    _check(target, data[: int(len(data) * cut)])


@FUZZ
@given(sample=st.sampled_from(range(len(SAMPLES))),
       flips=st.lists(st.tuples(st.floats(0.0, 1.0, exclude_max=True), st.integers(0, 255)), min_size=1, max_size=12))
def test_byte_flips(target, sample, flips):
    data = bytearray(SAMPLES[sample])
    for where, value in flips:
        # bias half of the flips into the header, where lengths and sizes live
        index = int(where * min(len(data), 1500)) if value % 2 else int(where * len(data))
        data[index] = value
    _check(target, bytes(data))


@FUZZ
@given(a=st.sampled_from(range(len(SAMPLES))), b=st.sampled_from(range(len(SAMPLES))),
       start=st.floats(0.0, 1.0), length=st.floats(0.0, 1.0), at=st.floats(0.0, 1.0))
def test_splices(target, a, b, start, length, at):
    left, right = SAMPLES[a], SAMPLES[b]
    begin = int(start * len(right))
    piece = right[begin: begin + int(length * 2000)]
    cut = int(at * len(left))
    _check(target, left[:cut] + piece + left[cut + len(piece):])
