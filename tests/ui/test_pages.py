"""Every UI page rendered in-process (no browser): status, key content, escaping, and assets
served from the package with no link to another host."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import pytest
from fastapi.testclient import TestClient

from plinth.config import Settings
from plinth.connect import connect
from plinth.server.app import create_app
from plinth.server.ui import experiments
from plinth.server.ui.templating import STATIC_DIR, TEMPLATES_DIR
from tests.ui.seed import Seeded, seed

PAGES = ["/", "/experiments", "/runs", "/compare"]


@pytest.fixture
def empty_client(tmp_path: Path) -> Iterator[TestClient]:
    with TestClient(create_app(Settings(data_dir=tmp_path))) as client:
        yield client


@pytest.fixture(scope="module")
def seeded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[TestClient, Seeded]]:
    settings = Settings(data_dir=tmp_path_factory.mktemp("ui"), system_metrics=False)
    platform = connect(settings)
    ids = seed(platform)
    platform.close()
    with TestClient(create_app(settings)) as client:
        yield client, ids


def run_names_in_order(html: str) -> list[str]:
    """Names of the runs in the table, top to bottom."""
    return re.findall(r'<td><a href="/runs/[0-9a-f]{32}">([^<]+)</a></td>', html)


@pytest.mark.parametrize("path", PAGES)
def test_pages_work_on_an_empty_database(empty_client: TestClient, path: str) -> None:
    response = empty_client.get(path)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert "<nav>" in response.text
    assert 'href="/runs"' in response.text
    # an empty database still has the Default experiment, and no runs anywhere
    assert re.search(r">Default</a>|No runs", response.text)


def test_shell_marks_the_active_section(seeded: tuple[TestClient, Seeded]) -> None:
    client, _ = seeded
    html = client.get("/runs").text
    assert '<a href="/runs" class="active" aria-current="page">Runs</a>' in html
    assert '<a href="/experiments">Experiments</a>' in html


def test_experiments_link_to_their_runs(seeded: tuple[TestClient, Seeded]) -> None:
    client, ids = seeded
    html = client.get("/experiments").text
    assert f'href="/runs?experiment_id={ids.vision_id}">vision</a>' in html
    assert "image models" in html


def test_experiments_paginate(
    seeded: tuple[TestClient, Seeded], monkeypatch: pytest.MonkeyPatch
) -> None:
    client, _ = seeded
    monkeypatch.setattr(experiments, "PAGE_SIZE", 2)
    first = client.get("/experiments").text
    assert first.count('<a href="/runs?experiment_id=') == 2
    following = re.search(r'<a href="(/experiments\?page_token=[^"]+)" rel="next"', first)
    assert following is not None
    rest = client.get(following.group(1).replace("&amp;", "&")).text
    assert rest.count('<a href="/runs?experiment_id=') == 1  # three with Default
    assert ">First page</a>" in rest


def test_runs_table_shows_metric_and_param_columns(seeded: tuple[TestClient, Seeded]) -> None:
    client, ids = seeded
    html = client.get(f"/runs?experiment_id={ids.vision_id}").text
    assert sorted(run_names_in_order(html)) == ["resnet-a", "resnet-b", "vit-c"]
    for column in ("metric:loss", "metric:acc", "param:lr", "param:model"):
        assert f'data-column="{column}"' in html
    assert "system/" not in html  # system metrics live on the run page, not the table
    assert 'name="run_ids"' in html


def test_runs_filter_uses_the_search_language(seeded: tuple[TestClient, Seeded]) -> None:
    client, _ = seeded
    html = client.get("/runs", params={"filter": 'params.model = "vit"'}).text
    assert run_names_in_order(html) == ["vit-c"]
    html = client.get("/runs", params={"filter": "metrics.loss < 0.5"}).text
    assert sorted(run_names_in_order(html)) == ["resnet-a", "resnet-b"]


def test_malformed_filter_is_shown_inline_with_its_position(
    seeded: tuple[TestClient, Seeded],
) -> None:
    client, _ = seeded
    response = client.get("/runs", params={"filter": "metrics.loss >> 1"})
    assert response.status_code == 200
    assert 'class="error filter-error" role="alert"' in response.text
    assert "at position 14" in response.text
    assert "metrics.loss &gt;&gt; 1" in response.text  # escaped, and kept in the box


def test_htmx_requests_get_only_the_table(seeded: tuple[TestClient, Seeded]) -> None:
    client, _ = seeded
    partial = client.get("/runs", headers={"HX-Request": "true"}).text
    assert "<html" not in partial
    assert 'id="runs"' in partial
    restore = {"HX-Request": "true", "HX-History-Restore-Request": "true"}
    assert "<html" in client.get("/runs", headers=restore).text


def test_sorting_by_a_metric_both_ways(seeded: tuple[TestClient, Seeded]) -> None:
    client, ids = seeded
    base = {"experiment_id": ids.vision_id}
    ascending = client.get("/runs", params={**base, "order_by": "metrics.`loss` ASC"}).text
    assert run_names_in_order(ascending) == ["resnet-a", "resnet-b", "vit-c"]
    assert 'aria-sort="ascending" data-column="metric:loss"' in ascending
    descending = client.get("/runs", params={**base, "order_by": "metrics.`loss` DESC"}).text
    assert run_names_in_order(descending) == ["vit-c", "resnet-b", "resnet-a"]
    # the header now links to the other direction
    assert quote("metrics.`loss` ASC", safe="") in descending.replace("+", "%20")


def test_pagination_with_page_tokens(seeded: tuple[TestClient, Seeded]) -> None:
    client, _ = seeded
    order = {"order_by": "name ASC", "max_results": 2}
    first = client.get("/runs", params=order).text
    first_names = run_names_in_order(first)
    assert len(first_names) == 2
    next_href = re.search(r'<a href="([^"]+)" hx-get="[^"]+" [^>]*rel="next"', first)
    assert next_href is not None
    second = client.get(next_href.group(1).replace("&amp;", "&")).text
    second_names = run_names_in_order(second)
    assert len(second_names) == 2
    assert not set(first_names) & set(second_names)
    previous = re.search(r'<a href="([^"]+)" hx-get="[^"]+" [^>]*rel="prev"', second)
    assert previous is not None
    assert run_names_in_order(client.get(previous.group(1).replace("&amp;", "&")).text) == (
        first_names
    )


def test_bad_page_token_is_reported_not_a_500(seeded: tuple[TestClient, Seeded]) -> None:
    client, _ = seeded
    response = client.get("/runs", params={"page_token": "garbage"})
    assert response.status_code == 200
    assert 'role="alert"' in response.text


def test_run_page_has_params_tags_charts_and_artifacts(
    seeded: tuple[TestClient, Seeded],
) -> None:
    client, ids = seeded
    html = client.get(f"/runs/{ids.resnet_a}").text
    assert "<h1>resnet-a" in html
    assert "<th>lr</th><td>0.1</td>" in html
    assert "<th>team</th><td>vision</td>" in html
    charts, system = html.split('id="system-metrics"')
    assert 'data-title="loss"' in charts
    assert 'data-title="acc"' in charts
    assert 'data-title="system/cpu_percent" data-x="time"' in system
    assert f'"run_id": "{ids.resnet_a}"' in html  # the chart's sources, for plinth.js
    for name in ("readme.txt", "config.json", "model.bin", "eval/"):
        assert f">{name}</a>" in html


def test_artifact_folders_and_previews(seeded: tuple[TestClient, Seeded]) -> None:
    client, ids = seeded
    base = f"/runs/{ids.resnet_a}"
    folder = client.get(f"{base}/artifacts", params={"path": "eval"}).text
    assert ">predictions.csv</a>" in folder
    assert ">plots/</a>" in folder
    assert ">..</a>" in folder

    def preview(path: str) -> str:
        response = client.get(f"{base}/artifact-preview", params={"path": path})
        assert response.status_code == 200
        return response.text

    assert "resnet baseline\nsecond line" in preview("readme.txt")
    assert "  &#34;optimizer&#34;: {\n    &#34;name&#34;: &#34;sgd&#34;" in preview("config.json")
    csv_html = preview("eval/predictions.csv")
    assert "<th>label</th>" in csv_html
    assert "<td>dog</td>" in csv_html
    image = preview("eval/plots/curve.png")
    image_url = f"/api/v1/runs/{ids.resnet_a}/artifacts/eval/plots/curve.png"
    assert f'<img class="preview-image" src="{image_url}"' in image
    assert "No preview for this kind of file" in preview("model.bin")
    assert 'role="alert"' in preview("missing.txt")


def test_previews_stop_at_their_limits(seeded: tuple[TestClient, Seeded]) -> None:
    client, ids = seeded

    def preview(path: str) -> str:
        return client.get(f"/runs/{ids.resnet_b}/artifact-preview", params={"path": path}).text

    big_csv = preview("big.csv")
    assert big_csv.count("<tr>") == 1 + 200  # the header and the first 200 rows
    assert "<td>199</td>" in big_csv
    assert "<td>200</td>" not in big_csv
    assert "Only the beginning of the file is shown" in big_csv
    log = preview("train.log")
    assert "line 000000 of the training log" in log
    assert "line 004999" not in log  # 64 KB of a 160 KB log, cut at a line end
    assert "Only the beginning of the file is shown" in log
    broken = preview("broken.json")
    assert "Not valid JSON." in broken
    assert "unterminated" in broken


def test_image_link_serves_the_bytes(seeded: tuple[TestClient, Seeded]) -> None:
    client, ids = seeded
    response = client.get(f"/api/v1/runs/{ids.resnet_a}/artifacts/eval/plots/curve.png")
    assert response.status_code == 200
    assert response.content.startswith(b"\x89PNG")


def test_compare_page_highlights_differing_params(seeded: tuple[TestClient, Seeded]) -> None:
    client, ids = seeded
    response = client.get("/compare", params={"run_ids": [ids.resnet_a, ids.resnet_b]})
    assert response.status_code == 200
    html = response.text
    assert '<tr class="differs" data-param="lr">' in html
    assert '<tr class="same" data-param="model">' in html
    assert '<tr class="same" data-param="epochs">' in html
    loss_chart = re.search(r'data-title="loss"[^>]*data-sources=\'([^\']+)\'', html)
    assert loss_chart is not None
    assert ids.resnet_a in loss_chart.group(1)
    assert ids.resnet_b in loss_chart.group(1)


def test_compare_of_an_unknown_run_is_a_404_page(seeded: tuple[TestClient, Seeded]) -> None:
    client, ids = seeded
    response = client.get("/compare", params={"run_ids": [ids.resnet_a, "0" * 32]})
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("text/html")


def test_unknown_run_is_a_404_page(seeded: tuple[TestClient, Seeded]) -> None:
    client, _ = seeded
    response = client.get(f"/runs/{'0' * 32}")
    assert response.status_code == 404
    assert "<h1>Not found</h1>" in response.text


def test_user_text_is_escaped_everywhere(seeded: tuple[TestClient, Seeded]) -> None:
    client, ids = seeded
    pages = [
        client.get("/runs").text,
        client.get(f"/runs/{ids.odd}").text,
        client.get("/compare", params={"run_ids": [ids.odd, ids.vit]}).text,
    ]
    for html in pages:
        assert "<b>odd</b>" not in html
        assert "<script>alert(1)</script>" not in html
        assert "&lt;b&gt;odd&lt;/b&gt;" in html


@pytest.mark.parametrize(
    "asset",
    [
        "vendor/htmx/htmx.min.js",
        "vendor/uplot/uPlot.iife.min.js",
        "vendor/uplot/uPlot.min.css",
        "plinth.js",
        "plinth.css",
        "favicon.svg",
    ],
)
def test_static_assets_are_served_from_the_package(empty_client: TestClient, asset: str) -> None:
    response = empty_client.get(f"/static/{asset}")
    assert response.status_code == 200
    assert response.content == (STATIC_DIR / asset).read_bytes()


def test_vendored_libraries_keep_their_licenses() -> None:
    for library in ("htmx", "uplot"):
        assert (STATIC_DIR / "vendor" / library / "LICENSE").read_text().strip()


def test_no_template_loads_anything_from_another_host() -> None:
    for template in TEMPLATES_DIR.glob("*.html"):
        text = template.read_text()
        assert "http://" not in text, template.name
        assert "https://" not in text, template.name
        assert "//" not in "".join(re.findall(r'(?:src|href)="([^"]*)"', text)), template.name


def test_rendered_pages_link_only_to_this_server(seeded: tuple[TestClient, Seeded]) -> None:
    client, ids = seeded
    for path in [*PAGES, f"/runs/{ids.resnet_a}", f"/compare?run_ids={ids.resnet_a}"]:
        html = client.get(path).text
        for url in re.findall(r'(?:src|href|hx-get)="([^"]*)"', html):
            assert url.startswith(("/", "#", "?")), (path, url)
            assert not url.startswith("//"), (path, url)


def test_ui_routes_stay_out_of_the_api_schema(empty_client: TestClient) -> None:
    paths = empty_client.get("/openapi.json").json()["paths"]
    assert not [p for p in paths if not p.startswith(("/api/", "/healthz", "/readyz", "/metrics"))]
