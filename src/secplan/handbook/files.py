"""Plan files on disk: finding them, naming them (plan ids), and reading them safely.

Nothing here parses Markdown; :mod:`secplan.handbook.loader` turns the files into plans.
"""

from __future__ import annotations

import hashlib
import os
import stat
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from secplan.errors import NotFoundError, UsageError

CATALOG_NAMES = ("index.md", "_index.md", "index.html.md")
PLAN_SUFFIXES = (".html.md", ".md")
DIR_PLAN_NAMES = ("index.md", "index.html.md")
#: Directories never searched for plans (besides every hidden directory).
SKIP_DIRS = frozenset({".secplan", ".git", "node_modules"})
#: Files larger than this are refused (SP100) rather than parsed.
MAX_FILE_BYTES = 10 * 1024 * 1024


@dataclass
class FileError:
    """A file that could not be read as a plan at all (binary, bad UTF-8, too large...)."""

    path: Path
    rel_path: str
    code: str  # rule code, e.g. SP106 / SP100
    message: str
    line: int = 1
    column: int = 1


def real_path(path: Path) -> Path:
    """``path`` with symbolic links resolved (absolute when it cannot be resolved)."""
    try:
        return path.resolve()
    except (OSError, RuntimeError):
        return path.absolute()


def plan_id(rel_path: str) -> str:
    """The plan id of a root-relative POSIX path: no extension, no trailing ``/index``."""
    for suffix in PLAN_SUFFIXES:
        if rel_path.endswith(suffix):
            rel_path = rel_path[: -len(suffix)]
            break
    if rel_path == "index":
        return rel_path
    return rel_path.removesuffix("/index")


def is_plan_name(name: str) -> bool:
    """Whether a file name is a Markdown plan file."""
    return name.endswith(".md") and not name.startswith(".")


def resolve_plan_path(root: Path, ref: str) -> Path | None:
    """The file a plan id or path names, found without reading the handbook; None if none."""
    ref = ref.strip()
    direct = Path(ref)
    for candidate in (
        (direct, root / ref, Path.cwd() / ref) if not direct.is_absolute() else [direct]
    ):
        if candidate.is_file():
            return candidate
    stem = ref.strip("/")
    for suffix in ("/index.md", "/index.html.md", ".md", ".html.md"):
        candidate = root / f"{stem}{suffix}"
        if candidate.is_file():
            return candidate
    return None


@dataclass
class Walk:
    """What a :func:`discover` walk read: the directories listed, in order, and whether the
    result follows from their listings alone (no symbolic link met, no directory unreadable)."""

    dirs: list[Path]
    exact: bool = True


def discover(
    root: Path, start: Path | None = None, walk: Walk | None = None
) -> tuple[list[Path], list[FileError], Path | None]:
    """Plan files under ``start`` (default: root), refusals, and the root's catalog page.

    ``walk``, when given, is told which directories were listed (see :class:`Walk`).
    """
    root_real = real_path(root)
    files: list[Path] = []
    errors: list[FileError] = []
    catalog = next((root / n for n in CATALOG_NAMES if (root / n).is_file()), None)
    # Depth first in name order, as os.walk(followlinks=False) goes, but with scandir's
    # cached entry types: one system call per directory instead of one per file.
    pending = [start or root]
    while pending:
        base = pending.pop()
        try:
            with os.scandir(base) as scan:
                entries = sorted(scan, key=lambda e: e.name)
        except OSError:
            if walk is not None:
                walk.exact = False
            continue
        if walk is not None:
            walk.dirs.append(base)
        subdirs: list[Path] = []
        for entry in entries:
            name = entry.name
            try:
                is_dir = entry.is_dir()
            except OSError:
                is_dir = False
            if is_dir:
                if name.startswith(".") or name in SKIP_DIRS:
                    continue
                sub = base / name
                if entry.is_symlink():
                    if walk is not None:
                        walk.exact = False
                    if not inside(real_path(sub), root_real):
                        errors.append(_escape_error(root, sub))
                    continue  # symlinked directories inside the root would list plans twice
                subdirs.append(sub)
                continue
            if not is_plan_name(name):
                continue
            if catalog is not None and name == catalog.name and base == root:
                continue
            path = base / name
            if entry.is_symlink() and walk is not None:
                walk.exact = False  # what it points to may change without any listing changing
            if entry.is_symlink() and not inside(real_path(path), root_real):
                errors.append(_escape_error(root, path))
                continue
            files.append(path)
        pending.extend(reversed(subdirs))
    files.sort(key=lambda p: rel_path_of(root, p))
    return files, errors, catalog


