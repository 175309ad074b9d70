"""Real SAM-family checkpoints (SAM ViT-B/L/H, MedSAM, SAM 2) loaded from a path through `transformers`.

Accepted paths: a folder saved by `SamModel.save_pretrained` or `Sam2Model.save_pretrained`
(config.json + weights; the architecture is read from config.json), or an original
segment-anything `.pth` state dict (ViT size read from the weights, keys renamed to the
`transformers` layout). Preprocessing is done here, without torchvision: grey -> RGB, longest side
to the encoder size, ImageNet normalisation, zero padding (SAM); MedSAM instead resizes to the full
square in [0, 1], as its authors did, and takes box prompts only; SAM 2 resizes to the full square
with ImageNet normalisation, as its image processor does.

MobileSAM is refused with the reason: its TinyViT image encoder is in neither `transformers` nor a
package that imports without torchvision and timm, which cannot be installed with this CPU torch.
"""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from agent.errors import InvalidInputError, ModelUnavailableError
from tools.perception.backends.base import BackendOutput
from tools.perception.cache import EmbeddingCache
from tools.perception.preprocess import Letterbox, pixel_hash
from tools.perception.prompting import Prompt

IMAGENET_MEAN = torch.tensor([0.485, 0.456, 0.406]).view(1, 3, 1, 1)
IMAGENET_STD = torch.tensor([0.229, 0.224, 0.225]).view(1, 3, 1, 1)

# Image-encoder sizes of the original SAM releases: hidden size -> (layers, heads, global-attention blocks).
VIT_VARIANTS = {
    768: ("vit_b", 12, 12, [2, 5, 8, 11]),
    1024: ("vit_l", 24, 16, [5, 11, 17, 23]),
    1280: ("vit_h", 32, 16, [7, 15, 23, 31]),
}

# Original segment-anything parameter names -> transformers SamModel names (applied in order).
_RENAMES = (
    ("iou_prediction_head.layers.0", "iou_prediction_head.proj_in"),
    ("iou_prediction_head.layers.1", "iou_prediction_head.layers.0"),
    ("iou_prediction_head.layers.2", "iou_prediction_head.proj_out"),
    ("mask_decoder.output_upscaling.0", "mask_decoder.upscale_conv1"),
    ("mask_decoder.output_upscaling.1", "mask_decoder.upscale_layer_norm"),
    ("mask_decoder.output_upscaling.3", "mask_decoder.upscale_conv2"),
    ("mask_downscaling.0", "mask_embed.conv1"),
    ("mask_downscaling.1", "mask_embed.layer_norm1"),
    ("mask_downscaling.3", "mask_embed.conv2"),
    ("mask_downscaling.4", "mask_embed.layer_norm2"),
    ("mask_downscaling.6", "mask_embed.conv3"),
    ("point_embeddings", "point_embed"),
    ("pe_layer.positional_encoding_gaussian_matrix", "shared_embedding.positional_embedding"),
    ("image_encoder", "vision_encoder"),
    ("neck.0", "neck.conv1"),
    ("neck.1", "neck.layer_norm1"),
    ("neck.2", "neck.conv2"),
    ("neck.3", "neck.layer_norm2"),
    ("patch_embed.proj", "patch_embed.projection"),
    (".norm", ".layer_norm"),
    ("blocks", "layers"),
)
_HYPERNET = re.compile(r".*output_hypernetworks_mlps\.\d+\.layers\.(\d+)\..*")

_CACHE = EmbeddingCache(max_items=4)


