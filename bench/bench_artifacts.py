#!/usr/bin/env python3
"""Artifact throughput through a real ``plinth server`` process, beside ``cp`` of the same
file on the same disk in the same run, with the server's memory sampled throughout.

    python bench/bench_artifacts.py --out results/plinth_artifacts.json          # 1,024 MB
    python bench/bench_artifacts.py --mb 256 --reps 3 --out /tmp/artifacts.json  # quick

Measured (MB = 10^6 bytes, as the anchors' ``artifact`` phase counts them; median of reps):
  cp                 ``cp SRC DST`` of the file, DST in the same folder
  sha256             hashlib.sha256 over the file read in 8 MiB blocks: the ceiling of any
                     transfer into a content-addressed store, which must hash every byte
  upload             RestRunArtifactStore.upload of the file: the SDK's path (a resumable
                     upload in 64 MiB parts above 64 MiB), each rep a new content (a
                     different first byte), so nothing is deduplicated
  upload_single_put  the same file as one streamed PUT (the path of files under 64 MiB)
  download           RestRunArtifactStore.download into a file in the same folder
  server RSS         sampled every 20 ms: idle, and the peak during each transfer (MiB);
                     flat means no file is ever held whole in memory

MLflow's figures for the same workload come from the anchors (``artifact`` phase of
bench/anchors/bench_tracking.py: ``bash bench/anchors/run_anchors.sh OUT artifact``).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

import psutil

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from figures import stats  # noqa: E402 (bench/ is the script's folder)
from tests.servers import free_port, start_plinth_process, stop_process, wait_until_ready  # noqa: E402

import plinth  # noqa: E402
from plinth.client.artifacts import RestRunArtifactStore  # noqa: E402
from plinth.client.http import HttpClient  # noqa: E402
from plinth.client.tracking import RestTrackingStore  # noqa: E402
from plinth.entities.tracking import RunCreate  # noqa: E402


class RssSampler:
    """Peak RSS (MiB) of a process tree while a block runs."""

    def __init__(self, pid: int, interval: float = 0.02) -> None:
        self.process = psutil.Process(pid)
        self.interval = interval
        self.peak = 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def rss(self) -> float:
        total = self.process.memory_info().rss
        for child in self.process.children(recursive=True):
            total += child.memory_info().rss
        return total / 2**20

    def _sample(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, self.rss())
            time.sleep(self.interval)

    def __enter__(self) -> RssSampler:
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, self.rss())


def make_file(path: Path, mb: int) -> None:
    nbytes = mb * 1000 * 1000
    if path.exists() and path.stat().st_size == nbytes:
        return
    block = os.urandom(1000 * 1000)
    with open(path, "wb") as out:
        for i in range(mb):
            out.write(block[: (i % 997)] + os.urandom(64) + block[(i % 997) + 64 :])


def set_first_byte(path: Path, value: int) -> None:
    with open(path, "r+b") as handle:
        handle.write(bytes([value % 256]))


def timed(action: Callable[[], object]) -> float:
    start = time.perf_counter()
    action()
    return time.perf_counter() - start


def sha256_of(path: Path) -> str:
    hasher = hashlib.sha256()
    with path.open("rb") as source:
        while block := source.read(8 * 1024 * 1024):
            hasher.update(block)
    return hasher.hexdigest()


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--mb", type=int, default=1024, help="File size in MB (10^6 bytes).")
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--tmpdir", default=None, help="Where the file and the server's data go.")
    parser.add_argument("--out")
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="plinth-bench-artifacts-", dir=args.tmpdir))
    source = work / f"blob{args.mb}mb.bin"
    make_file(source, args.mb)
    mb = source.stat().st_size / 1e6
    result: dict[str, Any] = {
        "args": vars(args),
        "started": time.strftime("%Y-%m-%dT%H:%M:%S"),
        "plinth_version": plinth.__version__,
        "host": f"{platform.node()} {platform.machine()}, {os.cpu_count()} cpus",
        "file_mb": mb,
    }

    cp = []
    for rep in range(args.reps):
        target = work / f"cp{rep}.bin"
        cp.append(mb / timed(lambda t=target: subprocess.run(["cp", source, t], check=True)))
        target.unlink()
        print(f"  cp rep{rep}: {cp[-1]:.0f} MB/s", flush=True)
    result["cp_MB_per_s"] = stats(cp)

    sha = []
    for rep in range(args.reps):
        sha.append(mb / timed(partial(sha256_of, source)))
        print(f"  sha256 rep{rep}: {sha[-1]:.0f} MB/s", flush=True)
    result["sha256_MB_per_s"] = stats(sha)

    (work / "server").mkdir()
    port = free_port()
    process = start_plinth_process(work / "server", port)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until_ready(url, process=process)
        time.sleep(1.0)
        sampler = RssSampler(process.pid)
        result["server_rss_idle_mib"] = sampler.rss()
        http = HttpClient(url, timeout=300, retry_seconds=5)
        run_id = RestTrackingStore(http).create_run(RunCreate()).id
        for label, threshold in (("upload", None), ("upload_single_put", 2**62)):
            store = RestRunArtifactStore(http)
            if threshold is not None:
                store.multipart_threshold = threshold
            rates, peaks = [], []
            for rep in range(args.reps):
                set_first_byte(source, rep + (0 if threshold is None else 128))
                with RssSampler(process.pid) as during, open(source, "rb") as handle:
                    seconds = timed(partial(store.upload, run_id, f"{label}{rep}", handle))
                rates.append(mb / seconds)
                peaks.append(during.peak)
                print(
                    f"  {label} rep{rep}: {rates[-1]:.0f} MB/s, server peak RSS "
                    f"{during.peak:.0f} MiB",
                    flush=True,
                )
            result[f"{label}_MB_per_s"] = stats(rates)
            result[f"server_rss_peak_{label}_mib"] = max(peaks)

        store = RestRunArtifactStore(http)
        rates, peaks = [], []
        for rep in range(args.reps):
            target = work / f"download{rep}.bin"

            def download(t: Path = target, r: int = rep) -> None:
                with open(t, "wb") as out:
                    for chunk in store.download(run_id, f"upload{r}"):
                        out.write(chunk)

            with RssSampler(process.pid) as during:
                seconds = timed(download)
            assert target.stat().st_size == source.stat().st_size
            target.unlink()
            rates.append(mb / seconds)
            peaks.append(during.peak)
            print(
                f"  download rep{rep}: {rates[-1]:.0f} MB/s, server peak RSS {during.peak:.0f} MiB",
                flush=True,
            )
        result["download_MB_per_s"] = stats(rates)
        result["server_rss_peak_download_mib"] = max(peaks)
        http.close()
    finally:
        stop_process(process)
        shutil.rmtree(work, ignore_errors=True)

    cp_median = result["cp_MB_per_s"]["median"]
    for label in ("upload", "upload_single_put", "download"):
        result[f"{label}_vs_cp"] = result[f"{label}_MB_per_s"]["median"] / cp_median
    print(json.dumps({k: v for k, v in result.items() if k != "args"}, indent=2, default=str))
    if args.out:
        Path(args.out).parent.mkdir(parents=True, exist_ok=True)
        Path(args.out).write_text(json.dumps(result, indent=2, default=str))


if __name__ == "__main__":
    main()
