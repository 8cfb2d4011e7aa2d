#!/usr/bin/env bash
# Create the anchor venvs (idempotent): $ANCHORS_ENV/mlflow and $ANCHORS_ENV/fasttrackml.
#
#   bash bench/anchors/install_anchors.sh            # install what is missing
#   bash bench/anchors/install_anchors.sh --force    # reinstall / upgrade to the specs below
#
# Each anchor gets its own venv, never the project's (see shared/bench/README.md).
# Env:
#   ANCHORS_ENV       where the venvs live (default ~/anchors-env)
#   ANCHORS_PYTHON    interpreter used for `-m venv` (default python3; 3.11 was used)
#   MLFLOW_SPEC       pip requirement(s) for the MLflow venv (default: "mlflow==3.17.* scikit-learn")
#   FASTTRACKML_SPEC  pip requirement for FastTrackML (default: "fasttrackml==0.6.*")
# The fasttrackml wheel ships the Go server as a static binary, bin/fml (it also pulls in an
# MLflow 2.x client into its own venv; the benchmarks use the MLflow venv's client for both).
set -euo pipefail
ANCHORS_ENV=${ANCHORS_ENV:-$HOME/anchors-env}
PY=${ANCHORS_PYTHON:-python3}
MLFLOW_SPEC=${MLFLOW_SPEC:-"mlflow==3.17.* scikit-learn"}
FASTTRACKML_SPEC=${FASTTRACKML_SPEC:-"fasttrackml==0.6.*"}
FORCE=0
[ "${1:-}" = "--force" ] && FORCE=1

mkdir -p "$ANCHORS_ENV"

ensure_venv() {  # $1 = venv dir
  if [ ! -x "$1/bin/python" ]; then
    echo "creating venv $1"
    "$PY" -m venv "$1"
    "$1/bin/python" -m pip install -q --upgrade pip
  fi
}

# --- MLflow (+ scikit-learn, for the serving anchors) --------------------------------------
V=$ANCHORS_ENV/mlflow
ensure_venv "$V"
if [ "$FORCE" = 1 ] || ! "$V/bin/python" -c "import mlflow, sklearn" >/dev/null 2>&1 \
    || [ ! -x "$V/bin/mlflow" ]; then
  # shellcheck disable=SC2086  # MLFLOW_SPEC is a list of requirements
  "$V/bin/python" -m pip install -q $MLFLOW_SPEC
fi
echo "mlflow: $("$V/bin/python" -c 'import mlflow; print(mlflow.__version__)') in $V"

# --- FastTrackML (Go server speaking MLflow's REST API) ------------------------------------
V=$ANCHORS_ENV/fasttrackml
ensure_venv "$V"
if [ "$FORCE" = 1 ] || [ ! -x "$V/bin/fml" ]; then
  # shellcheck disable=SC2086
  "$V/bin/python" -m pip install -q $FASTTRACKML_SPEC
fi
echo "fasttrackml: $("$V/bin/fml" --version 2>&1 | tail -1) in $V"
