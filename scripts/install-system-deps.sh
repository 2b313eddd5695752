#!/usr/bin/env bash
# Debian packages the test suites need: the Docker engine and compose v1 (container tests,
# Molecule), debootstrap (registry-less base image), Chromium + driver (web page tests).
# Idempotent: installs only what is missing. Needs root (CI runs as root).
set -euo pipefail
packages=(docker.io docker-compose debootstrap chromium chromium-driver)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "installing: ${missing[*]}"
  apt-get update -q
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}"
else
  echo "system packages present"
fi
