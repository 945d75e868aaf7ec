"""Rendering the web UI's templates for the static site: same templates, site links, a meta CSP.

Static hosts (GitLab Pages, ``python -m http.server``) send no security headers, so every page
carries the server's Content-Security-Policy in a ``<meta http-equiv>``, minus what a meta policy
cannot express (``frame-ancestors``) and plus what the search needs (``'wasm-unsafe-eval'``:
Pagefind searches with WebAssembly; still no inline script, no ``eval``).
"""

from __future__ import annotations

from typing import Any

from secplan.web.app import TEMPLATES, WebContext, page_globals
from secplan.web.links import SiteLinks
from secplan.web.security import CONTENT_SECURITY_POLICY

#: Directives a <meta> policy may not carry (browsers ignore them there, with a console error).
_HEADER_ONLY = ("frame-ancestors", "report-uri", "sandbox")


def site_csp(policy: str = CONTENT_SECURITY_POLICY) -> str:
    """The server's CSP as a meta policy for the static site (see the module docstring)."""
    out: list[str] = []
    for directive in (d.strip() for d in policy.split(";")):
        if not directive or directive.split()[0] in _HEADER_ONLY:
            continue
        if directive.split()[0] == "script-src" and "'wasm-unsafe-eval'" not in directive:
            directive += " 'wasm-unsafe-eval'"
        out.append(directive)
    return "; ".join(out)


SITE_CSP = site_csp()


def render_page(ctx: WebContext, template: str, links: SiteLinks, **context: Any) -> str:
    """One page of the static site: ``template`` with the site's links and no live parts."""
    return TEMPLATES.env.get_template(template).render(
        {**page_globals(ctx, links), "site_csp": SITE_CSP, **context}
    )
