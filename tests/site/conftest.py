"""Fixtures for the static-site tests: private copies of the site fixture handbooks."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"


def copy_fixture(name: str, tmp_path: Path) -> Path:
    """A private copy of ``tests/fixtures/<name>`` (builds write a parse cache under it)."""
    root = tmp_path / name
    shutil.copytree(FIXTURES / name, root)
    return root


@pytest.fixture
def site_handbook(tmp_path: Path) -> Path:
    """Plans in both layouts (Middleman ``name/index.html.md``, Hugo ``name.md`` and
    ``name/_index.md``) with images, an attachment and links between them."""
    return copy_fixture("site-handbook", tmp_path)
