#!/usr/bin/env bash
# Every benchmark side by side, in one run, then bench/RESULTS.md from it.
#   bash bench/run_all.sh [OUT_DIR]        (default bench/results/<date-time>; ~40 minutes)
# Needs the anchors' venvs: bash bench/anchors/install_anchors.sh
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=${1:-bench/results/$(date +%Y%m%d-%H%M)}
mkdir -p "$OUT"
PY=$PWD/.venv/bin/python
echo "== anchors (MLflow, FastTrackML, bare SQLite) -> $OUT"
PYTHON=$PY bash bench/anchors/run_anchors.sh "$OUT" all
echo "== plinth on SQLite"
$PY bench/bench_plinth.py --out "$OUT/plinth_sqlite.json"
echo "== plinth on PostgreSQL"
$PY bench/bench_plinth.py --database postgres --out "$OUT/plinth_postgres.json"
echo "== plinth search over 1,000,000 runs (SQLite, PostgreSQL)"
$PY bench/bench_plinth.py --phases search_1m --out "$OUT/plinth_sqlite_1m.json"
$PY bench/bench_plinth.py --database postgres --phases search_1m --out "$OUT/plinth_postgres_1m.json"
echo "== artifacts, registry, model loading (issue 3)"
PYTHON=$PY bash bench/anchors/run_anchors.sh "$OUT" artifact
$PY bench/bench_artifacts.py --out "$OUT/plinth_artifacts.json"
$PY bench/bench_registry.py --out "$OUT/plinth_registry_sqlite.json"
$PY bench/bench_registry.py --database postgres --out "$OUT/plinth_registry_postgres.json"
$PY bench/bench_load_model.py --out "$OUT/plinth_load_model.json"
$PY bench/summarize.py "$OUT"
