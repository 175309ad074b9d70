"""A small promptable segmenter following SAM's design, sized to train on phantoms on a CPU.

- Image encoder: a residual CNN (stride 8 to an 8x8 embedding at 64 px) with a transformer
  layer on the embedding for image-wide context, plus a per-image upsampling path with stride-2 and
  stride-4 skip features (as SAM 2 uses high-res features) giving a half-resolution feature map.
- Prompt encoder: random-Fourier positional encoding of points and box corners, plus learned
  embeddings for positive / negative points, box corners and padding (SAM's sparse tokens); a learned
  "no mask" embedding as the dense prompt.
- Mask decoder: output tokens (IoU + 4 mask tokens) and prompt tokens attend to the image in a
  two-way transformer (2 layers); the prompt-updated embedding is projected and upsampled onto the
  per-image high-res features, and each mask token's hypernetwork MLP weighs those channels into a
  mask (SAM's dot product); an MLP head predicts each mask's IoU (the confidence).

The encoder (high-res path included) runs once per image (`encode`); each prompt then costs only
`decode`, whose spatial work is a dot product, so many prompts per image stay cheap. The model is
small (64 px); `tools.perception.zoom` runs it on the whole image and then on a square crop around
the structure, so large and small structures are both segmented at the model's full resolution.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import torch
import torch.nn as nn
import torch.nn.functional as F

Features = tuple[torch.Tensor, torch.Tensor]  # embedding (B, dim, S/8, S/8), high-res (B, dim/4, S/2, S/2)

PAD_LABEL = -1  # a padding point: embedded as SAM's "not a point" token
NEG_LABEL, POS_LABEL, BOX_TL, BOX_BR = 0, 1, 2, 3


@dataclass
class TinySamConfig:
    image_size: int = 64
    dim: int = 64  # embedding and token width
    stem_channels: tuple[int, int] = (16, 32)  # stride-2 and stride-4 feature widths
    encoder_layers: int = 1
    decoder_layers: int = 2
    heads: int = 4
    mlp_dim: int = 128
    num_multimask: int = 3

    @property
    def embed_size(self) -> int:
        return self.image_size // 8

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> "TinySamConfig":
        data = dict(data)
        data["stem_channels"] = tuple(data.get("stem_channels", (16, 32)))
        return cls(**data)


def _norm(channels: int) -> nn.GroupNorm:
    return nn.GroupNorm(min(8, channels), channels)


class ResBlock(nn.Module):
    def __init__(self, cin: int, cout: int, stride: int) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.norm1 = _norm(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.norm2 = _norm(cout)
        self.skip = nn.Identity() if (cin == cout and stride == 1) else nn.Sequential(
            nn.Conv2d(cin, cout, 1, stride, bias=False), _norm(cout))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = F.gelu(self.norm1(self.conv1(x)))
        return F.gelu(self.norm2(self.conv2(y)) + self.skip(x))


class PositionEmbeddingRandom(nn.Module):
    """SAM's random Fourier features of (x, y) in [0, 1]; shared by the image grid and the prompts."""

    def __init__(self, num_feats: int, scale: float = 1.0) -> None:
        super().__init__()
        self.register_buffer("gaussian", scale * torch.randn(2, num_feats))

    def encode(self, coords: torch.Tensor) -> torch.Tensor:
        coords = (2 * coords - 1) @ self.gaussian
        coords = 2 * math.pi * coords
        return torch.cat([torch.sin(coords), torch.cos(coords)], dim=-1)

    def grid(self, size: int) -> torch.Tensor:
        device = self.gaussian.device
        centers = (torch.arange(size, device=device, dtype=torch.float32) + 0.5) / size
        yy, xx = torch.meshgrid(centers, centers, indexing="ij")
        return self.encode(torch.stack([xx, yy], dim=-1)).permute(2, 0, 1)  # (C, H, W)


