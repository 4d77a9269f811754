"""``/mcp``: agents ask over the Model Context Protocol (Streamable HTTP), as guarded as ``/ask``; the server's
tools and resources are service/api/mcp.py's."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import JSONResponse
from mcp.server.mcpserver import MCPServer
from mcp.server.streamable_http_manager import StreamableHTTPASGIApp
from mcp.server.transport_security import TransportSecuritySettings
from starlette.routing import Route
from starlette.types import Receive, Scope, Send


class GuardedMCP:
    """``/mcp`` behind the same API keys and rate limits as ``/ask`` (the app's CORS middleware holds
    its origin rules): a refused client gets the same JSON error, before the MCP server sees it."""

    def __init__(self, server: MCPServer) -> None:
        self.server = server
        self.app: StreamableHTTPASGIApp | None = None

    @asynccontextmanager
    async def running(self) -> AsyncIterator[None]:
        """Serve while the app runs: a session manager runs once, so each start of the app gets its own."""
        # Stateless: a request needs no session another worker process may hold. Origins and hosts are
        # the app's rules (CORS, keys), not the SDK's own localhost-only default.
        self.server.streamable_http_app(
            stateless_http=True,
            json_response=True,
            transport_security=TransportSecuritySettings(enable_dns_rebinding_protection=False),
        )
        manager = self.server.session_manager
        async with manager.run():
            self.app = StreamableHTTPASGIApp(manager)
            try:
                yield
            finally:
                self.app = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        request = Request(scope, receive)
        try:
            request.app.state.access.admit(request)
        except HTTPException as error:
            refused = JSONResponse({"detail": error.detail}, status_code=error.status_code, headers=error.headers)
            await refused(scope, receive, send)
            return
        if self.app is None:  # the app is not running (started without its lifespan)
            await JSONResponse({"detail": "the MCP endpoint is not running"}, status_code=503)(scope, receive, send)
            return
        await self.app(scope, receive, send)


def router_for(agents: GuardedMCP) -> APIRouter:
    """``/mcp`` answered by ``agents``: the app's own, since its session manager runs with the app."""
    router = APIRouter()
    # An ASGI app of its own, not a function of a request: a route of Starlette's takes it as such.
    router.routes.append(Route("/mcp", agents, methods=["GET", "POST", "DELETE"], include_in_schema=False))
    return router
