# Copied verbatim from shared/bench/mlflow/common.py (the anchor client workload; only this
# header was added). Keep it byte-identical below this header so figures stay comparable
# with shared/bench/README.md; it is third-party-style code, so lint and format are off.
# ruff: noqa
# fmt: off
"""Shared helpers for the MLflow anchor benchmarks (stdlib only)."""
import json
import os
import statistics
import time


def stats(values):
    """median / min / max / n of a list of numbers."""
    v = sorted(values)
    return {
        "median": statistics.median(v),
        "min": v[0],
        "max": v[-1],
        "n": len(v),
        "values": [round(x, 6) for x in v],
    }


class Timer:
    def __enter__(self):
        self.t0 = time.perf_counter()
        return self

    def __exit__(self, *a):
        self.dt = time.perf_counter() - self.t0


def _children(pid):
    kids = []
    try:
        for tid in os.listdir(f"/proc/{pid}/task"):
            try:
                with open(f"/proc/{pid}/task/{tid}/children") as f:
                    kids += [int(x) for x in f.read().split()]
            except OSError:
                pass
    except OSError:
        pass
    return kids


def process_tree(pid):
    out, stack = [], [int(pid)]
    while stack:
        p = stack.pop()
        out.append(p)
        stack.extend(_children(p))
    return out


def _kb(path, field):
    try:
        with open(path) as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except OSError:
        return None
    return None


def tree_memory(pid):
    """RSS and PSS (MiB) for pid and all its descendants."""
    procs = []
    for p in process_tree(pid):
        try:
            with open(f"/proc/{p}/cmdline", "rb") as f:
                cmd = f.read().replace(b"\0", b" ").decode(errors="replace")[:160]
        except OSError:
            continue
        rss = _kb(f"/proc/{p}/status", "VmRSS")
        pss = _kb(f"/proc/{p}/smaps_rollup", "Pss")
        procs.append({"pid": p, "rss_mib": (rss or 0) / 1024, "pss_mib": (pss or 0) / 1024, "cmd": cmd})
    return {
        "total_rss_mib": sum(x["rss_mib"] for x in procs),
        "total_pss_mib": sum(x["pss_mib"] for x in procs),
        "n_procs": len(procs),
        "procs": procs,
    }


def save(path, obj):
    if not path:
        print(json.dumps(obj, indent=2))
        return
    with open(path, "w") as f:
        json.dump(obj, f, indent=2)
    print(f"wrote {path}")
