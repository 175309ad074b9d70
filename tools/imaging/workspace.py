"""Per-session image workspace: read-only, content-addressed copies with stable ids (img-1, img-2, ...).

Layout: `<settings.workspace_dir>/<session>/objects/<sha256><suffix>` (a file) or
`objects/<sha256>/` (a series: its files named by their own hashes), plus `index.json`
mapping ids to objects. Ids survive restarts; adding the same content again returns the same id.
Originals are copied, never moved or changed; copies are chmod 0o444.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import re
import shutil
import tempfile
from contextvars import ContextVar
from datetime import datetime, timezone
from pathlib import Path
from typing import Iterator

from pydantic import BaseModel

from agent.errors import InvalidInputError, NotFoundError
from tools.imaging.access import check_path

current_session: ContextVar[str] = ContextVar("current_session", default="default")
SESSION_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")
KEPT_SUFFIXES = (".nii.gz", ".dcm", ".nii", ".png", ".jpg", ".jpeg", ".npz", ".tif", ".tiff", ".bmp", ".gz", ".zip")
MAX_FOLDER_FILES = 5000


class WorkspaceEntry(BaseModel):
    """One image in a session's workspace."""

    id: str
    path: Path  # the read-only copy (a file, or a folder for a series)
    sha256: str
    kind: str  # dicom, series, nifti, raster, npz
    modality: str
    size_bytes: int
    files: int = 1
    added_at: str


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _suffix(name: str) -> str:
    lower = name.lower()
    return next((s for s in KEPT_SUFFIXES if lower.endswith(s)), "")


def _max_bytes() -> int:
    from agent.settings import get_settings

    return int(get_settings().imaging.max_upload_mb * 1024 * 1024)


