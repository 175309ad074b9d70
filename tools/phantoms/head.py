"""Procedural axial head slices rendered as a PAIRED CT (Hounsfield units) and MR of the same anatomy.

Orientation follows the radiological convention for axial images: viewed from the feet, so the
patient's LEFT hemisphere is on the IMAGE RIGHT, anterior (the face) at the top. `lesion_side`
and the masks use the PATIENT's side.

CT values (HU): air -1000, scalp ~20-40, skull tables ~1200-1500 with diploe ~600-800, grey matter
~38-42, white matter ~26-30, CSF/ventricles ~5-10, acute haemorrhage ~60-75, hypodense infarct ~12-18.
MR is T1-like (white matter brighter than grey, CSF dark) or T2-like (CSF bright); cortical bone is
dark in both. The pair is pixel-aligned, which is what supervised MR->CT translation needs.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
from scipy import ndimage

from tools.phantoms._grid import grid, smooth_field

FIELD_OF_VIEW_MM = 220.0
MASK_NAMES = ("skull", "brain", "ventricles", "lesion")
LESION_DIAMETER_MM = (8.0, 40.0)
LESION_TYPES = ("haemorrhage", "hypodense")

# tissue -> (CT HU, T1 intensity, T2 intensity)
_TISSUE = {
    "air": (-1000.0, 0.0, 0.0),
    "scalp": (25.0, 0.85, 0.6),
    "table": (1350.0, 0.04, 0.03),
    "diploe": (700.0, 0.6, 0.4),
    "csf": (7.0, 0.1, 0.95),
    "grey": (40.0, 0.45, 0.6),
    "white": (28.0, 0.68, 0.42),
    "falx": (55.0, 0.15, 0.2),
    "haemorrhage": (68.0, 0.55, 0.22),
    "hypodense": (15.0, 0.3, 0.82),
}


@dataclass
class HeadPhantom:
    """One axial head slice: pixel-aligned CT (HU) and MR ([0, 1]) with masks and labels.

    masks: "skull" (bone), "brain" (parenchyma inside the subarachnoid CSF, including the
    ventricles and any lesion), "ventricles", "lesion" (empty when absent).
    labels: lesion_present, lesion_side (patient side), lesion_size_mm (diameter), lesion_center
    ((x, y) pixels or None), severity (0-3), lesion_type, mr_weighting ("t1"/"t2").
    """

    ct_hu: np.ndarray
    mr: np.ndarray
    masks: dict[str, np.ndarray]
    labels: dict[str, Any]
    spacing_mm: tuple[float, float]
    seed: int = 0
    index: int = 0
    extras: dict[str, Any] = field(default_factory=dict)

    @property
    def image(self) -> np.ndarray:
        """The CT in a brain window (centre 40, width 80) as [0, 1], for models that want one image."""
        return np.clip((self.ct_hu - 0.0) / 80.0, 0.0, 1.0).astype(np.float32)


@dataclass
class _Head:
    cx: float
    cy: float
    ax: float
    ay: float
    tilt: float
    scalp: float  # thicknesses in normalised units
    table: float
    diploe: float
    csf_rim: float
    cortex: float
    ventricles: list[tuple[float, float, float, float, float]]  # cx, cy, a, b, angle (head coords)


def _draw_head(rng: np.random.Generator) -> _Head:
    g = rng.uniform(0.9, 1.06)
    atrophy = rng.uniform(0.8, 1.5)
    vents = []
    for sign in (-1.0, 1.0):  # frontal horns and bodies/atria of each lateral ventricle
        vents.append((sign * 0.045 * g, -0.07 * g, 0.022 * g * atrophy, 0.075 * g, sign * np.deg2rad(-18)))
        vents.append((sign * 0.06 * g, 0.07 * g, 0.02 * g * atrophy, 0.06 * g, sign * np.deg2rad(22)))
    vents.append((0.0, 0.0, 0.006 * atrophy, 0.03, 0.0))  # third ventricle slit
    return _Head(
        cx=0.5 + rng.normal(0, 0.01), cy=0.5 + rng.normal(0, 0.01),
        ax=0.36 * g * rng.uniform(0.95, 1.04), ay=0.44 * g * rng.uniform(0.97, 1.03),
        tilt=np.deg2rad(rng.normal(0, 4)), scalp=rng.uniform(0.018, 0.028), table=rng.uniform(0.006, 0.009),
        diploe=rng.uniform(0.006, 0.012), csf_rim=rng.uniform(0.005, 0.012) * atrophy, cortex=rng.uniform(0.03, 0.04),
        ventricles=vents,
    )


def _local(u: np.ndarray, v: np.ndarray, h: _Head) -> tuple[np.ndarray, np.ndarray]:
    """Image coords -> head coords (centred, untilted; x to the image right, y down)."""
    du, dv = u - h.cx, v - h.cy
    c, s = np.cos(h.tilt), np.sin(h.tilt)
    return c * du + s * dv, -s * du + c * dv


def _depth(x: np.ndarray, y: np.ndarray, h: _Head) -> np.ndarray:
    """Approximate distance inside the head outline (normalised units; negative outside)."""
    rho = np.sqrt(np.square(x / h.ax) + np.square(y / h.ay))
    return (1.0 - rho) * np.sqrt(h.ax * h.ay)


def _ellipses(x: np.ndarray, y: np.ndarray, shapes: list[tuple[float, ...]]) -> np.ndarray:
    out = np.zeros(np.shape(x), dtype=bool)
    for cx, cy, a, b, ang in shapes:
        dx, dy = x - cx, y - cy
        c, s = np.cos(ang), np.sin(ang)
        out |= np.square((c * dx + s * dy) / a) + np.square((-s * dx + c * dy) / b) <= 1.0
    return out


def _layers(h: _Head) -> tuple[float, float, float, float]:
    """Depths where the outer table, diploe, inner table and brain start."""
    t1 = h.scalp
    t2 = t1 + h.table
    t3 = t2 + h.diploe
    t4 = t3 + h.table
    return t1, t2, t3, t4


def _brain_inside(x: np.ndarray, y: np.ndarray, h: _Head) -> np.ndarray:
    depth = _depth(x, y, h)
    _, _, _, inner = _layers(h)
    return depth >= inner + h.csf_rim


def _pick_lesion(rng: np.random.Generator, h: _Head, side: str, radius: float) -> tuple[float, float] | None:
    sign = 1.0 if side == "left" else -1.0  # patient left = image right
    ring = np.linspace(0, 2 * np.pi, 24, endpoint=False)
    for _ in range(200):
        cx = sign * rng.uniform(0.02, 0.85) * h.ax * 0.85
        cy = rng.uniform(-0.8, 0.8) * h.ay * 0.8
        px = np.concatenate([[cx], cx + 1.15 * radius * np.cos(ring)])
        py = np.concatenate([[cy], cy + 1.15 * radius * np.sin(ring)])
        ok = _brain_inside(px, py, h) & ~_ellipses(px, py, h.ventricles) & (sign * px > 0.012)
        if ok.all():
            return cx, cy
    return None


def _severity(diameter_mm: float) -> int:
    """0 none; <15 mm 1; 15-30 mm 2; >30 mm 3."""
    if diameter_mm <= 0:
        return 0
    return 1 if diameter_mm < 15 else 2 if diameter_mm <= 30 else 3


def _render(h: _Head, rng: np.random.Generator, size: int, lesion: tuple[float, float, float, str] | None,
            weighting: str) -> tuple[np.ndarray, np.ndarray, dict[str, np.ndarray]]:
    u, v = grid(size)
    x, y = _local(u, v, h)
    depth = _depth(x, y, h)
    t1, t2, t3, t4 = _layers(h)
    # gyral folding: the grey/white boundary and the sulci follow a fine random field
    folds = smooth_field(rng, size, cells=16)
    sulcal = smooth_field(rng, size, cells=26)
    wobble = 0.004 * smooth_field(rng, size, cells=10)
    depth = depth + wobble
    scalp = depth >= 0
    outer_table = depth >= t1
    diploe = depth >= t2
    inner_table = depth >= t3
    intracranial = depth >= t4
    brain = _brain_inside(x, y, h) & (depth - wobble >= t4 + h.csf_rim)
    # sulci: thin CSF clefts along the zero level of a random field, reaching in from the surface
    cortex_band = intracranial & (depth < t4 + h.csf_rim + h.cortex * (1.1 + 0.4 * folds))
    sulci = cortex_band & (np.abs(sulcal) < 0.12 * (1 + 0.3 * folds))
    white = depth >= t4 + h.csf_rim + h.cortex * (1.0 + 0.55 * np.clip(folds, -1.5, 1.5))
    fissure = (np.abs(x) < 0.004 + 0.003 * (np.abs(y) > 0.12)) & intracranial & (np.abs(y) > 0.1)
    vent = _ellipses(x, y, h.ventricles) & brain

    # paint from outside in; later layers win
    labels_map = np.zeros(u.shape, dtype=np.int8)
    order = ["air", "scalp", "table", "diploe", "table", "csf", "grey", "white", "csf", "falx", "csf"]
    for code, region in enumerate([None, scalp, outer_table, diploe, inner_table, intracranial, brain,
                                   brain & white, sulci, fissure, vent]):
        if region is not None:
            labels_map[region] = code
    ct = np.empty(u.shape, dtype=np.float32)
    t1w = np.empty(u.shape, dtype=np.float32)
    t2w = np.empty(u.shape, dtype=np.float32)
    for code, name in enumerate(order):
        sel = labels_map == code
        ct[sel], t1w[sel], t2w[sel] = _TISSUE[name]
    masks = {
        "skull": outer_table & ~intracranial,
        "brain": brain & ~(fissure & ~vent),
        "ventricles": vent,
        "lesion": np.zeros(u.shape, dtype=bool),
    }
    if lesion is not None:
        lx, ly, radius, kind = lesion
        dx, dy = x - lx, y - ly
        ang = np.arctan2(dy, dx)
        rr = np.sqrt(dx * dx + dy * dy) / (radius * (1 + 0.08 * np.cos(3 * ang + 0.7)))
        core = (rr <= 1.0) & masks["brain"] & ~vent
        masks["lesion"] = core
        hu, a1, a2 = _TISSUE[kind]
        ct[core], t1w[core], t2w[core] = hu, a1, a2
        if kind == "haemorrhage":  # perilesional oedema: a hypodense rim
            rim = (rr > 1.0) & (rr <= 1.35) & masks["brain"] & ~vent
            ct[rim] -= 10.0
            t2w[rim] += 0.2
            t1w[rim] -= 0.08
    mr = t1w if weighting == "t1" else t2w
    sigma = 0.6 * size / 128.0
    ct = ndimage.gaussian_filter(ct, sigma)
    mr = ndimage.gaussian_filter(mr, sigma)
    ct += rng.normal(0, rng.uniform(1.5, 3.5), ct.shape).astype(np.float32) * (depth >= 0)
    # MR: smooth receive-coil bias and Rician noise, then scaled to [0, 1]
    bias = 1.0 + 0.12 * smooth_field(rng, size, cells=3)
    noise = rng.uniform(0.01, 0.025)
    re = mr * bias + rng.normal(0, noise, mr.shape)
    im = rng.normal(0, noise, mr.shape)
    mr = np.sqrt(re * re + im * im).astype(np.float32)
    mr = np.clip(mr / max(float(np.percentile(mr, 99.8)), 1e-6), 0, 1)
    return ct.astype(np.float32), mr.astype(np.float32), masks


def _one(seed: int, index: int, size: int, lesion_prob: float, mr_weighting: str) -> HeadPhantom:
    rng = np.random.default_rng([seed, index, 0x4EAD])
    h = _draw_head(rng)
    weighting = str(rng.choice(["t1", "t2"])) if mr_weighting == "random" else mr_weighting
    labels: dict[str, Any] = {
        "lesion_present": False, "lesion_side": None, "lesion_size_mm": 0.0, "lesion_center": None,
        "severity": 0, "lesion_type": None, "mr_weighting": weighting,
    }
    lesion = None
    if rng.random() < lesion_prob:
        side = str(rng.choice(["left", "right"]))
        kind = str(rng.choice(LESION_TYPES))
        diameter = float(rng.uniform(*LESION_DIAMETER_MM))
        radius = diameter / 2 / FIELD_OF_VIEW_MM
        centre = _pick_lesion(rng, h, side, radius)
        if centre is not None:
            lesion = (centre[0], centre[1], radius, kind)
            c, s = np.cos(h.tilt), np.sin(h.tilt)
            px, py = c * centre[0] - s * centre[1] + h.cx, s * centre[0] + c * centre[1] + h.cy
            labels.update(lesion_present=True, lesion_side=side, lesion_size_mm=round(diameter, 2),
                          lesion_center=(float(px * size), float(py * size)), lesion_type=kind,
                          severity=_severity(diameter))
    ct, mr, masks = _render(h, rng, size, lesion, weighting)
    spacing = FIELD_OF_VIEW_MM / size
    return HeadPhantom(ct_hu=ct, mr=mr, masks=masks, labels=labels, spacing_mm=(spacing, spacing),
                       seed=seed, index=index)


def generate_head(n: int, size: int = 128, seed: int = 0, *, lesion_prob: float = 0.5,
                  mr_weighting: Literal["t1", "t2", "random"] = "t1") -> list[HeadPhantom]:
    """`n` paired CT/MR head slices; sample i depends only on (seed, i)."""
    if n < 0 or size < 16:
        raise ValueError("n must be >= 0 and size >= 16")
    if mr_weighting not in ("t1", "t2", "random"):
        raise ValueError("mr_weighting must be 't1', 't2' or 'random'")
    return [_one(seed, i, size, lesion_prob, mr_weighting) for i in range(n)]
