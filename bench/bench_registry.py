#!/usr/bin/env python3
"""The registry's anchor: registering a version and moving an alias through the HTTP API,
median under 20 ms each, against a real ``plinth server`` process on SQLite (default
settings) or PostgreSQL.

    python bench/bench_registry.py                          # JSON on stdout
    python bench/bench_registry.py --database postgres --out results/registry_postgres.json

Phases, each ``--n`` (default 200) timed requests after ``--warmup`` untimed ones, one
keep-alive HTTP connection, one request at a time:
  register    POST /models/NAME/versions {"source": "runs:/ID/model"}: reads the run, its
              metrics, inputs and model manifest, writes the version and its outbox event
  move_alias  POST /models/NAME/promote {"version", "alias"} with three gates (a metric
              threshold, signature compatible, scan clean) that pass: evaluates them, moves
              the alias by compare-and-set, appends the history row and the event
  webhooks    the same two requests with one webhook configured (a delivery row each)
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.registry.logged_models import trained  # noqa: E402
from tests.servers import (  # noqa: E402
    PostgresCluster,
    free_port,
    start_plinth_process,
    stop_process,
    wait_until_ready,
)

import plinth  # noqa: E402
from plinth.config import Settings  # noqa: E402
from plinth.connect import connect  # noqa: E402

ANCHOR_MS = 20.0


def stats(values_s: list[float]) -> dict[str, Any]:
    ms = sorted(v * 1000 for v in values_s)
    return {
        "median_ms": round(statistics.median(ms), 3),
        "p90_ms": round(ms[int(len(ms) * 0.9) - 1], 3),
        "min_ms": round(ms[0], 3),
        "max_ms": round(ms[-1], 3),
        "n": len(ms),
        "under_anchor": statistics.median(ms) < ANCHOR_MS,
    }


def timed(n: int, warmup: int, call: Callable[[int], httpx.Response]) -> list[float]:
    for i in range(warmup):
        call(-1 - i)
    latencies = []
    for i in range(n):
        started = time.perf_counter()
        response = call(i)
        latencies.append(time.perf_counter() - started)
        if response.status_code >= 300:
            raise RuntimeError(f"{response.status_code}: {response.text[:300]}")
    return latencies


def bench_model(
    client: httpx.Client, source: str, name: str, args: argparse.Namespace
) -> dict[str, Any]:
    """Register ``n + warmup`` versions, then move an alias across them one by one."""
    register = timed(
        args.n,
        args.warmup,
        lambda _i: client.post(f"/models/{name}/versions", json={"source": source}),
    )
    gates = {
        "gates": [
            {"kind": "metric", "metric": "accuracy", "op": ">=", "value": 0.5},
            {"kind": "signature_compatible"},
            {"kind": "scan_clean"},
        ]
    }
    client.put(f"/models/{name}/gates", json=gates).raise_for_status()
    total = args.n + args.warmup

    def promote(i: int) -> httpx.Response:
        version = i + 1 + args.warmup if i >= 0 else -i  # warmup: v1.., timed: after them
        return client.post(
            f"/models/{name}/promote", json={"version": version, "alias": "champion"}
        )

    move = timed(args.n, args.warmup, promote)
    assert client.get(f"/models/{name}/aliases/champion").json()["version"] == total
    return {"register": stats(register), "move_alias": stats(move)}


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--database", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--n", type=int, default=200)
    parser.add_argument("--warmup", type=int, default=20)
    parser.add_argument("--out")
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="plinth-bench-registry-"))
    cluster = None
    env: dict[str, str] = {}
    if args.database == "postgres":
        cluster = PostgresCluster()
        cluster.start()
        env["PLINTH_DATABASE_URL"] = cluster.new_database()
    (work / "server").mkdir()
    port = free_port()
    process = start_plinth_process(work / "server", port, env=env)
    url = f"http://127.0.0.1:{port}"
    result: dict[str, Any] = {
        "database": args.database,
        "args": vars(args),
        "anchor_ms": ANCHOR_MS,
        "started": time.strftime("%Y-%m-%dT%H:%M:%S"),
        "plinth_version": plinth.__version__,
    }
    try:
        wait_until_ready(url, process=process)
        platform = connect(Settings(url=url, data_dir=work / "client", system_metrics=False))
        metrics = {"accuracy": 0.93, "f1": 0.91, "loss": 0.2}
        source = trained(platform, metrics)
        with httpx.Client(base_url=f"{url}/api/v1", timeout=30) as client:
            print("== register, move_alias", file=sys.stderr, flush=True)
            result.update(bench_model(client, source, "bench", args))
            print("== with a webhook", file=sys.stderr, flush=True)
            hook = {"url": f"http://127.0.0.1:{free_port()}/nobody-listens"}
            client.post("/webhooks", json=hook).raise_for_status()
            result["with_webhook"] = bench_model(client, source, "bench-hooked", args)
        platform.close()
    finally:
        stop_process(process)
        if cluster is not None:
            cluster.stop()
        shutil.rmtree(work, ignore_errors=True)
    text = json.dumps(result, indent=2)
    if args.out:
        Path(args.out).parent.mkdir(parents=True, exist_ok=True)
        Path(args.out).write_text(text + "\n")
    print(text)


if __name__ == "__main__":
    main()
