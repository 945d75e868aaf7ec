"""Discover plan files under a handbook root and parse each one once (cached by content hash)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from secplan.config import Config
from secplan.model import Plan

CATALOG_NAMES = ("index.md", "_index.md", "index.html.md")


@dataclass
class FileError:
    """A file that could not be read as a plan at all (binary, bad UTF-8, too large...)."""

    path: Path
    rel_path: str
    code: str  # rule code, e.g. SP106 / SP100
    message: str
    line: int = 1
    column: int = 1


@dataclass
class Handbook:
    """Every plan of a handbook, in path order."""

    root: Path
    config: Config
    plans: list[Plan] = field(default_factory=list)
    catalog_path: Path | None = None
    errors: list[FileError] = field(default_factory=list)

    def get(self, ref: str) -> Plan | None:
        """A plan by id (``security-enclave``) or by file path (relative to root or cwd)."""
        raise NotImplementedError

    def by_id(self) -> dict[str, Plan]:
        """Plans keyed by id."""
        return {p.id: p for p in self.plans}


def find_plan_files(root: Path) -> list[Path]:
    """Every plan file under ``root`` (catalog page excluded), sorted."""
    raise NotImplementedError


def load_handbook(
    root: Path, config: Config | None = None, paths: Iterable[Path] | None = None
) -> Handbook:
    """Load the handbook at ``root``; ``paths`` limits parsing to those files/directories."""
    raise NotImplementedError
