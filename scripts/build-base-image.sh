#!/usr/bin/env bash
# Build a Python 3.11 base image WITHOUT any container registry:
#   debootstrap (Debian bookworm, minbase + python3/venv/ca-certificates)
#   -> the site's own CA certificates added, every pending update from bookworm-updates and
#      bookworm-security installed and recorded (scripts/os-updates.sh, in a chroot)
#   -> trimmed -> docker import.
# Result: regression-analyzer/python-base:3.11 (override with BASE_IMAGE_TAG).
# Use it with: docker build --build-arg BASE_IMAGE=regression-analyzer/python-base:3.11 .
#
# Idempotent: does nothing when the image exists and was built by this version of the
# script (label io.github.regression-analyzer.base-script-sha256), unless --force.
# Needs root, debootstrap and a running Docker engine (scripts/start-docker-engine.sh).
#
# Environment:
#   BASE_IMAGE_TAG        final tag                (default regression-analyzer/python-base:3.11)
#   DEBIAN_MIRROR         Debian mirror URL        (default: the one this machine's apt uses)
#   DEBIAN_SECURITY_URI   Debian security mirror   (default: this machine's, else deb.debian.org)
#   DEBIAN_SUITE          suite                    (default bookworm -> Python 3.11; trixie gives
#                         the Debian 13 root of the Molecule VM, molecule/host/build.sh)
#   EXTRA_CA_CERTS        a folder of *.crt files (or one PEM file) of certificate authorities
#                         to trust besides Debian's (default /usr/local/share/ca-certificates,
#                         where this machine keeps its own). This site's package downloads pass
#                         through a proxy whose CA only the host trusts; installed as local CAs,
#                         pip inside `docker build` verifies it, and they stay in the bundle when
#                         a later ca-certificates update rebuilds it. Elsewhere: usually none.
set -euo pipefail
cd "$(dirname "$0")"

TAG=${BASE_IMAGE_TAG:-regression-analyzer/python-base:3.11}
SUITE=${DEBIAN_SUITE:-bookworm}
EXTRA_CA_CERTS=${EXTRA_CA_CERTS:-/usr/local/share/ca-certificates}
SCRIPT_LABEL=io.github.regression-analyzer.base-script-sha256
FORCE=0

for arg in "$@"; do
  case "$arg" in
    --force) FORCE=1 ;;
    -h|--help) sed -n '2,25p' "$0"; exit 0 ;;
    *) echo "unknown argument: $arg" >&2; exit 2 ;;
  esac
done

log() { echo "[build-base-image] $*"; }

if ! docker info >/dev/null 2>&1; then
  echo "[build-base-image] ERROR: Docker engine not reachable (run scripts/start-docker-engine.sh)" >&2
  exit 1
fi

# This script and the update script it runs make the image: a change to either rebuilds it.
script_sum=$(cat build-base-image.sh os-updates.sh | sha256sum | cut -c1-64)
have=$(docker image inspect -f "{{ index .Config.Labels \"$SCRIPT_LABEL\" }}" "$TAG" 2>/dev/null || true)
if [ "$FORCE" = 0 ] && [ "$have" = "$script_sum" ]; then
  log "$TAG already exists ($(docker image inspect -f '{{.Id}}' "$TAG" | cut -c8-19)); use --force to rebuild"
  exit 0
fi
[ -z "$have" ] || [ "$have" = "$script_sum" ] || log "$TAG was built by another version of this script: rebuilding"

find_mirror() {  # find_mirror SUITE: the URI this machine's apt uses for SUITE
  # deb822 sources (*.sources, or deb822 text in *.list here) first, then one-line format.
  local f m suite=$1
  for f in /etc/apt/sources.list.d/* /etc/apt/sources.list; do
    [ -f "$f" ] || continue
    # deb822 stanza: take URIs from a stanza whose Suites list the suite.
    m=$(awk -v suite="$suite" '
      BEGIN { RS=""; FS="\n" }
      {
        uri=""; ok=0
        for (i = 1; i <= NF; i++) {
          if ($i ~ /^URIs:/)   { sub(/^URIs:[ \t]*/, "", $i); split($i, u, /[ \t]+/); uri=u[1] }
          if ($i ~ /^Suites:/ && $i ~ ("[ \t]" suite "([ \t]|$)")) ok=1
        }
        if (ok && uri != "") { print uri; exit }
      }' "$f")
    if [ -n "$m" ]; then echo "$m"; return 0; fi
    m=$(awk -v suite="$suite" '$1 == "deb" {
          for (i = 2; i <= NF; i++) if ($i ~ /^[a-z]+:\/\//) { if ($(i+1) == suite) { print $i; exit } }
        }' "$f")
    if [ -n "$m" ]; then echo "$m"; return 0; fi
  done
  return 1
}

