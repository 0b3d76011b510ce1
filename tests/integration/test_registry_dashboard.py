"""The dashboard's model panel on a real port: its JSON API and, in headless chromium, its buttons."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import uvicorn

from modstream.broker import EmbeddedBroker, free_port
from modstream.dashboard.app import Dashboard, DashboardConfig
from modstream.model import TextModel
from tests.integration.registry_fixtures import Cli, Version, with_champion
from tests.integration.stream_fixtures import unique, wait_for

pytestmark = pytest.mark.integration
CHROMIUM = Path("/usr/bin/chromium")


@pytest.fixture
def published(
    broker: EmbeddedBroker, capsys: pytest.CaptureFixture[str], versions: tuple[Version, Version]
) -> Cli:
    return with_champion(broker, capsys, versions, "--")


@pytest.fixture
def dashboard(published: Cli, model: TextModel) -> Iterator[str]:
    """The dashboard app with a model panel on a free port, in a thread; yields its URL."""
    topic = unique("t")
    config = DashboardConfig(
        bootstrap_servers=published.broker.bootstrap_servers, input_topic=topic,
        output_topic=topic, dead_letter_topic=topic, demo=False, origin="test",
        models_topic=published.topic,
    )  # fmt: skip
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(Dashboard(config, model).app, host="127.0.0.1", port=port,
                       lifespan="off", log_level="warning")
    )  # fmt: skip
    thread = threading.Thread(target=asyncio.run, args=(server.serve(),), daemon=True)
    thread.start()
    assert wait_for(lambda: server.started, 30, 0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(10)


def roles(models: Cli) -> dict[str, list[str]]:
    state = models.registry.state().model("moderation")
    return {version: state.roles_of(version) for version in state.versions}


def test_the_panel_lists_versions_and_changes_roles(
    dashboard: str, published: Cli, versions: tuple[Version, Version]
) -> None:
    one, two = (v.version for v in versions)
    listing = httpx.get(f"{dashboard}/api/models", timeout=30).json()
    assert [(v["version"], v["role"]) for v in listing["versions"]] == [
        (two, "-"),
        (one, "champion"),
    ]
    assert [h["event"] for h in listing["history"]] == ["published", "champion", "published"]
    answer = httpx.post(f"{dashboard}/api/models/shadow", json={"version": two}, timeout=30)
    assert answer.status_code == 200 and roles(published)[two] == ["shadow"]
    refused = httpx.post(f"{dashboard}/api/models/promote", json={"version": "v0"}, timeout=30)
    assert refused.status_code == 404 and "not published" in refused.json()["error"]
    httpx.post(f"{dashboard}/api/models/promote", json={"version": two}, timeout=30)
    assert roles(published) == {one: [], two: ["champion"]}
    httpx.post(f"{dashboard}/api/models/rollback", json={}, timeout=30)
    assert roles(published) == {one: ["champion"], two: []}


@pytest.mark.slow
@pytest.mark.skipif(not CHROMIUM.exists(), reason=f"needs Debian's chromium at {CHROMIUM}")
def test_a_moderator_promotes_and_rolls_back_from_the_page(
    dashboard: str, published: Cli, versions: tuple[Version, Version]
) -> None:
    sync_api = pytest.importorskip("playwright.sync_api", reason="needs playwright")
    from tests.integration.test_dashboard_browser import CHROMIUM_ARGS

    one, two = (v.version for v in versions)
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        try:
            page = browser.new_page()
            page.goto(dashboard + "/")
            expect = sync_api.expect
            row = page.locator(f'#models-rows tr[data-version="{two}"]')
            expect(row).to_contain_text("-", timeout=20_000)
            page.get_by_test_id(f"promote-{two}").click()
            expect(row).to_contain_text("champion", timeout=20_000)
            assert roles(published)[two] == ["champion"]
            page.get_by_test_id("rollback").click()
            expect(page.locator(f'#models-rows tr[data-version="{one}"]')).to_contain_text(
                "champion", timeout=20_000
            )
            expect(page.locator("#models-history li").first).to_contain_text("champion")
        finally:
            browser.close()
    assert roles(published) == {one: ["champion"], two: []}
