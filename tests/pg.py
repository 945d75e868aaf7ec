"""A throw-away PostgreSQL server for the test suite (initdb + pg_ctl in a temporary directory)."""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


def _pg_bin() -> Path | None:
    for name in ("initdb", "pg_ctl"):
        found = shutil.which(name)
        if found:
            return Path(found).resolve().parent
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    return Path(candidates[-1]).parent if candidates else None


def _service_user() -> str:
    import pwd

    try:
        pwd.getpwnam("postgres")
        return "postgres"
    except KeyError:
        return "nobody"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def throwaway_postgres() -> Iterator[str]:
    """Start a PostgreSQL server on a free loopback port; yield its SQLAlchemy URL; stop it.

    initdb refuses to run as root, so as root the server runs as the ``postgres`` user (or
    ``nobody`` where the server binaries were installed without creating that user).
    """
    bindir = _pg_bin()
    if bindir is None:
        raise RuntimeError("PostgreSQL server binaries (initdb, pg_ctl) not found")
    tmp = Path(tempfile.mkdtemp(prefix="secplan-pg-"))
    data = tmp / "data"
    port = _free_port()
    prefix: list[str] = []
    if os.geteuid() == 0:
        user = _service_user()
        prefix = ["runuser", "-u", user, "--"]
        shutil.chown(tmp, user=user)
        os.chmod(tmp, 0o700)
    run = lambda *cmd: subprocess.run(  # noqa: E731
        [*prefix, *cmd], check=True, capture_output=True, text=True, cwd=tmp
    )
    run(str(bindir / "initdb"), "-D", str(data), "-U", "secplan", "-A", "trust", "--no-sync")
    run(
        str(bindir / "pg_ctl"),
        "-D",
        str(data),
        "-l",
        str(tmp / "log"),
        "-w",
        "-o",
        f"-p {port} -k {tmp} -c listen_addresses=127.0.0.1 -c fsync=off "
        "-c synchronous_commit=off -c full_page_writes=off",
        "start",
    )
    try:
        run(
            str(bindir / "createdb"), "-h", "127.0.0.1", "-p", str(port), "-U", "secplan", "secplan"
        )
        yield f"postgresql+psycopg://secplan@127.0.0.1:{port}/secplan"
    finally:
        subprocess.run(
            [*prefix, str(bindir / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop"],
            capture_output=True,
            cwd=tmp,
        )
        shutil.rmtree(tmp, ignore_errors=True)
