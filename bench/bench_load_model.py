#!/usr/bin/env python3
"""Loading a registered scikit-learn model after a fresh start (anchor: under 0.5 s).

Logs (and registers, when the platform has a registry) a random forest on iris in a fresh
local data dir, then starts a new Python process per measurement and times, inside it,
from ``import plinth`` to the first prediction of ``load_model(URI)``. The first process
finds the load cache empty (it downloads, scans and, for skops, builds the cached form);
the next ``--runs`` find it warm: their median is the figure. The *floor* is a process
that only imports the model's scikit-learn module and unpickles it: what any loader pays.
*In a running process* times ``load_model`` and the first prediction in a process that has
already imported plinth, pandas and scikit-learn (a serving worker or a notebook that is up):
plinth's own share of a load, without the imports every loader pays.

    python bench/bench_load_model.py
    python bench/bench_load_model.py --format joblib --runs 5 --out results/load_model.json
"""

from __future__ import annotations

import argparse
import json
import os
import pickle
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]

CHILD = """
import time
started = time.perf_counter()
import plinth
imported = time.perf_counter()
model = plinth.load_model({uri!r}, trusted={trusted!r})
loaded = time.perf_counter()
model.predict({row!r})
predicted = time.perf_counter()
import json
print(json.dumps({{"import": imported - started, "load": loaded - imported,
                  "predict": predicted - loaded, "total": predicted - started}}))
"""

RUNNING = """
import time
import pandas
import sklearn.ensemble
import plinth
started = time.perf_counter()
model = plinth.load_model({uri!r}, trusted={trusted!r})
loaded = time.perf_counter()
model.predict({row!r})
predicted = time.perf_counter()
import json
print(json.dumps({{"load": loaded - started, "predict": predicted - loaded,
                  "total": predicted - started}}))
"""

FLOOR = """
import time
started = time.perf_counter()
import pickle
import pandas
model = pickle.load(open({path!r}, "rb"))
model.predict(pandas.DataFrame([{row!r}]))
print(time.perf_counter() - started)
"""


def log_model(data_dir: Path, fmt: str) -> tuple[str, dict[str, float], Any]:
    os.environ["PLINTH_DATA_DIR"] = str(data_dir)
    os.environ["PLINTH_SYSTEM_METRICS"] = "false"
    from sklearn.datasets import load_iris
    from sklearn.ensemble import RandomForestClassifier

    import plinth
    from plinth.sdk import session

    frame, target = load_iris(return_X_y=True, as_frame=True)
    model = RandomForestClassifier(n_estimators=50, random_state=0).fit(frame, target)
    registry = getattr(session.current().platform, "registry", None)
    info = plinth.log_model(
        model,
        input_example=frame.head(5),
        format=fmt,
        registered_model_name="bench-iris" if registry is not None else None,
    )
    uri = "models:/bench-iris/1" if info.registered_version else info.model_uri
    session.configure()
    return uri, frame.iloc[0].to_dict(), model


def child(code: str, data_dir: Path) -> str:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PLINTH_")}
    env.update(PLINTH_DATA_DIR=str(data_dir), PLINTH_SYSTEM_METRICS="false")
    result = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    )
    return result.stdout.strip().splitlines()[-1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5, help="warm processes (median of these)")
    parser.add_argument("--format", default="skops", help="skops (default), joblib, pickle")
    parser.add_argument("--out", type=Path, help="write the figures as JSON here")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="plinth-bench-load-") as folder:
        data_dir = Path(folder) / "data"
        uri, row, model = log_model(data_dir, args.format)
        code = CHILD.format(uri=uri, trusted=args.format == "joblib", row=row)
        cold = json.loads(child(code, data_dir))
        warm = [json.loads(child(code, data_dir)) for _ in range(args.runs)]
        running = [
            json.loads(
                child(RUNNING.format(uri=uri, trusted=args.format == "joblib", row=row), data_dir)
            )
            for _ in range(args.runs)
        ]
        pickled = Path(folder) / "floor.pkl"
        pickled.write_bytes(pickle.dumps(model, protocol=5))
        floor = [float(child(FLOOR.format(path=str(pickled), row=row), data_dir)) for _ in range(3)]
    figures = {
        "uri": uri,
        "format": args.format,
        "cold_total_s": cold["total"],
        "warm_median_s": {k: statistics.median(w[k] for w in warm) for k in warm[0]},
        "running_process_median_s": {
            k: statistics.median(r[k] for r in running) for k in running[0]
        },
        "floor_median_s": statistics.median(floor),
        "anchor_s": 0.5,
    }
    median = figures["warm_median_s"]
    print(f"load_model({uri}) [{args.format}], fresh process, import plinth -> first prediction")
    print(f"  cold cache (first process): {cold['total']:.3f} s")
    print(
        f"  warm cache, median of {args.runs}: {median['total']:.3f} s "
        f"(import plinth {median['import']:.3f}, load_model {median['load']:.3f}, "
        f"predict {median['predict']:.3f})"
    )
    ready = figures["running_process_median_s"]
    print(
        f"  in a running process (plinth, pandas and scikit-learn imported), median of "
        f"{args.runs}: {ready['total']:.3f} s (load_model {ready['load']:.3f}, "
        f"predict {ready['predict']:.3f})"
    )
    floor_s = figures["floor_median_s"]
    print(f"  floor (import the model's sklearn modules + unpickle): {floor_s:.3f} s")
    print(f"  anchor: under {figures['anchor_s']} s")
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()
