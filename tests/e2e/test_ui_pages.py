"""The UI in real headless Chromium against a real server: every page loads without console
errors; the runs table filters, sorts and pages; run pages draw their charts (zoom fetches
the window again) and preview artifacts."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Locator, Page, expect
from tests.servers import threaded_plinth
from tests.ui.browser import ConsoleErrors, chromium, watched_page
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
    """A real server seeded over its REST API, as a user's training script would."""
    data = tmp_path_factory.mktemp("ui-e2e")
    with threaded_plinth(Settings(data_dir=data / "server")) as url:
        platform = connect(Settings(data_dir=data / "client", url=url, system_metrics=False))
        try:
            yield url, seed(platform)
        finally:
            platform.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    """A page whose console must stay free of errors for the whole test."""
    with watched_page(browser) as (opened, errors):
        yield opened
        assert errors.messages == []


def run_names(page: Page) -> list[str]:
    return page.locator("#runs tbody tr td:nth-child(2) a").all_inner_texts()


def drawn(chart: Locator) -> None:
    """Scroll a chart into view (charts load when near the viewport) and wait for its canvas."""
    chart.scroll_into_view_if_needed()
    expect(chart.locator("canvas")).to_have_count(1)
    expect(chart.locator(".u-legend")).to_be_visible()


def test_every_page_loads_without_console_errors(
    browser: Browser, server: tuple[str, Seeded], tmp_path: Path
) -> None:
    url, ids = server
    pages = [
        "/",
        "/experiments",
        "/runs",
        f"/runs?experiment_id={ids.vision_id}",
        f"/runs/{ids.resnet_a}",
        f"/runs/{ids.odd}",
        "/compare",
        f"/compare?run_ids={ids.resnet_a}&run_ids={ids.resnet_b}&run_ids={ids.vit}",
    ]
    with watched_page(browser) as (page, errors):
        for path in pages:
            page.goto(url + path)
            for chart in page.locator("[data-chart]:visible").all():
                drawn(chart)
            assert page.title().endswith("plinth"), path
        # a run named with markup is only ever text, in the tables and in chart legends
        page.goto(f"{url}/compare?run_ids={ids.odd}&run_ids={ids.vit}")
        compared_loss = page.locator('#charts [data-title="loss"]')
        drawn(compared_loss)
        expect(compared_loss.locator(".u-legend")).to_contain_text("<b>odd</b>")
        expect(page.locator("b", has_text="odd")).to_have_count(0)
        assert errors.messages == []
    # an empty database: the same pages, nothing to show, still no errors
    with (
        threaded_plinth(Settings(data_dir=tmp_path)) as empty_url,
        watched_page(browser) as (page, errors),
    ):
        for path, shown in [("/", "Default"), ("/runs", "No runs"), ("/compare", "No runs")]:
            page.goto(empty_url + path)
            expect(page.locator("main")).to_contain_text(shown)
        assert errors.messages == []


def test_filter_box_swaps_the_table_and_reports_mistakes(
    page: Page, server: tuple[str, Seeded]
) -> None:
    url, _ = server
    page.goto(url + "/runs")
    expect(page.locator("#runs tbody tr")).to_have_count(4)
    page.fill("#filter-input", 'params.model = "resnet" and metrics.loss < 0.15')
    page.press("#filter-input", "Enter")
    expect(page.locator("#runs tbody tr")).to_have_count(1)
    assert run_names(page) == ["resnet-a"]
    expect(page).to_have_url(re.compile(r"filter=params\.model"))  # the state is a link

    page.fill("#filter-input", "metrics.loss >> 1")
    page.press("#filter-input", "Enter")
    error = page.locator(".filter-error")
    expect(error).to_be_visible()
    expect(error).to_contain_text("at position 14")
    expect(page.locator("#runs")).to_have_count(0)

    page.select_option("#experiment-select", label="nlp")  # choosing an experiment applies
    page.fill("#filter-input", "")
    page.press("#filter-input", "Enter")
    expect(page.locator("#runs tbody tr")).to_have_count(1)
    assert run_names(page) == ["<b>odd</b>"]  # shown as text, never as markup


def test_sortable_columns_and_pages(page: Page, server: tuple[str, Seeded]) -> None:
    url, ids = server
    page.goto(f"{url}/runs?experiment_id={ids.vision_id}")
    header = page.locator('th[data-column="metric:loss"]')
    header.locator("a").click()
    expect(header).to_have_attribute("aria-sort", "descending")
    assert run_names(page) == ["vit-c", "resnet-b", "resnet-a"]
    header.locator("a").click()
    expect(header).to_have_attribute("aria-sort", "ascending")
    assert run_names(page) == ["resnet-a", "resnet-b", "vit-c"]

    page.goto(f"{url}/runs?order_by=name+ASC&max_results=2")
    first = run_names(page)
    assert len(first) == 2
    page.click("a[rel=next]")
    expect(page.locator("a[rel=prev]")).to_be_visible()
    second = run_names(page)
    assert len(second) == 2
    assert not set(first) & set(second)
    page.click("a[rel=prev]")
    expect(page.locator("a[rel=prev]")).to_have_count(0)
    assert run_names(page) == first


