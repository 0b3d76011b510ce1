"""The moderation loop in a real browser (headless Debian chromium driven by Playwright):
a moderator removes a comment from its card, the quality panel counts the label, and
off-distribution traffic raises the drift banner. Skipped, with the reason, without
chromium or playwright, like the dashboard's own browser test."""

from __future__ import annotations

import subprocess
import sys

# Its skips (no playwright, no chromium) and marks are this module's too.
from tests.integration.test_dashboard_browser import (  # noqa: F401
    dashboard_page,
    pytestmark,
    sync_api,
)
from tests.integration.test_up import Up, alive, descendants, start_up, stop_up
from tests.unit.monitor_shift import off_distribution


def _produce_many(up: Up, texts: list[str]) -> None:
    command = [sys.executable, "-m", "modstream", "produce", "--bootstrap-servers", up.bootstrap]
    command += ["--topic", "comments"]
    subprocess.run(command, input="\n".join(texts), text=True, check=True, capture_output=True)


def test_a_moderator_decides_on_a_card_and_the_quality_panel_and_drift_banner_follow() -> None:
    up = start_up()  # the demo model, trained at start-up
    children = descendants(up.process.pid)
    try:
        with dashboard_page(up, height=1400) as page:
            expect = sync_api.expect
            expect(page.locator("#quality-panel")).to_be_visible(timeout=20_000)
            expect(page.locator("#quality-empty")).to_be_visible()

            page.fill("#comment", "lol source: trust me bro")
            page.click("#send")
            card = page.locator("#comments .comment").first
            expect(card.locator(".text")).to_have_text("lol source: trust me bro", timeout=30_000)
            card.locator("[data-testid=decide-remove]").click()
            expect(card.locator(".decision")).to_have_text("moderator: removed", timeout=15_000)

            row = page.locator("#quality-rows tr")
            expect(row).to_have_count(1, timeout=30_000)
            expect(row.locator("td").nth(1)).to_have_text("champion")
            expect(row.locator("td").nth(2)).to_have_text("1", timeout=30_000)
            expect(page.locator("#reliability circle")).to_have_count(1)
            expect(page.locator("#drift-banner")).to_be_hidden()

            _produce_many(up, off_distribution("german", 1300))
            banner = page.locator("#drift-banner")
            expect(banner).to_be_visible(timeout=120_000)
            expect(banner).to_contain_text("DRIFT")
            expect(banner).to_contain_text("oov PSI")
    finally:
        code = stop_up(up)
    assert code == 0
    assert alive(children) == set()
