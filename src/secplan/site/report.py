"""What a ``secplan build`` did, as the command prints it (text or JSON)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from secplan.site.linkcheck import Broken, Link


@dataclass
class BuildReport:
    """What a build did: pages written and kept, assets, link check, search."""

    out: Path
    written: list[str] = field(default_factory=list)
    kept: int = 0
    removed: list[str] = field(default_factory=list)
    plans_rebuilt: int = 0
    plans_total: int = 0
    assets: int = 0
    warnings: list[str] = field(default_factory=list)
    broken: list[Broken] = field(default_factory=list)
    external: list[Link] = field(default_factory=list)
    tracker: bool = False
    search: bool = False
    seconds: float = 0.0

    def to_json(self) -> dict[str, Any]:
        """The report as ``secplan build --format json`` prints it."""
        return {
            "out": str(self.out),
            "written": self.written,
            "kept": self.kept,
            "removed": self.removed,
            "plans": {"total": self.plans_total, "rebuilt": self.plans_rebuilt},
            "assets": self.assets,
            "tracker": self.tracker,
            "search": self.search,
            "warnings": self.warnings,
            "broken_links": [asdict(b) for b in self.broken],
            "external_links": [asdict(x) for x in self.external],
            "seconds": round(self.seconds, 3),
        }
