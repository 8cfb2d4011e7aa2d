"""System metrics of the machine a run trains on, sampled in the background.

CPU, memory, disk and network I/O come from psutil; GPU utilisation, memory and power from
NVML when an NVIDIA driver is present. Keys start with ``system/``.
"""

from __future__ import annotations

import logging
import threading
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


class SystemMetricsSampler:
    """Calls ``emit(values)`` every ``interval`` seconds until ``stop()``."""

    def __init__(self, emit: Callable[[dict[str, float]], None], interval: float = 10.0) -> None:
        self._emit = emit
        self._interval = interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="plinth-system-metrics", daemon=True)
        self._gpus: GpuProbe | None = None
        disk, net = psutil.disk_io_counters(), psutil.net_io_counters()
        self._disk0 = (disk.read_bytes, disk.write_bytes) if disk else (0, 0)
        self._net0 = (net.bytes_recv, net.bytes_sent) if net else (0, 0)
        psutil.cpu_percent(interval=None)  # primes the CPU counter

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=5)

    def _run(self) -> None:
        self._gpus = GpuProbe()
        while True:
            try:
                self._emit(self.sample())
            except Exception:
                logger.exception("system metrics sample failed")
            if self._stop.wait(self._interval):
                return

    def sample(self) -> dict[str, float]:
        memory = psutil.virtual_memory()
        values = {
            "system/cpu_percent": psutil.cpu_percent(interval=None),
            "system/memory_used_mb": (memory.total - memory.available) / MIB,
            "system/memory_percent": memory.percent,
        }
        disk = psutil.disk_io_counters()
        if disk is not None:
            values["system/disk_read_mb"] = (disk.read_bytes - self._disk0[0]) / MIB
            values["system/disk_write_mb"] = (disk.write_bytes - self._disk0[1]) / MIB
        try:
            usage = psutil.disk_usage("/")
            values["system/disk_used_percent"] = usage.percent
        except OSError:
            pass
        net = psutil.net_io_counters()
        if net is not None:
            values["system/network_receive_mb"] = (net.bytes_recv - self._net0[0]) / MIB
            values["system/network_transmit_mb"] = (net.bytes_sent - self._net0[1]) / MIB
        if self._gpus is not None:
            values.update(self._gpus.sample())
        return values
