#!/usr/bin/env bash
# Create the virtual environment and install plinth with its dev extras.
# Only python3 (>= 3.11) is assumed; the venv module comes from apt when it is missing.
set -euo pipefail
PYTHON=${1:-python3}
VENV=${2:-.venv}
if ! "$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 11))'; then
  echo "plinth needs Python 3.11 or newer; $PYTHON is $("$PYTHON" --version)" >&2
  exit 1
fi
if ! "$PYTHON" -c 'import venv, ensurepip' 2>/dev/null; then
  echo "installing python3-venv with apt" >&2
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq && $SUDO apt-get install -y -qq python3-venv
fi
[ -x "$VENV/bin/python" ] || "$PYTHON" -m venv "$VENV"
"$VENV/bin/python" -m pip install --quiet --upgrade pip
"$VENV/bin/python" -m pip install --quiet -e '.[dev]'
