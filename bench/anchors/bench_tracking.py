#!/usr/bin/env python3
# Copied verbatim from shared/bench/mlflow/bench_tracking.py (the anchor client workload; only this
# header was added). Keep it byte-identical below this header so figures stay comparable
# with shared/bench/README.md; it is third-party-style code, so lint and format are off.
# ruff: noqa
# fmt: off
"""MLflow tracking client workload.  Point it at any tracking URI.

  python bench_tracking.py --tracking-uri http://127.0.0.1:5055 --out results/server.json
  python bench_tracking.py --tracking-uri sqlite:////tmp/mlf/local.db --phases log_metric,log_batch \
         --out results/local_sqlite.json

Phases (comma list via --phases, default all that make sense for the URI):
  log_metric      mlflow.log_metric one call at a time (synchronous=True): points/s
  log_batch       MlflowClient.log_batch, --batch-size metrics per call, one key, --batch-total points: points/s
  log_batch_keys  same but every batch holds --batch-size *distinct* keys (one step each)
  metric_history  get_metric_history of the 100k-point key written by log_batch: latency
  create_runs     start_run + log_params(10) + log_metrics(5) + set_tags(3) + end_run, --n-runs runs: runs/s
  search_runs     search_runs(filter "metrics.acc > 0.5 and params.lr = '0.01'", order_by metrics.acc DESC,
                  max_results 100) over the --n-runs runs of create_runs: latency
  search_10k      populate an experiment with --n-runs-big runs (client API, --threads threads) then search it
  artifact        log_artifact of a --artifact-mb MB file (proxied mlflow-artifacts:/ and server default root)
                  vs `cp` of the same file on the same disk: MB/s
"""
import argparse
import os
import random
import shutil
import subprocess
import sys
import threading
import time
import uuid

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import Timer, save, stats  # noqa: E402

import mlflow  # noqa: E402
from mlflow import MlflowClient  # noqa: E402
from mlflow.entities import Metric, Param, RunTag  # noqa: E402

ALL = ["log_metric", "log_batch", "log_batch_keys", "metric_history", "create_runs", "search_runs",
       "search_10k", "artifact"]

FILTER = "metrics.acc > 0.5 and params.lr = '0.01'"
ORDER = ["metrics.acc DESC"]


def now_ms():
    return int(time.time() * 1000)


def new_experiment(client, prefix, artifact_location=None):
    name = f"{prefix}-{uuid.uuid4().hex[:8]}"
    return client.create_experiment(name, artifact_location=artifact_location)


def phase_log_metric(a, client, res):
    exp = new_experiment(client, "log-metric")
    rates = []
    for rep in range(a.reps):
        with mlflow.start_run(experiment_id=exp):
            for i in range(20):  # warm-up (connection, caches)
                mlflow.log_metric("warm", float(i), step=i, synchronous=True)
            with Timer() as t:
                for i in range(a.n_log_metric):
                    mlflow.log_metric("m", float(i), step=i, synchronous=True)
        rates.append(a.n_log_metric / t.dt)
        print(f"  log_metric rep{rep}: {a.n_log_metric} calls in {t.dt:.2f}s = {rates[-1]:.1f} points/s", flush=True)
    res["log_metric_points_per_s"] = stats(rates)
    res["log_metric_ms_per_call"] = stats([1000.0 / r for r in rates])


