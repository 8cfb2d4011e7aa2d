#!/usr/bin/env python3
"""GPU check for system metrics: on a machine with an NVIDIA GPU, sample plinth's system
metrics (psutil + NVML, exactly the code a run uses) and compare NVML's readings with
``nvidia-smi``'s. Prints JSON. Needs only psutil and nvidia-ml-py beside ``src/``.

    PYTHONPATH=<folder with psutil and pynvml> python bench/gpu_system_metrics_check.py
"""

from __future__ import annotations

import importlib.util
import json
import platform
import shutil
import subprocess
import time
from pathlib import Path

# Load the module by path: it needs only psutil and NVML, not plinth's other dependencies.
_PATH = Path(__file__).resolve().parents[1] / "src" / "plinth" / "tracking" / "system_metrics.py"
_SPEC = importlib.util.spec_from_file_location("plinth_system_metrics", _PATH)
assert _SPEC is not None
assert _SPEC.loader is not None
system_metrics = importlib.util.module_from_spec(_SPEC)
_SPEC.loader.exec_module(system_metrics)
GpuProbe = system_metrics.GpuProbe
SystemMonitor = system_metrics.SystemMonitor


def nvidia_smi() -> list[dict[str, str]]:
    if shutil.which("nvidia-smi") is None:
        return []
    fields = "index,name,utilization.gpu,memory.used,memory.total,power.draw"
    done = subprocess.run(
        ["nvidia-smi", f"--query-gpu={fields}", "--format=csv,noheader,nounits"],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    names = fields.split(",")
    return [
        dict(zip(names, (v.strip() for v in line.split(",")), strict=True))
        for line in done.stdout.strip().splitlines()
    ]


def main() -> None:
    samples: list[dict[str, float]] = []
    monitor = SystemMonitor(interval=0.5)
    monitor.watch("check", lambda values, _step: samples.append(values))
    time.sleep(1.8)
    monitor.unwatch("check")
    probe = GpuProbe()
    report = {
        "python": platform.python_version(),
        "gpu_count": probe.gpu_count,
        "samples": len(samples),
        "gpu_keys": sorted(k for k in samples[-1] if k.startswith("system/gpu_")),
        "last_sample": samples[-1],
        "nvidia_smi": nvidia_smi(),
    }
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
