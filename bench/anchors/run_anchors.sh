#!/usr/bin/env bash
# Run the tracking anchors: MLflow tracking server and FastTrackML, each on a free loopback
# port with a SQLite store in a fresh temp dir and default settings, driven by the same MLflow
# client workload (bench_tracking.py, copied from shared/bench/mlflow), plus the bare-sqlite
# physical reference (../bare_sqlite.py). Servers are always stopped (trap), by process group.
#
#   bash bench/anchors/install_anchors.sh               # once
#   bash bench/anchors/run_anchors.sh OUT_DIR [all|bare|mlflow|fasttrackml|artifact ...]
#   (artifact, MLflow's proxied artifact upload/download, runs only when named)
#
# Writes into OUT_DIR: bare_sqlite.json, <anchor>.json (log_metric, log_batch, metric_history,
# create_runs, search_runs), <anchor>_search_10k.json, <anchor>_server.json (version, port,
# start-up time, command), <anchor>_mem_{idle,after}.json (server process tree RSS/PSS),
# <anchor>_server.log (tail), <anchor>.log (client output) and summary.md.
#
# Env (all optional):
#   ANCHORS_ENV          venvs made by install_anchors.sh (default ~/anchors-env)
#   ANCHORS_SIZE         full (default; ~16 min on 2 cores) | quick (smoke test, ~2 min)
#   ANCHORS_SEARCH_10K   1 (default) | 0: also populate 10,000 runs and time search_runs over them
#   ANCHORS_TIMEOUT      seconds allowed for each client workload (default 1500)
#   ANCHORS_TIMEOUT_10K  seconds allowed for each search_10k step (default 900)
#   ANCHORS_TMP          parent of the temp data dirs (default ${TMPDIR:-/tmp})
#   ANCHORS_KEEP_DATA    1: keep the temp data dirs (default: removed)
#   PYTHON               interpreter for bare_sqlite.py and summarize (default python3)
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
ANCHORS_ENV=${ANCHORS_ENV:-$HOME/anchors-env}
MLFLOW_VENV=$ANCHORS_ENV/mlflow
FML_VENV=$ANCHORS_ENV/fasttrackml
CLIENT_PY=$MLFLOW_VENV/bin/python        # bench_tracking.py imports mlflow: use MLflow's venv
PYTHON=${PYTHON:-python3}
SIZE=${ANCHORS_SIZE:-full}
SEARCH_10K=${ANCHORS_SEARCH_10K:-1}
TMO=${ANCHORS_TIMEOUT:-1500}
TMO_10K=${ANCHORS_TIMEOUT_10K:-900}
TMP_PARENT=${ANCHORS_TMP:-${TMPDIR:-/tmp}}

if [ $# -lt 1 ]; then
  sed -n '2,25p' "$0"; exit 2
fi
OUT=$(mkdir -p "$1" && cd "$1" && pwd)
shift
WHAT=("$@")
[ ${#WHAT[@]} -eq 0 ] && WHAT=(all)
want() { local w; for w in "${WHAT[@]}"; do [ "$w" = all ] || [ "$w" = "$1" ] && return 0; done; return 1; }

# Keep the client quiet and offline: no run URLs on stdout, no telemetry attempts.
export MLFLOW_SUPPRESS_PRINTING_URL_TO_STDOUT=true MLFLOW_DISABLE_TELEMETRY=true DO_NOT_TRACK=true

case $SIZE in
  full)
    # bench_tracking.py defaults, except log_metric (MLflow's server does ~15-20 calls/s: 500
    # calls x 3 reps instead of 2,000) and one 1,000-run create_runs rep (~5 min on MLflow).
    WORKLOAD=(--reps 3 --n-log-metric 500 --batch-size 1000 --batch-total 100000 --reps-batch 3
              --reps-history 3 --n-runs 1000 --reps-runs 1 --reps-search 20)
    BIG=(--n-runs-big 10000 --threads 8 --reps-search 10)
    BARE=(--rows 1000000 --read-rows 100000 --reps 3) ;;
  quick)
    WORKLOAD=(--reps 1 --n-log-metric 100 --batch-size 1000 --batch-total 20000 --reps-batch 1
              --reps-history 2 --n-runs 100 --reps-runs 1 --reps-search 5)
    BIG=(--n-runs-big 500 --threads 8 --reps-search 3)
    BARE=(--rows 200000 --read-rows 100000 --reps 3) ;;
  *) echo "ANCHORS_SIZE must be full or quick" >&2; exit 2 ;;
