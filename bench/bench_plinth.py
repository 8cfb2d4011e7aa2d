#!/usr/bin/env python3
"""plinth's side of the tracking benchmarks: the same workloads as the anchors'
``bench_tracking.py`` (MLflow client), driven through plinth's own SDK and REST client
against a real ``plinth server`` process on SQLite (default settings) or PostgreSQL.

    python bench/bench_plinth.py --out results/plinth_sqlite.json
    python bench/bench_plinth.py --database postgres --out results/plinth_postgres.json
    python bench/bench_plinth.py --phases search_1m --out results/plinth_search_1m.json

Phases (``--phases``, comma list; default all but search_1m):
  log_metric      plinth.log_metric in a loop: microseconds per call in the calling thread,
                  then the time until every point is stored (checked by count)
  log_batch       RestTrackingStore.log_batch of pre-built batches, one key: points/s, at
                  --batch-size (1,000 like MLflow's cap) and --big-batch-size (10,000)
  metric_history  get_metric_history of a 100,000-point metric through the server
  create_runs     start_run + log_params(10) + log_metrics(5) + set_tags(3) + end: runs/s,
                  shaped like MLflow's workload, and plinth's one-call form
                  start_run(params=..., tags=...)
  search_runs     filter "metrics.acc > 0.5 and params.lr = '0.01'", order metrics.acc DESC,
                  100 results, over the create_runs runs and over --n-runs-big runs
  search_1m       the same search over --n-runs-huge runs (default 1,000,000) written
                  straight into the database with bulk inserts, then served by the server
  memory          server RSS idle (right after start) and after the workload
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import psutil

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from figures import stats  # noqa: E402 (bench/ is the script's folder)
from tests.servers import (  # noqa: E402
    PostgresCluster,
    free_port,
    start_plinth_process,
    stop_process,
    wait_until_ready,
)

import plinth  # noqa: E402
from plinth.client.http import HttpClient  # noqa: E402
from plinth.client.tracking import RestTrackingStore  # noqa: E402
from plinth.entities.tracking import MetricBatch, RunBatch, RunCreate, RunQuery  # noqa: E402
from plinth.sdk import session  # noqa: E402

FILTER = "metrics.acc > 0.5 and params.lr = '0.01'"
ORDER = ["metrics.acc DESC"]
DEFAULT_PHASES = "log_metric,log_batch,metric_history,create_runs,search_runs,memory"


def rss_mib(pid: int) -> float:
    process = psutil.Process(pid)
    total = process.memory_info().rss
    for child in process.children(recursive=True):
        total += child.memory_info().rss
    return total / 2**20


def _run_payload(i: int) -> tuple[dict[str, str], dict[str, float], dict[str, str]]:
    params = {"lr": random.choice(["0.001", "0.01", "0.1"])}
    params.update({f"p{j}": str(random.randint(0, 1000)) for j in range(9)})
    metrics = {k: random.random() for k in ("acc", "loss", "f1", "precision", "recall")}
    tags = {"team": random.choice(["a", "b", "c"]), "model": "lr", "idx": str(i)}
    return params, metrics, tags


def _one_key_batches(total: int, size: int) -> list[RunBatch]:
    stamp = int(time.time() * 1000)
    return [
        RunBatch(
            batch_id=uuid.uuid4().hex,
            metrics=MetricBatch(
                keys=["m"] * size,
                values=[random.random() for _ in range(size)],
                steps=list(range(b * size, (b + 1) * size)),
                timestamps=[stamp + b] * size,
            ),
        )
        for b in range(total // size)
    ]


class Bench:
    def __init__(self, args: argparse.Namespace, url: str) -> None:
        self.args = args
        self.url = url
        self.http = HttpClient(url, retry_seconds=0)
        self.store = RestTrackingStore(self.http)
        self.result: dict[str, Any] = {}

    def experiment(self, prefix: str) -> str:
        body = {"name": f"{prefix}-{uuid.uuid4().hex[:8]}"}
        return str(self.http.post("/experiments", json=body)["id"])

    def phase_log_metric(self) -> None:
        n = self.args.n_log_metric
        per_call, total = [], []
        for rep in range(self.args.reps):
            with plinth.start_run(experiment_id=self.experiment("log-metric")) as run:
                log_metric = plinth.log_metric
                start = time.perf_counter()
                for i in range(n):
                    log_metric("m", i * 0.5)
                looped = time.perf_counter() - start
                plinth.flush()
                stored_at = time.perf_counter() - start
            count = plinth.get_metric_history(run.id, "m", max_points=2).total_points
            assert count == n, f"stored {count} of {n}"
            per_call.append(looped / n * 1e6)
            total.append(n / stored_at)
            print(
                f"  log_metric rep{rep}: {per_call[-1]:.2f} us/call; all {n} stored after "
                f"{stored_at:.2f}s ({total[-1]:,.0f} points/s end to end)",
                flush=True,
            )
        self.result["log_metric_us_per_call"] = stats(per_call)
        self.result["log_metric_end_to_end_points_per_s"] = stats(total)

    def phase_log_batch(self) -> None:
        for label, size, total in (
            ("1k", self.args.batch_size, self.args.batch_total),
            ("10k", self.args.big_batch_size, self.args.big_batch_total),
        ):
            rates = []
            for rep in range(self.args.reps_batch):
                batches = _one_key_batches(total, size)
                run = self.store.create_run(RunCreate(experiment_id=self.experiment("log-batch")))
                start = time.perf_counter()
                for batch in batches:
                    self.store.log_batch(run.id, batch)
                rates.append(total / (time.perf_counter() - start))
                self.result.setdefault("_history_run", run.id)
                print(f"  log_batch[{label}] rep{rep}: {rates[-1]:,.0f} points/s", flush=True)
            self.result[f"log_batch_{label}_points_per_s"] = stats(rates)

    def phase_metric_history(self) -> None:
        run_id = self.result.get("_history_run")
        if run_id is None or self.args.batch_total != 100_000:
            run_id = self.store.create_run(RunCreate(experiment_id=self.experiment("hist"))).id
            for batch in _one_key_batches(100_000, 10_000):
                self.store.log_batch(run_id, batch)
        latencies = []
        for rep in range(self.args.reps_history):
            start = time.perf_counter()
            history = self.store.get_metric_history(run_id, "m")
            latencies.append(time.perf_counter() - start)
            print(
                f"  metric_history rep{rep}: {len(history.steps)} points in {latencies[-1]:.3f}s",
                flush=True,
            )
        self.result["metric_history_points"] = len(history.steps)
        self.result["metric_history_latency_s"] = stats(latencies)

    def phase_create_runs(self) -> None:
        for shape in ("mlflow_shaped", "one_call"):
            rates = []
            for rep in range(self.args.reps_runs):
                experiment_id = self.experiment("runs")
                self.result.setdefault("_runs_experiment", experiment_id)
                payloads = [_run_payload(i) for i in range(self.args.n_runs)]
                start = time.perf_counter()
                for params, metrics, tags in payloads:
                    if shape == "mlflow_shaped":
                        with plinth.start_run(experiment_id=experiment_id):
                            plinth.log_params(params)
                            plinth.log_metrics(metrics)
                            plinth.set_tags(tags)
                    else:
                        with plinth.start_run(
                            experiment_id=experiment_id, params=params, tags=tags
                        ):
                            plinth.log_metrics(metrics)
                rates.append(self.args.n_runs / (time.perf_counter() - start))
                print(f"  create_runs[{shape}] rep{rep}: {rates[-1]:.0f} runs/s", flush=True)
            self.result[f"create_runs_{shape}_runs_per_s"] = stats(rates)

    def _search(self, experiment_id: str, label: str) -> tuple[int, list[float]]:
        query = RunQuery(experiment_ids=[experiment_id], filter=FILTER, order_by=ORDER)
        for _ in range(2):
            self.store.search_runs(query)
        latencies = []
        for _ in range(self.args.reps_search):
            start = time.perf_counter()
            page = self.store.search_runs(query)
            latencies.append(time.perf_counter() - start)
        print(
            f"  search_runs[{label}]: {len(page.items)} runs, median "
            f"{statistics.median(latencies) * 1000:.1f} ms",
            flush=True,
        )
        return len(page.items), latencies

    def phase_search_runs(self) -> None:
        experiment_id = self.result.get("_runs_experiment")
        if experiment_id is None:
            experiment_id = self.experiment("runs")
            self._populate(experiment_id, self.args.n_runs)
        returned, latencies = self._search(experiment_id, "1k")
        self.result["search_runs_1k_returned"] = returned
        self.result["search_runs_1k_latency_s"] = stats(latencies)
        big = self.experiment("runs-big")
        start = time.perf_counter()
        self._populate(big, self.args.n_runs_big)
        elapsed = time.perf_counter() - start
        print(f"  populated {self.args.n_runs_big} runs in {elapsed:.1f}s", flush=True)
        returned, latencies = self._search(big, f"{self.args.n_runs_big}")
        self.result["search_runs_big_n_runs"] = self.args.n_runs_big
        self.result["search_runs_big_returned"] = returned
        self.result["search_runs_big_latency_s"] = stats(latencies)

    def _populate(self, experiment_id: str, n: int) -> None:
        for i in range(n):
            params, metrics, tags = _run_payload(i)
            run = self.store.create_run(
                RunCreate(experiment_id=experiment_id, params=params, tags=tags)
            )
            stamp = int(time.time() * 1000)
            keys = list(metrics)
            batch = RunBatch(
                metrics=MetricBatch(
                    keys=keys,
                    values=[metrics[k] for k in keys],
                    steps=[0] * len(keys),
                    timestamps=[stamp] * len(keys),
                ),
                update={"status": "finished"},
            )
            self.store.log_batch(run.id, batch)


def populate_huge(database_url: str, n: int) -> str:
    """Write ``n`` runs (2 params, 2 metrics each) straight into the database with bulk
    inserts: creating a million runs through any API would take hours and measure nothing
    the create_runs phase does not already measure."""
    from plinth.db.engine import Database
    from plinth.db.migrate import upgrade_if_needed
    from plinth.db.tables.tracking import experiments, metric_series, params, runs

    database = Database(database_url)
    upgrade_if_needed(database)
    experiment_id = uuid.uuid4().hex
    stamp = int(time.time() * 1000)
    with database.write() as conn:
        conn.execute(
            experiments.insert().values(
                id=experiment_id,
                project="default",
                name=f"huge-{experiment_id[:6]}",
                description="",
                lifecycle_stage="active",
                created_at=stamp,
                created_by="bench",
            )
        )
    chunk = 50_000
    for first in range(0, n, chunk):
        run_rows, param_rows, series_rows = [], [], []
        for i in range(first, min(first + chunk, n)):
            run_id = uuid.uuid4().hex
            run_rows.append(
                {
                    "id": run_id,
                    "experiment_id": experiment_id,
                    "name": f"run-{i}",
                    "status": "finished",
                    "start_time": stamp + i,
                    "end_time": stamp + i,
                    "user_name": "bench",
                    "notes": "",
                    "lifecycle_stage": "active",
                    "created_by": "bench",
                }
            )
            lr = random.choice(["0.001", "0.01", "0.1"])
            param_rows.append(
                {"run_id": run_id, "key": "lr", "value": lr, "value_type": "str", "value_num": None}
            )
            param_rows.append(
                {
                    "run_id": run_id,
                    "key": "model",
                    "value": "xgb",
                    "value_type": "str",
                    "value_num": None,
                }
            )
            for key in ("acc", "loss"):
                series_rows.append(
                    {
                        "run_id": run_id,
                        "key": key,
                        "latest_value": random.random(),
                        "latest_step": 0,
                        "latest_timestamp": stamp,
                        "point_count": 1,
                    }
                )
        with database.write() as conn:
            conn.execute(runs.insert(), run_rows)
            conn.execute(params.insert(), param_rows)
            conn.execute(metric_series.insert(), series_rows)
        print(f"  wrote {min(first + chunk, n):,} runs", flush=True)
    if database.is_sqlite:
        with database.engine.connect() as conn:
            conn.exec_driver_sql("ANALYZE")
    else:
        with database.engine.connect() as conn:
            conn.exec_driver_sql("ANALYZE")
            conn.commit()
    database.dispose()
    return experiment_id


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--database", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--phases", default=DEFAULT_PHASES)
    parser.add_argument("--out")
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--n-log-metric", type=int, default=1_000_000)
    parser.add_argument("--batch-size", type=int, default=1000)
    parser.add_argument("--batch-total", type=int, default=100_000)
    parser.add_argument("--big-batch-size", type=int, default=10_000)
    parser.add_argument("--big-batch-total", type=int, default=1_000_000)
    parser.add_argument("--reps-batch", type=int, default=3)
    parser.add_argument("--reps-history", type=int, default=5)
    parser.add_argument("--n-runs", type=int, default=1000)
    parser.add_argument("--reps-runs", type=int, default=3)
    parser.add_argument("--reps-search", type=int, default=20)
    parser.add_argument("--n-runs-big", type=int, default=10_000)
    parser.add_argument("--n-runs-huge", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    random.seed(args.seed)
    phases = [p for p in args.phases.split(",") if p]

    work = Path(tempfile.mkdtemp(prefix="plinth-bench-"))
    cluster = None
    env: dict[str, str] = {}
    if args.database == "postgres":
        cluster = PostgresCluster()
        cluster.start()
        env["PLINTH_DATABASE_URL"] = cluster.new_database()
    database_url = env.get("PLINTH_DATABASE_URL", f"sqlite:///{work / 'server' / 'plinth.db'}")
    (work / "server").mkdir()
    huge_experiment = None
    if "search_1m" in phases:
        huge_experiment = populate_huge(database_url, args.n_runs_huge)

    port = free_port()
    started = time.perf_counter()
    process = start_plinth_process(work / "server", port, env=env)
    url = f"http://127.0.0.1:{port}"
    result: dict[str, Any] = {
        "database": args.database,
        "args": vars(args),
        "started": time.strftime("%Y-%m-%dT%H:%M:%S"),
        "plinth_version": plinth.__version__,
    }
    try:
        wait_until_ready(url, process=process)
        result["server_start_s"] = time.perf_counter() - started
        time.sleep(1.0)
        result["server_rss_idle_mib"] = rss_mib(process.pid)
        session.configure(url=url, data_dir=work / "client", system_metrics=False)
        bench = Bench(args, url)
        bench.result = result
        for phase in phases:
            if phase in ("memory",):
                continue
            print(f"== {phase}", flush=True)
            if phase == "search_1m":
                assert huge_experiment is not None
                returned, latencies = bench._search(huge_experiment, f"{args.n_runs_huge:,}")
                result["search_runs_huge_n_runs"] = args.n_runs_huge
                result["search_runs_huge_returned"] = returned
                result["search_runs_huge_latency_s"] = stats(latencies)
                continue
            getattr(bench, f"phase_{phase}")()
        result["server_rss_after_mib"] = rss_mib(process.pid)
        print(
            f"  server RSS: idle {result['server_rss_idle_mib']:.0f} MiB, after "
            f"{result['server_rss_after_mib']:.0f} MiB",
            flush=True,
        )
    finally:
        session.configure()
        stop_process(process)
        if cluster is not None:
            cluster.stop()
        shutil.rmtree(work, ignore_errors=True)
    result = {k: v for k, v in result.items() if not k.startswith("_")}
    text = json.dumps(result, indent=2)
    if args.out:
        Path(args.out).parent.mkdir(parents=True, exist_ok=True)
        Path(args.out).write_text(text)
        print(f"wrote {args.out}")
    else:
        print(text)


if __name__ == "__main__":
    os.environ.setdefault("PLINTH_SYSTEM_METRICS", "false")
    main()
