import numpy as np

from tools.perception.backends.classical import ClassicalBackend
from tools.perception.prompting import build_prompt


def dice(a, b):
    return 2 * (a & b).sum() / (a.sum() + b.sum())


def test_box_and_points_segment_a_clear_ellipse(ellipse):
    image, mask = ellipse
    backend = ClassicalBackend()
    for kwargs in (dict(box=(35, 85, 165, 175)), dict(point=(100, 130)),
                   dict(points=[(100, 130), (220, 30)], labels=[1, 0])):
        prompt, _ = build_prompt(height=256, width=256, **kwargs)
        out = backend.segment(image, prompt)
        assert out.mask.shape == mask.shape
        assert dice(out.mask, mask) > 0.9, kwargs
        assert 0.0 <= out.score <= 1.0


def test_large_image_is_worked_small_and_mapped_back(ellipse):
    image, mask = ellipse
    big = np.kron(image, np.ones((8, 8), np.float32))  # 2048 x 2048
    big_mask = np.kron(mask, np.ones((8, 8), bool))
    prompt, _ = build_prompt(height=2048, width=2048, box=(280, 680, 1320, 1400))
    out = ClassicalBackend().segment(big, prompt)
    assert out.mask.shape == big.shape
    assert dice(out.mask, big_mask) > 0.9
