"""The chat widget (``GET /widget.js``) and a demo page embedding it (``GET /``), plain static files."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter
from fastapi.responses import FileResponse

STATIC = Path(__file__).resolve().parent.parent / "static"

router = APIRouter(include_in_schema=False)


@router.get("/widget.js")
def widget() -> FileResponse:
    """The chat widget's script."""
    # Revalidated on every load, so a page picks up a new widget with the server that serves it.
    return FileResponse(STATIC / "widget.js", media_type="text/javascript", headers={"Cache-Control": "no-cache"})


@router.get("/")
def demo() -> FileResponse:
    """A demo page embedding the widget."""
    return FileResponse(STATIC / "demo.html", media_type="text/html")
