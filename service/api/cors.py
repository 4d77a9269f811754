"""Starlette's CORS rules, with a refused preflight answered in JSON like every other error."""

from __future__ import annotations

from starlette.datastructures import Headers
from starlette.middleware.cors import CORSMiddleware
from starlette.responses import JSONResponse, Response

_ORIGIN_HINT = "list the page's origin in CITEQA_ALLOWED_ORIGINS, or give it a site key (CITEQA_SITE_KEYS)"


class CORS(CORSMiddleware):
    """A refused preflight keeps Starlette's status, headers and reason ("Disallowed CORS origin,
    headers"); the body is ``{"detail": ...}``, and an origin refused is told which settings allow it."""

    def preflight_response(self, request_headers: Headers) -> Response:
        """Starlette's answer to a preflight, a refusal rewritten as JSON with its status and headers kept."""
        response = super().preflight_response(request_headers)
        if response.status_code < 400:
            return response
        detail = bytes(response.body).decode()
        if not self.is_allowed_origin(origin=request_headers["origin"]):
            detail = f"{detail}: {_ORIGIN_HINT}"
        kept = {
            name: value for name, value in response.headers.items() if name not in ("content-type", "content-length")
        }
        return JSONResponse({"detail": detail}, status_code=response.status_code, headers=kept)
