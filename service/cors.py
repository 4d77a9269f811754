"""Starlette's CORS rules, with a refused preflight answered in JSON like every other error."""

from __future__ import annotations

from starlette.datastructures import Headers
from starlette.middleware.cors import CORSMiddleware
from starlette.responses import JSONResponse, Response

# Starlette's reason names what was refused ("Disallowed CORS origin, headers"); this says what to do.
_ORIGIN_HINT = "list the page's origin in CITEQA_ALLOWED_ORIGINS, or give it a site key (CITEQA_SITE_KEYS)"


class CORS(CORSMiddleware):
    def preflight_response(self, request_headers: Headers) -> Response:
        response = super().preflight_response(request_headers)
        if response.status_code < 400:
            return response
        reason = bytes(response.body).decode()
        detail = f"{reason}: {_ORIGIN_HINT}" if "origin" in reason else reason
        kept = {name: value for name, value in response.headers.items() if name not in ("content-type", "content-length")}
        return JSONResponse({"detail": detail}, status_code=response.status_code, headers=kept)
