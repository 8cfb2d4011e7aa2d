"""The model registry's pages rendered in-process (no browser): the models list, a model
page, a version page with its lineage graph, the promotion forms, 404s and escaping."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from plinth import __version__
from plinth.config import Settings
from plinth.connect import Platform, connect
from plinth.entities.lineage import Direction, LineageEdge, LineageGraph, LineageNode, NodeKind
from plinth.sdk import fluent, session
from plinth.server.app import create_app
from plinth.server.ui import lineage_svg, models
from tests.ui.model_seed import ODD_TEXT, SeededModels, register_all, seed_models

HTMX = {"HX-Request": "true"}


@dataclass(frozen=True)
class Registry:
    client: TestClient
    platform: Platform
    ids: SeededModels


@pytest.fixture
def empty_client(tmp_path: Path) -> Iterator[TestClient]:
    with TestClient(create_app(Settings(data_dir=tmp_path))) as client:
        yield client


@pytest.fixture(scope="module")
def seeded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Registry]:
    """Seeded in local mode (the actor is ``local``); the pages act as ``anonymous``."""
    settings = Settings(data_dir=tmp_path_factory.mktemp("ui-models"), system_metrics=False)
    session.configure(data_dir=settings.data_dir, system_metrics=False)
    platform = connect(settings)
    try:
        ids = seed_models(platform)
        with TestClient(create_app(settings)) as client:
            yield Registry(client, platform, ids)
    finally:
        fluent.end_all_runs()
        session.configure()
        platform.close()


@pytest.fixture
def fresh(seeded: Registry, request: pytest.FixtureRequest) -> str:
    """A model of its own for a test that changes it: v1..v3 of the seeded runs."""
    name = re.sub(r"[^A-Za-z0-9]+", "-", request.node.name).strip("-")[:60]
    register_all(seeded.platform, name, seeded.ids.logged)
    return name


def test_models_page_on_an_empty_database(empty_client: TestClient) -> None:
    response = empty_client.get("/models")
    assert response.status_code == 200
    assert '<a href="/models" class="active" aria-current="page">Models</a>' in response.text
    assert "No registered models yet" in response.text


def test_models_page_lists_models_with_aliases(seeded: Registry) -> None:
    html = seeded.client.get("/models").text
    row = re.search(r'<tr data-model="iris">(.*?)</tr>', html, re.S)
    assert row is not None
    assert '<a href="/models/iris">iris</a>' in row.group(1)
    assert '<a href="/models/iris/versions/3">v3</a>' in row.group(1)
    assert "@champion → v2" in row.group(1)
    assert "<td>local</td>" in row.group(1)  # the owner: who registered it first
    assert 'data-model="empty"' in html
    filtered = seeded.client.get("/models", params={"name_like": "IRI"}).text
    assert re.findall(r'<tr data-model="([^"]+)"', filtered) == ["iris"]
    assert "No model's name contains" in seeded.client.get("/models?name_like=zzz").text


def test_models_page_pages(seeded: Registry, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(models, "PAGE_SIZE", 2)
    first = seeded.client.get("/models").text
    assert len(re.findall(r"<tr data-model=", first)) == 2
    following = re.search(r'<a href="(/models\?page_token=[^"]+)" rel="next"', first)
    assert following is not None
    rest = seeded.client.get(following.group(1).replace("&amp;", "&")).text
    assert ">First page</a>" in rest
    names = re.findall(r'<tr data-model="([^"]+)"', first + rest)
    assert {"iris", "odd", "empty"} <= set(names)
    assert seeded.client.get("/models?page_token=garbage").status_code == 400


def test_model_page_shows_versions_aliases_gates_and_requests(seeded: Registry) -> None:
    run_ids = [item.run_id for item in seeded.ids.logged]
    html = seeded.client.get("/models/iris").text
    assert "<h1>iris</h1>" in html
    versions = re.findall(r'<tr data-version="(\d+)">', html)
    assert versions == ["3", "2", "1"]  # newest first
    for run_id in run_ids:
        assert f'<a href="/runs/{run_id}"><code>{run_id[:8]}</code></a>' in html
    assert '<th class="metric">accuracy</th>' in html  # the metric a gate names comes first
    assert '<td class="num metric">0.86</td>' in html
    assert '<span class="scan scan-not-needed">not-needed</span>' in html  # skops
    # the alias, its holder and its history, newest first
    champion = html.split('id="alias-champion"')[1].split("</article>")[0]
    assert '→ <a href="/models/iris/versions/2">v2</a>' in champion
    assert champion.count('data-move-kind="promote"') == 2
    assert champion.index("better accuracy") < champion.index("first model")
    assert '<span class="missing">none</span> → <a href="/models/iris/versions/1">' in champion
    assert "0/0" not in champion
    assert "no gates" in champion
    # gates as declared, approvers
    assert "<code>accuracy &gt;= 0.8</code>" in html
    assert "<code>1 approval from ml-lead</code>" in html
    assert "<td>anonymous</td><td>ml-lead</td>" in html
    # the open request, with its gate results and the decision form
    request = html.split(f'id="request-{seeded.ids.open_request}"')[1].split("</article>")[0]
    assert 'data-status="open"' in html
    assert '<tr class="failed" data-gate="1 approval from ml-lead">' in request
    assert "0 of 1 approvals from role &#39;ml-lead&#39;" in request
    assert '<tr class="passed" data-gate="accuracy &gt;= 0.8">' in request
    approve = f"/models/iris/promotions/{seeded.ids.open_request}/approve"
    assert f'hx-post="{approve}"' in request
    assert 'name="comment"' in request
    assert ">Reject</button>" in request
    assert "as anonymous" in request


def test_model_versions_page(seeded: Registry, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(models, "PAGE_SIZE", 2)
    first = seeded.client.get("/models/iris").text
    assert re.findall(r'<tr data-version="(\d+)">', first) == ["3", "2"]
    older = re.search(r'<a href="(/models/iris\?versions_token=[^"]+)" rel="next"', first)
    assert older is not None
    rest = seeded.client.get(older.group(1).replace("&amp;", "&")).text
    assert re.findall(r'<tr data-version="(\d+)">', rest) == ["1"]
    assert '<a href="/models/iris">First page</a>' in rest
    stale = seeded.client.get("/models/iris?versions_token=garbage")
    assert stale.status_code == 200  # the rest of the page still shows
    assert 'class="error" role="alert"' in stale.text


def test_model_without_versions(seeded: Registry) -> None:
    html = seeded.client.get("/models/empty").text
    assert "No versions yet." in html
    assert "No aliases yet" in html
    assert "No promotion requests." in html
    assert "nothing registered yet" in html


def test_version_page_shows_signature_metrics_files_and_lineage(seeded: Registry) -> None:
    first = seeded.ids.logged[0]
    response = seeded.client.get("/models/iris/versions/1")
    assert response.status_code == 200
    html = response.text
    assert "<h1>iris v1" in html
    assert f"/static/plinth.css?v={__version__}" in html  # the shell's own globals intact
    assert f'<a href="/runs/{first.run_id}" id="source-run">train-iris</a>' in html
    signature = html.split('id="signature"')[1].split("</section>")[0]
    assert "<td>sepal_length</td><td><code>float64</code></td>" in signature
    assert "<caption>Outputs</caption>" in signature
    assert '<th>accuracy</th><td class="num">0.81</td>' in html
    assert "<td>iris-train</td><td>training</td>" in html
    files = html.split('id="files"')[1].split("</section>")[0]
    download = f"/api/v1/runs/{first.run_id}/artifacts/model/plinth-model.yaml"
    assert f'<a href="{download}" download>plinth-model.yaml</a>' in files
    assert ">model.skops</a>" in files
    assert seeded.client.get(download).status_code == 200
    assert "the stored manifest no longer matches" not in html
    assert "scikit-learn==" in html  # the pinned requirements
    # the lineage graph: data set -> run -> version (the root) -> no alias yet
    lineage = html.split('id="lineage"')[1]
    assert "<svg" in lineage
    assert 'class="lineage-node kind-dataset"' in lineage
    assert f'<a href="/runs/{first.run_id}">' in lineage
    assert 'class="lineage-node kind-model_version root" data-uri="models:/iris/1"' in lineage
    assert lineage.count('class="lineage-edge') == 2


def test_version_page_lineage_reaches_the_aliases(seeded: Registry) -> None:
    html = seeded.client.get("/models/iris/versions/2").text
    assert '<a class="chip alias" href="/models/iris#alias-champion">@champion</a>' in html
    lineage = html.split('id="lineage"')[1]
    assert 'data-uri="models:/iris@champion"' in lineage
    assert '<a href="/models/iris#alias-champion">' in lineage


@pytest.mark.parametrize(
    "path",
    [
        "/models/nope",
        "/models/bad name",
        "/models/iris/versions/99",
        "/models/iris/versions/abc",
        "/models/iris/versions/99999999999999999999",
        "/models/iris/versions/0",
        "/models/iris/versions/²",
        "/models/nope/versions/1",
    ],
)
def test_unknown_models_and_versions_are_404_pages(seeded: Registry, path: str) -> None:
    response = seeded.client.get(path)
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("text/html")
    assert "<h1>Not found</h1>" in response.text


def test_user_text_is_escaped_on_every_registry_page(seeded: Registry) -> None:
    pages = [
        seeded.client.get("/models").text,
        seeded.client.get("/models/odd").text,
        seeded.client.get("/models/odd/versions/1").text,
        seeded.client.get("/models/iris").text,
    ]
    for html in pages:
        assert ODD_TEXT not in html
        assert "<b>odd</b>" not in html
        assert "<i>ml</i>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in pages[1]  # description and reason
    assert "team=&lt;i&gt;ml&lt;/i&gt;" in pages[1]
    assert "&lt;b&gt;odd&lt;/b&gt;" in pages[2]  # the run's name, in the graph too
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in pages[3]  # the open request's reason


def test_run_page_links_the_versions_it_produced(seeded: Registry) -> None:
    run_id = seeded.ids.logged[1].run_id
    html = seeded.client.get(f"/runs/{run_id}").text
    assert '<a class="chip" href="/models/iris/versions/2">iris v2</a>' in html


def test_promote_moves_an_alias_when_no_gate_stops_it(seeded: Registry, fresh: str) -> None:
    response = seeded.client.post(
        f"/models/{fresh}/promote",
        data={"version": "2", "alias": "staging", "reason": "smoke tests pass"},
        headers=HTMX,
    )
    assert response.status_code == 200
    html = response.text
    assert 'data-outcome="promote"' in html
    assert "@staging moved from nothing to v2." in html
    assert f'→ <a href="/models/{fresh}/versions/2">v2</a>' in html
    assert "smoke tests pass" in html


def test_promote_through_gates_then_approve(seeded: Registry, fresh: str) -> None:
    registry = seeded.platform.registry
    registry.set_gates(fresh, ["1 approval from ml-lead"])
    opened = seeded.client.post(
        f"/models/{fresh}/promote", data={"version": "3", "alias": "champion"}, headers=HTMX
    ).text
    assert "opened: failed gates: 1 approval from ml-lead." in opened
    assert 'class="outcome outcome-pending"' in opened
    [request] = registry.store.list_requests(fresh)
    # anonymous holds no role yet: the service's refusal is shown by the form
    refused = seeded.client.post(
        f"/models/{fresh}/promotions/{request.id}/approve", data={"comment": "ok"}, headers=HTMX
    )
    assert refused.status_code == 200  # htmx swaps only 2xx answers
    box = refused.text.split(f'data-outcome="request:{request.id}"')[1].split("</div>")[0]
    assert "anonymous" in box
    assert "ml-lead" in box
    plain = seeded.client.post(
        f"/models/{fresh}/promotions/{request.id}/approve", data={"comment": "ok"}
    )
    assert plain.status_code == 403  # a plain form post gets the real status, and the page
    assert "<h1>" in plain.text

    registry.add_approver(fresh, "anonymous", "ml-lead")
    approved = seeded.client.post(
        f"/models/{fresh}/promotions/{request.id}/approve",
        data={"comment": "<em>ship</em> it"},
        headers=HTMX,
    ).text
    assert "Approved: @champion moved from nothing to v3." in approved
    assert "<q>&lt;em&gt;ship&lt;/em&gt; it</q>" in approved
    assert 'data-move-kind="approved"' in approved
    assert registry.resolve(fresh, alias="champion").version == 3


def test_reject_closes_a_request(seeded: Registry, fresh: str) -> None:
    registry = seeded.platform.registry
    registry.set_gates(fresh, ["1 approval from ml-lead"])
    registry.add_approver(fresh, "anonymous", "ml-lead")
    request = registry.promote(fresh, 1, "champion").request
    assert request is not None
    html = seeded.client.post(
        f"/models/{fresh}/promotions/{request.id}/reject", data={"comment": "no"}, headers=HTMX
    ).text
    assert "Request rejected." in html
    assert 'data-status="rejected"' in html
    assert "decision-reject" in html


def test_rollback_moves_the_alias_back(seeded: Registry, fresh: str) -> None:
    registry = seeded.platform.registry
    registry.promote(fresh, 1, "champion")
    registry.promote(fresh, 2, "champion")
    html = seeded.client.post(
        f"/models/{fresh}/rollback",
        data={"alias": "champion", "reason": "latency regression"},
        headers=HTMX,
    ).text
    assert "@champion rolled back from v2 to v1." in html
    assert 'data-move-kind="rollback"' in html
    assert "latency regression" in html
    assert registry.resolve(fresh, alias="champion").version == 1


def test_form_errors_are_shown_next_to_the_form(seeded: Registry, fresh: str) -> None:
    bad_alias = seeded.client.post(
        f"/models/{fresh}/promote", data={"version": "1", "alias": "latest"}, headers=HTMX
    ).text
    assert 'role="alert" data-outcome="promote"' in bad_alias
    assert "reserved" in bad_alias
    no_history = seeded.client.post(
        f"/models/{fresh}/rollback", data={"alias": "nothing"}, headers=HTMX
    )
    assert no_history.status_code == 200
    assert 'role="alert"' in no_history.text
    other = seeded.client.post(
        f"/models/{fresh}/promotions/{seeded.ids.open_request}/approve", headers=HTMX
    ).text
    assert "has no promotion request" in other  # a request of another model


def test_forms_from_another_site_are_refused(seeded: Registry, fresh: str) -> None:
    url = f"/models/{fresh}/promote"
    form = {"version": "1", "alias": "champion"}
    cross = seeded.client.post(url, data=form, headers={"Sec-Fetch-Site": "cross-site"})
    assert cross.status_code == 403
    elsewhere = seeded.client.post(url, data=form, headers={"Origin": "https://evil.example"})
    assert elsewhere.status_code == 403
    garbled = seeded.client.post(url, data=form, headers={"Origin": "http://[::1"})
    assert garbled.status_code == 403
    assert seeded.platform.registry.store.list_aliases(fresh) == []
    same = {"Sec-Fetch-Site": "same-origin", "Origin": "http://testserver", **HTMX}
    assert "moved from nothing to v1" in seeded.client.post(url, data=form, headers=same).text


def test_a_browser_gets_refusals_on_ui_pages_as_html(seeded: Registry, fresh: str) -> None:
    browser = {"Accept": "text/html,application/xhtml+xml,*/*;q=0.8"}
    cross = seeded.client.post(
        f"/models/{fresh}/promote",
        data={"version": "1", "alias": "champion"},
        headers={**browser, "Sec-Fetch-Site": "cross-site"},
    )
    assert cross.status_code == 403
    assert cross.headers["content-type"].startswith("text/html")
    assert "another site" in cross.text
    long_filter = seeded.client.get("/models", params={"name_like": "x" * 300}, headers=browser)
    assert long_filter.status_code == 400
    assert long_filter.headers["content-type"].startswith("text/html")
    lost = seeded.client.get("/models/iris%2Fversions", headers=browser)
    assert (lost.status_code, lost.headers["content-type"][:9]) == (404, "text/html")
    api = seeded.client.get("/api/v1/models/nope", headers=browser)  # the API stays JSON
    assert (api.status_code, api.headers["content-type"]) == (404, "application/problem+json")


def test_registry_pages_link_only_to_this_server(seeded: Registry) -> None:
    for path in ["/models", "/models/iris", "/models/iris/versions/2"]:
        html = seeded.client.get(path).text
        for url in re.findall(r'(?:src|href|hx-get|hx-post|action|formaction)="([^"]*)"', html):
            assert url.startswith(("/", "#", "?")), (path, url)


def test_lineage_layout_goes_left_to_right() -> None:
    def node(uri: str, kind: NodeKind, **attributes: str) -> LineageNode:
        return LineageNode(uri=uri, kind=kind, label=uri, attributes=attributes)

    run = "run:" + "a" * 32
    nodes = [
        node("models:/m@prod", NodeKind.ALIAS, model="m", alias="prod", version="1"),
        node("models:/m/1", NodeKind.MODEL_VERSION, model="m", version="1"),
        node(run, NodeKind.RUN, status="finished"),
        *[node(f"dataset:default/d{i}@x", NodeKind.DATASET, digest="x") for i in range(45)],
    ]
    edges = [LineageEdge(source=n.uri, target=run, relation="input") for n in nodes[3:]]
    edges += [
        LineageEdge(source=run, target="models:/m/1", relation="produced"),
        LineageEdge(source="models:/m/1", target="models:/m@prod", relation="alias"),
    ]
    graph = LineageGraph(
        root="models:/m/1", direction=Direction.BOTH, depth=3, nodes=nodes, edges=edges
    )
    drawing = lineage_svg.layout(graph, "/prefix")
    x = {n.kind: n.x for n in drawing.nodes}
    assert x["dataset"] < x["run"] < x["model_version"] < x["alias"]
    assert drawing.hidden == 45 - lineage_svg.MAX_PER_LAYER
    assert len(drawing.edges) == lineage_svg.MAX_PER_LAYER + 2
    hrefs = {n.kind: n.href for n in drawing.nodes}
    assert hrefs == {
        "dataset": None,
        "run": f"/prefix/runs/{'a' * 32}",
        "model_version": "/prefix/models/m/versions/1",
        "alias": "/prefix/models/m#alias-prod",
    }
    assert all(0 <= n.y <= drawing.height - lineage_svg.NODE_HEIGHT for n in drawing.nodes)
    assert [n.is_root for n in drawing.nodes].count(True) == 1
    assert lineage_svg.shorten("x" * 40).endswith("\u2026")
    assert len(lineage_svg.shorten("x" * 40)) == lineage_svg.LABEL_CHARS
