"""A batch sent twice (same ``batch_id`` or ``Idempotency-Key``) is stored once, over HTTP."""

from __future__ import annotations

import threading
from typing import Any

import httpx

from plinth.client.http import HttpClient
from plinth.client.tracking import RestTrackingStore
from plinth.entities.tracking import RunBatch
from tests.server.api import Api, assert_problem, metrics


def _batch(steps: range, **extra: Any) -> dict[str, Any]:
    return {"metrics": metrics(["m"] * len(steps), [float(s) for s in steps], list(steps)), **extra}


def _steps(api: Api, run_id: str) -> list[int]:
    steps: list[int] = api.history(run_id, "m")["steps"]
    return steps


def test_the_same_batch_id_twice_is_stored_once(api: Api) -> None:
    run_id = api.new_run()
    body = _batch(range(5), batch_id="batch-id-0001", params={"p": 1}, tags={"t": "v"})
    first = api.client.post(f"/runs/{run_id}/batch", json=body)
    second = api.client.post(f"/runs/{run_id}/batch", json=body)
    assert first.json() == {"applied": True, "points": 5, "spooled": False}
    assert second.json() == {"applied": False, "points": 5, "spooled": False}
    assert _steps(api, run_id) == [0, 1, 2, 3, 4]
    assert api.get_run(run_id)["metrics"]["m"]["step"] == 4


def test_the_same_idempotency_key_header_twice_is_stored_once(api: Api) -> None:
    run_id = api.new_run()
    headers = {"Idempotency-Key": "header-key-0001"}
    first = api.client.post(f"/runs/{run_id}/batch", json=_batch(range(3)), headers=headers)
    # a retry is recognised by its key alone, even if the client rebuilt the body
    second = api.client.post(f"/runs/{run_id}/batch", json=_batch(range(3, 6)), headers=headers)
    third = api.client.post(f"/runs/{run_id}/batch", json=_batch(range(6, 9)))  # no key
    assert [r.json()["applied"] for r in (first, second, third)] == [True, False, True]
    assert _steps(api, run_id) == [0, 1, 2, 6, 7, 8]


def test_a_body_batch_id_wins_over_the_header(api: Api) -> None:
    run_id = api.new_run()
    url = f"/runs/{run_id}/batch"
    body = _batch(range(2), batch_id="body-key-0001")
    api.client.post(url, json=body)
    response = api.client.post(url, json=body, headers={"Idempotency-Key": "other-key-1"})
    assert response.json()["applied"] is False
    assert _steps(api, run_id) == [0, 1]


def test_concurrent_duplicates_are_stored_once(api: Api) -> None:
    """Eight clients race to send one batch: exactly one applies it."""
    run_id = api.new_run()
    body = _batch(range(100), batch_id="raced-batch-01")
    start = threading.Barrier(8)
    results: list[bool] = []

    def send() -> None:
        with httpx.Client(base_url=f"{api.url}/api/v1", timeout=30) as client:
            start.wait(timeout=10)
            response = client.post(f"/runs/{run_id}/batch", json=body)
            assert response.status_code == 200, response.text
            results.append(response.json()["applied"])

    threads = [threading.Thread(target=send) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(results) == [False] * 7 + [True]
    assert _steps(api, run_id) == list(range(100))


def test_a_refused_batch_does_not_use_up_its_key(api: Api) -> None:
    """A batch refused for a deleted run applies once the run is restored, then only once."""
    run_id = api.new_run()
    url = f"/runs/{run_id}/batch"
    body = _batch(range(3), batch_id="retry-after-409")
    assert api.client.delete(f"/runs/{run_id}").status_code == 204
    assert_problem(api.client.post(url, json=body), 409)
    assert api.client.post(f"/runs/{run_id}/restore").status_code == 204
    assert api.client.post(url, json=body).json()["applied"] is True
    assert api.client.post(url, json=body).json()["applied"] is False
    assert _steps(api, run_id) == [0, 1, 2]


def test_a_key_used_by_another_run_is_a_conflict(api: Api) -> None:
    first, second = api.new_run(), api.new_run()
    body = _batch(range(2), batch_id="shared-key-0001")
    assert api.client.post(f"/runs/{first}/batch", json=body).json()["applied"] is True
    assert_problem(api.client.post(f"/runs/{second}/batch", json=body), 409, "batch_id")
    assert api.history(second, "m")["total_points"] == 0


def test_bad_idempotency_keys_are_400(api: Api) -> None:
    run_id = api.new_run()
    url = f"/runs/{run_id}/batch"
    short = api.client.post(url, json=_batch(range(1)), headers={"Idempotency-Key": "short"})
    assert_problem(short, 400, "idempotency-key")
    assert api.history(run_id, "m")["total_points"] == 0


def test_the_rest_store_replays_a_batch_harmlessly(api: Api) -> None:
    """What the SDK's client does after a lost response: send the same batch again."""
    run_id = api.new_run()
    store = RestTrackingStore(HttpClient(api.url, retry_seconds=1))
    batch = RunBatch.model_validate(_batch(range(4), batch_id="rest-replay-01"))
    try:
        results = [store.log_batch(run_id, batch) for _ in range(3)]
    finally:
        store.http.close()
    assert [r.applied for r in results] == [True, False, False]
    assert _steps(api, run_id) == [0, 1, 2, 3]
