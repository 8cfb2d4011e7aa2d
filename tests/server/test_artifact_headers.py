"""Artifacts are user content: the browser must never run them from plinth's origin."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import quote

from fastapi.testclient import TestClient

from plinth.config import Settings
from plinth.server.app import create_app


def test_downloads_are_sandboxed_and_markup_is_an_attachment(tmp_path: Path) -> None:
    client = TestClient(create_app(Settings(data_dir=tmp_path)))
    run_id = client.post("/api/v1/runs", json={}).json()["id"]
    client.put(f"/api/v1/runs/{run_id}/artifacts/page.html", content=b"<script>alert(1)</script>")
    client.put(f"/api/v1/runs/{run_id}/artifacts/plot.png", content=b"\x89PNG fake")
    page = client.get(f"/api/v1/runs/{run_id}/artifacts/page.html")
    assert page.headers["content-disposition"].startswith("attachment")
    assert page.headers["content-security-policy"] == "sandbox"
    assert page.headers["x-content-type-options"] == "nosniff"
    image = client.get(f"/api/v1/runs/{run_id}/artifacts/plot.png")
    assert "content-disposition" not in image.headers  # images still preview inline
    assert image.headers["content-security-policy"] == "sandbox"
    assert image.content == b"\x89PNG fake"


def test_any_file_name_downloads(tmp_path: Path) -> None:
    client = TestClient(create_app(Settings(data_dir=tmp_path)))
    run_id = client.post("/api/v1/runs", json={}).json()["id"]
    for name in ("😀 report.html", "日本.svg", "a\u202eb.xhtml", 'say "hi".html'):
        url = f"/api/v1/runs/{run_id}/artifacts/x/{name}"
        assert client.put(url, content=b"<b>hi</b>").status_code == 200
        page = client.get(url)
        assert page.status_code == 200
        assert page.content == b"<b>hi</b>"
        disposition = page.headers["content-disposition"]
        assert disposition.startswith('attachment; filename="')
        assert disposition.endswith("filename*=UTF-8''" + quote(name, safe=""))
    too_big = client.post(f"/api/v1/runs/{run_id}/uploads", json={"path": "big.bin", "size": 2**63})
    assert too_big.status_code == 400
