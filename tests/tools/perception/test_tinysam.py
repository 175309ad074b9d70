import numpy as np
import pytest
import torch

from tools.perception.tinysam import BOX_BR, BOX_TL, NEG_LABEL, PAD_LABEL, POS_LABEL, TinySam, TinySamConfig, select_masks
from tools.perception.train_segmenter import _bbox, mask_losses, sample_prompts


def model():
    torch.manual_seed(0)
    return TinySam(TinySamConfig()).eval()


def test_decoder_shapes_and_prompt_batching():
    m = model()
    feats = m.encode(torch.rand(1, 1, 64, 64))
    points = torch.tensor([[[10.0, 12.0], [0, 0], [5, 5], [40, 50]], [[30.0, 30.0], [20, 20], [0, 0], [0, 0]]])
    labels = torch.tensor([[POS_LABEL, PAD_LABEL, BOX_TL, BOX_BR], [POS_LABEL, NEG_LABEL, PAD_LABEL, PAD_LABEL]])
    with torch.no_grad():
        masks, iou = m.decode(feats, points, labels)  # two prompts share one cached image embedding
    assert masks.shape == (2, 4, 32, 32) and iou.shape == (2, 4)


def test_prompt_encoding_distinguishes_labels_and_ignores_padding_coordinates():
    m = model()
    pe = m.prompt_encoder
    xy = torch.tensor([[[10.0, 10.0]]])
    pos, neg = pe(xy, torch.tensor([[POS_LABEL]])), pe(xy, torch.tensor([[NEG_LABEL]]))
    assert not torch.allclose(pos, neg)
    pad_a = pe(torch.tensor([[[1.0, 2.0]]]), torch.tensor([[PAD_LABEL]]))
    pad_b = pe(torch.tensor([[[50.0, 60.0]]]), torch.tensor([[PAD_LABEL]]))
    assert torch.allclose(pad_a, pad_b)  # a padding token carries no position
    near, far = pe(torch.tensor([[[10.0, 11.0]]]), torch.tensor([[POS_LABEL]])), pe(torch.tensor([[[60.0, 3.0]]]), torch.tensor([[POS_LABEL]]))
    assert (pos - near).norm() < (pos - far).norm()  # positional encoding is smooth in space


def test_select_masks_uses_token_zero_unless_ambiguous():
    masks = torch.arange(2 * 4).float().view(2, 4, 1, 1)
    iou = torch.tensor([[0.9, 0.1, 0.8, 0.2], [0.9, 0.1, 0.8, 0.2]])
    chosen, score = select_masks(masks, iou, torch.tensor([False, True]))
    assert chosen.flatten().tolist() == [0.0, 6.0] and score.tolist() == pytest.approx([0.9, 0.8])


def test_sampled_prompts_respect_the_mask():
    masks = torch.zeros(64, 64, 64, dtype=torch.bool)
    masks[:, 20:40, 10:30] = True
    gen = torch.Generator().manual_seed(0)
    points, labels, multimask = sample_prompts(masks, gen)
    assert points.shape == (64, 6, 2) and labels.shape == (64, 6)
    for p, l in zip(points, labels):
        for (x, y), lab in zip(p.tolist(), l.tolist()):
            if lab == POS_LABEL:
                assert 10 <= x < 30 and 20 <= y < 40
            elif lab == NEG_LABEL:
                assert not (10 <= x < 30 and 20 <= y < 40)
        assert (l != PAD_LABEL).any()
    assert multimask.any() and (~multimask).any()
    assert _bbox(masks[:1]).tolist() == [[10, 20, 29, 39]]


def test_losses_are_lower_for_the_right_mask():
    target = torch.zeros(1, 1, 16, 16, dtype=torch.bool)
    target[..., 4:12, 4:12] = True
    good = torch.where(target, 8.0, -8.0).float().expand(1, 2, 16, 16).clone()
    good[:, 1] = -good[:, 1]
    loss = mask_losses(good, target)
    assert loss[0, 0] < loss[0, 1]


def test_lone_clicks_fall_inside_and_many_near_the_deepest_point():
    from tools.perception.train_segmenter import sample_clicks

    masks = torch.zeros(400, 64, 64, dtype=torch.bool)
    masks[:, 10:50, 20:40] = True  # 40 x 20: the deepest points are the central column band
    clicks = sample_clicks(masks, torch.Generator().manual_seed(0))
    x, y = clicks[:, 0], clicks[:, 1]
    assert ((x >= 20) & (x < 40) & (y >= 10) & (y < 50)).all()
    central = ((x - 29.5).abs() <= 3) & ((y - 29.5).abs() <= 13)
    assert 0.35 < central.float().mean() < 0.9  # a large share central, the rest spread out
    assert ((x == 20) | (x == 39) | (y == 10) | (y == 49)).any()  # some clicks on the edge


def test_click_windows_keep_the_click_at_the_view_centre():
    import torch.nn.functional as F

    from tools.perception.train_segmenter import click_windows, image_to_view, sample_windows

    gen = torch.Generator().manual_seed(1)
    clicks = torch.tensor([[30.0, 70.0], [90.0, 20.0], [64.0, 64.0]])
    masks = torch.zeros(3, 128, 128, dtype=torch.bool)
    masks[:, 10:100, 20:110] = True
    for theta in (click_windows(clicks, 128, gen), sample_windows(masks, gen)):
        view = image_to_view(clicks, theta, 128, 64)
        dots = torch.zeros(3, 1, 128, 128)
        for i, (x, y) in enumerate(clicks.long().tolist()):
            dots[i, 0, y - 1: y + 2, x - 1: x + 2] = 1
        seen = F.grid_sample(dots, F.affine_grid(theta, (3, 1, 64, 64), align_corners=False), align_corners=False)[:, 0]
        yy, xx = torch.meshgrid(torch.arange(64.0), torch.arange(64.0), indexing="ij")
        weight = seen / seen.sum((1, 2), keepdim=True)
        centroid = torch.stack([(weight * xx).sum((1, 2)), (weight * yy).sum((1, 2))], 1)
        assert torch.allclose(centroid, view, atol=0.6)
    assert torch.allclose(image_to_view(clicks, click_windows(clicks, 128, gen), 128, 64), torch.full((3, 2), 31.5), atol=1e-4)

