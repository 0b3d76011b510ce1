"""The dashboard in a real browser: headless Debian chromium driven by Playwright.

Needs ``apt-get install -y chromium`` and ``pip install playwright`` (no browser download:
the system chromium is used). Skipped, with the reason, when either is missing.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from tests.integration.test_up import Up, alive, descendants, produce, start_up, stop_up

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

sync_api = pytest.importorskip(
    "playwright.sync_api", reason="needs the playwright package: pip install playwright"
)
pytestmark = [
    pytest.mark.integration,
    pytest.mark.slow,
    pytest.mark.skipif(
        not CHROMIUM.exists(),
        reason=f"needs Debian's chromium at {CHROMIUM}: apt-get install -y chromium",
    ),
]


def _scored(page: object) -> int:
    text = page.locator("#stat-scored").inner_text()  # type: ignore[attr-defined]
    return int(text.replace(",", "").replace("\u202f", "") or 0)


@contextmanager
def dashboard_page(up: Up, height: int) -> Iterator[Any]:
    """The dashboard of ``up`` open in headless chromium, its live feed connected."""
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        try:
            page = browser.new_page(viewport={"width": 1280, "height": height})
            page.goto(up.url + "/")
            sync_api.expect(page.locator("#conn-text")).to_have_text("live", timeout=20_000)
            yield page
        finally:
            browser.close()


def test_a_moderator_sends_a_comment_and_watches_the_verdict_arrive() -> None:
    up = start_up()  # no --model: the demo model, trained at start-up
    children = descendants(up.process.pid)
    try:
        assert "DEMO model" in up.output
        with dashboard_page(up, height=900) as page:
            expect = sync_api.expect
            expect(page.locator("#demo-banner")).to_be_visible()
            expect(page.locator("#model")).to_contain_text("DEMO")

            page.fill("#comment", "lol source: trust me bro")
            page.click("#send")
            mine = page.locator("#my-result .comment")
            expect(mine).to_be_visible(timeout=30_000)
            expect(mine.locator(".text")).to_have_text("lol source: trust me bro")
            expect(mine.locator(".badge")).to_have_text("Likely removed")
            expect(mine.locator(".why .chip.up").first).to_be_visible()
            expect(mine.locator(".pct")).to_contain_text("chance of removal")
            expect(page.locator("#send-status")).to_contain_text("Scored")

            expect(page.locator("#stat-scored")).to_have_text("1", timeout=15_000)
            produce(up, "the sample size seems small", "username checks out", "thanks obama")
            page.wait_for_function(
                "document.getElementById('stat-scored').textContent === '4'", timeout=30_000
            )
            assert page.locator("#comments .comment").count() == 4
            assert page.locator("#comments .badge.kept").count() >= 1
            assert _scored(page) == 4
    finally:
        code = stop_up(up)
    assert code == 0
    assert alive(children) == set()
