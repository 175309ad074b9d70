"""Safe ZIP extraction for uploaded DICOM series: sizes, ratios and member paths checked first."""

from __future__ import annotations

import stat
import zipfile
import zlib
from pathlib import Path, PurePosixPath

from agent.errors import InvalidInputError

MAX_MEMBERS = 5000
MAX_RATIO = 200.0  # uncompressed / compressed, per member (DICOM rarely compresses past ~20x)
CHUNK = 1 << 20


def _limit_bytes() -> int:
    from agent.settings import get_settings

    return int(get_settings().imaging.max_upload_mb * 1024 * 1024)


def check_zip(path: Path, max_total: int | None = None) -> list[zipfile.ZipInfo]:
    """The members to extract, after refusing bombs, traversal, links and encrypted entries."""
    limit = max_total or _limit_bytes()
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        raise InvalidInputError(f"'{path.name}' is not a readable ZIP archive ({exc}).",
                                "Upload a ZIP of DICOM files, or the files themselves.") from exc
    with archive:
        infos = archive.infolist()
    if len(infos) > MAX_MEMBERS:
        raise InvalidInputError(f"The archive has {len(infos)} members (limit {MAX_MEMBERS}).",
                                "Split the upload into smaller archives.")
    total = 0
    members = []
    for info in infos:
        name = info.filename
        parts = PurePosixPath(name.replace("\\", "/")).parts
        if name.startswith(("/", "\\")) or ".." in parts or (parts and ":" in parts[0]):
            raise InvalidInputError(f"The archive member '{name}' points outside the archive.",
                                    "Re-create the ZIP with relative paths only.")
        if stat.S_ISLNK(info.external_attr >> 16):
            raise InvalidInputError(f"The archive member '{name}' is a symbolic link.",
                                    "Re-create the ZIP without links.")
        if info.flag_bits & 0x1:
            raise InvalidInputError(f"The archive member '{name}' is encrypted.", "Upload an unencrypted ZIP.")
        if info.is_dir():
            continue
        total += info.file_size
        if total > limit:
            raise InvalidInputError(
                f"The archive expands to more than {limit // (1024 * 1024)} MB.",
                "Upload fewer files at a time, or raise imaging.max_upload_mb in the settings.")
        if info.file_size > CHUNK and info.file_size > MAX_RATIO * max(info.compress_size, 1):
            raise InvalidInputError(
                f"The archive member '{name}' compresses {info.file_size / max(info.compress_size, 1):.0f}:1, "
                "which looks like a ZIP bomb.", "Upload the DICOM files uncompressed or as a normal ZIP.")
        members.append(info)
    return members


def safe_extract(path: Path, dest: Path, max_total: int | None = None) -> list[Path]:
    """Extract the checked members under `dest`, counting real bytes so a lying header cannot overflow."""
    members = check_zip(path, max_total)
    limit = max_total or _limit_bytes()
    dest = dest.resolve()
    dest.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    total = 0
    try:
        with zipfile.ZipFile(path) as archive:
            for i, info in enumerate(members):
                # flat, generated names: member paths are never used as file-system paths
                suffix = "".join(PurePosixPath(info.filename).suffixes[-2:])[:16]
                target = dest / f"{i:05d}{suffix if suffix.replace('.', '').isalnum() else ''}"
                member_bytes = 0
                with archive.open(info) as src, open(target, "wb") as out:
                    while chunk := src.read(CHUNK):
                        member_bytes += len(chunk)
                        total += len(chunk)
                        if total > limit or member_bytes > info.file_size:
                            raise InvalidInputError("The archive expands to more than its header says.",
                                                    "Upload a normal ZIP of DICOM files.")
                        out.write(chunk)
                written.append(target)
    except (zipfile.BadZipFile, zlib.error, EOFError, OSError, NotImplementedError) as exc:
        raise InvalidInputError(f"The archive '{path.name}' is damaged ({exc}).",
                                "Re-create the ZIP and upload it again.") from exc
    return written