def test_run_page_charts_are_interactive(page: Page, server: tuple[str, Seeded]) -> None:
    url, ids = server
    page.goto(f"{url}/runs/{ids.resnet_a}")
    loss = page.locator('#charts [data-title="loss"]')
    drawn(loss)
    drawn(page.locator('#charts [data-title="acc"]'))
    for key in ("system/cpu_percent", "system/memory_percent"):
        drawn(page.locator(f'#system-metrics [data-title="{key}"]'))
    expect(loss.locator("[data-chart-note]")).to_contain_text("downsampled")

    # hover: the legend shows the values under the cursor
    box = loss.locator(".u-over").bounding_box()
    assert box is not None
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    expect(loss.locator(".u-legend .u-series").nth(1).locator(".u-value")).not_to_have_text("—")

    # drag-zoom fetches the window's own points; reset fetches the whole series again
    with page.expect_request(lambda r: "metric-history" in r.url and "min_step" in r.url):
        page.mouse.move(box["x"] + box["width"] * 0.2, box["y"] + 40)
        page.mouse.down()
        page.mouse.move(box["x"] + box["width"] * 0.3, box["y"] + 40, steps=5)
        page.mouse.up()
    expect(loss.locator("[data-chart-note]")).not_to_contain_text("downsampled")
    with page.expect_request(lambda r: "metric-history" in r.url and "min_step" not in r.url):
        loss.locator("[data-chart-reset]").click()
    expect(loss.locator("[data-chart-note]")).to_contain_text("downsampled")

    # smoothing adds the raw series beside the smoothed one; log scale redraws
    page.locator("[data-smoothing]").fill("0.9")
    expect(loss.locator(".u-legend")).to_contain_text("loss (raw)")
    expect(page.locator("[data-smoothing-value]")).to_have_text("0.9")
    page.check("[data-log-scale]")
    expect(loss.locator("canvas")).to_have_count(1)
    page.uncheck("[data-log-scale]")
    expect(loss.locator("canvas")).to_have_count(1)

    # a NaN is a gap in the line, and the chart says so
    page.goto(f"{url}/runs/{ids.vit}")
    vit_loss = page.locator('#charts [data-title="loss"]')
    drawn(vit_loss)
    expect(vit_loss.locator("[data-chart-note]")).to_have_text("1 non-finite values not drawn")


def test_artifact_browser_previews_each_kind(page: Page, server: tuple[str, Seeded]) -> None:
    url, ids = server
    page.goto(f"{url}/runs/{ids.resnet_a}")
    preview = page.locator("#artifact-preview")
    browser_pane = page.locator("#artifact-browser")

    browser_pane.get_by_role("link", name="readme.txt").click()
    expect(preview.locator("pre")).to_contain_text("resnet baseline")
    browser_pane.get_by_role("link", name="config.json").click()
    expect(preview.locator("pre.preview-json")).to_contain_text('"momentum": 0.9')
    browser_pane.get_by_role("link", name="model.bin").click()
    expect(preview).to_contain_text("No preview")

    browser_pane.get_by_role("link", name="eval/").click()
    browser_pane.get_by_role("link", name="predictions.csv").click()
    expect(preview.locator("table tbody tr")).to_have_count(3)
    expect(preview.locator("table thead")).to_contain_text("score")

    browser_pane.get_by_role("link", name="plots/").click()
    browser_pane.get_by_role("link", name="curve.png").click()
    image = preview.locator("img.preview-image")
    expect(image).to_be_visible()
    page.wait_for_function("document.querySelector('img.preview-image').complete")
    assert image.evaluate("img => img.naturalWidth") == 4

    browser_pane.get_by_role("link", name="artifacts", exact=True).click()
    expect(browser_pane.get_by_role("link", name="readme.txt")).to_be_visible()


def test_console_errors_are_caught(browser: Browser, server: tuple[str, Seeded]) -> None:
    """The watcher itself works: a page that throws is noticed."""
    url, _ = server
    with watched_page(browser) as (page, errors):
        page.goto(url + "/experiments")
        page.evaluate("setTimeout(() => { throw new Error('boom') }, 0)")
        page.wait_for_timeout(100)
        assert any("boom" in message for message in errors.messages)
    assert isinstance(errors, ConsoleErrors)
