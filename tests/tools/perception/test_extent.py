"""Fitting a coarse localiser box to the structure with the segmenter's own masks."""

import numpy as np

from tools.perception.extent import box_iou, fit_to_structure


def _ellipse(height: int, width: int, cx: float, cy: float, rx: float, ry: float) -> np.ndarray:
    yy, xx = np.mgrid[:height, :width]
    return ((xx - cx) / rx) ** 2 + ((yy - cy) / ry) ** 2 <= 1


def _seeing_segmenter(structure: np.ndarray, context: float = 0.25):
    """Like the zoomed pass: returns the structure inside the box plus a margin of context around it."""
    calls = []

    def segment(prompt):
        x0, y0, x1, y1 = prompt.box
        pad_x, pad_y = context * (x1 - x0), context * (y1 - y0)
        view = np.zeros_like(structure)
        view[int(max(y0 - pad_y, 0)): int(y1 + pad_y) + 1, int(max(x0 - pad_x, 0)): int(x1 + pad_x) + 1] = True
        calls.append(prompt.box.copy())
        return structure & view, 0.9

    return segment, calls


def test_an_undersized_box_grows_to_the_whole_structure():
    lung = _ellipse(200, 200, 140, 100, 40, 80)
    segment, calls = _seeing_segmenter(lung)
    fitted = fit_to_structure(np.zeros((200, 200), np.float32), np.array([125, 70, 155, 130], np.float32), segment)
    truth = np.array([100, 20, 180, 180], np.float32)
    rows, cols = np.nonzero(fitted.mask)
    assert box_iou(np.array([cols.min(), rows.min(), cols.max(), rows.max()], np.float32), truth) > 0.9
    assert fitted.rounds == len(calls) > 1


def test_a_box_that_already_fits_is_kept():
    heart = _ellipse(200, 200, 100, 120, 30, 25)
    segment, calls = _seeing_segmenter(heart)
    fitted = fit_to_structure(np.zeros((200, 200), np.float32), np.array([68, 93, 132, 147], np.float32), segment)
    assert fitted.rounds <= 2 and (fitted.mask == heart).all()


def test_a_one_sided_structure_does_not_spread_across_the_midline():
    both = _ellipse(200, 200, 60, 100, 40, 80) | _ellipse(200, 200, 140, 100, 40, 80) | (np.abs(np.mgrid[:200, :200][1] - 100) < 30)
    segment, _ = _seeing_segmenter(both)
    fitted = fit_to_structure(np.zeros((200, 200), np.float32), np.array([120, 60, 170, 140], np.float32), segment,
                              one_sided=True)
    assert fitted.box[0] >= 0.45 * 200  # kept on the image-right half (plus slack)
    free = fit_to_structure(np.zeros((200, 200), np.float32), np.array([120, 60, 170, 140], np.float32), segment)
    assert free.box[0] < fitted.box[0]
