#!/usr/bin/env bash
# make demo: start plinth on the embedded default, run an end-to-end example against it,
# print the UI's URL and leave the server running (`make demo-stop` stops it).
set -euo pipefail
BIN=$1
PORT=$2
DATA=$3
mkdir -p "$DATA"
if [ -f "$DATA/server.pid" ] && kill -0 "$(cat "$DATA/server.pid")" 2>/dev/null; then
  echo "plinth is already running (pid $(cat "$DATA/server.pid"))"
else
  nohup "$BIN/plinth" server --port "$PORT" --data-dir "$DATA" >"$DATA/server.log" 2>&1 &
  echo $! >"$DATA/server.pid"
fi
URL="http://127.0.0.1:$PORT"
for _ in $(seq 1 150); do
  if "$BIN/python" -c "import httpx,sys; sys.exit(httpx.get('$URL/readyz').status_code != 200)" 2>/dev/null; then
    break
  fi
  sleep 0.2
done
PLINTH_URL="$URL" PLINTH_SYSTEM_METRICS_INTERVAL=1 "$BIN/python" examples/sklearn_tracking.py
echo
echo "plinth is running: open $URL (the registered model: $URL/models/wine-classifier)"
echo "(server log: $DATA/server.log; stop it with: make demo-stop)"
