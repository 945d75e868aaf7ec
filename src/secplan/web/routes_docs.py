"""The API documentation page: Swagger UI from the ``swagger-ui-bundle-v2`` package, served locally.

FastAPI's own docs pages load Swagger UI from a CDN, which the strict CSP and an offline install
forbid. Here its files come from the installed package under ``/api/assets/`` and our own
script starts it (no inline script). Swagger UI sets styles from script and shows its icons as
``data:`` images; the page's CSP adds only ``style-src 'unsafe-inline'`` for the styles React
writes, on this one route.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import Response
from fastapi.staticfiles import StaticFiles

from secplan.web.app import render
from secplan.web.security import CONTENT_SECURITY_POLICY

router = APIRouter()

#: The docs page's policy: the server's, with inline styles allowed (Swagger UI writes them).
DOCS_CSP = CONTENT_SECURITY_POLICY.replace("style-src 'self'", "style-src 'self' 'unsafe-inline'")


def swagger_dir() -> Path | None:
    """The packaged Swagger UI files, or None when ``swagger-ui-bundle-v2`` is not installed."""
    try:
        import swagger_ui_bundle
    except ImportError:
        return None
    path = Path(swagger_ui_bundle.swagger_ui_path)
    return path if (path / "swagger-ui-bundle.js").is_file() else None


def mount_assets(app: FastAPI) -> None:
    """Serve the Swagger UI files at ``/api/assets`` (when the package is there)."""
    folder = swagger_dir()
    if folder is not None:
        app.mount("/api/assets", StaticFiles(directory=str(folder)), name="swagger-ui")


@router.get("/api", summary="API documentation", response_class=Response)
def api_docs(request: Request) -> Response:
    """Swagger UI over ``/openapi.json``; without the package, a link to the document."""
    context: dict[str, Any] = {"title": "API", "swagger": swagger_dir() is not None}
    response = render(request, "api.html", **context)
    if context["swagger"]:
        response.headers["Content-Security-Policy"] = DOCS_CSP
    return response