class ImageEncoder(nn.Module):
    def __init__(self, cfg: TinySamConfig) -> None:
        super().__init__()
        c1, c2 = cfg.stem_channels
        self.stem = nn.Sequential(nn.Conv2d(1, c1, 4, 2, 1, bias=False), _norm(c1), nn.GELU())  # /2
        self.stage2 = ResBlock(c1, c2, 2)  # /4
        self.stage3 = nn.Sequential(ResBlock(c2, cfg.dim, 2), ResBlock(cfg.dim, cfg.dim, 1))  # /8
        self.pos = nn.Parameter(torch.zeros(1, cfg.embed_size * cfg.embed_size, cfg.dim))
        layer = nn.TransformerEncoderLayer(cfg.dim, cfg.heads, cfg.mlp_dim, dropout=0.0,
                                           activation="gelu", batch_first=True, norm_first=True)
        self.context = nn.TransformerEncoder(layer, cfg.encoder_layers, enable_nested_tensor=False)
        self.neck = nn.Sequential(nn.Conv2d(cfg.dim, cfg.dim, 1), _norm(cfg.dim))
        up1, up2 = cfg.dim // 2, cfg.dim // 4
        self.up1 = nn.ConvTranspose2d(cfg.dim, up1, 2, 2)
        self.skip4 = nn.Conv2d(c2, up1, 1)
        self.norm_up1 = _norm(up1)
        self.up2 = nn.ConvTranspose2d(up1, up2, 2, 2)
        self.skip2 = nn.Conv2d(c1, up2, 1)

    def forward(self, image: torch.Tensor) -> Features:
        """(B, 1, S, S) in [0, 1] -> embedding (B, dim, S/8, S/8), high-res features (B, dim/4, S/2, S/2)."""
        f2 = self.stem(image * 2 - 1)
        f4 = self.stage2(f2)
        f8 = self.stage3(f4)
        b, c, h, w = f8.shape
        tokens = self.context(f8.flatten(2).transpose(1, 2) + self.pos)
        emb = self.neck(tokens.transpose(1, 2).reshape(b, c, h, w))
        x = F.gelu(self.norm_up1(self.up1(emb) + self.skip4(f4)))
        hires = F.gelu(self.up2(x) + self.skip2(f2))
        return emb, hires


