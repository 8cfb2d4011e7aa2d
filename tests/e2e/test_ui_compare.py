"""The compare flow in real headless Chromium: tick runs in the runs table, press Compare,
see their metrics overlaid and the params that differ highlighted."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, expect
from tests.servers import threaded_plinth
from tests.ui.browser import chromium, watched_page
from tests.ui.seed import Seeded, seed

from plinth.config import Settings
from plinth.connect import connect

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with chromium() as shared:
        yield shared


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Seeded]]:
    data = tmp_path_factory.mktemp("ui-compare")
    with threaded_plinth(Settings(data_dir=data / "server")) as url:
        platform = connect(Settings(data_dir=data / "client", url=url, system_metrics=False))
        try:
            yield url, seed(platform)
        finally:
            platform.close()


def test_compare_two_runs_from_the_runs_table(browser: Browser, server: tuple[str, Seeded]) -> None:
    url, ids = server
    with watched_page(browser) as (page, errors):
        page.goto(f"{url}/runs?experiment_id={ids.vision_id}")
        button = page.locator("#compare-button")
        expect(button).to_be_disabled()
        page.check(f'tr[data-run-id="{ids.resnet_a}"] input[name=run_ids]')
        expect(button).to_be_disabled()  # one run is not a comparison
        page.check(f'tr[data-run-id="{ids.resnet_b}"] input[name=run_ids]')
        expect(button).to_be_enabled()
        expect(page.locator(".selected-count")).to_have_text("2 selected")
        button.click()

        page.wait_for_url("**/compare?**")
        assert ids.resnet_a in page.url
        assert ids.resnet_b in page.url
        expect(page.locator("h1")).to_have_text("Compare runs")

        # one chart per metric, each run a series of its own
        loss = page.locator('#charts [data-title="loss"]')
        loss.scroll_into_view_if_needed()
        expect(loss.locator("canvas")).to_have_count(1)
        legend = loss.locator(".u-legend")
        expect(legend).to_contain_text("resnet-a")
        expect(legend).to_contain_text("resnet-b")
        expect(legend).not_to_contain_text("vit-c")

        # the param diff: lr differs (highlighted), model and epochs agree
        lr = page.locator('tr[data-param="lr"]')
        expect(lr).to_have_class("differs")
        expect(lr).to_contain_text("0.1")
        expect(lr).to_contain_text("0.01")
        background = lr.locator("td").first.evaluate("td => getComputedStyle(td).backgroundColor")
        plain = page.locator('tr[data-param="model"] td').first.evaluate(
            "td => getComputedStyle(td).backgroundColor"
        )
        assert background != plain
        expect(page.locator('tr[data-param="model"]')).to_have_class("same")
        page.check("#only-differing")
        expect(page.locator('tr[data-param="model"]')).to_be_hidden()
        expect(lr).to_be_visible()

        # system metrics, folded away, draw when opened (x: seconds since each run began)
        page.click("#system-metrics summary")
        cpu = page.locator('#system-metrics [data-title="system/cpu_percent"]')
        cpu.scroll_into_view_if_needed()
        expect(cpu.locator("canvas")).to_have_count(1)
        expect(cpu).to_contain_text("seconds since start")
        assert errors.messages == []
