"""``atomic_write`` makes the new file durable before and after the rename."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from secplan.handbook import catalog


def test_file_and_directory_are_fsynced(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    synced: list[str] = []
    real_fsync = os.fsync

    def fsync(fd: int) -> None:
        synced.append("dir" if stat.S_ISDIR(os.fstat(fd).st_mode) else "file")
        real_fsync(fd)

    monkeypatch.setattr(catalog.os, "fsync", fsync)
    page = tmp_path / "index.md"
    catalog.atomic_write(page, "new\n")
    assert page.read_text() == "new\n"
    assert synced == ["file", "dir"]
