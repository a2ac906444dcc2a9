#!/usr/bin/env bash
# Installs the Debian packages Shopassist needs when they are missing: a C/C++ toolchain and
# cmake (llama-cpp-python builds from source), venv support and espeak-ng (the speech API's
# voice); with --test, Chromium for the browser tests. Safe to run repeatedly.
set -euo pipefail
need=()
command -v g++ >/dev/null 2>&1 || need+=(g++ build-essential)
command -v cmake >/dev/null 2>&1 || need+=(cmake)
python3 -c 'import ensurepip' >/dev/null 2>&1 || need+=(python3-venv)
command -v espeak-ng >/dev/null 2>&1 || need+=(espeak-ng)
# --test: what the test suite needs besides: headless Chromium for the widget's browser tests.
if [ "${1:-}" = "--test" ]; then
  need=()
  [ -x /usr/bin/chromium ] || need+=(chromium fonts-liberation)
fi
if ((${#need[@]})); then
  sudo=""
  if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
  echo "Installing system packages: ${need[*]}"
  $sudo apt-get update -q
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q --no-install-recommends "${need[@]}"
fi
