"""Which folders images may be opened from, so a tool argument can never read arbitrary files.

Allowed: the session workspaces, the data dir, the current working directory tree (unless it is
the filesystem root or the home folder itself), the DICOM
sample folders shipped with pydicom / pydicom-data, and `settings.imaging.allowed_dirs`.
Symlinks are resolved before the check, so a link inside an allowed folder pointing outside is refused.
"""

from __future__ import annotations

import importlib.util
import os
from functools import lru_cache
from pathlib import Path

from agent.errors import AccessDeniedError, NotFoundError


@lru_cache(maxsize=1)
def sample_dirs() -> tuple[Path, ...]:
    """The pydicom test-file folder and the pydicom-data store (found without importing data)."""
    found: list[Path] = []
    for module, sub in (("pydicom", "data/test_files"), ("data_store", "data")):
        spec = importlib.util.find_spec(module)
        if spec is not None and spec.origin:
            folder = Path(spec.origin).parent / sub
            if folder.is_dir():
                found.append(folder.resolve())
    return tuple(found)


def sample_file(name: str) -> Path:
    """A named DICOM sample (e.g. `RG1_UNCR.dcm` chest CR, `693_UNCR.dcm` CT, `MR2_UNCR.dcm` MR)."""
    for folder in sample_dirs():
        hits = sorted(folder.rglob(name))
        if hits:
            return hits[0]
    raise NotFoundError(f"The sample file '{name}' is not installed.",
                        "Install the pydicom-data package (pip install pydicom-data).")


def allowed_roots() -> tuple[Path, ...]:
    return tuple(Path(r) for r in _allowed_root_strings())


def _allowed_root_strings() -> tuple[str, ...]:
    """Resolved allowed folders as strings, cached per settings object, setting values and cwd."""
    from agent.settings import get_settings

    settings = get_settings()
    return _resolved_roots(id(settings), settings.workspace_dir, settings.data_dir,
                           tuple(settings.imaging.allowed_dirs), os.getcwd())


@lru_cache(maxsize=8)
def _resolved_roots(_settings_id: int, workspace_dir: Path, data_dir: Path, extra: tuple[Path, ...],
                    cwd: str) -> tuple[str, ...]:
    here = Path(cwd).resolve()
    # a shell started in / or in the home folder must not open the whole disk or home to the tools
    cwd_roots = [] if here == Path(here.anchor) or here == Path.home().resolve() else [here]
    roots = [workspace_dir, data_dir, *cwd_roots, *sample_dirs(), *extra]
    return tuple(os.path.realpath(Path(r).expanduser()) for r in roots)


def _inside(path: str, root: str) -> bool:
    """`path` is `root` or lies below it (both resolved); a string test, not a walk over parents."""
    if path == root:
        return True
    prefix = root if root.endswith(os.sep) else root + os.sep
    return path.startswith(prefix)


_O_PATH = getattr(os, "O_PATH", None)  # Linux


def _resolve(raw: str) -> tuple[str, bool]:
    """(canonical path with every link resolved, whether it is known to exist).

    On Linux the kernel resolves the path in one open(O_PATH) (a location only: no read, no
    device or FIFO side effects) and /proc names the result, instead of `os.path.realpath`'s
    lstat per path component. Anything else, a missing path included, goes the portable way.
    """
    expanded = os.path.expanduser(raw)
    if _O_PATH is not None:
        try:
            fd = os.open(expanded, _O_PATH | os.O_CLOEXEC)
        except OSError:
            pass  # missing, a link loop, no permission: realpath below gives the path to judge
        else:
            try:
                return os.readlink(f"/proc/self/fd/{fd}"), True
            except OSError:
                pass
            finally:
                os.close(fd)
    return os.path.realpath(expanded), False


def check_path(ref: str | Path, *, trusted: bool = False) -> Path:
    """Resolve `ref` (symlinks included) and refuse it unless it lies in an allowed folder.

    `trusted=True` is for paths the program itself produced (never for tool arguments).
    """
    raw = str(ref)
    if "\x00" in raw:
        raise AccessDeniedError("The path contains a NUL byte.", "Give a plain file path.")
    try:
        resolved, exists = _resolve(raw)
    except (OSError, RuntimeError, ValueError) as exc:  # symlink loops, unreadable parents
        raise AccessDeniedError(f"The path '{raw}' cannot be resolved: {exc}.", "Give a plain file path.") from exc
    if not trusted and not any(_inside(resolved, root) for root in _allowed_root_strings()):
        raise AccessDeniedError(
            f"Opening '{raw}' is not allowed: it is outside the folders images may be read from.",
            "Copy the file into the working directory or the workspace (radagent open), or add its "
            "folder to imaging.allowed_dirs in the settings.",
        )
    path = Path(resolved)
    if not exists and not path.exists():
        raise NotFoundError(f"No file or folder at '{raw}'.", "Check the path, or list the workspace ids.")
    return path