# A Debian mirror serves every release: for a suite this machine's apt does not list (trixie on
# a bookworm machine), take the mirror it uses for its own release.
own_suite=$(. /etc/os-release 2>/dev/null && echo "${VERSION_CODENAME:-}")
MIRROR=${DEBIAN_MIRROR:-$(find_mirror "$SUITE" || find_mirror "$own_suite" || true)}
SECURITY_URI=${DEBIAN_SECURITY_URI:-$(find_mirror "$SUITE-security" || find_mirror "$own_suite-security" \
  || echo http://deb.debian.org/debian-security)}
if [ -z "$MIRROR" ]; then
  echo "[build-base-image] ERROR: no Debian mirror for '$SUITE' in /etc/apt/sources.list{,.d/*}; set DEBIAN_MIRROR" >&2
  exit 1
fi
command -v debootstrap >/dev/null || { echo "[build-base-image] ERROR: debootstrap missing (apt-get install debootstrap)" >&2; exit 1; }
extra_cas=()
if [ -d "$EXTRA_CA_CERTS" ]; then
  mapfile -t extra_cas < <(find "$EXTRA_CA_CERTS" -maxdepth 1 -name '*.crt' -type f | sort)
elif [ -f "$EXTRA_CA_CERTS" ]; then
  extra_cas=("$EXTRA_CA_CERTS")
fi

WORK=$(mktemp -d /tmp/python-base.XXXXXX)
ROOTFS=$WORK/rootfs
cleanup() { umount "$ROOTFS/proc" 2>/dev/null || true; rm -rf "$WORK"; }
trap cleanup EXIT

start=$SECONDS
log "debootstrap $SUITE from $MIRROR (about 1 min)"
debootstrap --variant=minbase \
  --include=python3,python3-venv,ca-certificates \
  "$SUITE" "$ROOTFS" "$MIRROR" >"$WORK/debootstrap.log" 2>&1 || {
    tail -30 "$WORK/debootstrap.log" >&2; echo "[build-base-image] ERROR: debootstrap failed" >&2; exit 1; }

# The site's CAs as local ones (one file each), so that update-ca-certificates keeps them.
for ca in "${extra_cas[@]}"; do
  install -m 0644 "$ca" "$ROOTFS/usr/local/share/ca-certificates/site-$(basename "${ca%.*}").crt"
done
if ((${#extra_cas[@]})); then log "trusting ${#extra_cas[@]} extra CA file(s) from $EXTRA_CA_CERTS"; fi

log "installing every update from $SUITE-updates and $SUITE-security ($SECURITY_URI)"
cp /etc/resolv.conf "$ROOTFS/etc/resolv.conf"
cp os-updates.sh "$ROOTFS/tmp/os-updates.sh"
mount -t proc proc "$ROOTFS/proc"
chroot "$ROOTFS" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin \
  DEBIAN_SECURITY_URI="$SECURITY_URI" OS_UPDATES_STAMP="base $(date -u +%Y-%m-%d)" \
  bash -c 'update-ca-certificates >/dev/null && bash /tmp/os-updates.sh' \
  | sed 's/^/[build-base-image] /'
umount "$ROOTFS/proc"
rm -f "$ROOTFS/tmp/os-updates.sh" "$ROOTFS/etc/resolv.conf"

# Trim what a container never needs: apt lists/caches, docs, man pages, locales.
rm -rf "$ROOTFS"/var/lib/apt/lists/* "$ROOTFS"/var/cache/apt/*.bin "$ROOTFS"/var/cache/apt/archives/*.deb \
       "$ROOTFS"/usr/share/doc/* "$ROOTFS"/usr/share/man/* "$ROOTFS"/usr/share/info/* \
       "$ROOTFS"/var/log/*.log "$ROOTFS"/var/cache/debconf/*-old
find "$ROOTFS"/usr/share/locale -mindepth 1 -maxdepth 1 ! -name 'locale.alias' -exec rm -rf {} + 2>/dev/null || true
# `python` as well as `python3` (Debian ships only python3).
ln -sf python3 "$ROOTFS"/usr/bin/python
log "rootfs $(du -sh "$ROOTFS" | cut -f1) in $((SECONDS - start)) s; importing as $TAG"

tar -C "$ROOTFS" --numeric-owner -c . | docker import \
  -c 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
  -c 'ENV LANG=C.UTF-8' \
  -c "LABEL $SCRIPT_LABEL=$script_sum" \
  -c 'CMD ["python3"]' \
  -m "debootstrap $SUITE minbase from $MIRROR, updated from $SUITE-updates and $SUITE-security" \
  - "$TAG" >/dev/null

docker run --rm "$TAG" python -c 'import sys, venv, ssl; assert sys.version_info >= (3, 11); print("python", sys.version.split()[0])' \
  | sed 's/^/[build-base-image] check: /'
log "built $TAG ($(docker image inspect -f '{{.Size}}' "$TAG" | awk '{printf "%.0f MB", $1/1e6}')) in $((SECONDS - start)) s"
