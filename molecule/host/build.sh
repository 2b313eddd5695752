#!/usr/bin/env bash
# Build the Molecule test host image (TEST-ONLY): Debian 12 + its own Docker engine.
# Needs the local base image regression-analyzer/python-base:3.11 (scripts/build-base-image.sh).
# Idempotent: skips the build when the image exists for this Dockerfile, unless --force.
set -euo pipefail
cd "$(dirname "$0")"
TAG=${MOLECULE_HOST_IMAGE:-regression-analyzer/molecule-host:bookworm}
BASE=${BASE_IMAGE:-regression-analyzer/python-base:3.11}
# The image carries the sha256 of its Dockerfile: an edited Dockerfile means a rebuild.
SUM=$(sha256sum Dockerfile | cut -c1-64)
have=$(docker image inspect -f '{{ index .Config.Labels "dockerfile-sha256" }}' "$TAG" 2>/dev/null || true)
if [ "${1:-}" != "--force" ] && [ "$have" = "$SUM" ]; then
  echo "[molecule-host] $TAG is up to date"; exit 0
fi
docker build -q --build-arg "BASE_IMAGE=$BASE" --label "dockerfile-sha256=$SUM" -t "$TAG" . >/dev/null
echo "[molecule-host] built $TAG"
