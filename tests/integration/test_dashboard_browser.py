"""The dashboard in a real browser: headless Debian chromium driven by Playwright. A user
sends a comment and watches the verdict arrive; then the moderation loop: a moderator
removes a comment from its card, the quality panel counts the label, and off-distribution
traffic raises the drift banner. Both run on one ``modstream up`` with the demo model, in
this order (the first counts every verdict from zero, the second its one decision).

Needs ``apt-get install -y chromium`` and ``pip install playwright`` (no browser download:
the system chromium is used). Skipped, with the reason, when either is missing.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from tests.integration.test_up import Up, alive, descendants, produce, start_up, stop_up
from tests.unit.monitor_shift import off_distribution

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


@pytest.fixture(scope="module")
def demo_up() -> Iterator[Up]:
    """``modstream up`` with no ``--model`` (the demo model, trained at start-up); stopped
    by Ctrl-C at the end, which must leave no process behind."""
    up = start_up()
    children = descendants(up.process.pid)
    try:
        yield up
    finally:
        code = stop_up(up)
    assert code == 0
    assert alive(children) == set()


def test_a_moderator_sends_a_comment_and_watches_the_verdict_arrive(demo_up: Up) -> None:
    up = demo_up
    assert "DEMO model" in up.output
    with dashboard_page(up, height=900) as page:
        expect = sync_api.expect
        expect(page.locator("#demo-banner")).to_be_visible()
        expect(page.locator("#model")).to_contain_text("DEMO")
        expect(page.locator("#quality-panel")).to_be_visible(timeout=20_000)
        expect(page.locator("#quality-empty")).to_be_visible()  # nothing scored yet

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


def _produce_many(up: Up, texts: list[str]) -> None:
    command = [sys.executable, "-m", "modstream", "produce", "--bootstrap-servers", up.bootstrap]
    command += ["--topic", "comments"]
    subprocess.run(command, input="\n".join(texts), text=True, check=True, capture_output=True)


def test_a_moderator_decides_on_a_card_and_the_quality_panel_and_drift_banner_follow(
    demo_up: Up,
) -> None:
    up = demo_up
    with dashboard_page(up, height=1400) as page:
        expect = sync_api.expect
        row = page.locator("#quality-rows tr")
        expect(row).to_have_count(1, timeout=30_000)  # the champion, scored above
        expect(row.locator("td").nth(2)).to_have_text("0")  # and not one decision yet

        page.fill("#comment", "the effect size is tiny and n=12")
        page.click("#send")
        card = page.locator("#comments .comment").first
        expect(card.locator(".text")).to_have_text("the effect size is tiny and n=12",
                                                   timeout=30_000)  # fmt: skip
        card.locator("[data-testid=decide-remove]").click()
        expect(card.locator(".decision")).to_have_text("moderator: removed", timeout=15_000)

        expect(row.locator("td").nth(1)).to_have_text("champion")
        expect(row.locator("td").nth(2)).to_have_text("1", timeout=30_000)
        expect(page.locator("#reliability circle")).to_have_count(1)
        expect(page.locator("#drift-banner")).to_be_hidden()

        _produce_many(up, off_distribution("german", 1300))
        banner = page.locator("#drift-banner")
        expect(banner).to_be_visible(timeout=120_000)
        expect(banner).to_contain_text("DRIFT")
        expect(banner).to_contain_text("oov PSI")
