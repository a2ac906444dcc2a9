#!/usr/bin/env bash
# Installs the Debian packages Shopassist needs when they are missing: a C/C++ toolchain and
# cmake (llama-cpp-python builds from source) and venv support. Safe to run repeatedly.
set -euo pipefail
need=()
command -v g++ >/dev/null 2>&1 || need+=(g++ build-essential)
command -v cmake >/dev/null 2>&1 || need+=(cmake)
python3 -c 'import ensurepip' >/dev/null 2>&1 || need+=(python3-venv)
if ((${#need[@]})); then
  sudo=""
  if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
  echo "Installing system packages: ${need[*]}"
  $sudo apt-get update -q
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q --no-install-recommends "${need[@]}"
fi
