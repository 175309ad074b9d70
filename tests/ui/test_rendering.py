from __future__ import annotations

import numpy as np

from ui.rendering import draw_prompts, pick_slice, window


def test_window_maps_level_width_to_uint8() -> None:
    hu = np.array([[-1000.0, 40.0, 240.0, 3000.0]])
    out = window(hu, 40.0, 400.0)
    assert out.dtype == np.uint8
    assert out[0, 0] == 0 and out[0, 3] == 255
    assert out[0, 1] == 127 or out[0, 1] == 128


def test_window_survives_nan_and_flat_images() -> None:
    assert window(np.full((4, 4), np.nan), None, None).shape == (4, 4)
    assert window(np.zeros((4, 4)), None, None).max() == 0


def test_pick_slice_clamps_and_keeps_rgb() -> None:
    vol = np.arange(3 * 4 * 4, dtype=np.float32).reshape(3, 4, 4)
    assert np.array_equal(pick_slice(vol, 10), vol[2])
    rgb = np.zeros((4, 4, 3))
    assert pick_slice(rgb, 1).shape == (4, 4, 3)


def test_prompts_are_drawn_in_colour() -> None:
    img = np.zeros((50, 50), dtype=np.uint8)
    out = draw_prompts(img, [(10, 10, 1), (40, 40, 0)], (5, 5, 30, 30))
    assert out.shape == (50, 50, 3)
    assert tuple(out[10, 10]) == (0, 220, 0)
    assert tuple(out[40, 40]) == (230, 30, 30)
    assert tuple(out[5, 15]) == (250, 210, 0)