esac
PHASES=log_metric,log_batch,metric_history,create_runs,search_runs

# ---- process bookkeeping: every server runs in its own session/process group -------------
SERVER_PGIDS=()
DATA_DIRS=()
CHILD=""  # pid of the `timeout` wrapping the workload now running
stop_group() {  # $1 = pgid (== pid of the server we started with setsid)
  local pg=$1 i
  kill -0 -- "-$pg" 2>/dev/null || return 0
  kill -TERM -- "-$pg" 2>/dev/null || true
  for i in $(seq 1 50); do kill -0 -- "-$pg" 2>/dev/null || return 0; sleep 0.2; done
  echo "process group $pg still alive after 10 s: SIGKILL" >&2
  kill -KILL -- "-$pg" 2>/dev/null || true
}
cleanup() {
  local pg d
  if [ -n "$CHILD" ] && kill -0 "$CHILD" 2>/dev/null; then
    kill -TERM "$CHILD" 2>/dev/null || true  # timeout passes it on to the workload
    wait "$CHILD" 2>/dev/null || true
  fi
  for pg in "${SERVER_PGIDS[@]}"; do stop_group "$pg"; done
  if [ "${ANCHORS_KEEP_DATA:-0}" != 1 ]; then
    for d in "${DATA_DIRS[@]}"; do rm -rf "$d"; done
  fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# bounded LOG TIMEOUT DIR CMD... : run CMD in DIR under `timeout`, output to LOG; the script
# waits with `wait` (not in the foreground) so that INT/TERM reach the trap at once.
bounded() {
  local log=$1 tmo=$2 dir=$3 rc=0; shift 3
  (cd "$dir" && exec timeout -k 10 "$tmo" "$@") >"$log" 2>&1 </dev/null &
  CHILD=$!
  wait "$CHILD" || rc=$?
  CHILD=""
  return "$rc"
}

free_port() {
  "$PYTHON" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

mem_snapshot() {  # $1 = pid, $2 = out json
  "$CLIENT_PY" -c "import sys; sys.path.insert(0, '$HERE'); from common import tree_memory, save; \
save('$2', tree_memory($1))" >/dev/null
}

# start_server NAME CMD... : starts CMD (@PORT@ and @DATA@ in its words are replaced) in a new
# session in a fresh data dir, waits for /health; sets SRV_PID, SRV_PORT, SRV_DATA,
# SRV_STARTUP_S (spawn to first /health 200). Retries on another port if the server dies.
start_server() {
  local name=$1; shift
  local try t0 t1 i arg cmd=()
  SRV_DATA=$(mktemp -d "$TMP_PARENT/anchor-$name.XXXXXX")
  DATA_DIRS+=("$SRV_DATA")
  for try in 1 2 3; do
    SRV_PORT=$(free_port)
    cmd=()
    for arg in "$@"; do arg=${arg//@PORT@/$SRV_PORT}; cmd+=("${arg//@DATA@/$SRV_DATA}"); done
    # setsid gives the server its own session and process group (pgid == its pid, written to
    # server.pid before exec), so stopping it takes its workers along and nothing else.
    rm -f "$SRV_DATA/server.pid"
    t0=$(date +%s.%N)
    (cd "$SRV_DATA" && exec setsid sh -c 'echo $$ >server.pid; exec "$@"' sh "${cmd[@]}" \
        >"$SRV_DATA/server.log" 2>&1 </dev/null) &
    for i in $(seq 1 50); do [ -s "$SRV_DATA/server.pid" ] && break; sleep 0.1; done
    SRV_PID=$(cat "$SRV_DATA/server.pid")
    SERVER_PGIDS+=("$SRV_PID")
    for i in $(seq 1 1200); do  # up to 120 s
      if curl -sf "http://127.0.0.1:$SRV_PORT/health" >/dev/null 2>&1; then
        t1=$(date +%s.%N)
        SRV_STARTUP_S=$("$PYTHON" -c "print(round($t1 - $t0, 3))")
        echo "$name: pid $SRV_PID ready on 127.0.0.1:$SRV_PORT after ${SRV_STARTUP_S}s (data $SRV_DATA)"
        SRV_CMD="${cmd[*]}"
        return 0
      fi
      kill -0 "$SRV_PID" 2>/dev/null || break
      sleep 0.1
    done
    echo "$name: server did not come up (try $try); log tail:" >&2
    tail -n 20 "$SRV_DATA/server.log" >&2
    stop_group "$SRV_PID"
  done
  return 1
}

stop_server() {  # $1 = name
  mem_snapshot "$SRV_PID" "$OUT/$1_mem_after.json" || true
  tail -n 300 "$SRV_DATA/server.log" >"$OUT/$1_server.log" || true
  stop_group "$SRV_PID"
}

write_server_meta() {  # $1 = name, $2 = version
  "$PYTHON" - "$OUT/$1_server.json" "$1" "$2" "$SRV_PORT" "$SRV_STARTUP_S" "$SRV_CMD" <<'EOF'
import json, sys
out, name, version, port, startup, cmd = sys.argv[1:]
json.dump({"anchor": name, "version": version, "port": int(port), "startup_s": float(startup),
           "cmd": cmd}, open(out, "w"), indent=2)
EOF
}

run_client() {  # $1 = name (log/json stem), $2 = timeout, rest = bench_tracking.py args
  local name=$1 tmo=$2; shift 2
  local rc=0
  echo "== $name: bench_tracking.py $*"
  bounded "$OUT/$name.log" "$tmo" "$SRV_DATA" "$CLIENT_PY" "$HERE/bench_tracking.py" "$@" \
    --tmpdir "$SRV_DATA/bench-tmp" --out "$OUT/$name.json" || rc=$?
  grep -E '^(==|  )' "$OUT/$name.log" || true
  if [ $rc -ne 0 ]; then
    echo "!! $name: client exited $rc (124 = timed out after ${tmo}s); see $OUT/$name.log" >&2
  fi
  return 0
}

date -u +"started %Y-%m-%dT%H:%M:%SZ  size=$SIZE  out=$OUT"
{
  echo "date_utc: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
  echo "host: $(uname -srm), $(nproc) cpus, $(awk '/MemTotal/ {printf "%.1f GiB", $2/1048576}' /proc/meminfo)"
  echo "loadavg_start: $(cut -d' ' -f1-3 /proc/loadavg)"
  echo "size: $SIZE"
  echo "workload: ${WORKLOAD[*]}"
  echo "search_10k: $SEARCH_10K ${BIG[*]}"
} >"$OUT/env.txt"

# ---- 1. physical reference ----------------------------------------------------------------
if want bare; then
  echo "== bare_sqlite ${BARE[*]}"
  bounded "$OUT/bare_sqlite.log" "$TMO" "$OUT" "$PYTHON" "$HERE/../bare_sqlite.py" "${BARE[@]}" \
    --out "$OUT/bare_sqlite.json" || echo "!! bare_sqlite failed; see $OUT/bare_sqlite.log" >&2
  grep -E '^  (write|read) rep' "$OUT/bare_sqlite.log" || true
fi

# ---- 2. MLflow tracking server, defaults (uvicorn, 4 workers), SQLite ---------------------
if want mlflow; then
  [ -x "$MLFLOW_VENV/bin/mlflow" ] || { echo "no $MLFLOW_VENV; run install_anchors.sh" >&2; exit 1; }
  # Artifact root and destination are put in the data dir so nothing is written to the cwd.
  if start_server mlflow "$MLFLOW_VENV/bin/mlflow" server \
    --backend-store-uri "sqlite:///@DATA@/mlflow.db" \
    --default-artifact-root "@DATA@/art" --artifacts-destination "@DATA@/mlartifacts" \
    --host 127.0.0.1 --port @PORT@; then
    write_server_meta mlflow "$("$CLIENT_PY" -c 'import mlflow; print(mlflow.__version__)')"
    mem_snapshot "$SRV_PID" "$OUT/mlflow_mem_idle.json"
    run_client mlflow "$TMO" --tracking-uri "http://127.0.0.1:$SRV_PORT" --phases "$PHASES" \
      "${WORKLOAD[@]}"
    if [ "$SEARCH_10K" = 1 ]; then
      # Populate straight into the server's SQLite file (as shared/bench/mlflow/run_all.sh does:
      # through the server it takes far longer), then search through the server.
      run_client mlflow_search_10k "$TMO_10K" --tracking-uri "http://127.0.0.1:$SRV_PORT" \
        --phases search_10k --populate-uri "sqlite:///$SRV_DATA/mlflow.db" "${BIG[@]}"
    fi
    stop_server mlflow
  else
    echo "!! mlflow server did not start" >&2
  fi
fi

# ---- 3. FastTrackML, defaults, SQLite ------------------------------------------------------
if want fasttrackml; then
  [ -x "$FML_VENV/bin/fml" ] || { echo "no $FML_VENV/bin/fml; run install_anchors.sh" >&2; exit 1; }
  # NB: the URI is sqlite:// + absolute path (sqlite:///tmp/x.db); four slashes fail with
  # "invalid uri authority".
  if start_server fasttrackml "$FML_VENV/bin/fml" server -d "sqlite://@DATA@/fml.db" \
    -a "127.0.0.1:@PORT@" --default-artifact-root "@DATA@/artifacts"; then
    write_server_meta fasttrackml "$("$FML_VENV/bin/fml" --version 2>&1 | awk '{print $NF}')"
    mem_snapshot "$SRV_PID" "$OUT/fasttrackml_mem_idle.json"
    run_client fasttrackml "$TMO" --tracking-uri "http://127.0.0.1:$SRV_PORT" --phases "$PHASES" \
      "${WORKLOAD[@]}"
    if [ "$SEARCH_10K" = 1 ]; then
      # FastTrackML's schema is its own: populate through the server (8 client threads).
      run_client fasttrackml_search_10k "$TMO_10K" --tracking-uri "http://127.0.0.1:$SRV_PORT" \
        --phases search_10k "${BIG[@]}"
    fi
    stop_server fasttrackml
  else
    echo "!! fasttrackml server did not start" >&2
  fi
fi

# ---- 4. MLflow's proxied artifact upload and download (only when named: `... OUT artifact`) --
# A fresh MLflow server (defaults, artifacts proxied to a folder on the same disk); the file is
# ANCHORS_ARTIFACT_MB MB (default 1000), 3 reps. plinth's side: bench/bench_artifacts.py.
if [[ " ${WHAT[*]} " == *" artifact "* ]]; then
  [ -x "$MLFLOW_VENV/bin/mlflow" ] || { echo "no $MLFLOW_VENV; run install_anchors.sh" >&2; exit 1; }
  if start_server mlflow_artifact "$MLFLOW_VENV/bin/mlflow" server \
    --backend-store-uri "sqlite:///@DATA@/mlflow.db" \
    --default-artifact-root "@DATA@/art" --artifacts-destination "@DATA@/mlartifacts" \
    --host 127.0.0.1 --port @PORT@; then
    run_client mlflow_artifact "$TMO" --tracking-uri "http://127.0.0.1:$SRV_PORT" \
      --phases artifact --artifact-mb "${ANCHORS_ARTIFACT_MB:-1000}" --reps-artifact 3
    stop_server mlflow_artifact
  else
    echo "!! mlflow server (artifact) did not start" >&2
  fi
fi

echo "loadavg_end: $(cut -d' ' -f1-3 /proc/loadavg)" >>"$OUT/env.txt"
"$PYTHON" "$HERE/summarize_anchors.py" "$OUT" >"$OUT/summary.md"
cat "$OUT/summary.md"
date -u +"finished %Y-%m-%dT%H:%M:%SZ"
