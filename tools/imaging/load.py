"""`load_image(ref)`: the one way every tool reads an image, from a workspace id or a path.

Accepts a workspace id (`img-3`, resolved in the current session's workspace) or a path to a
DICOM file, a DICOM series folder or ZIP, NIfTI, PNG/JPEG or NPZ. The file type is sniffed from
its content, not trusted from its name. Paths must lie in the allowed folders (`access`);
every failure is an InvalidInputError / AccessDeniedError / NotFoundError saying what is wrong.
"""

from __future__ import annotations

import contextlib
import gzip
import io
import re
import stat
import tempfile
from pathlib import Path
from typing import Iterator

from agent.errors import InvalidInputError, RadagentError
from tools.imaging.access import check_path
from tools.imaging.types import LoadedImage

WORKSPACE_ID = re.compile(r"img-\d{1,9}", re.IGNORECASE)
RASTER_MAGIC = (b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff", b"GIF87a", b"GIF89a", b"BM", b"II*\x00", b"MM\x00*")
ZIP_MAGIC = (b"PK\x03\x04", b"PK\x05\x06")


def _max_bytes() -> int:
    from agent.settings import get_settings

    return int(get_settings().imaging.max_upload_mb * 1024 * 1024)


SNIFF_BYTES = 352  # DICOM preamble + "DICM" at 128, NIfTI magic at 344


def sniff(path: Path) -> str:
    """'dicom', 'raster', 'nifti', 'npz', 'zip', 'gzip' or 'dicom?' (no preamble), from the bytes."""
    with open(path, "rb") as fh:
        return sniff_head(fh.read(SNIFF_BYTES), path.name)


def sniff_head(head: bytes, filename: str) -> str:
    """`sniff` on the first SNIFF_BYTES of a file, for callers that already opened it."""
    name = filename.lower()
    if len(head) >= 132 and head[128:132] == b"DICM":
        return "dicom"
    if head.startswith(RASTER_MAGIC):
        return "raster"
    if head.startswith(ZIP_MAGIC):
        return "npz" if name.endswith(".npz") else "zip"
    if name.endswith((".nii", ".nii.gz")) or head[344:348] in (b"n+1\x00", b"ni1\x00"):
        return "nifti"
    if head.startswith(b"\x1f\x8b"):
        return "gzip"
    return "dicom?"


def _check_file_size(path: Path, size: int | None = None) -> int:
    size = path.stat().st_size if size is None else size
    if size == 0:
        raise InvalidInputError(f"'{path.name}' is empty.", "Give a file that holds an image.")
    if size > _max_bytes():
        raise InvalidInputError(f"'{path.name}' is {size / 1e6:.0f} MB, above the upload limit.",
                                "Raise imaging.max_upload_mb in the settings, or give a smaller file.")
    return size


def _load_gzip(path: Path) -> LoadedImage:
    """A gzip-compressed DICOM file, decompressed in memory up to the upload limit."""
    from tools.imaging.dicom_read import _to_loaded, decode, read_dataset

    limit = _max_bytes()
    try:
        with gzip.open(path, "rb") as fh:
            data = fh.read(limit + 1)
    except (OSError, EOFError) as exc:
        raise InvalidInputError(f"'{path.name}' is a damaged gzip file ({exc}).", "Decompress and re-export it.") from exc
    if len(data) > limit:
        raise InvalidInputError(f"'{path.name}' expands past the upload limit.", "Decompress it and give the file.")
    ds = read_dataset(io.BytesIO(data), path.name)
    pixels, info = decode(ds, path.name)
    return _to_loaded(ds, pixels, info, path, kind="dicom")


@contextlib.contextmanager
def decoder_errors(name: str) -> Iterator[None]:
    """Turn any failure of a decoder into one InvalidInputError naming the file.

    Decoders (pydicom, pylibjpeg's C and Rust plugins, Pillow, nibabel) fail on damaged input in
    many ways, some not even `Exception` subclasses (a Rust panic); no caller should ever see a
    decoder's traceback.
    """
    try:
        yield
    except RadagentError:
        raise
    except (KeyboardInterrupt, SystemExit, GeneratorExit):
        raise
    except MemoryError as exc:
        raise InvalidInputError(f"'{name}' is too large to decode in memory.",
                                "Lower imaging.max_pixels or give a smaller image.") from exc
    except BaseException as exc:  # noqa: BLE001 - see docstring
        raise InvalidInputError(f"'{name}' could not be read ({type(exc).__name__}: {str(exc)[:200]}).",
                                "The file may be damaged or in an unsupported format; re-export it.") from exc


def load_path(path: Path) -> LoadedImage:
    """Load an already-checked path (file or folder) by its content type."""
    with decoder_errors(path.name):
        return _load_path(path)


def _load_path(path: Path) -> LoadedImage:
    from tools.imaging import dicom_read, raster

    info = path.stat()
    if stat.S_ISDIR(info.st_mode):
        return dicom_read.load_series_folder(path)
    _check_file_size(path, info.st_size)
    # one open for sniffing and parsing: a DICOM file is read from disk once
    with open(path, "rb") as fh:
        kind = sniff_head(fh.read(SNIFF_BYTES), path.name)
        if kind in ("dicom", "dicom?"):
            fh.seek(0)
            return dicom_read.load_dicom_file(path, fh)
    if kind == "raster":
        return raster.load_raster(path)
    if kind == "nifti":
        return raster.load_nifti(path)
    if kind == "npz":
        return raster.load_npz(path)
    if kind == "gzip":
        return _load_gzip(path)
    from tools.imaging.archive import safe_extract

    with tempfile.TemporaryDirectory(prefix="radagent-zip-") as tmp:
        files = safe_extract(path, Path(tmp))
        loaded = dicom_read.load_series_folder(Path(tmp), files)
    loaded.source_path = path
    return loaded


def load_image(ref: str | Path, *, trusted: bool = False) -> LoadedImage:
    """An image by workspace id (`img-3`) or path, as a LoadedImage (CT in HU, spacing in mm).

    `trusted=True` skips the allowed-folder check; only for paths the program made itself,
    never for a path that came from a user or the LLM.
    """
    text = str(ref).strip()
    if not text:
        raise InvalidInputError("No image was given.", "Give a workspace id such as img-1, or a file path.")
    image_id = None
    if WORKSPACE_ID.fullmatch(text):
        from tools.imaging.workspace import get_workspace

        entry = get_workspace().get(text)
        path, image_id = entry.path, entry.id
    else:
        path = check_path(text, trusted=trusted)
    loaded = load_path(path)
    loaded.image_id = image_id
    if image_id:
        loaded.metadata["image_id"] = image_id
    return loaded
