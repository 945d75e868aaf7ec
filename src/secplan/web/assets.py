"""Handbook assets: the images and attachments plans link, served beside the plan pages.

A plan ``a/b.md`` writing ``![](img/x.png)`` means the file ``a/img/x.png``; its page is
``/plans/a/b``, so the browser asks for ``/plans/a/img/x.png``. Only ordinary files of a known
asset type below the handbook root are served (or copied into the static site): nothing hidden
(``.git``, ``.secplan``, dotfiles), no plan or configuration file, nothing a symbolic link leads
out of the root to, and no document type that could run script in the site's origin.
"""

from __future__ import annotations

import posixpath
import re
from pathlib import Path

from fastapi.responses import FileResponse

from secplan.handbook.files import SKIP_DIRS, inside, real_path

#: File types a plan may link as an image or attachment. HTML, JavaScript and configuration
#: files are left out on purpose: the first two would run in the site's origin, the last may
#: hold secrets.
ASSET_SUFFIXES = frozenset(
    {
        # images
        ".png", ".jpg", ".jpeg", ".gif", ".webp", ".avif", ".svg", ".ico", ".bmp",
        # documents and data
        ".pdf", ".txt", ".csv", ".tsv", ".docx", ".xlsx", ".pptx", ".odt", ".ods", ".odp",
        # archives and media
        ".zip", ".gz", ".tgz", ".mp4", ".webm", ".mp3", ".ogg",
    }
)  # fmt: skip
#: Served with its own policy: an SVG opened directly is a document, and may carry script.
SVG_POLICY = "default-src 'none'; img-src 'self' data:; style-src 'unsafe-inline'; sandbox"
_ACTIVE_SVG = re.compile(rb"<script|\son\w+\s*=|javascript:|<foreignObject", re.I)


def asset_rel_path(rel: str) -> str | None:
    """``rel`` normalised when it may name an asset (by its form alone), else None."""
    if not rel or "\\" in rel or "\0" in rel or rel.startswith("/"):
        return None
    norm = posixpath.normpath(rel)
    parts = norm.split("/")
    if norm.startswith("..") or any(p.startswith(".") or p in SKIP_DIRS for p in parts):
        return None
    if posixpath.splitext(norm)[1].lower() not in ASSET_SUFFIXES:
        return None
    return norm


def handbook_asset(root: Path, rel: str) -> Path | None:
    """The asset file ``rel`` (root-relative, POSIX) names, or None when it may not be shown."""
    norm = asset_rel_path(rel)
    if norm is None:
        return None
    path = root / norm
    try:
        if not path.is_file():
            return None
    except OSError:
        return None
    if not inside(real_path(path), real_path(root)):
        return None  # a symbolic link out of the handbook
    return path


def is_active_svg(path: Path) -> bool:
    """True for an SVG that carries script or event handlers (never copied to the site)."""
    if path.suffix.lower() != ".svg":
        return False
    try:
        return bool(_ACTIVE_SVG.search(path.read_bytes()))
    except OSError:
        return True


def asset_response(path: Path) -> FileResponse:
    """The asset as a download-safe response (SVGs sandboxed)."""
    headers = {"Cache-Control": "no-cache"}
    if path.suffix.lower() == ".svg":
        headers["Content-Security-Policy"] = SVG_POLICY
    return FileResponse(path, headers=headers)
