"""System metrics of the machine a run trains on, sampled in the background.

CPU, memory, disk and network I/O come from psutil; GPU utilisation, memory and power from
NVML when an NVIDIA driver is present. Keys start with ``system/``.
"""

from __future__ import annotations

import contextlib
import logging
import os
import threading
import time
import weakref
from collections.abc import Callable
from typing import Any

import psutil

logger = logging.getLogger("plinth.system_metrics")
MIB = 1024 * 1024


class GpuProbe:
    """NVML readings per GPU; empty when no NVIDIA driver can be loaded."""

    def __init__(self) -> None:
        self._nvml: Any = None
        self._handles: list[Any] = []
        try:
            import pynvml

            pynvml.nvmlInit()
            count = pynvml.nvmlDeviceGetCount()
            self._handles = [pynvml.nvmlDeviceGetHandleByIndex(i) for i in range(count)]
            self._nvml = pynvml
        except Exception:  # no library, no driver, no GPU: all mean "no GPU metrics"
            self._handles = []

    @property
    def gpu_count(self) -> int:
        return len(self._handles)

    def sample(self) -> dict[str, float]:
        values: dict[str, float] = {}
        nvml = self._nvml
        for index, handle in enumerate(self._handles):
            prefix = f"system/gpu_{index}_"
            try:
                rates = nvml.nvmlDeviceGetUtilizationRates(handle)
                memory = nvml.nvmlDeviceGetMemoryInfo(handle)
                values[prefix + "utilization_percent"] = float(rates.gpu)
                values[prefix + "memory_used_mb"] = memory.used / MIB
                values[prefix + "memory_percent"] = 100.0 * memory.used / max(memory.total, 1)
                values[prefix + "power_watts"] = nvml.nvmlDeviceGetPowerUsage(handle) / 1000.0
            except Exception as exc:  # one failing reading must not stop the others
                logger.debug("NVML reading of GPU %d failed: %s", index, exc)
        return values


Emit = Callable[[dict[str, float], int], None]
"""``emit(values, step)``: one sample for one run, its samples counted from 0."""


def io_counters() -> dict[str, float]:
    """Disk and network bytes since boot (MiB): a run reports them from its own start."""
    counters: dict[str, float] = {}
    disk = psutil.disk_io_counters()
    if disk is not None:
        counters["system/disk_read_mb"] = disk.read_bytes / MIB
        counters["system/disk_write_mb"] = disk.write_bytes / MIB
    net = psutil.net_io_counters()
    if net is not None:
        counters["system/network_receive_mb"] = net.bytes_recv / MIB
        counters["system/network_transmit_mb"] = net.bytes_sent / MIB
    return counters


def sample_machine(gpus: GpuProbe | None) -> dict[str, float]:
    """One reading of the machine; disk and network as totals since boot."""
    memory = psutil.virtual_memory()
    values = {
        "system/cpu_percent": psutil.cpu_percent(interval=None),
        "system/memory_used_mb": (memory.total - memory.available) / MIB,
        "system/memory_percent": memory.percent,
    }
    values.update(io_counters())
    with contextlib.suppress(OSError):
        values["system/disk_used_percent"] = psutil.disk_usage("/").percent
    if gpus is not None:
        values.update(gpus.sample())
    return values


class _Watch:
    def __init__(self, emit: Emit, baseline: dict[str, float]) -> None:
        self.emit = emit
        self.baseline = baseline
        self.samples = 0

    def values(self, reading: dict[str, float]) -> dict[str, float]:
        return {key: value - self.baseline.get(key, 0.0) for key, value in reading.items()}


class SystemMonitor:
    """One sampling thread a process shares among all its active runs.

    A run used to start a thread of its own, probe NVML and take a sample at once: ~1.85 ms
    of the caller's CPU and nine metric series even for a run of a few milliseconds. Here a
    run costs a dict entry and a read of the I/O counters (its baseline); the thread, the
    NVML probe and the readings are paid once per interval for every run together. A run
    gets its first sample at the next tick, so a run shorter than the interval may get none
    (as with MLflow's monitor).
    """

    def __init__(self, interval: float) -> None:
        self.interval = interval
        self._start_afresh()
        _every_monitor.add(self)

    def _start_afresh(self) -> None:
        """No runs, no thread, new locks: at creation, and in a child process after
        ``fork`` (which copies a lock the parent's thread held, held, and copies no thread;
        the parent's runs are not the child's to sample)."""
        self._watches: dict[str, _Watch] = {}
        self._changed = threading.Condition()
        self._emitting = threading.Lock()
        self._thread: threading.Thread | None = None

    def watch(self, key: str, emit: Emit) -> None:
        """Call ``emit(values)`` at every tick until ``unwatch(key)``."""
        baseline = io_counters()
        with self._changed:
            if self._thread is None:
                thread = threading.Thread(
                    target=self._run, name="plinth-system-metrics", daemon=True
                )
                try:
                    thread.start()
                except RuntimeError as exc:  # no thread to be had: the run goes on without
                    logger.warning("system metrics are off for this run: %s", exc)
                    return
                self._thread = thread
            self._watches[key] = _Watch(emit, baseline)
            if len(self._watches) == 1:
                self._changed.notify()  # the thread idles while no run is watched

    def unwatch(self, key: str) -> None:
        """Stop; returns once no sample for ``key`` is being emitted any more."""
        with self._changed:
            self._watches.pop(key, None)
        with self._emitting:  # a tick that read the machine before the pop still checks
            pass

    def watching(self) -> int:
        with self._changed:
            return len(self._watches)

    def _run(self) -> None:
        gpus = GpuProbe()
        psutil.cpu_percent(interval=None)  # primes the CPU counter
        while True:
            with self._changed:
                while not self._watches:  # idle until a run starts
                    self._changed.wait()
                # A full interval whatever starts meanwhile: runs that start and end every
                # few milliseconds must not each cause a sample.
                deadline = time.monotonic() + self.interval
                while (left := deadline - time.monotonic()) > 0:
                    self._changed.wait(left)
                # Only runs that were watched before the reading: a later one's baseline
                # is newer than the reading.
                read_for = set(self._watches.values())
            if not read_for:
                continue
            try:
                reading = sample_machine(gpus)
            except Exception:
                logger.exception("system metrics sample failed")
                continue
            with self._emitting:
                with self._changed:
                    watches = [w for w in self._watches.values() if w in read_for]
                for watch in watches:
                    try:
                        watch.emit(watch.values(reading), watch.samples)
                    except Exception:
                        logger.exception("system metrics of a run could not be logged")
                    watch.samples += 1


_monitors: dict[float, SystemMonitor] = {}
_monitors_lock = threading.Lock()
_every_monitor: weakref.WeakSet[SystemMonitor] = weakref.WeakSet()


def monitor(interval: float) -> SystemMonitor:
    """The process's monitor that ticks every ``interval`` seconds."""
    with _monitors_lock:
        found = _monitors.get(interval)
        if found is None:
            found = _monitors[interval] = SystemMonitor(interval)
        return found


def _after_fork_in_child() -> None:
    global _monitors_lock
    _monitors_lock = threading.Lock()
    for each in list(_every_monitor):
        each._start_afresh()


os.register_at_fork(after_in_child=_after_fork_in_child)
