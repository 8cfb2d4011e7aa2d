"""The registry's pages in real headless Chromium against a real server seeded over REST:
every page loads without console errors, a gated promotion is approved from the UI, and an
alias is rolled back from the UI. Every web request acts as ``anonymous`` until
authentication exists, so the seed makes ``anonymous`` an approver."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page, expect
from tests.servers import threaded_plinth
from tests.ui.browser import chromium, watched_page
from tests.ui.model_seed import WEB_ACTOR, SeededModels, register_all, seed_models

from plinth.config import Settings
from plinth.connect import Platform, connect
from plinth.sdk import fluent, session

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with chromium() as shared:
        yield shared


@pytest.fixture(scope="module")
def server(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[str, Platform, SeededModels]]:
    data = tmp_path_factory.mktemp("ui-models")
    with threaded_plinth(Settings(data_dir=data / "server")) as url:
        session.configure(url=url, data_dir=data / "sdk", system_metrics=False)
        platform = connect(Settings(data_dir=data / "client", url=url, system_metrics=False))
        try:
            yield url, platform, seed_models(platform)
        finally:
            fluent.end_all_runs()
            session.configure()
            platform.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    """A page whose console must stay free of errors for the whole test."""
    with watched_page(browser) as (opened, errors):
        yield opened
        assert errors.messages == []


def test_every_registry_page_loads_without_console_errors(
    page: Page, server: tuple[str, Platform, SeededModels]
) -> None:
    url, _, ids = server
    paths = [
        "/models",
        "/models?name_like=iris",
        "/models/iris",
        "/models/odd",
        "/models/empty",
        "/models/iris/versions/1",
        "/models/iris/versions/2",
        "/models/odd/versions/1",
        f"/runs/{ids.logged[0].run_id}",
    ]
    for path in paths:
        page.goto(url + path)
        assert page.title().endswith("plinth"), path
    # the top navigation leads to the models list, and on to a model and a version
    page.goto(url + "/experiments")
    page.click("header.shell nav >> text=Models")
    expect(page.locator("h1")).to_have_text("Models")
    page.click('#models a:text-is("iris")')
    expect(page.locator("h1")).to_have_text("iris")
    page.click('#versions-table tr[data-version="2"] a:text-is("v2")')
    expect(page.locator("h1")).to_contain_text("iris v2")
    # the lineage graph is drawn, and its nodes are links
    graph = page.locator("svg.lineage")
    expect(graph.locator("g.lineage-node")).to_have_count(4)  # data set, run, version, alias
    box = graph.bounding_box()
    assert box is not None
    assert box["width"] > 600
    graph.locator("g.kind-run a").click()
    page.wait_for_url(f"**/runs/{ids.logged[1].run_id}")
    expect(page.locator("#model-versions")).to_contain_text("iris v2")
    # a run named with markup stays text in the graph
    page.goto(url + "/models/odd/versions/1")
    expect(page.locator("g.kind-run text.lineage-label")).to_have_text("<b>odd</b>")


def test_promote_with_approval(page: Page, server: tuple[str, Platform, SeededModels]) -> None:
    url, platform, ids = server
    register_all(platform, "approved", ids.logged)
    platform.registry.promote("approved", 1, "champion", reason="baseline")
    platform.registry.set_gates("approved", ["accuracy >= 0.8", "1 approval from ml-lead"])
    platform.registry.add_approver("approved", WEB_ACTOR, "ml-lead")

    page.goto(url + "/models/approved")
    form = page.locator("form.promote-form")
    form.locator('input[name="version"]').fill("3")
    form.locator('input[name="alias"]').fill("champion")
    form.locator('input[name="reason"]').fill("weekly retrain")
    form.locator('button:text-is("Promote")').click()

    outcome = page.locator('[data-outcome="promote"]')
    expect(outcome).to_contain_text("opened: failed gates: 1 approval from ml-lead")
    request = page.locator('#requests article[data-status="open"]')
    expect(request).to_have_count(1)
    failed = request.locator('tr.failed[data-gate="1 approval from ml-lead"]')
    expect(failed).to_contain_text("fail")
    expect(failed).to_contain_text("0 of 1 approvals from role 'ml-lead'")
    expect(request.locator('tr.passed[data-gate="accuracy >= 0.8"]')).to_be_visible()
    expect(page.locator("#alias-champion .holder")).to_contain_text("v1")  # not moved yet

    request.locator('textarea[name="comment"]').fill("checked the eval report")
    request.locator('button:text-is("Approve")').click()

    expect(page.locator(".outcome-done")).to_contain_text(
        "Approved: @champion moved from v1 to v3."
    )
    expect(page.locator("#alias-champion .holder")).to_contain_text("v3")
    latest = page.locator("#alias-champion .alias-history tbody tr").first
    expect(latest).to_have_attribute("data-move-kind", "approved")
    expect(latest.locator(".change")).to_have_text("v1 → v3")
    expect(latest).to_contain_text("weekly retrain")
    expect(latest).to_contain_text("anonymous")
    expect(latest.locator("summary")).to_contain_text("2/2 passed")
    decided = page.locator('#requests article[data-status="applied"]')
    expect(decided).to_contain_text("checked the eval report")
    assert page.url == f"{url}/models/approved"  # the form posts never leave the page
    assert platform.registry.resolve("approved", alias="champion").version == 3


def test_rollback(page: Page, server: tuple[str, Platform, SeededModels]) -> None:
    url, platform, ids = server
    register_all(platform, "rolled", ids.logged)
    platform.registry.promote("rolled", 1, "prod", reason="first")
    platform.registry.promote("rolled", 2, "prod", reason="second")

    page.goto(url + "/models/rolled")
    card = page.locator("#alias-prod")
    expect(card.locator(".holder")).to_contain_text("v2")
    card.locator('input[name="reason"]').fill("latency regression")
    card.locator('button:text-is("Rollback")').click()

    expect(page.locator('[data-outcome="alias:prod"]')).to_contain_text(
        "@prod rolled back from v2 to v1."
    )
    card = page.locator("#alias-prod")
    expect(card.locator(".holder")).to_contain_text("v1")
    rows = card.locator(".alias-history tbody tr")
    expect(rows).to_have_count(3)
    expect(rows.first).to_have_attribute("data-move-kind", "rollback")
    expect(rows.first.locator(".change")).to_have_text("v2 → v1")
    expect(rows.first.locator(".reason")).to_have_text("latency regression")
    # the versions table marks the new holder
    expect(page.locator('#versions-table tr[data-version="1"]')).to_contain_text("@prod")
    assert platform.registry.resolve("rolled", alias="prod").version == 1