class PromptEncoder(nn.Module):
    def __init__(self, cfg: TinySamConfig, pe: PositionEmbeddingRandom) -> None:
        super().__init__()
        self.pe = pe
        self.image_size = cfg.image_size
        self.kind_embed = nn.Embedding(4, cfg.dim)  # negative, positive, box top-left, box bottom-right
        self.not_a_point = nn.Embedding(1, cfg.dim)
        self.no_mask = nn.Embedding(1, cfg.dim)

    def forward(self, points: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        """points (B, N, 2) in model pixels (x, y), labels (B, N) in {-1, 0, 1, 2, 3} -> (B, N, dim)."""
        coords = (points + 0.5) / self.image_size
        emb = self.pe.encode(coords)
        kinds = self.kind_embed(labels.clamp(min=0))
        emb = emb + kinds
        pad = (labels == PAD_LABEL)[..., None]
        return torch.where(pad, self.not_a_point.weight.expand_as(emb), emb)


class Attention(nn.Module):
    """Multi-head attention with an optional internal downsampling of width (SAM's cross attention)."""

    def __init__(self, dim: int, heads: int, downsample: int = 1) -> None:
        super().__init__()
        inner = dim // downsample
        self.heads = heads
        self.q, self.k, self.v = nn.Linear(dim, inner), nn.Linear(dim, inner), nn.Linear(dim, inner)
        self.out = nn.Linear(inner, dim)

    def forward(self, q: torch.Tensor, k: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
        b = q.shape[0]
        split = lambda t: t.view(b, t.shape[1], self.heads, -1).transpose(1, 2)  # noqa: E731
        q, k, v = split(self.q(q)), split(self.k(k)), split(self.v(v))
        out = F.scaled_dot_product_attention(q, k, v)
        return self.out(out.transpose(1, 2).reshape(b, -1, self.heads * out.shape[-1]))


class TwoWayBlock(nn.Module):
    def __init__(self, dim: int, heads: int, mlp_dim: int, skip_first_pe: bool) -> None:
        super().__init__()
        self.self_attn = Attention(dim, heads)
        self.norm1 = nn.LayerNorm(dim)
        self.cross_t2i = Attention(dim, heads, 2)
        self.norm2 = nn.LayerNorm(dim)
        self.mlp = nn.Sequential(nn.Linear(dim, mlp_dim), nn.ReLU(), nn.Linear(mlp_dim, dim))
        self.norm3 = nn.LayerNorm(dim)
        self.cross_i2t = Attention(dim, heads, 2)
        self.norm4 = nn.LayerNorm(dim)
        self.skip_first_pe = skip_first_pe

    def forward(self, tokens: torch.Tensor, image: torch.Tensor, token_pe: torch.Tensor,
                image_pe: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        if self.skip_first_pe:
            tokens = self.self_attn(tokens, tokens, tokens)
        else:
            q = tokens + token_pe
            tokens = tokens + self.self_attn(q, q, tokens)
        tokens = self.norm1(tokens)
        q, k = tokens + token_pe, image + image_pe
        tokens = self.norm2(tokens + self.cross_t2i(q, k, image))
        tokens = self.norm3(tokens + self.mlp(tokens))
        q, k = tokens + token_pe, image + image_pe
        image = self.norm4(image + self.cross_i2t(k, q, tokens))
        return tokens, image


class MaskDecoder(nn.Module):
    def __init__(self, cfg: TinySamConfig) -> None:
        super().__init__()
        dim = cfg.dim
        self.num_masks = cfg.num_multimask + 1
        self.iou_token = nn.Embedding(1, dim)
        self.mask_tokens = nn.Embedding(self.num_masks, dim)
        self.blocks = nn.ModuleList(
            TwoWayBlock(dim, cfg.heads, cfg.mlp_dim, skip_first_pe=(i == 0)) for i in range(cfg.decoder_layers))
        self.final_attn = Attention(dim, cfg.heads, 2)
        self.final_norm = nn.LayerNorm(dim)
        up2 = dim // 4
        self.coarse = nn.Conv2d(dim, up2, 1)  # prompt-updated embedding -> high-res channel space
        self.hyper = nn.ModuleList(
            nn.Sequential(nn.Linear(dim, dim), nn.ReLU(), nn.Linear(dim, up2)) for _ in range(self.num_masks))
        self.iou_head = nn.Sequential(nn.Linear(dim, dim), nn.ReLU(), nn.Linear(dim, self.num_masks))

    def forward(self, features: Features, image_pe: torch.Tensor,
                sparse: torch.Tensor, dense: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """-> masks (B, 4, S/2, S/2) logits, iou (B, 4)."""
        emb, hires = features
        b, c, h, w = emb.shape
        out_tokens = torch.cat([self.iou_token.weight, self.mask_tokens.weight], 0).expand(b, -1, -1)
        tokens = torch.cat([out_tokens, sparse], dim=1)
        src = (emb + dense).flatten(2).transpose(1, 2)
        pos = image_pe.flatten(1).transpose(0, 1)[None].expand(b, -1, -1)
        token_pe = tokens
        queries = tokens
        for block in self.blocks:
            queries, src = block(queries, src, token_pe, pos)
        queries = self.final_norm(queries + self.final_attn(queries + token_pe, src + pos, src))
        iou_out, mask_out = queries[:, 0], queries[:, 1: 1 + self.num_masks]
        coarse = self.coarse(src.transpose(1, 2).reshape(b, c, h, w))
        x = hires + F.interpolate(coarse, size=hires.shape[-2:], mode="bilinear", align_corners=False)
        hyper = torch.stack([mlp(mask_out[:, i]) for i, mlp in enumerate(self.hyper)], dim=1)
        masks = torch.einsum("bkc,bchw->bkhw", hyper, x)
        return masks, self.iou_head(iou_out)


class TinySam(nn.Module):
    def __init__(self, cfg: TinySamConfig) -> None:
        super().__init__()
        self.cfg = cfg
        self.pe = PositionEmbeddingRandom(cfg.dim // 2)
        self.image_encoder = ImageEncoder(cfg)
        self.prompt_encoder = PromptEncoder(cfg, self.pe)
        self.mask_decoder = MaskDecoder(cfg)

    def encode(self, image: torch.Tensor) -> Features:
        return self.image_encoder(image)

    def decode(self, features: Features, points: torch.Tensor,
               labels: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Prompts as points + labels (a box is its two corners labelled BOX_TL, BOX_BR).

        Returns all mask logits (B, 4, S/2, S/2) and predicted IoUs (B, 4): index 0 is the single
        answer for unambiguous prompts, 1..3 the multimask candidates for a lone point.
        """
        sparse = self.prompt_encoder(points, labels)
        dense = self.prompt_encoder.no_mask.weight.view(1, -1, 1, 1)
        image_pe = self.pe.grid(self.cfg.embed_size)
        batch = points.shape[0]
        if features[0].shape[0] == 1 and batch > 1:  # several prompts on one cached image
            features = tuple(f.expand(batch, *f.shape[1:]) for f in features)  # type: ignore[assignment]
        return self.mask_decoder(features, image_pe, sparse, dense)

    def forward(self, image: torch.Tensor, points: torch.Tensor, labels: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        return self.decode(self.encode(image), points, labels)


def box_to_tokens(box: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """(B, 4) boxes -> (B, 2, 2) corner points with labels (B, 2) = [BOX_TL, BOX_BR]."""
    corners = box.view(-1, 2, 2)
    labels = torch.tensor([BOX_TL, BOX_BR], device=box.device).expand(corners.shape[0], 2)
    return corners, labels


def select_masks(masks: torch.Tensor, iou: torch.Tensor, multimask: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Per sample: token 0 for unambiguous prompts, the best-scoring of tokens 1..3 for a lone point."""
    best_multi = iou[:, 1:].argmax(dim=1) + 1
    index = torch.where(multimask, best_multi, torch.zeros_like(best_multi))
    rows = torch.arange(masks.shape[0], device=masks.device)
    return masks[rows, index], iou[rows, index]