def inside(path: Path, root: Path) -> bool:
    """Whether ``path`` is ``root`` or below it."""
    return path == root or root in path.parents


def rel_path_of(root: Path, path: Path) -> str:
    """``path`` relative to ``root`` in POSIX form (as given when it is outside)."""
    if os.sep == "/":  # the common case without pathlib's part-by-part comparison
        prefix, text = str(root), str(path)
        if text.startswith(prefix) and text[len(prefix) : len(prefix) + 1] == "/":
            return text[len(prefix) + 1 :]
    try:
        return path.relative_to(root).as_posix()
    except ValueError:
        pass
    try:  # one side was reached through a symbolic link (e.g. a temp dir alias)
        return real_path(path).relative_to(real_path(root)).as_posix()
    except ValueError:
        return path.as_posix()


def _escape_error(root: Path, path: Path) -> FileError:
    return FileError(
        path,
        rel_path_of(root, path),
        "SP100",
        "symbolic link points outside the handbook; it is not followed",
    )


def find_plan_files(root: Path) -> list[Path]:
    """Every plan file under ``root`` (catalog page excluded), sorted."""
    return discover(root)[0]


def read_plan_bytes(path: Path, rel_path: str) -> bytes | FileError:
    """A plan file's bytes, or the FileError saying why it cannot be read (missing, > 10 MB)."""
    try:
        info = path.stat()
        if not stat.S_ISREG(info.st_mode):  # a FIFO or device would block or never end
            return FileError(path, rel_path, "SP100", "not a regular file")
        size = info.st_size
        if size > MAX_FILE_BYTES:
            message = f"file is {size / 1024 / 1024:.1f} MB; plans larger than 10 MB are refused"
            return FileError(path, rel_path, "SP100", message)
        return path.read_bytes()
    except OSError as exc:
        return FileError(path, rel_path, "SP100", f"cannot read file: {exc.strerror or exc}")


def decode_plan(data: bytes, path: Path, rel_path: str) -> str | FileError:
    """The text of a plan file's bytes, or a FileError for binary data or invalid UTF-8."""
    if b"\0" in data:
        return FileError(
            path, rel_path, "SP100", "binary file (contains NUL bytes), not a Markdown plan"
        )
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        message = f"not valid UTF-8 (byte 0x{data[exc.start]:02x} at offset {exc.start})"
        return FileError(path, rel_path, "SP100", message, line=line)


def read_plan_text(path: Path, rel_path: str) -> tuple[str, str] | FileError:
    """(text, sha256 of the bytes) of a plan file, or the FileError saying why it is unusable."""
    data = read_plan_bytes(path, rel_path)
    if isinstance(data, FileError):
        return data
    text = decode_plan(data, path, rel_path)
    if isinstance(text, FileError):
        return text
    return text, hashlib.sha256(data).hexdigest()


def selected(root: Path, paths: Iterable[Path]) -> tuple[list[Path], list[FileError]]:
    """The plan files the given files and directories name, and refusals.

    Raises NotFoundError for a path that does not exist and UsageError for one outside
    the handbook.
    """
    root_real = real_path(root)
    files: list[Path] = []
    errors: list[FileError] = []
    for given in paths:
        path = given if given.is_absolute() else Path.cwd() / given
        if not path.exists() and not path.is_symlink():
            raise NotFoundError(f"no such file or directory: {given}")
        if not inside(
            real_path(path.parent) / path.name if path.is_symlink() else real_path(path), root_real
        ):
            raise UsageError(
                f"{given} is not inside the handbook at {root}",
                hint="Pass --root to name the handbook the file belongs to.",
            )
        if path.is_dir():
            found, errs, _ = discover(root, path)
            files.extend(found)
            errors.extend(errs)
        elif path.is_symlink() and not inside(real_path(path), root_real):
            errors.append(_escape_error(root, path))
        else:
            files.append(path)
    return files, errors


def stat_error(path: Path, rel_path: str, st: os.stat_result) -> FileError | None:
    """Why a file with this ``stat`` is no plan (not a regular file, too large), or None."""
    if not stat.S_ISREG(st.st_mode):  # a FIFO or device would block or never end
        return FileError(path, rel_path, "SP100", "not a regular file")
    if st.st_size > MAX_FILE_BYTES:
        message = f"file is {st.st_size / 1024 / 1024:.1f} MB; plans larger than 10 MB are refused"
        return FileError(path, rel_path, "SP100", message)
    return None


def read_error(path: Path, rel_path: str, exc: OSError) -> FileError:
    """The FileError of a file that could not be read."""
    return FileError(path, rel_path, "SP100", f"cannot read file: {exc.strerror or exc}")
