"""The build manifest: what the last build wrote and from which inputs, for incremental builds.

It lives in the output folder (``.secplan-manifest.json``) so a cached ``public/`` in CI carries
it along. A plan's pages are rebuilt when its key changes: the plan's content, the handbook's
shape (every plan's id, path, title and anchors, which links and lint findings depend on), its
tracker data, and everything global (secplan's version, templates, options). Pages of other
plans keep their files and their link-check records from the manifest.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

MANIFEST_NAME = ".secplan-manifest.json"
_FORMAT = 2


def digest(*parts: object) -> str:
    """A stable hash of JSON-able values."""
    data = json.dumps(parts, sort_keys=True, default=str, ensure_ascii=False).encode()
    return hashlib.sha256(data).hexdigest()


#: What of secplan's own files a page can depend on (code, templates, static assets).
_CODE_SUFFIXES = (".py", ".html", ".js", ".css", ".svg")


def files_digest(folder: Path) -> str:
    """A hash of secplan's code, templates and assets below ``folder``: a new version of any
    of them rebuilds every page."""
    h = hashlib.sha256()
    for path in sorted(folder.rglob("*")):
        if path.suffix in _CODE_SUFFIXES and path.is_file():
            h.update(path.relative_to(folder).as_posix().encode() + b"\0")
            h.update(path.read_bytes() + b"\0")
    return h.hexdigest()


@dataclass
class PlanEntry:
    """A plan's pages as last built."""

    key: str
    files: list[str]
    assets: list[str]
    pages: dict[str, Any]  # site path -> its ids and linkcheck.PageResult.to_json()
    ready_key: str = ""
    readiness: tuple[int, int] = (0, 0)


@dataclass
class Manifest:
    """The whole record of a build."""

    global_key: str = ""
    plans: dict[str, PlanEntry] = field(default_factory=dict)
    pages: dict[str, Any] = field(default_factory=dict)  # other pages' link-check records
    assets: dict[str, list[int]] = field(default_factory=dict)  # rel path -> [size, mtime_ns]
    files: list[str] = field(default_factory=list)  # every file the build produced

    @classmethod
    def load(cls, out: Path) -> Manifest:
        """The manifest in ``out``, or an empty one (a first or a broken build)."""
        try:
            data = json.loads((out / MANIFEST_NAME).read_text(encoding="utf-8"))
            if data.get("format") != _FORMAT:
                return cls()
            return cls(
                global_key=str(data["global_key"]),
                plans={
                    pid: PlanEntry(
                        key=e["key"],
                        files=list(e["files"]),
                        assets=list(e["assets"]),
                        pages=dict(e["pages"]),
                        ready_key=e.get("ready_key", ""),
                        readiness=(int(e["readiness"][0]), int(e["readiness"][1])),
                    )
                    for pid, e in data["plans"].items()
                },
                pages=dict(data["pages"]),
                assets={k: [int(v[0]), int(v[1])] for k, v in data["assets"].items()},
                files=list(data["files"]),
            )
        except (OSError, ValueError, KeyError, TypeError, IndexError):
            return cls()

    def save(self, out: Path) -> None:
        """Write the manifest (through a temporary file, so it is never half-written)."""
        data = {
            "format": _FORMAT,
            "global_key": self.global_key,
            "plans": {
                pid: {
                    "key": e.key,
                    "files": e.files,
                    "assets": e.assets,
                    "pages": e.pages,
                    "ready_key": e.ready_key,
                    "readiness": list(e.readiness),
                }
                for pid, e in sorted(self.plans.items())
            },
            "pages": self.pages,
            "assets": self.assets,
            "files": sorted(self.files),
        }
        tmp = out / (MANIFEST_NAME + ".tmp")
        tmp.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
        os.replace(tmp, out / MANIFEST_NAME)