class Workspace:
    """The images of one session. Safe for several processes: the index is locked while it changes."""

    def __init__(self, root: Path, session: str) -> None:
        self.session = session
        self.root = root
        self.objects = root / "objects"
        self.index_path = root / "index.json"

    # -- index -----------------------------------------------------------------------------
    @contextlib.contextmanager
    def _locked(self) -> Iterator[dict]:
        self.objects.mkdir(parents=True, exist_ok=True)
        with open(self.root / ".lock", "a+") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                index = self._read()
                yield index
                tmp = self.index_path.with_suffix(".tmp")
                tmp.write_text(json.dumps(index, indent=1))
                os.replace(tmp, self.index_path)
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)

    def _read(self) -> dict:
        if not self.index_path.is_file():
            return {"next": 1, "entries": []}
        try:
            return json.loads(self.index_path.read_text())
        except json.JSONDecodeError as exc:
            raise InvalidInputError(f"The workspace index of session '{self.session}' is damaged.",
                                    f"Move {self.index_path} aside; the image copies are kept.") from exc

    def _entry(self, raw: dict) -> WorkspaceEntry:
        return WorkspaceEntry(**{**raw, "path": self.root / raw["path"]})

    # -- public ----------------------------------------------------------------------------
    def list(self) -> list[WorkspaceEntry]:
        return [self._entry(e) for e in self._read()["entries"]]

    def get(self, ref: str) -> WorkspaceEntry:
        key = ref.strip().lower()
        for raw in self._read()["entries"]:
            if raw["id"] == key:
                entry = self._entry(raw)
                if not entry.path.exists():
                    raise NotFoundError(f"The copy of {key} is missing from the workspace.",
                                        "Add the image again with radagent open.")
                return entry
        known = ", ".join(e["id"] for e in self._read()["entries"][-10:]) or "none yet"
        raise NotFoundError(f"No image '{ref}' in workspace session '{self.session}'.",
                            f"Known ids: {known}. Add files with radagent open PATH.")

    def resolve(self, ref: str) -> Path:
        return self.get(ref).path

    def add(self, path: str | Path, *, trusted: bool = False) -> WorkspaceEntry:
        """Copy an image file, series folder or ZIP of a series in; return its (possibly existing) entry.

        The content is checked to be a loadable image header first, so nothing unusable is stored.
        """
        from tools.imaging.load import sniff

        source = check_path(path, trusted=trusted)
        self.objects.mkdir(parents=True, exist_ok=True)
        if source.is_file() and sniff(source) == "zip":
            from tools.imaging.archive import safe_extract

            with tempfile.TemporaryDirectory(prefix="unzip-", dir=self.root) as tmp:
                safe_extract(source, Path(tmp))
                return self._add_folder(Path(tmp))
        if source.is_dir():
            return self._add_folder(source)
        return self._add_file(source)

    # -- internals -------------------------------------------------------------------------
    def _add_file(self, source: Path) -> WorkspaceEntry:
        from tools.imaging.probe import probe

        size = source.stat().st_size
        if size > _max_bytes():
            raise InvalidInputError(f"'{source.name}' is {size / 1e6:.0f} MB, above the upload limit.",
                                    "Raise imaging.max_upload_mb in the settings.")
        kind, modality = probe(source)
        sha = _sha256(source)
        target = self.objects / f"{sha}{_suffix(source.name)}"
        return self._register(sha, target, kind, modality, size, 1, lambda: _copy_readonly(source, target))

    def _add_folder(self, folder: Path) -> WorkspaceEntry:
        from tools.imaging.probe import probe

        files = sorted(p for p in folder.rglob("*") if p.is_file() and not p.is_symlink())
        if not files:
            raise InvalidInputError(f"The folder '{folder.name}' holds no files.", "Give a folder of DICOM files.")
        if len(files) > MAX_FOLDER_FILES:
            raise InvalidInputError(f"The folder has {len(files)} files (limit {MAX_FOLDER_FILES}).",
                                    "Add one series folder at a time.")
        total = sum(p.stat().st_size for p in files)
        if total > _max_bytes():
            raise InvalidInputError(f"The folder holds {total / 1e6:.0f} MB, above the upload limit.",
                                    "Raise imaging.max_upload_mb in the settings.")
        images: list[tuple[Path, str]] = []
        modality = "OT"
        for p in files:
            try:
                kind, mod = probe(p)
            except InvalidInputError:
                continue
            if kind == "dicom":
                images.append((p, _sha256(p)))
                modality = mod if modality == "OT" else modality
        if not images:
            raise InvalidInputError(f"No DICOM images were found in '{folder.name}'.",
                                    "Give a folder (or ZIP) of DICOM files of one series.")
        if len(images) == 1:
            return self._add_file(images[0][0])
        hashes = sorted({h for _, h in images})
        sha = hashlib.sha256("\n".join(hashes).encode()).hexdigest()
        target = self.objects / sha

        def copy() -> None:
            staging = Path(tempfile.mkdtemp(prefix="series-", dir=self.objects))
            for p, h in images:
                dest = staging / f"{h}.dcm"
                if not dest.exists():
                    _copy_readonly(p, dest)
            os.replace(staging, target)

        size = sum(p.stat().st_size for p, _ in images)
        return self._register(sha, target, "series", modality, size, len(hashes), copy)

    def _register(self, sha: str, target: Path, kind: str, modality: str, size: int, files: int,
                  copy: callable) -> WorkspaceEntry:  # type: ignore[valid-type]
        with self._locked() as index:
            for raw in index["entries"]:
                if raw["sha256"] == sha:
                    if not (self.root / raw["path"]).exists():
                        copy()
                    return self._entry(raw)
            if not target.exists():
                copy()
            raw = {"id": f"img-{index['next']}", "path": str(target.relative_to(self.root)), "sha256": sha,
                   "kind": kind, "modality": modality, "size_bytes": size, "files": files,
                   "added_at": datetime.now(timezone.utc).isoformat(timespec="seconds")}
            index["next"] += 1
            index["entries"].append(raw)
        return self._entry(raw)


def _copy_readonly(source: Path, target: Path) -> None:
    tmp = target.with_name(target.name + ".part")
    shutil.copyfile(source, tmp)
    os.chmod(tmp, 0o444)
    os.replace(tmp, target)


def get_workspace(session: str | None = None) -> Workspace:
    """The workspace of `session` (default: the `current_session` context variable)."""
    from agent.settings import get_settings

    name = session if session is not None else current_session.get()
    if not SESSION_NAME.fullmatch(name or ""):
        raise InvalidInputError(f"'{name}' is not a valid session name.",
                                "Use letters, digits, '.', '_' or '-' (up to 64 characters).")
    return Workspace(get_settings().workspace_dir / name, name)
