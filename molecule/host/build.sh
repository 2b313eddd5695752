#!/usr/bin/env bash
# Build the Molecule test host images (TEST-ONLY) from the local base image
# regression-analyzer/python-base:3.11 (scripts/build-base-image.sh):
#   regression-analyzer/molecule-host:bookworm  Debian 12 running its own Docker engine (default)
#   regression-analyzer/molecule-vm:bookworm    a fresh Debian 12 "VM": systemd, sshd, sudo (operator)
# Idempotent: an image is rebuilt only when its Dockerfile changed, unless --force.
set -euo pipefail
cd "$(dirname "$0")"
BASE=${BASE_IMAGE:-regression-analyzer/python-base:3.11}

build() {  # build DOCKERFILE TAG
  local dockerfile=$1 tag=$2 sum have
  # The image carries the sha256 of its Dockerfile: an edited Dockerfile means a rebuild.
  sum=$(sha256sum "$dockerfile" | cut -c1-64)
  have=$(docker image inspect -f '{{ index .Config.Labels "dockerfile-sha256" }}' "$tag" 2>/dev/null || true)
  if [ "${FORCE:-}" != 1 ] && [ "$have" = "$sum" ]; then
    echo "[molecule-host] $tag is up to date"; return
  fi
  docker build -q -f "$dockerfile" --build-arg "BASE_IMAGE=$BASE" --label "dockerfile-sha256=$sum" \
    -t "$tag" . >/dev/null
  echo "[molecule-host] built $tag"
}

[ "${1:-}" = "--force" ] && FORCE=1
build Dockerfile "${MOLECULE_HOST_IMAGE:-regression-analyzer/molecule-host:bookworm}"
build vm.Dockerfile "${MOLECULE_VM_IMAGE:-regression-analyzer/molecule-vm:bookworm}"
