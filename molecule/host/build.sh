#!/usr/bin/env bash
# Build the Molecule test host images (TEST-ONLY) from the local base image
# regression-analyzer/python-base:3.11 (scripts/build-base-image.sh):
#   regression-analyzer/molecule-host:bookworm  Debian 12 running its own Docker engine (default)
#   regression-analyzer/molecule-vm:bookworm    a fresh Debian 12 "VM": systemd, sshd, sudo (operator)
#   regression-analyzer/molecule-vm:trixie      the same VM on Debian 13 (operator), from a trixie
#                                               root debootstrapped by scripts/build-base-image.sh
# Idempotent: an image is rebuilt only when its Dockerfile changed, unless --force.
set -euo pipefail
cd "$(dirname "$0")"
BASE=${BASE_IMAGE:-regression-analyzer/python-base:3.11}

build() {  # build DOCKERFILE TAG [BASE]
  local dockerfile=$1 tag=$2 base=${3:-$BASE} sum have
  # The image carries the sha256 of its Dockerfile and base: an edit or a new base means a rebuild.
  sum=$({ sha256sum "$dockerfile"; docker image inspect -f '{{.Id}}' "$base"; } | sha256sum | cut -c1-64)
  have=$(docker image inspect -f '{{ index .Config.Labels "dockerfile-sha256" }}' "$tag" 2>/dev/null || true)
  if [ "${FORCE:-}" != 1 ] && [ "$have" = "$sum" ]; then
    echo "[molecule-host] $tag is up to date"; return
  fi
  docker build -q -f "$dockerfile" --build-arg "BASE_IMAGE=$base" --label "dockerfile-sha256=$sum" \
    -t "$tag" . >/dev/null
  echo "[molecule-host] built $tag"
}

[ "${1:-}" = "--force" ] && FORCE=1
build Dockerfile "${MOLECULE_HOST_IMAGE:-regression-analyzer/molecule-host:bookworm}"
build vm.Dockerfile "${MOLECULE_VM_IMAGE:-regression-analyzer/molecule-vm:bookworm}"

# Debian 13: its own root (debootstrap trixie; idempotent like the bookworm base).
TRIXIE_BASE=${TRIXIE_BASE_IMAGE:-regression-analyzer/debian-base:trixie}
DEBIAN_SUITE=trixie BASE_IMAGE_TAG=$TRIXIE_BASE bash ../../scripts/build-base-image.sh
build vm.Dockerfile "${MOLECULE_VM_TRIXIE_IMAGE:-regression-analyzer/molecule-vm:trixie}" "$TRIXIE_BASE"