def _batches_one_key(total, bs):
    ts = now_ms()
    out = []
    for b in range(total // bs):
        out.append([Metric("m", random.random(), ts + b, b * bs + j) for j in range(bs)])
    return out


def phase_log_batch(a, client, res):
    exp = new_experiment(client, "log-batch")
    rates = []
    for rep in range(a.reps_batch):
        batches = _batches_one_key(a.batch_total, a.batch_size)
        run = client.create_run(exp)
        rid = run.info.run_id
        client.log_batch(rid, metrics=[Metric("warm", 0.0, now_ms(), 0)])
        with Timer() as t:
            for b in batches:
                client.log_batch(rid, metrics=b)
        client.set_terminated(rid)
        n = len(batches) * a.batch_size
        rates.append(n / t.dt)
        res.setdefault("_history_run_ids", []).append(rid)
        print(f"  log_batch rep{rep}: {n} points in {t.dt:.2f}s = {rates[-1]:.0f} points/s", flush=True)
    res["log_batch_points_per_s"] = stats(rates)
    res["log_batch_ms_per_batch"] = stats([1000.0 * a.batch_size / r for r in rates])


def phase_log_batch_keys(a, client, res):
    exp = new_experiment(client, "log-batch-keys")
    rates = []
    total = min(a.batch_total, 20000)
    for rep in range(a.reps_batch):
        ts = now_ms()
        batches = [[Metric(f"k{j:04d}", random.random(), ts + s, s) for j in range(a.batch_size)]
                   for s in range(total // a.batch_size)]
        rid = client.create_run(exp).info.run_id
        client.log_batch(rid, metrics=[Metric("warm", 0.0, now_ms(), 0)])
        with Timer() as t:
            for b in batches:
                client.log_batch(rid, metrics=b)
        client.set_terminated(rid)
        n = len(batches) * a.batch_size
        rates.append(n / t.dt)
        print(f"  log_batch_keys rep{rep}: {n} points ({a.batch_size} distinct keys/batch) in {t.dt:.2f}s"
              f" = {rates[-1]:.0f} points/s", flush=True)
    res["log_batch_distinct_keys_points_per_s"] = stats(rates)


def phase_metric_history(a, client, res):
    rid = (res.get("_history_run_ids") or [None])[0]
    if rid is None:  # write one if log_batch phase was not run
        exp = new_experiment(client, "history")
        rid = client.create_run(exp).info.run_id
        for b in _batches_one_key(a.batch_total, a.batch_size):
            client.log_batch(rid, metrics=b)
    lat = []
    for rep in range(a.reps_history):
        with Timer() as t:
            h = client.get_metric_history(rid, "m")
        lat.append(t.dt)
        print(f"  get_metric_history rep{rep}: {len(h)} points in {t.dt:.3f}s", flush=True)
    res["metric_history_points"] = len(h)
    res["metric_history_latency_s"] = stats(lat)


def _run_payload(i):
    params = {"lr": random.choice(["0.001", "0.01", "0.1"])}
    params.update({f"p{j}": str(random.randint(0, 1000)) for j in range(9)})
    metrics = {"acc": random.random(), "loss": random.random(), "f1": random.random(),
               "precision": random.random(), "recall": random.random()}
    tags = {"team": random.choice(["a", "b", "c"]), "model": "lr", "idx": str(i)}
    return params, metrics, tags


def phase_create_runs(a, client, res):
    rates, exps = [], []
    for rep in range(a.reps_runs):
        exp = new_experiment(client, "runs")
        exps.append(exp)
        payloads = [_run_payload(i) for i in range(a.n_runs)]
        with Timer() as t:
            for params, metrics, tags in payloads:
                with mlflow.start_run(experiment_id=exp):
                    mlflow.log_params(params, synchronous=True)
                    mlflow.log_metrics(metrics, synchronous=True)
                    mlflow.set_tags(tags, synchronous=True)
        rates.append(a.n_runs / t.dt)
        print(f"  create_runs rep{rep}: {a.n_runs} runs in {t.dt:.2f}s = {rates[-1]:.1f} runs/s", flush=True)
    res["create_runs_runs_per_s"] = stats(rates)
    res["_runs_experiments"] = exps


def _search(client, exp, reps, label):
    lat = []
    for _ in range(2):
        client.search_runs([exp], FILTER, order_by=ORDER, max_results=100)
    for rep in range(reps):
        with Timer() as t:
            r = client.search_runs([exp], FILTER, order_by=ORDER, max_results=100)
        lat.append(t.dt)
    print(f"  search_runs[{label}]: returned {len(r)} runs, median {sorted(lat)[len(lat)//2]*1000:.1f} ms", flush=True)
    return len(r), lat


def phase_search_runs(a, client, res):
    exps = res.get("_runs_experiments")
    if not exps:
        exp = new_experiment(client, "runs")
        _populate(client, exp, a.n_runs, a.threads)
        exps = [exp]
    n, lat = _search(client, exps[0], a.reps_search, f"{a.n_runs} runs")
    res["search_runs_1k_returned"] = n
    res["search_runs_1k_latency_s"] = stats(lat)


def _populate(client, exp, n, threads):
    """Create n runs with the client API (create_run + log_batch + set_terminated) using threads."""
    idx = iter(range(n))
    lock = threading.Lock()
    errors = []

    def worker():
        while True:
            with lock:
                i = next(idx, None)
            if i is None:
                return
            params, metrics, tags = _run_payload(i)
            try:
                ts = now_ms()
                rid = client.create_run(exp, tags=tags).info.run_id
                client.log_batch(rid, metrics=[Metric(k, v, ts, 0) for k, v in metrics.items()],
                                 params=[Param(k, v) for k, v in params.items()])
                client.set_terminated(rid)
            except Exception as e:  # noqa: BLE001
                errors.append(repr(e))

    ths = [threading.Thread(target=worker) for _ in range(threads)]
    with Timer() as t:
        for th in ths:
            th.start()
        for th in ths:
            th.join()
    return t.dt, errors


def phase_search_10k(a, client, res):
    exp = new_experiment(client, "runs-big")
    pop_uri = a.populate_uri or a.tracking_uri
    pop_client = client if pop_uri == a.tracking_uri else MlflowClient(pop_uri)
    dt, errors = _populate(pop_client, exp, a.n_runs_big, a.threads if pop_uri.startswith("http") else 1)
    print(f"  populated {a.n_runs_big} runs via {pop_uri} in {dt:.1f}s "
          f"({a.n_runs_big/dt:.1f} runs/s, {len(errors)} errors)", flush=True)
    res["populate_big_runs_per_s_threads"] = {"populate_uri": pop_uri, "threads": a.threads, "runs": a.n_runs_big,
                                              "seconds": dt, "runs_per_s": a.n_runs_big / dt,
                                              "errors": errors[:5], "n_errors": len(errors)}
    n, lat = _search(client, exp, a.reps_search, f"{a.n_runs_big} runs")
    res["search_runs_big_returned"] = n
    res["search_runs_big_n_runs"] = a.n_runs_big
    res["search_runs_big_latency_s"] = stats(lat)


def _timed_cmd(cmd):
    t0 = time.perf_counter()
    subprocess.run(cmd, shell=True, check=True)
    return time.perf_counter() - t0


def phase_artifact(a, client, res):
    os.makedirs(a.tmpdir, exist_ok=True)
    src = os.path.join(a.tmpdir, f"blob{a.artifact_mb}mb.bin")
    nbytes = a.artifact_mb * 1000 * 1000
    if not os.path.exists(src) or os.path.getsize(src) != nbytes:
        with open(src, "wb") as f:
            for _ in range(a.artifact_mb):
                f.write(os.urandom(1000 * 1000))
    mb = nbytes / 1e6
    # cp of the same file on the same disk
    cp, cps = [], []
    for rep in range(a.reps_artifact):
        dst = os.path.join(a.tmpdir, f"cpcopy{rep}.bin")
        cp.append(mb / _timed_cmd(f"cp {src} {dst}"))
        os.remove(dst)
        cps.append(mb / _timed_cmd(f"cp {src} {dst} && sync {dst}"))
        os.remove(dst)
    res["cp_MB_per_s"] = stats(cp)
    res["cp_sync_MB_per_s"] = stats(cps)
    print(f"  cp: median {res['cp_MB_per_s']['median']:.0f} MB/s; cp+sync: {res['cp_sync_MB_per_s']['median']:.0f} MB/s")

    targets = [("default_root", None)]
    if a.tracking_uri.startswith("http"):
        targets.insert(0, ("proxied", f"mlflow-artifacts:/bench-proxied-{uuid.uuid4().hex[:6]}"))
    for label, loc in targets:
        exp = new_experiment(client, f"artifact-{label}", artifact_location=loc)
        art_loc = client.get_experiment(exp).artifact_location
        rates = []
        for rep in range(a.reps_artifact):
            rid = client.create_run(exp).info.run_id
            with Timer() as t:
                client.log_artifact(rid, src)
            rates.append(mb / t.dt)
            print(f"  log_artifact[{label} -> {art_loc}] rep{rep}: {mb:.0f} MB in {t.dt:.2f}s = {rates[-1]:.1f} MB/s",
                  flush=True)
            client.set_terminated(rid)
        # check the stored size of the last upload
        arts = client.list_artifacts(rid)
        res[f"artifact_{label}_location"] = art_loc
        res[f"artifact_{label}_listed"] = [(x.path, x.file_size) for x in arts]
        res[f"log_artifact_{label}_MB_per_s"] = stats(rates)
        # download back (proxied GET) for reference
        if label == "proxied":
            dl = []
            for rep in range(min(3, a.reps_artifact)):
                d = os.path.join(a.tmpdir, f"dl{rep}")
                shutil.rmtree(d, ignore_errors=True)
                with Timer() as t:
                    client.download_artifacts(rid, os.path.basename(src), d)
                dl.append(mb / t.dt)
                shutil.rmtree(d, ignore_errors=True)
            res["download_artifact_proxied_MB_per_s"] = stats(dl)
            print(f"  download_artifacts[proxied]: median {res['download_artifact_proxied_MB_per_s']['median']:.1f} MB/s")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--tracking-uri", required=True)
    ap.add_argument("--phases", default=",".join(ALL))
    ap.add_argument("--out")
    ap.add_argument("--reps", type=int, default=3, help="reps for log_metric")
    ap.add_argument("--n-log-metric", type=int, default=2000)
    ap.add_argument("--batch-size", type=int, default=1000)
    ap.add_argument("--batch-total", type=int, default=100000)
    ap.add_argument("--reps-batch", type=int, default=3)
    ap.add_argument("--reps-history", type=int, default=5)
    ap.add_argument("--n-runs", type=int, default=1000)
    ap.add_argument("--reps-runs", type=int, default=3)
    ap.add_argument("--reps-search", type=int, default=20)
    ap.add_argument("--n-runs-big", type=int, default=10000)
    ap.add_argument("--threads", type=int, default=8)
    ap.add_argument("--populate-uri", help="tracking URI used to *write* the big experiment for search_10k "
                    "(e.g. sqlite:////tmp/mlf/mlflow.db, the server's own DB, to populate faster); default: --tracking-uri")
    ap.add_argument("--artifact-mb", type=int, default=100)
    ap.add_argument("--reps-artifact", type=int, default=5)
    ap.add_argument("--tmpdir", default="/tmp/mlf/bench-tmp")
    ap.add_argument("--seed", type=int, default=0)
    a = ap.parse_args()
    random.seed(a.seed)
    mlflow.set_tracking_uri(a.tracking_uri)
    client = MlflowClient(a.tracking_uri)
    res = {"tracking_uri": a.tracking_uri, "mlflow_version": mlflow.__version__,
           "python": sys.version.split()[0], "args": vars(a), "started": time.strftime("%Y-%m-%dT%H:%M:%S")}
    phases = [p for p in a.phases.split(",") if p]
    for p in phases:
        print(f"== {p}", flush=True)
        t0 = time.perf_counter()
        res[f"_phase_{p}_loadavg_start"] = open("/proc/loadavg").read().split()[:3]
        try:
            globals()[f"phase_{p}"](a, client, res)
        except Exception as e:  # noqa: BLE001  keep going, record the failure
            import traceback
            traceback.print_exc()
            res[f"{p}_error"] = repr(e)
        res[f"_phase_{p}_wall_s"] = time.perf_counter() - t0
        res[f"_phase_{p}_loadavg_end"] = open("/proc/loadavg").read().split()[:3]
        res[f"_phase_{p}_top_cpu_end"] = subprocess.run(
            "ps -eo pcpu,etime,args --sort=-pcpu | head -6 | cut -c1-140", shell=True,
            capture_output=True, text=True).stdout.splitlines()
        save(a.out, res) if a.out else None
    res["finished"] = time.strftime("%Y-%m-%dT%H:%M:%S")
    save(a.out, res)


if __name__ == "__main__":
    main()
