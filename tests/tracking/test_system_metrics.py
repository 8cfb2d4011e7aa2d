"""The process-wide system-metrics monitor: one thread for all runs, samples counted per
run, I/O counters from each run's own start, nothing emitted once a run stops watching."""

from __future__ import annotations

import os
import sys
import threading
import time
import types
from pathlib import Path

import pytest

import plinth
from plinth.sdk import session
from plinth.tracking.system_metrics import SystemMonitor, monitor


def _monitor_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == "plinth-system-metrics"]


def test_one_thread_samples_every_watching_run() -> None:
    shared = SystemMonitor(interval=0.05)
    received: dict[str, list[tuple[dict[str, float], int]]] = {"a": [], "b": []}
    before = len(_monitor_threads())
    shared.watch("a", lambda values, step: received["a"].append((values, step)))
    shared.watch("b", lambda values, step: received["b"].append((values, step)))
    deadline = time.monotonic() + 5
    while min(len(r) for r in received.values()) < 3 and time.monotonic() < deadline:
        time.sleep(0.02)
    shared.unwatch("a")
    shared.unwatch("b")
    assert len(_monitor_threads()) == before + 1
    for samples in received.values():
        assert len(samples) >= 3
        assert [step for _, step in samples] == list(range(len(samples)))
        values = samples[-1][0]
        assert {"system/cpu_percent", "system/memory_used_mb"} <= set(values)
        # Counters are reported from the run's own start, not since boot.
        assert 0 <= values.get("system/disk_read_mb", 0) < 10_000
        assert 0 <= values.get("system/network_receive_mb", 0) < 10_000


def test_nothing_is_emitted_after_unwatch_returns() -> None:
    shared = SystemMonitor(interval=0.01)
    calls: list[int] = []
    inside = threading.Event()

    def slow_emit(_values: dict[str, float], step: int) -> None:
        inside.set()
        time.sleep(0.05)  # unwatch is called while this emission is under way
        calls.append(step)

    shared.watch("run", slow_emit)
    assert inside.wait(5)
    shared.unwatch("run")
    emitted = len(calls)
    time.sleep(0.1)
    assert len(calls) == emitted
    assert emitted >= 1  # the emission under way finished before unwatch returned
    assert shared.watching() == 0


def test_many_short_runs_share_one_monitor_and_cost_no_samples(tmp_path: Path) -> None:
    session.configure(data_dir=tmp_path, system_metrics=True, system_metrics_interval=30.0)
    before = len(_monitor_threads())
    try:
        run_ids = []
        for _ in range(20):
            with plinth.start_run() as run:
                plinth.log_metric("m", 1.0)
            run_ids.append(run.id)
        assert len(_monitor_threads()) <= before + 1  # one for all 20 runs
        assert monitor(30.0).watching() == 0
        for run_id in run_ids:
            # Each run was shorter than the interval: no tick, so no system/ series.
            assert set(plinth.get_run(run_id).metrics) == {"m"}
    finally:
        session.configure()


class _FakeNvml(types.ModuleType):
    """NVML's calls as ``pynvml`` names them, for one GPU (the device check in bench/gpu
    ran the real library on an H200; this keeps the path tested where no GPU is)."""

    def __init__(self) -> None:
        super().__init__("pynvml")
        self.nvmlInit = lambda: None
        self.nvmlDeviceGetCount = lambda: 1
        self.nvmlDeviceGetHandleByIndex = lambda index: f"gpu{index}"
        self.nvmlDeviceGetUtilizationRates = lambda handle: types.SimpleNamespace(gpu=37)
        self.nvmlDeviceGetMemoryInfo = lambda handle: types.SimpleNamespace(
            used=512 * 2**20, total=2048 * 2**20
        )
        self.nvmlDeviceGetPowerUsage = lambda handle: 123_000  # milliwatts


def test_gpu_readings_come_through_the_shared_monitor(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "pynvml", _FakeNvml())
    shared = SystemMonitor(interval=0.02)
    samples: list[dict[str, float]] = []
    shared.watch("run", lambda values, _step: samples.append(values))
    deadline = time.monotonic() + 5
    while not samples and time.monotonic() < deadline:
        time.sleep(0.01)
    shared.unwatch("run")
    assert samples
    gpu = {k: v for k, v in samples[0].items() if k.startswith("system/gpu_0_")}
    assert gpu == {
        "system/gpu_0_utilization_percent": 37.0,
        "system/gpu_0_memory_used_mb": 512.0,
        "system/gpu_0_memory_percent": 25.0,
        "system/gpu_0_power_watts": 123.0,
    }


def test_a_forked_child_samples_its_own_runs_only() -> None:
    shared = SystemMonitor(interval=0.02)
    sampled = threading.Event()
    shared.watch("parent", lambda _values, _step: sampled.set())
    assert sampled.wait(5)
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: report over the pipe, never return into pytest
        try:
            fresh = shared.watching() == 0  # the parent's run is not the child's
            got = threading.Event()
            shared.watch("child", lambda _values, _step: got.set())
            ok = fresh and got.wait(5)  # a thread of its own samples for it
            shared.unwatch("child")
            os.write(write, b"1" if ok else b"0")
        finally:
            os._exit(0)
    os.close(write)
    try:
        answer = os.read(read, 1)
    finally:
        os.close(read)
        os.waitpid(pid, 0)
        shared.unwatch("parent")
    assert answer == b"1"
