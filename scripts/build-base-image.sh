#!/usr/bin/env bash
# Build a Python 3.11 base image WITHOUT any container registry:
#   debootstrap (Debian bookworm, minbase + python3/venv/pip/ca-certificates) -> docker import
#   -> a small Dockerfile on top that adds the host's CA bundle and a `python` symlink.
# Result: regression-analyzer/python-base:3.11 (override with BASE_IMAGE_TAG).
# Use it with: docker build --build-arg BASE_IMAGE=regression-analyzer/python-base:3.11 .
#
# Idempotent: does nothing when the image already exists, unless --force.
# Needs root, debootstrap and a running Docker engine (scripts/start-docker-engine.sh).
#
# Environment:
#   BASE_IMAGE_TAG   final tag           (default regression-analyzer/python-base:3.11)
#   DEBIAN_MIRROR    Debian mirror URL   (default: the one this machine's apt uses)
#   DEBIAN_SUITE     suite               (default bookworm -> Python 3.11)
#   CA_BUNDLE        CA bundle to bake in (default /etc/ssl/certs/ca-certificates.crt).
#                    This site's package downloads pass through a proxy whose CA only the
#                    host trusts; copying the host bundle lets pip inside `docker build`
#                    verify it. On a normal site it is just the Debian bundle.
set -euo pipefail

TAG=${BASE_IMAGE_TAG:-regression-analyzer/python-base:3.11}
RAW_TAG=${TAG%%:*}-raw:${TAG##*:}
SUITE=${DEBIAN_SUITE:-bookworm}
CA_BUNDLE=${CA_BUNDLE:-/etc/ssl/certs/ca-certificates.crt}
FORCE=0

for arg in "$@"; do
  case "$arg" in
    --force) FORCE=1 ;;
    -h|--help) sed -n '2,20p' "$0"; exit 0 ;;
    *) echo "unknown argument: $arg" >&2; exit 2 ;;
  esac
done

log() { echo "[build-base-image] $*"; }

if ! docker info >/dev/null 2>&1; then
  echo "[build-base-image] ERROR: Docker engine not reachable (run scripts/start-docker-engine.sh)" >&2
  exit 1
fi

if [ "$FORCE" = 0 ] && docker image inspect "$TAG" >/dev/null 2>&1; then
  log "$TAG already exists ($(docker image inspect -f '{{.Id}}' "$TAG" | cut -c8-19)); use --force to rebuild"
  exit 0
fi

find_mirror() {
  # deb822 sources (*.sources, or deb822 text in *.list here) first, then one-line format.
  local f m
  for f in /etc/apt/sources.list.d/* /etc/apt/sources.list; do
    [ -f "$f" ] || continue
    # deb822 stanza: take URIs from a stanza whose Suites mention the suite, not security.
    m=$(awk -v suite="$SUITE" '
      BEGIN { RS=""; FS="\n" }
      {
        uri=""; ok=0
        for (i = 1; i <= NF; i++) {
          if ($i ~ /^URIs:/)   { sub(/^URIs:[ \t]*/, "", $i); split($i, u, /[ \t]+/); uri=u[1] }
          if ($i ~ /^Suites:/ && $i ~ ("[ \t]" suite "([ \t]|$)")) ok=1
        }
        if (ok && uri != "" && uri !~ /security/) { print uri; exit }
      }' "$f")
    if [ -n "$m" ]; then echo "$m"; return 0; fi
    m=$(awk -v suite="$SUITE" '$1 == "deb" && $0 !~ /security/ {
          for (i = 2; i <= NF; i++) if ($i ~ /^[a-z]+:\/\//) { if ($(i+1) == suite) { print $i; exit } }
        }' "$f")
    if [ -n "$m" ]; then echo "$m"; return 0; fi
  done
  return 1
}

MIRROR=${DEBIAN_MIRROR:-$(find_mirror || true)}
if [ -z "$MIRROR" ]; then
  echo "[build-base-image] ERROR: no Debian mirror for '$SUITE' in /etc/apt/sources.list{,.d/*}; set DEBIAN_MIRROR" >&2
  exit 1
fi
command -v debootstrap >/dev/null || { echo "[build-base-image] ERROR: debootstrap missing (apt-get install debootstrap)" >&2; exit 1; }
[ -r "$CA_BUNDLE" ] || { echo "[build-base-image] ERROR: CA bundle $CA_BUNDLE not readable" >&2; exit 1; }

WORK=$(mktemp -d /tmp/python-base.XXXXXX)
cleanup() { rm -rf "$WORK"; }
trap cleanup EXIT
ROOTFS=$WORK/rootfs

start=$SECONDS
log "debootstrap $SUITE from $MIRROR (about 1 min)"
debootstrap --variant=minbase \
  --include=python3,python3-venv,python3-pip,ca-certificates \
  "$SUITE" "$ROOTFS" "$MIRROR" >"$WORK/debootstrap.log" 2>&1 || {
    tail -30 "$WORK/debootstrap.log" >&2; echo "[build-base-image] ERROR: debootstrap failed" >&2; exit 1; }

# Trim what a container never needs: apt lists/caches, docs, man pages, locales.
rm -rf "$ROOTFS"/var/lib/apt/lists/* "$ROOTFS"/var/cache/apt/*.bin "$ROOTFS"/var/cache/apt/archives/*.deb \
       "$ROOTFS"/usr/share/doc/* "$ROOTFS"/usr/share/man/* "$ROOTFS"/usr/share/info/* \
       "$ROOTFS"/var/log/*.log "$ROOTFS"/var/cache/debconf/*-old
find "$ROOTFS"/usr/share/locale -mindepth 1 -maxdepth 1 ! -name 'locale.alias' -exec rm -rf {} + 2>/dev/null || true
# `python` as well as `python3` (Debian ships only python3).
ln -sf python3 "$ROOTFS"/usr/bin/python
log "rootfs $(du -sh "$ROOTFS" | cut -f1) in $((SECONDS - start)) s; importing as $RAW_TAG"

tar -C "$ROOTFS" --numeric-owner -c . | docker import \
  -c 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
  -c 'ENV LANG=C.UTF-8' \
  -c 'CMD ["python3"]' \
  -m "debootstrap $SUITE minbase from $MIRROR" - "$RAW_TAG" >/dev/null

mkdir -p "$WORK/ctx"
cp "$CA_BUNDLE" "$WORK/ctx/ca-certificates.crt"
cat >"$WORK/ctx/Dockerfile" <<DOCKERFILE
FROM $RAW_TAG
COPY ca-certificates.crt /etc/ssl/certs/ca-certificates.crt
DOCKERFILE
docker build -q -t "$TAG" "$WORK/ctx" >/dev/null

docker run --rm "$TAG" python -c 'import sys, venv, ssl; assert sys.version_info >= (3, 11); print("python", sys.version.split()[0])' \
  | sed 's/^/[build-base-image] check: /'
log "built $TAG ($(docker image inspect -f '{{.Size}}' "$TAG" | awk '{printf "%.0f MB", $1/1e6}')) in $((SECONDS - start)) s"
