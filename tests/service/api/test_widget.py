"""The chat widget in a real browser, embedded by a page of another origin, talking to a real server."""

from __future__ import annotations

import re
import shutil
import threading
from collections.abc import Iterator
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Locator, Page, expect

from indexer.build import Indexer
from indexer.embedder import Embedder
from service.local_server import free_port
from tests.support import CORPUS, ROOT, serving

# A real browser and real servers.
pytestmark = pytest.mark.slow

SHOTS = ROOT / "artifacts" / "screenshots"
XSS_DOC = Path(__file__).resolve().parents[1] / "data" / "portal-security-review.txt"
QUESTION = "How much did Meta pay for its stake in Scale AI?"
IMG_PAYLOAD = '<img src=x onerror="window.__pwned=1">'
SCRIPT_PAYLOAD = "<script>window.__pwned=1</script>"


class Quiet(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def origins(tmp_path_factory: pytest.TempPathFactory, embedder: Embedder) -> Iterator[dict[str, str]]:
    """A citeqa server (reports plus one carrying script payloads) that allows one other origin, and a
    partner page served from that origin and from one it does not allow."""
    corpus = tmp_path_factory.mktemp("widget-corpus")
    for document in [*CORPUS.glob("*.txt"), XSS_DOC]:
        shutil.copy(document, corpus / document.name)
    index_dir = tmp_path_factory.mktemp("widget") / "index"
    Indexer(embedder, progress=False).run(corpus, index_dir)
    allowed, refused = free_port(), free_port()
    with serving(index_dir, {"CITEQA_ALLOWED_ORIGINS": f"http://127.0.0.1:{allowed}"}) as citeqa:
        site = tmp_path_factory.mktemp("partner-site")
        (site / "index.html").write_text(
            "<!doctype html><html lang=en><head><meta charset=utf-8>"
            '<meta name="viewport" content="width=device-width, initial-scale=1"><title>Partner portal</title></head>'
            "<body><h1>Partner research portal</h1><p>Our analysts' reports, with answers you can check.</p>"
            f'<script src="{citeqa}/widget.js" data-title="Ask the report" data-accent="#0f766e" '
            'data-placeholder="Ask about Meta and Scale AI" defer></script></body></html>',
            encoding="utf-8",
        )
        handler = partial(Quiet, directory=str(site))
        servers = [ThreadingHTTPServer(("127.0.0.1", port), handler) for port in (allowed, refused)]
        for server in servers:
            threading.Thread(target=server.serve_forever, daemon=True).start()
        try:
            yield {"citeqa": citeqa, "allowed": f"http://127.0.0.1:{allowed}", "refused": f"http://127.0.0.1:{refused}"}
        finally:
            for server in servers:
                server.shutdown()
                server.server_close()


def launcher(page: Page) -> Locator:
    return page.get_by_role("button", name="Ask the report")


def ask(chat: Locator, question: str) -> Locator:
    """Type and send with Enter; the answer once it has finished streaming."""
    answer = chat.locator(".answer").nth(chat.locator(".answer").count())
    box = chat.get_by_role("textbox", name="Your question")
    box.fill(question)
    box.press("Enter")
    expect(answer).to_have_attribute("aria-busy", "false", timeout=30_000)
    return answer


def test_a_partner_page_streams_an_answer_with_marker_chips_and_quotes(page: Page, origins: dict[str, str]) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.goto(origins["allowed"])
    expect(launcher(page)).to_be_visible()
    expect(launcher(page)).to_have_attribute("aria-expanded", "false")
    page.screenshot(path=SHOTS / "launcher-closed.png")

    launcher(page).click()
    dialog = page.get_by_role("dialog", name="Ask the report")
    expect(dialog).to_be_visible()
    expect(dialog.get_by_role("textbox", name="Your question")).to_be_focused()
    expect(dialog.get_by_role("log")).to_have_attribute("aria-live", "polite")
    answer = ask(dialog, QUESTION)
    expect(answer).to_contain_text("$14.8 billion")
    chips = answer.get_by_role("button", name="Citation")
    expect(chips).to_have_text(["[1]", "[6]"])

    chips.first.focus()  # keyboard focus shows the quote, as hovering does
    quote = answer.locator(".quote")
    expect(quote).to_be_visible()
    expect(quote).to_contain_text("[1]")
    expect(quote).to_contain_text("meta-scale-ai-acquisition.txt")
    expect(quote.locator("blockquote")).to_contain_text("$14.8 billion [1][6]")
    chips.nth(1).click()
    expect(chips.nth(1)).to_have_attribute("aria-expanded", "true")
    expect(quote).to_contain_text("[6]")
    answer.get_by_text("Sources (").click()
    expect(answer.locator(".sources li").first).to_contain_text("meta-scale-ai-acquisition.txt")
    page.screenshot(path=SHOTS / "answer-open.png")

    chips.nth(1).focus()
    page.keyboard.press("Escape")  # on a chip Escape closes the quote first, then the panel
    expect(quote).to_be_hidden()
    expect(dialog).to_be_visible()
    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()
    expect(launcher(page)).to_be_focused()


def test_a_reload_keeps_the_conversation_and_a_follow_up_uses_it(page: Page, origins: dict[str, str]) -> None:
    page.goto(origins["allowed"])
    launcher(page).press("Enter")
    dialog = page.get_by_role("dialog", name="Ask the report")
    first = ask(dialog, QUESTION)
    text = first.locator(".text").inner_text()

    page.reload()
    launcher(page).click()
    restored = dialog.locator(".answer")
    expect(restored).to_have_count(1)
    expect(restored.locator(".text")).to_have_text(text)
    chips = restored.get_by_role("button", name="Citation")
    expect(chips).to_have_text(["[1]", "[6]"])
    chips.last.hover()
    expect(restored.locator(".quote")).to_contain_text("$14.8 billion")

    follow_up = ask(dialog, "Who will lead it?")
    expect(follow_up).to_contain_text("Alexandr Wang")
    expect(follow_up).not_to_have_class("answer abstained")
    expect(follow_up.get_by_role("button", name="Citation").first).to_have_text("[1]")


def test_report_text_that_looks_like_html_stays_text(page: Page, origins: dict[str, str]) -> None:
    page.goto(origins["allowed"])
    launcher(page).click()
    dialog = page.get_by_role("dialog", name="Ask the report")
    banner = ask(dialog, "What did the login banner of the Nimbus investor portal display?")
    expect(banner.locator(".text")).to_contain_text(IMG_PAYLOAD)
    error_page = ask(dialog, "What did the Nimbus error page echo back to visitors?")
    expect(error_page.locator(".text")).to_contain_text(SCRIPT_PAYLOAD)
    banner.get_by_role("button", name="Citation").first.click()
    expect(banner.locator(".quote")).to_contain_text(f"Portal Security Review {IMG_PAYLOAD}")
    banner.get_by_text("Sources (").click()
    expect(banner.locator(".sources")).to_contain_text(SCRIPT_PAYLOAD)
    page.wait_for_timeout(300)  # an injected <img> would have fired its onerror by now
    assert page.evaluate("typeof window.__pwned") == "undefined"
    injected = "document.querySelector('citeqa-chat').shadowRoot.querySelectorAll('img, script').length"
    assert page.evaluate(injected) == 0


def test_a_page_of_an_origin_not_allowed_shows_a_clear_error(page: Page, origins: dict[str, str]) -> None:
    page.goto(origins["refused"])
    launcher(page).click()
    dialog = page.get_by_role("dialog", name="Ask the report")
    failed = ask(dialog, QUESTION)
    alert = dialog.get_by_role("alert")
    expect(alert).to_contain_text("is not allowed to ask the service")
    expect(alert).to_contain_text(origins["refused"])
    expect(alert.get_by_role("button", name="Retry")).to_be_visible()
    expect(failed.get_by_role("button", name="Citation")).to_have_count(0)


def test_an_unreachable_server_shows_retry_and_retry_answers(page: Page, origins: dict[str, str]) -> None:
    page.goto(origins["allowed"])
    page.route(f"{origins['citeqa']}/**", lambda route: route.abort("connectionrefused"))
    launcher(page).click()
    dialog = page.get_by_role("dialog", name="Ask the report")
    ask(dialog, QUESTION)
    alert = dialog.get_by_role("alert")
    expect(alert).to_contain_text("cannot be reached")
    page.unroute(f"{origins['citeqa']}/**")
    alert.get_by_role("button", name="Retry").click()
    expect(dialog.locator(".answer").last).to_contain_text("$14.8 billion", timeout=30_000)
    expect(dialog.get_by_role("alert")).to_have_count(0)


def test_an_abstention_looks_different_from_an_answer(page: Page, origins: dict[str, str]) -> None:
    page.goto(origins["allowed"])
    launcher(page).click()
    dialog = page.get_by_role("dialog", name="Ask the report")
    answered = ask(dialog, QUESTION)
    abstained = ask(dialog, "What was Scale AI's revenue in 2024?")
    expect(abstained).to_contain_text("Closest in the reports")
    expect(abstained).not_to_contain_text("Not in the reports")
    # The closest sentences whole, quoted, each with its markers as chips.
    quotes = abstained.locator(".closest blockquote")
    expect(quotes.first).to_be_visible()
    assert 1 <= quotes.count() <= 3
    expect(quotes.first.locator(".chip").first).to_have_text(re.compile(r"^\[\d+\]$"))
    # Why: the words of the question no report sentence uses, so the user knows what to change.
    expect(abstained.locator(".note")).to_have_text('no sentence of the reports uses the words "revenue" or "2024"')
    half = ask(dialog, "Who will lead Meta's superintelligence lab, and what was Scale AI's revenue in 2024?")
    expect(half).to_contain_text("Alexandr Wang")
    expect(half.locator(".note")).to_have_text(
        "No sentence of the reports answers as asked: what was Scale AI's revenue in 2024? "
        "The closest they come is listed."
    )
    expect(answered.locator(".note")).to_have_count(0)
    far = ask(dialog, "Who won the 2022 World Cup?")
    expect(far).to_contain_text("Nothing close in the reports")
    expect(far.locator(".closest blockquote")).to_have_count(0)
    expect(abstained.get_by_role("button", name="Citation")).to_have_count(0)
    style = "e => [getComputedStyle(e).borderStyle, getComputedStyle(e).backgroundColor]"
    assert answered.evaluate(style) != abstained.evaluate(style)


def test_the_panel_fits_a_phone(browser: Browser, origins: dict[str, str]) -> None:
    context = browser.new_context(viewport={"width": 360, "height": 740}, is_mobile=True, has_touch=True)
    page = context.new_page()
    try:
        page.goto(origins["allowed"])
        launcher(page).click()
        dialog = page.get_by_role("dialog", name="Ask the report")
        ask(dialog, QUESTION)
        box = dialog.bounding_box()
        assert box and box["x"] >= 0 and box["x"] + box["width"] <= 360 and box["y"] >= 0
        send = dialog.get_by_role("button", name="Send").bounding_box()
        assert send and send["x"] + send["width"] <= 360
        assert page.evaluate("document.documentElement.scrollWidth") <= 360, "no sideways scrolling"
        page.screenshot(path=SHOTS / "phone-360.png")
    finally:
        context.close()


def test_the_demo_page_has_an_inline_chat_and_the_launcher(page: Page, origins: dict[str, str]) -> None:
    page.goto(origins["citeqa"])
    inline = page.get_by_role("region", name="Ask inline")
    expect(inline).to_be_visible()
    expect(launcher(page)).to_be_visible()
    answer = ask(inline, QUESTION)
    expect(answer.get_by_role("button", name="Citation")).to_have_text(["[1]", "[6]"])
    expect(page.get_by_role("dialog")).to_be_hidden()


def test_with_keys_required_the_site_key_of_the_page_lets_the_widget_answer(
    page: Page, seed_index: Path, tmp_path: Path
) -> None:
    port = free_port()
    portal = f"http://127.0.0.1:{port}"
    env = {"CITEQA_API_KEYS": "k-server-only", "CITEQA_SITE_KEYS": f"pk-portal@{portal}"}
    with serving(seed_index, env) as citeqa:
        for name, key in [("keyed.html", 'data-site-key="pk-portal"'), ("keyless.html", "")]:
            (tmp_path / name).write_text(
                f'<!doctype html><html lang=en><head><meta charset=utf-8><title>Portal</title></head><body>'
                f'<script src="{citeqa}/widget.js" data-title="Ask the report" {key} defer></script></body></html>',
                encoding="utf-8",
            )
        site = ThreadingHTTPServer(("127.0.0.1", port), partial(Quiet, directory=str(tmp_path)))
        threading.Thread(target=site.serve_forever, daemon=True).start()
        try:
            page.goto(f"{portal}/keyed.html")
            launcher(page).click()
            answer = ask(page.get_by_role("dialog", name="Ask the report"), QUESTION)
            expect(answer).to_contain_text("$14.8 billion")
            page.goto(f"{portal}/keyless.html")
            launcher(page).click()
            dialog = page.get_by_role("dialog", name="Ask the report")
            ask(dialog, QUESTION)
            expect(dialog.get_by_role("alert")).to_contain_text("an API key is required")
        finally:
            site.shutdown()
            site.server_close()
