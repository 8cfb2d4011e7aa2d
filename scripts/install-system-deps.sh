#!/usr/bin/env bash
# What the test suite needs beyond Python: PostgreSQL (initdb, pg_ctl) and Chromium.
# Installs them with apt when missing; does nothing when they are there.
set -euo pipefail
need=()
command -v initdb >/dev/null 2>&1 || ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || need+=(postgresql)
[ -x /usr/bin/chromium ] || need+=(chromium)
if [ ${#need[@]} -gt 0 ]; then
  echo "installing with apt: ${need[*]}" >&2
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need[@]}"
fi
# Debian puts initdb and pg_ctl outside PATH; link them where the tests look.
if ! command -v initdb >/dev/null 2>&1; then
  bin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  for tool in initdb pg_ctl postgres; do $SUDO ln -sf "$bin/$tool" "/usr/local/bin/$tool"; done
fi
