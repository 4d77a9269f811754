"""ReDoc's page (``GET /redoc``) served whole from here, its footer logo included.

FastAPIOffline serves ReDoc's script locally, but the script itself fetches its footer logo from
Redocly's CDN: offline, or behind a company proxy, that is a broken image and a request leaving the
network for every reader of the docs. The script is served with that address pointing here instead.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import fastapi_offline
from fastapi import APIRouter
from fastapi.openapi.docs import get_redoc_html
from fastapi.responses import HTMLResponse, Response

OFFLINE_STATIC = Path(fastapi_offline.__file__).with_name("static")
CDN_LOGO = "https://cdn.redoc.ly/redoc/logo-mini.svg"
LOGO = "/redoc-logo.svg"
# A plain mark in the place of the footer logo: a page of three lines.
LOGO_SVG = (
    '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 16 16"><g stroke="#32329f" stroke-width="2">'
    '<path d="M3 4h10M3 8h10M3 12h6"/></g></svg>'
)

router = APIRouter(include_in_schema=False)


@lru_cache(maxsize=1)
def redoc_script() -> str:
    """ReDoc's script as fastapi-offline ships it, its footer logo fetched from here; read once."""
    return (OFFLINE_STATIC / "redoc.standalone.js").read_text(encoding="utf-8").replace(CDN_LOGO, LOGO)


@router.get("/redoc")
def redoc() -> HTMLResponse:
    """ReDoc's page, with its script and icon served from here."""
    return get_redoc_html(
        openapi_url="/openapi.json",
        title="citeqa - ReDoc",
        redoc_js_url="/redoc.standalone.js",
        redoc_favicon_url="/static-offline-docs/favicon.png",
        with_google_fonts=False,
    )


@router.get("/redoc.standalone.js")
def redoc_js() -> Response:
    """ReDoc's script (``redoc_script``)."""
    return Response(redoc_script(), media_type="text/javascript")


@router.get(LOGO)
def redoc_logo() -> Response:
    """The mark in the place of ReDoc's footer logo."""
    return Response(LOGO_SVG, media_type="image/svg+xml")
