"""The API docs in a real browser with no way out to the internet, as on an offline machine."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Page, Route, expect

# A real browser.
pytestmark = pytest.mark.slow

LOOPBACK = {"127.0.0.1", "localhost", "::1", "[::1]"}


@pytest.fixture
def offline(page: Page) -> list[str]:
    """Abort every request that leaves the machine; the list of those the page tried."""
    refused: list[str] = []

    def route(route: Route) -> None:
        if urlsplit(route.request.url).hostname in LOOPBACK:
            route.continue_()
        else:
            refused.append(route.request.url)
            route.abort("internetdisconnected")

    page.context.route("**/*", route)
    return refused


def test_swagger_ui_lists_the_operations_with_the_network_blocked(page: Page, offline: list[str], server: str) -> None:
    page.goto(f"{server}/docs")
    operations = page.locator(".opblock-summary-path")
    expect(operations.filter(has_text="/ask").first).to_be_visible(timeout=15_000)
    expect(operations.filter(has_text="/search")).to_be_visible()
    assert offline == [], "the docs page asked for nothing beyond the server"


def test_redoc_renders_with_the_network_blocked(page: Page, offline: list[str], server: str) -> None:
    page.goto(f"{server}/redoc")
    expect(page.get_by_role("heading", name="citeqa", exact=False).first).to_be_visible(timeout=15_000)
    expect(page.get_by_text("/search").first).to_be_attached()
    # Its footer logo too is served from here: the page asks for nothing beyond the server.
    expect(page.locator('img[src="/redoc-logo.svg"]').first).to_be_attached()
    assert offline == [], offline
