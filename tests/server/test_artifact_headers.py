"""Artifacts are user content: the browser must never run them from plinth's origin."""

from __future__ import annotations

from pathlib import Path

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
