"""Command: ``secplan serve`` — the web UI (catalog, plans, epics, board, review threads)."""

from __future__ import annotations

import errno
import gc
import getpass
import socket
import sys
from pathlib import Path
from typing import Annotated

import typer

from secplan.cli.common import DatabaseUrlOption, RootOption, err_console, resolve_root_argument
from secplan.errors import UsageError


def serve(
    root_arg: Annotated[
        Path | None,
        typer.Argument(
            metavar="ROOT", help="Handbook root (default: --root or the current directory)."
        ),
    ] = None,
    root: RootOption = None,
    host: Annotated[
        str, typer.Option("--host", help="Address to bind; non-loopback needs authentication.")
    ] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", min=0, max=65535, help="Port to bind.")] = 8000,
    database_url: DatabaseUrlOption = None,
    demo: Annotated[
        bool,
        typer.Option(
            "--demo",
            help="Serve the example handbook from .secplan-demo/ with a filled tracker "
            "(made on first run).",
        ),
    ] = False,
    reset_demo: Annotated[
        bool, typer.Option("--reset-demo", help="With --demo: rebuild .secplan-demo/ first.")
    ] = False,
    hash_password: Annotated[
        bool,
        typer.Option(
            "--hash-password",
            help="Read a password (prompt or stdin) and print its hash for web_users; no server.",
        ),
    ] = False,
) -> None:
    """Serve the handbook in a browser (http://127.0.0.1:8000 by default)."""
    from secplan.web.security import Auth, is_loopback
    from secplan.web.security import hash_password as make_hash

    if hash_password:
        password = (
            getpass.getpass("Password: ") if sys.stdin.isatty() else sys.stdin.readline()
        ).rstrip("\n")
        if not password:
            raise UsageError("empty password")
        typer.echo(make_hash(password))
        return
    base = resolve_root_argument(root_arg, root)
    if demo:
        from secplan.web.demo import DEMO_DIR, prepare_demo

        err_console.print(f"Preparing the demo handbook in {DEMO_DIR}/ ...")
        base = prepare_demo(reset=reset_demo)
        database_url = None  # the demo owns its database: the SQLite file inside its copy
    elif not base.is_dir():
        raise UsageError(f"{base} is not a directory", hint="Pass the handbook root.")

    from secplan.config import load_config

    config = load_config(base)
    auth = Auth.from_sources(config.web_users)
    if not is_loopback(host) and not auth.enabled:
        raise UsageError(
            f"refusing to serve on {host} without authentication",
            hint="Set SECPLAN_WEB_TOKENS (comma-separated tokens) or web users "
            "(SECPLAN_WEB_USERS='name:hash', hash from 'secplan serve --hash-password'), "
            "or bind 127.0.0.1.",
        )

    _check_port_free(host, port)
    # The server's modules make many long-lived objects and no garbage worth collecting: no
    # collections while they load, then frozen, so the full collection the handbook load
    # starts with (and every later one) does not walk them all again (~0.1 s of the start).
    gc.disable()
    try:
        import uvicorn

        from secplan.web.app import create_app, route_modules

        route_modules()
        gc.freeze()
    finally:
        gc.enable()
    app = create_app(base, database_url=database_url, auth=auth, config=config, hosts=[host])
    shown = f"[{host}]" if ":" in host else host
    err_console.print(f"Serving {base} on http://{shown}:{port}/ (Ctrl+C to stop)")
    uvicorn.run(app, host=host, port=port, log_level="warning", server_header=False)


def _check_port_free(host: str, port: int) -> None:
    """A clear error with a hint, instead of uvicorn's log line, when the address is taken."""
    if port == 0:
        return
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        # uvicorn sets SO_REUSEADDR too: a port in TIME_WAIT is free for it, so for us as well.
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as exc:
            in_use = exc.errno == errno.EADDRINUSE
            raise UsageError(
                f"cannot listen on {host}:{port}: {exc.strerror or exc}",
                hint="Another program is using that port: choose another with --port "
                "(make demo PORT=8080)."
                if in_use
                else "Check --host: it must be an address of this machine.",
            ) from None


def register(app: typer.Typer) -> None:
    """Add this module's commands to the app."""
    app.command("serve")(serve)
