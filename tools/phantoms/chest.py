"""Procedural PA chest radiographs with exact ground truth: the chest training and evaluation data.

Orientation follows the radiological convention for a posterior-anterior (PA) view: the image is
seen as if facing the patient, so the patient's RIGHT lung is on the IMAGE LEFT and the patient's
LEFT lung (with the heart bulging into it) is on the IMAGE RIGHT. Every label and mask name uses
the PATIENT's side: `masks["left_lung"]` is on the image right, `labels["lesion_side"] == "left"`
means a nodule on the image right.

Anatomy is drawn from analytic shapes in continuous coordinates (see `_grid`), so a seed gives
the same patient at every size, and the masks are exactly the shapes that were drawn.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
from scipy import ndimage

from tools.phantoms._grid import band, grid, smooth_field, soft

FIELD_OF_VIEW_MM = 350.0
MASK_NAMES = ("left_lung", "right_lung", "heart", "mediastinum", "ribs", "nodule", "effusion")
NODULE_DIAMETER_MM = (8.0, 32.0)


@dataclass
class ChestPhantom:
    """One synthetic PA chest radiograph with its masks and labels.

    image: float32 (H, W) in [0, 1], bright = dense (bone, heart), dark = air (lungs).
    masks: boolean (H, W) for every name in MASK_NAMES (empty when the finding is absent).
    labels: lesion_present, lesion_side ("left"/"right"/None, patient side), lesion_size_mm
        (nodule diameter), lesion_center ((x, y) in pixels, or None), severity (0-3),
        effusion, effusion_side, view ("PA").
    spacing_mm: (row, column) pixel spacing.
    """

    image: np.ndarray
    masks: dict[str, np.ndarray]
    labels: dict[str, Any]
    spacing_mm: tuple[float, float]
    seed: int = 0
    index: int = 0
    extras: dict[str, Any] = field(default_factory=dict)


@dataclass
class _Lung:
    """One lung's outline parameters, in normalised units; `sign` is +1 on the image right."""

    sign: float
    medial: float  # distance of the medial border from the midline
    width: float
    apex: float
    height: float
    dome: float  # how far the hemidiaphragm dome rises into the lung, in lung heights

    def coords(self, u: np.ndarray, v: np.ndarray, mid: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        d = self.sign * (u - mid)
        t = (v - self.apex) / self.height
        dn = (d - self.medial) / self.width
        return d, t, dn

    def bottom(self, dn: np.ndarray) -> np.ndarray:
        """Lower border (in lung heights): a dome, deepest at the lateral costophrenic angle."""
        return 1.0 + 0.06 * dn - self.dome * np.exp(-np.square((dn - 0.45) / 0.38))

    def inside(self, u: np.ndarray, v: np.ndarray, mid: float) -> np.ndarray:
        d, t, dn = self.coords(u, v, mid)
        tc = np.clip(t, 0.0, 1.0)
        med = self.medial + self.width * 0.38 * np.square(1.0 - tc)
        lat = self.medial + self.width * (0.38 + 0.62 * np.sqrt(tc))
        return (t >= 0) & (d >= med) & (d <= lat) & (t <= self.bottom(dn))

    def diaphragm_v(self, u: np.ndarray, mid: float) -> np.ndarray:
        d = self.sign * (u - mid)
        dn = np.clip((d - self.medial) / self.width, 0.0, 1.15)
        return self.apex + self.height * self.bottom(dn)


@dataclass
class _Anatomy:
    """All random choices for one patient, drawn before any pixel is computed."""

    mid: float
    tilt: float
    lungs: dict[str, _Lung]  # keyed by patient side
    heart: tuple[float, float, float, float, float]  # cx, cy, a, b, angle
    body_half_width: float
    rib_gap: float
    rib_half: float
    rib_phase: float
    knob: float
    contrast: dict[str, float]


def _draw_anatomy(rng: np.random.Generator) -> _Anatomy:
    g = rng.uniform(0.9, 1.07)  # patient size
    mid = 0.5 + rng.normal(0, 0.012)
    apex = 0.12 + rng.normal(0, 0.012)
    height = 0.6 * g * rng.uniform(0.94, 1.04)
    width = 0.33 * g * rng.uniform(0.95, 1.04)
    right = _Lung(-1.0, 0.05 * g, width * rng.uniform(0.98, 1.03), apex, height * 0.975,
                  rng.uniform(0.07, 0.13))
    left = _Lung(+1.0, 0.056 * g, width * rng.uniform(0.93, 0.98), apex + 0.006, height,
                 rng.uniform(0.05, 0.1))
    ctr = rng.uniform(0.85, 1.2)  # cardiothoracic ratio variation
    ha, hb = 0.15 * g * ctr, 0.115 * g * rng.uniform(0.92, 1.08)
    base_left = left.apex + left.height * float(left.bottom(np.array(0.15)))
    heart = (mid + 0.05 * g * ctr, base_left - 0.5 * hb, ha, hb, np.deg2rad(rng.uniform(15, 32)))
    contrast = {
        "soft": rng.uniform(0.28, 0.36), "lung": rng.uniform(0.18, 0.25), "med": rng.uniform(0.24, 0.32),
        "heart": rng.uniform(0.26, 0.34), "abdomen": rng.uniform(0.24, 0.32), "rib": rng.uniform(0.05, 0.085),
        "clavicle": rng.uniform(0.07, 0.11), "spine": rng.uniform(0.06, 0.10), "vessels": rng.uniform(0.07, 0.11),
        "gamma": rng.uniform(0.85, 1.2), "noise": rng.uniform(0.008, 0.02), "blur": rng.uniform(0.5, 0.9),
    }
    return _Anatomy(
        mid=mid, tilt=np.deg2rad(rng.normal(0, 1.5)), lungs={"right": right, "left": left}, heart=heart,
        body_half_width=left.medial + left.width + rng.uniform(0.035, 0.07),
        rib_gap=height * rng.uniform(0.1, 0.112), rib_half=0.0135 * g * rng.uniform(0.9, 1.1),
        rib_phase=rng.uniform(-0.015, 0.01), knob=rng.uniform(0.015, 0.035), contrast=contrast,
    )


def _rotate(u: np.ndarray, v: np.ndarray, angle: float) -> tuple[np.ndarray, np.ndarray]:
    """Image coordinates -> anatomy coordinates (a small patient tilt about the image centre)."""
    c, s = np.float32(np.cos(angle)), np.float32(np.sin(angle))
    du, dv = u - 0.5, v - 0.5
    return c * du - s * dv + 0.5, s * du + c * dv + 0.5


def _heart_inside(u: np.ndarray, v: np.ndarray, heart: tuple[float, ...]) -> np.ndarray:
    cx, cy, a, b, ang = heart
    du, dv = u - cx, v - cy
    c, s = np.cos(ang), np.sin(ang)
    x, y = c * du + s * dv, -s * du + c * dv
    return np.square(x / a) + np.square(y / b) <= 1.0


def _diaphragm(u: np.ndarray, an: _Anatomy) -> np.ndarray:
    return np.where(u < an.mid, an.lungs["right"].diaphragm_v(u, an.mid), an.lungs["left"].diaphragm_v(u, an.mid))


def _mediastinum_inside(u: np.ndarray, v: np.ndarray, an: _Anatomy) -> np.ndarray:
    half = 0.06 + 0.015 * np.clip((v - 0.2) / 0.3, 0, 1)
    knob = an.knob * np.exp(-np.square((v - (an.lungs["left"].apex + 0.12)) / 0.035))
    right_edge = an.mid + half + knob  # the aortic knob bulges to the patient's left (image right)
    return (u > an.mid - half) & (u < right_edge) & (v > 0.04) & (v < _diaphragm(u, an))


def _structures(u: np.ndarray, v: np.ndarray, an: _Anatomy) -> dict[str, np.ndarray]:
    """Boolean anatomy (lungs without the heart/mediastinum they hide), evaluated anywhere."""
    heart = _heart_inside(u, v, an.heart) & (v <= _diaphragm(u, an) + 0.01)
    med = _mediastinum_inside(u, v, an) & ~heart
    hidden = heart | med
    return {
        "right_lung": an.lungs["right"].inside(u, v, an.mid) & ~hidden,
        "left_lung": an.lungs["left"].inside(u, v, an.mid) & ~hidden,
        "heart": heart,
        "mediastinum": med,
    }


def _effusion_line(u: np.ndarray, lung: _Lung, mid: float, level: float) -> np.ndarray:
    """Meniscus: the fluid climbs the lateral chest wall."""
    _, _, dn = lung.coords(u, np.zeros_like(u), mid)
    return lung.apex + lung.height * (level - 0.14 * np.clip(dn, 0, 1.2) ** 2)


def _pick_nodule(rng: np.random.Generator, an: _Anatomy, side: str, radius: float,
                 effusion: tuple[str, float] | None) -> tuple[float, float] | None:
    """A centre (anatomy coords) whose whole disk lies inside the visible lung of `side`."""
    lung = an.lungs[side]
    ring = np.linspace(0, 2 * np.pi, 24, endpoint=False)
    for _ in range(200):
        dn, t = rng.uniform(0.1, 0.95), rng.uniform(0.12, 0.85)
        cu = an.mid + lung.sign * (lung.medial + dn * lung.width)
        cv = lung.apex + t * lung.height
        pu = np.concatenate([[cu], cu + 1.2 * radius * np.cos(ring)]).astype(np.float32)
        pv = np.concatenate([[cv], cv + 1.2 * radius * np.sin(ring)]).astype(np.float32)
        ok = _structures(pu, pv, an)[f"{side}_lung"]
        if effusion is not None and effusion[0] == side:
            ok &= pv < _effusion_line(pu, lung, an.mid, effusion[1])
        if ok.all():
            return cu, cv
    return None


def _severity(diameter_mm: float, effusion: bool) -> int:
    """0 none; nodule <15 mm 1, 15-25 mm 2, >25 mm 3; an effusion adds one grade (max 3)."""
    grade = 0 if diameter_mm <= 0 else (1 if diameter_mm < 15 else 2 if diameter_mm <= 25 else 3)
    return min(3, grade + 1) if effusion else grade


def _row_window(v_lo: np.ndarray, v_hi: np.ndarray, low: float, high: float) -> slice:
    """The image rows whose v-range overlaps [low, high] (v grows down the rows)."""
    start = int(np.searchsorted(v_hi, low, side="left"))
    stop = int(np.searchsorted(v_lo, high, side="right"))
    return slice(start, max(start, stop))


def _ribs(u: np.ndarray, v: np.ndarray, an: _Anatomy) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Posterior and anterior ribs plus clavicles: (rib intensity, rib mask, clavicle intensity)."""
    full_u = u
    intensity_full = np.zeros_like(full_u)
    mask_full = np.zeros(full_u.shape, dtype=bool)
    clav_full = np.zeros_like(full_u)
    size = u.shape[1]
    v_full = v
    for lung in an.lungs.values():
        # each side's ribs only on its own half of the image (with a margin for the tilt)
        cols = slice(0, size // 2 + size // 16) if lung.sign < 0 else slice(size // 2 - size // 16, size)
        u, v = full_u[:, cols], v_full[:, cols]
        intensity = np.zeros_like(u)
        mask = np.zeros(u.shape, dtype=bool)
        clav = np.zeros_like(u)
        d = lung.sign * (u - an.mid)
        dd = d - 0.025
        reach = lung.medial + lung.width + 0.025
        span = reach - 0.025
        side = (dd > 0) & (d < reach)
        floor = lung.diaphragm_v(u, an.mid) + 0.05
        back = np.clip(reach - d, 0, None)
        v_lo, v_hi = v.min(axis=1), v.max(axis=1)  # per image row, for the row windows below
        steep = np.sqrt(1 + max(0.14, abs(-0.14 + 4.6 * span)) ** 2)
        for k in range(11):
            y0 = lung.apex - 0.02 + an.rib_phase + k * an.rib_gap
            half = an.rib_half * (1 + 0.03 * k)
            # posterior rib: leaves the spine slightly upwards, then curves down the lateral wall.
            # Only rows the band can reach are computed (exact: elsewhere it adds nothing).
            r = _row_window(v_lo, v_hi, y0 - 0.0022 - half * steep, y0 - 0.14 * span + 2.3 * span**2 + half * steep)
            curve = y0 - 0.14 * dd[r] + 2.3 * np.square(dd[r])
            dist = band(v[r], curve, -0.14 + 4.6 * dd[r], half)
            inside = (dist < 1) & side[r] & (v[r] < floor[r])
            intensity[r] += inside * (0.6 + 0.4 * np.square(dist)) * np.clip(dd[r] / 0.06, 0.4, 1.0)
            mask[r] |= inside
            # anterior rib: from the lateral end of the posterior rib, down and in towards the sternum
            y_end = y0 - 0.14 * span + 2.3 * span**2
            half_a = an.rib_half * 0.85
            reach_a = 0.6 * span
            r = _row_window(v_lo, v_hi, y_end - half_a * 1.2,
                            y_end + 0.62 * reach_a + half_a * 1.2)
            b_r = back[r]
            ya = y_end + 0.62 * b_r - 0.35 * np.square(b_r)
            dist_a = band(v[r], ya, 0.62 - 0.7 * b_r, half_a)
            anterior = (dist_a < 1) & side[r] & (b_r < reach_a) & (v[r] < floor[r] - 0.03)
            intensity[r] += anterior * 0.3 * (1 - b_r / reach_a)
        cd = np.clip(dd, 0.0, None)
        clav_curve = lung.apex + 0.055 - 0.26 * cd + 0.22 * np.square(cd)
        dist_c = band(v, clav_curve, -0.26 + 0.44 * cd, 0.015)
        clav += (dist_c < 1) & (dd > 0.01) & (d < reach)
        intensity_full[:, cols] += intensity
        mask_full[:, cols] |= mask
        clav_full[:, cols] += clav
    return intensity_full, mask_full, clav_full


def _vessels(u: np.ndarray, v: np.ndarray, an: _Anatomy, rng: np.random.Generator, size: int,
             where: np.ndarray) -> np.ndarray:
    """Branching-looking vascular markings radiating from each hilum, fading to the periphery.

    Only computed where `where` is set (the lung fields: elsewhere the markings are multiplied by 0).
    """
    out = np.zeros_like(u)
    wobble = smooth_field(rng, size, cells=8)
    for lung in an.lungs.values():
        # only the half of the image this lung is in, and only its lung pixels
        cols = slice(0, size // 2 + 1) if lung.sign < 0 else slice(size // 2 - 1, size)
        sel = where[:, cols]
        uu, vv, ww = u[:, cols][sel], v[:, cols][sel], wobble[:, cols][sel]
        hu = an.mid + lung.sign * (lung.medial + 0.03)
        hv = lung.apex + 0.45 * lung.height
        du, dv = (uu - hu) * lung.sign, vv - hv
        r = np.sqrt(du * du + dv * dv) + 1e-4
        ang = np.arctan2(dv, du) + 0.25 * ww * np.clip(r / 0.2, 0, 1)
        width = 0.006 + 0.012 * np.exp(-r / 0.08)
        fade = np.exp(-r / 0.16)
        scaled = r / width
        acc = 0.8 * np.exp(-np.square(r / 0.055))  # hilar vessels
        for a0 in rng.uniform(-1.4, 1.5, size=9):
            diff = np.mod(ang - a0 + np.pi, 2 * np.pi) - np.pi
            acc += np.exp(-np.square(diff * scaled)) * fade
        view = out[:, cols]
        view[sel] = np.maximum(view[sel], acc)
    return out


def _render(an: _Anatomy, rng: np.random.Generator, size: int, labels: dict[str, Any],
            nodule: tuple[float, float, float, float, float] | None,
            effusion: tuple[str, float] | None) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    ui, vi = grid(size)
    u, v = _rotate(ui, vi, an.tilt)
    c = an.contrast
    s = _structures(u, v, an)
    d = np.abs(u - an.mid)
    neck = np.clip((v + 0.02) / 0.12, 0, 1)
    shoulders = 0.07 * np.exp(-np.square((v - 0.1) / 0.07))
    body_hw = 0.1 + (an.body_half_width - 0.1 - 0.03 * v) * (3 * neck**2 - 2 * neck**3) + shoulders
    body = d < body_hw
    thickness = np.sqrt(np.clip(1 - np.square(d / body_hw), 0, 1))
    diaph = _diaphragm(u, an)
    lungs_full = an.lungs["right"].inside(u, v, an.mid) | an.lungs["left"].inside(u, v, an.mid)
    abdomen = body & (v > diaph) & ~lungs_full
    # gastric air bubble under the left hemidiaphragm (image right)
    left = an.lungs["left"]
    gu = an.mid + left.medial + 0.45 * left.width
    gastric = np.square((u - gu) / 0.07) + np.square((v - left.diaphragm_v(u, an.mid) - 0.055) / 0.035) <= 1

    ribs, rib_mask, clav = _ribs(u, v, an)
    spine_pattern = 0.75 + 0.25 * np.cos(2 * np.pi * (v - an.lungs["left"].apex) / (an.rib_gap * 0.98))
    spine = (d < 0.032) * spine_pattern
    trachea = (np.abs(u - an.mid + 0.004) < 0.013) & (v < an.lungs["left"].apex + 0.11) & (v > 0.02)

    lung_soft = soft(lungs_full & ~s["heart"] & ~s["mediastinum"], size)
    vessels = _vessels(u, v, an, rng, size, where=lung_soft > 0)
    # more overlying soft tissue (breasts, diaphragm domes) towards the lung bases
    base_tissue = np.clip((v - an.lungs["left"].apex - 0.55 * an.lungs["left"].height) / 0.2, 0, 1)
    dens = (
        c["soft"] * soft(body, size) * (0.55 + 0.45 * thickness)
        - c["lung"] * lung_soft * (1.0 + 0.1 * smooth_field(rng, size, cells=5) - 0.25 * base_tissue)
        + 0.012 * smooth_field(rng, size, cells=28) * lung_soft
        + c["vessels"] * vessels * lung_soft
        + c["med"] * soft(s["mediastinum"], size)
        + c["heart"] * soft(s["heart"], size)
        + c["abdomen"] * soft(abdomen, size, 2.0)
        + c["spine"] * spine
        + c["rib"] * ribs * (0.6 + 0.4 * lung_soft)
        + c["clavicle"] * clav
        - 0.12 * soft(trachea, size)
        - 0.22 * soft(gastric, size, 2.0)
    )

    masks = {name: s[name] for name in ("left_lung", "right_lung", "heart", "mediastinum")}
    masks["ribs"] = rib_mask
    masks["nodule"] = np.zeros((size, size), dtype=bool)
    masks["effusion"] = np.zeros((size, size), dtype=bool)

    if effusion is not None:
        side, level = effusion
        lung = an.lungs[side]
        fluid = masks[f"{side}_lung"] & (v > _effusion_line(u, lung, an.mid, level))
        masks["effusion"] = fluid
        depth = np.clip((v - lung.apex - lung.height * (level - 0.1)) / (0.25 * lung.height), 0.5, 1.2)
        dens += (c["lung"] + 0.06) * soft(fluid, size, 1.5) * depth
    if nodule is not None:
        cu, cv, radius, amp, lobes = nodule
        du, dv = u - cu, v - cv
        ang = np.arctan2(dv, du)
        rr = np.sqrt(du * du + dv * dv) / (radius * (1 + 0.07 * np.cos(lobes * ang + 1.3)))
        masks["nodule"] = (rr <= 1.0) & masks[f"{labels['lesion_side']}_lung"]
        dens += amp * np.sqrt(np.clip(1 - np.square(rr), 0, 1)) + 0.3 * amp * soft(rr <= 1.0, size, 0.6)

    sigma = c["blur"] * size / 128.0
    dens = ndimage.gaussian_filter(dens, sigma)
    dens += 0.02 * smooth_field(rng, size, cells=6) + c["noise"] * rng.standard_normal(dens.shape).astype(np.float32)
    lo, hi = np.percentile(dens, [0.5, 99.9])
    hi = hi + 0.08 * (hi - lo)  # headroom: dense structures stay grey-white, not clipped flat
    image = np.clip((dens - lo) / max(hi - lo, 1e-6), 0, 1) ** c["gamma"]
    return image.astype(np.float32), masks


def _one(seed: int, index: int, size: int, lesion_prob: float, effusion_prob: float) -> ChestPhantom:
    rng = np.random.default_rng([seed, index, 0xC4E57])
    an = _draw_anatomy(rng)
    has_effusion = bool(rng.random() < effusion_prob)
    effusion = (str(rng.choice(["left", "right"])), float(rng.uniform(0.72, 0.9))) if has_effusion else None
    labels: dict[str, Any] = {
        "lesion_present": False, "lesion_side": None, "lesion_size_mm": 0.0, "lesion_center": None,
        "severity": 0, "effusion": has_effusion, "effusion_side": effusion[0] if effusion else None,
        "view": "PA", "lesion_type": None,
    }
    nodule = None
    if rng.random() < lesion_prob:
        side = str(rng.choice(["left", "right"]))
        diameter = float(rng.uniform(*NODULE_DIAMETER_MM))
        radius = diameter / 2 / FIELD_OF_VIEW_MM
        centre = _pick_nodule(rng, an, side, radius, effusion)
        if centre is not None:
            amp = an.contrast["lung"] * rng.uniform(0.7, 1.1)
            nodule = (centre[0], centre[1], radius, amp, int(rng.integers(3, 7)))
            # the centre in image pixels: undo the patient tilt
            cu, cv = centre[0] - 0.5, centre[1] - 0.5
            ca, sa = np.cos(an.tilt), np.sin(an.tilt)
            x, y = ca * cu + sa * cv + 0.5, -sa * cu + ca * cv + 0.5
            labels.update(lesion_present=True, lesion_side=side, lesion_size_mm=round(diameter, 2),
                          lesion_center=(float(x * size), float(y * size)), lesion_type="nodule")
    labels["severity"] = _severity(labels["lesion_size_mm"], has_effusion)
    image, masks = _render(an, rng, size, labels, nodule, effusion)
    if labels["lesion_present"] and not masks["nodule"].any():
        # below one pixel at this size: keep the label truthful to what the image shows
        labels["lesion_visible"] = False
    spacing = FIELD_OF_VIEW_MM / size
    return ChestPhantom(image=image, masks=masks, labels=labels, spacing_mm=(spacing, spacing),
                        seed=seed, index=index)


def generate_chest(n: int, size: int = 128, seed: int = 0, *, lesion_prob: float = 0.5,
                   effusion_prob: float = 0.2) -> list[ChestPhantom]:
    """`n` PA chest phantoms; sample i depends only on (seed, i), so prefixes agree across n and sizes."""
    if n < 0 or size < 16:
        raise ValueError("n must be >= 0 and size >= 16")
    return [_one(seed, i, size, lesion_prob, effusion_prob) for i in range(n)]