def convert_original_state_dict(state: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """Rename an original segment-anything state dict to the `transformers` SamModel layout."""
    out: dict[str, torch.Tensor] = {}
    for key, value in state.items():
        if key in ("pixel_mean", "pixel_std"):
            continue
        for old, new in _RENAMES:
            if old in key:
                key = key.replace(old, new)
        match = _HYPERNET.match(key)
        if match:
            layer = int(match.group(1))
            key = key.replace(f"layers.{layer}", {0: "proj_in", 1: "layers.0", 2: "proj_out"}[layer])
        out[key] = value
    shared = "prompt_encoder.shared_embedding.positional_embedding"
    if shared in out:
        out["shared_image_embedding.positional_embedding"] = out[shared]
    return out


SAM2_HOWTO = ("An original SAM 2 .pt is not read directly: use the transformers release of the same "
               "weights (a folder written by Sam2Model.save_pretrained, as the facebook/sam2.1-hiera-* models are "
               "published), with --backend sam.")
MOBILESAM_WHY = ("MobileSAM is not supported here: its TinyViT image encoder is in neither transformers nor a "
                 "package that runs without torchvision and timm, which cannot be installed with this CPU-only torch.")
# Hiera blocks per stage of the SAM 2 releases -> their size names.
HIERA_VARIANTS = {(1, 2, 7, 2): "tiny", (1, 2, 11, 2): "small", (2, 3, 16, 3): "base-plus", (2, 6, 36, 4): "large"}


def describe_foreign_state_dict(keys: list[str]) -> str:
    """Name the architecture a non-SAM state dict most likely belongs to, for the error message."""
    joined = " ".join(keys[:400])
    if "image_encoder.trunk" in joined or "memory_attention" in joined:
        return "an original SAM 2 (Hiera) checkpoint. " + SAM2_HOWTO + " It"
    if "image_encoder.layers" in joined and "image_encoder.blocks" not in joined:
        return "a MobileSAM (TinyViT encoder) checkpoint. " + MOBILESAM_WHY + " It"
    if any(k.startswith(("encoder.", "decoder.")) for k in keys[:50]):
        return "an encoder-decoder checkpoint that is not SAM"
    return "not a SAM checkpoint"


def _variant_config(hidden: int, num_layers: int) -> Any:
    from transformers import SamConfig, SamVisionConfig

    if hidden not in VIT_VARIANTS or VIT_VARIANTS[hidden][1] != num_layers:
        raise ModelUnavailableError(
            f"The SAM image encoder in the checkpoint has width {hidden} and {num_layers} blocks, "
            "which matches none of SAM ViT-B (768, 12), ViT-L (1024, 24) or ViT-H (1280, 32).",
            "Give an original SAM/MedSAM .pth, or a folder written by transformers' SamModel.save_pretrained.",
        )
    _, layers, heads, global_idx = VIT_VARIANTS[hidden]
    vision = SamVisionConfig(hidden_size=hidden, num_hidden_layers=layers, num_attention_heads=heads,
                             global_attn_indexes=global_idx)
    return SamConfig(vision_config=vision.to_dict())


def _load_folder(path: Path, model_type: str) -> tuple[Any, str]:
    """A SamModel or Sam2Model from a save_pretrained folder, and its short name."""
    from transformers import Sam2Model, SamModel

    cls = Sam2Model if model_type == "sam2" else SamModel
    try:
        model = cls.from_pretrained(str(path), local_files_only=True)
    except Exception as exc:  # corrupt or partial weights
        raise ModelUnavailableError(f"Could not load the {cls.__name__} in {path}: {exc}",
                                    f"Re-save it with {cls.__name__}.save_pretrained.") from exc
    if model_type == "sam2":
        blocks = tuple(model.config.vision_config.backbone_config.blocks_per_stage)
        return model.eval(), f"sam2-hiera-{HIERA_VARIANTS.get(blocks, 'custom')}"
    hidden = model.config.vision_config.hidden_size
    name = VIT_VARIANTS.get(hidden, (f"vit_{hidden}",))[0]
    return model.eval(), f"sam-{name}"


def load_sam_model(path: Path) -> tuple[Any, str]:
    """A SamModel or Sam2Model in eval mode and a short name, from a save_pretrained folder or an original SAM .pth."""
    from transformers import SamModel
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()  # loading bars would pollute --json output
    path = Path(path).expanduser()
    if not path.exists():
        raise ModelUnavailableError(
            f"No SAM checkpoint at {path}.",
            "Set [perception] sam_checkpoint (or medsam_checkpoint) in radagent.toml, or pass --checkpoint PATH.",
        )
    if path.is_dir():
        config_file = path / "config.json"
        if not config_file.is_file():
            raise ModelUnavailableError(f"{path} has no config.json, so it is not a saved transformers model.",
                                        "Point to the folder written by SamModel.save_pretrained, or to a .pth file.")
        config = json.loads(config_file.read_text())
        model_type = config.get("model_type")
        archs = config.get("architectures") or []
        if model_type not in ("sam", "sam2"):
            raise ModelUnavailableError(
                f"The checkpoint at {path} is a '{model_type}' model ({', '.join(archs) or 'unknown class'}), "
                "not SAM (SamModel) or SAM 2 (Sam2Model).",
                "Use a SAM ViT-B/L/H, MedSAM or SAM 2 checkpoint; the embedded segmenter needs none (--backend default).",
            )
        return _load_folder(path, model_type)
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:
        raise ModelUnavailableError(f"Could not read {path} as a PyTorch checkpoint: {exc}",
                                    "Give an original SAM/MedSAM .pth or a save_pretrained folder.") from exc
    if isinstance(state, dict) and isinstance(state.get("model"), dict):
        state = state["model"]
    if not isinstance(state, dict) or "image_encoder.patch_embed.proj.weight" not in state:
        keys = list(state) if isinstance(state, dict) else []
        raise ModelUnavailableError(
            f"The checkpoint at {path} is {describe_foreign_state_dict(keys)}; SAM ViT-B/L/H, MedSAM "
            "(original .pth or transformers folder) and SAM 2 (transformers folder) are supported.",
            "Give an original SAM/MedSAM .pth, or a transformers SamModel or Sam2Model folder.",
        )
    hidden = int(state["image_encoder.patch_embed.proj.weight"].shape[0])
    num_layers = len({k.split(".")[2] for k in state if k.startswith("image_encoder.blocks.")})
    config = _variant_config(hidden, num_layers)
    model = SamModel(config)
    missing, unexpected = model.load_state_dict(convert_original_state_dict(state), strict=False)
    if missing or unexpected:
        raise ModelUnavailableError(
            f"The SAM checkpoint at {path} does not match SAM {VIT_VARIANTS[hidden][0]}: "
            f"{len(missing)} missing and {len(unexpected)} unexpected weights (e.g. {(missing or unexpected)[:3]}).",
            "Check that the file is an unmodified SAM or MedSAM release.",
        )
    return model.eval(), f"sam-{VIT_VARIANTS[hidden][0]}"


def _file_digest(path: Path) -> str:
    """sha256 of a checkpoint file, or of a folder's weight files, for provenance."""
    files = [path] if path.is_file() else sorted(p for p in path.iterdir() if p.suffix in (".safetensors", ".bin", ".pth", ".pt", ".json"))
    digest = hashlib.sha256()
    for file in files:
        with file.open("rb") as handle:
            for chunk in iter(lambda: handle.read(1 << 20), b""):
                digest.update(chunk)
    return digest.hexdigest()


class SamBackend:
    """SAM, MedSAM or SAM 2 behind the common interface; image embeddings are cached per image."""

    def __init__(self, checkpoint: Path, *, medsam: bool = False, device: str | None = None) -> None:
        from tools.device import pick_device

        self.checkpoint = Path(checkpoint)
        self.medsam = medsam
        self.device = device or pick_device()
        self.model, self.model_name = load_sam_model(self.checkpoint)
        self.sam2 = self.model.config.model_type == "sam2"
        if medsam and self.sam2:
            raise ModelUnavailableError(
                f"The checkpoint at {self.checkpoint} is SAM 2 ({self.model_name}), but MedSAM is SAM ViT-B.",
                "Use it with --backend sam, or give the MedSAM (ViT-B) checkpoint for --backend medsam.",
            )
        if medsam:
            self.model_name = "medsam-" + self.model_name.removeprefix("sam-")
        self.model.to(self.device)
        self.name = "medsam" if medsam else "sam"
        self.sha256 = _file_digest(self.checkpoint)
        self.input_size = int(self.model.config.prompt_encoder_config.image_size)
        self.encoder_calls = 0

    # -- preprocessing -------------------------------------------------------------------------
    @property
    def square(self) -> bool:
        """MedSAM and SAM 2 stretch the image to the encoder's square; SAM letterboxes it."""
        return self.medsam or self.sam2

    def _pixel_values(self, image: np.ndarray) -> torch.Tensor:
        if self.square:  # square resize; MedSAM keeps [0, 1], SAM 2 uses ImageNet statistics
            tensor = torch.from_numpy(np.ascontiguousarray(image, np.float32))[None, None]
            tensor = F.interpolate(tensor, size=(self.input_size, self.input_size), mode="bilinear",
                                   align_corners=False).clamp(0, 1).repeat(1, 3, 1, 1)
            return tensor if self.medsam else (tensor - IMAGENET_MEAN) / IMAGENET_STD
        box = Letterbox(*image.shape, size=self.input_size)
        h, w = box.resized
        tensor = torch.from_numpy(np.ascontiguousarray(image, np.float32))[None, None]
        tensor = F.interpolate(tensor, size=(h, w), mode="bilinear", align_corners=False).clamp(0, 1)
        tensor = (tensor.repeat(1, 3, 1, 1) - IMAGENET_MEAN) / IMAGENET_STD
        return F.pad(tensor, (0, self.input_size - w, 0, self.input_size - h))

    def _embeddings(self, image: np.ndarray) -> torch.Tensor:
        def compute() -> torch.Tensor:
            self.encoder_calls += 1
            with torch.no_grad():
                return self.model.get_image_embeddings(self._pixel_values(image).to(self.device))

        return _CACHE.get_or_compute(f"{self.name}:{self.sha256}", pixel_hash(image), compute)

    # -- inference -----------------------------------------------------------------------------
    def segment(self, image: np.ndarray, prompt: Prompt) -> BackendOutput:
        height, width = image.shape
        warnings: list[str] = []
        if self.medsam and len(prompt.points):
            raise InvalidInputError(
                "MedSAM was trained with box prompts only, so point prompts are not supported with it.",
                "Give a box (--box x0,y0,x1,y1), or use --backend sam/default for point prompts.",
            )
        if self.square:
            scaled = prompt.scaled(self.input_size / width, self.input_size / height)
        else:
            factor = Letterbox(height, width, self.input_size).scale
            scaled = prompt.scaled(factor, factor)
        kwargs: dict[str, torch.Tensor] = {}
        if len(scaled.points):
            kwargs["input_points"] = torch.from_numpy(scaled.points).float().view(1, 1, -1, 2).to(self.device)
            kwargs["input_labels"] = torch.from_numpy(scaled.labels).long().view(1, 1, -1).to(self.device)
        if scaled.box is not None:
            kwargs["input_boxes"] = torch.from_numpy(scaled.box).float().view(1, 1, 4).to(self.device)
        multimask = prompt.kind == "point"  # one click is ambiguous: pick the best of three, as SAM does
        with torch.no_grad():
            out = self.model(image_embeddings=self._embeddings(image), multimask_output=multimask, **kwargs)
        scores = out.iou_scores[0, 0].float().cpu()
        best = int(scores.argmax())
        logits = out.pred_masks[0, 0, best].float().cpu()
        if self.square:
            full = F.interpolate(logits[None, None], size=(height, width), mode="bilinear", align_corners=False)[0, 0].numpy()
        else:
            full = Letterbox(height, width, self.input_size).logits_to_image(logits)
        return BackendOutput(mask=full > 0, score=float(scores[best].clamp(0, 1)), warnings=warnings,
                             model=self.model_name, checkpoint_sha256=self.sha256)
