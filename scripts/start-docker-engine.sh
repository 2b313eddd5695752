#!/usr/bin/env bash
# Make sure a Docker engine is running on this (Debian 12) machine. Idempotent.
#  - installs docker.io and debootstrap with apt when missing (needs root);
#  - starts dockerd in the background when `docker info` fails (log: $DOCKERD_LOG);
#  - waits until `docker info` answers, or fails after $DOCKER_START_TIMEOUT seconds.
# An engine that is already running is left alone.
set -euo pipefail

TIMEOUT=${DOCKER_START_TIMEOUT:-60}
DOCKERD_LOG=${DOCKERD_LOG:-/tmp/dockerd.log}
log() { echo "[start-docker-engine] $*"; }

missing=()
command -v dockerd >/dev/null 2>&1 || missing+=(docker.io)
command -v debootstrap >/dev/null 2>&1 || missing+=(debootstrap)
if ((${#missing[@]})); then
  log "installing: ${missing[*]}"
  apt-get update -q
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

if docker info >/dev/null 2>&1; then
  log "engine already running ($(docker version -f '{{.Server.Version}}' 2>/dev/null))"
  exit 0
fi

if command -v pgrep >/dev/null && pgrep -x dockerd >/dev/null 2>&1; then
  log "dockerd process exists but does not answer yet; waiting"
else
  # A stale pid file from a killed engine blocks a new one.
  if [ -f /var/run/docker.pid ] && ! kill -0 "$(cat /var/run/docker.pid)" 2>/dev/null; then
    rm -f /var/run/docker.pid
  fi
  log "starting dockerd (log: $DOCKERD_LOG)"
  nohup dockerd >"$DOCKERD_LOG" 2>&1 &
fi

start=$SECONDS
until docker info >/dev/null 2>&1; do
  if ((SECONDS - start >= TIMEOUT)); then
    echo "[start-docker-engine] ERROR: engine not ready after ${TIMEOUT}s; last lines of $DOCKERD_LOG:" >&2
    tail -20 "$DOCKERD_LOG" >&2 || true
    exit 1
  fi
  sleep 0.5
done
log "engine ready after $((SECONDS - start)) s ($(docker version -f '{{.Server.Version}}'))"
