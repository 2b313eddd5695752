#!/usr/bin/env bash
# Debian packages the test suites need: the Docker engine and compose v1 and v2 (container
# tests, Molecule), debootstrap (registry-less base image), Chromium + driver (web page tests).
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

# Compose v2, so the container tests run the README's `docker compose` as well as v1.
# Bookworm packages only v1; Debian 13 (trixie) has v2 as a static Go binary. Fetched with
# apt itself (signed index, checked hashes) from the mirror this machine's apt already uses,
# through a private list directory, so the machine's sources stay bookworm-only; installed
# as a Docker CLI plugin only.
if ! docker compose version >/dev/null 2>&1; then
  echo "installing compose v2 (Debian trixie's docker-compose, as a CLI plugin)"
  mirror=$(apt-get indextargets --format '$(REPO_URI) $(RELEASE)' | awk '$2 == "bookworm" { print $1; exit }')
  work=$(mktemp -d)
  trap 'rm -rf "$work"' EXIT
  mkdir -p "$work/lists/partial" "$work/cache/archives/partial"
  echo "deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] ${mirror:-http://deb.debian.org/debian/} trixie main" \
    > "$work/sources.list"
  apt_trixie=(-o "Dir::Etc::SourceList=$work/sources.list" -o Dir::Etc::SourceParts=/dev/null
    -o "Dir::State::Lists=$work/lists" -o "Dir::Cache=$work/cache" -o APT::Sandbox::User=root)
  apt-get "${apt_trixie[@]}" update -q >/dev/null
  (cd "$work" && apt-get "${apt_trixie[@]}" download -q docker-compose >/dev/null)
  dpkg-deb -x "$work"/docker-compose_*.deb "$work/root"
  install -D -m 0755 "$work/root/usr/libexec/docker/cli-plugins/docker-compose" \
    /usr/local/lib/docker/cli-plugins/docker-compose
fi
docker compose version
