#!/usr/bin/env bash
# Build the Molecule test host image (TEST-ONLY): Debian 12 + its own Docker engine.
# Needs the local base image regression-analyzer/python-base:3.11 (scripts/build-base-image.sh).
# Idempotent: skips the build when the image exists, unless --force.
set -euo pipefail
cd "$(dirname "$0")"
TAG=${MOLECULE_HOST_IMAGE:-regression-analyzer/molecule-host:bookworm}
BASE=${BASE_IMAGE:-regression-analyzer/python-base:3.11}
if [ "${1:-}" != "--force" ] && docker image inspect "$TAG" >/dev/null 2>&1; then
  echo "[molecule-host] $TAG already exists"; exit 0
fi
docker build -q --build-arg "BASE_IMAGE=$BASE" -t "$TAG" . >/dev/null
echo "[molecule-host] built $TAG"
