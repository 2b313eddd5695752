#!/usr/bin/env bash
# Debian packages the test suites need: the Docker engine and compose v1 (container tests,
# Molecule), debootstrap (registry-less base image), Chromium + driver (web page tests),
# redis-server + haproxy (the shared mode's tests, tests/jobs/shared), prometheus for promtool
# (the alert rules' tests, tests/deployment/test_prometheus_rules.py); below, from Debian 13,
# compose v2 and kustomize (Kubernetes manifest tests).
# Idempotent: installs only what is missing. Needs root (CI runs as root).
set -euo pipefail
packages=(docker.io docker-compose debootstrap chromium chromium-driver redis-server haproxy prometheus)
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

# Packages that bookworm lacks (compose v2, kustomize) come from Debian 13 (trixie): fetched
# with apt itself (signed index, checked hashes) from the mirror this machine's apt already
# uses, through a private list directory, so the machine's sources stay bookworm-only. Both
# are static Go binaries, unpacked and installed under /usr/local only.
trixie_work=
trixie_download() {  # trixie_download PKG: unpack trixie's PKG .deb into $trixie_work/root
  if [ -z "$trixie_work" ]; then
    local mirror
    mirror=$(apt-get indextargets --format '$(REPO_URI) $(RELEASE)' | awk '$2 == "bookworm" { print $1; exit }')
    trixie_work=$(mktemp -d)
    trap 'rm -rf "$trixie_work"' EXIT
    mkdir -p "$trixie_work/lists/partial" "$trixie_work/cache/archives/partial"
    echo "deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] ${mirror:-http://deb.debian.org/debian/} trixie main" \
      > "$trixie_work/sources.list"
    apt_trixie=(-o "Dir::Etc::SourceList=$trixie_work/sources.list" -o Dir::Etc::SourceParts=/dev/null
      -o "Dir::State::Lists=$trixie_work/lists" -o "Dir::Cache=$trixie_work/cache" -o APT::Sandbox::User=root)
    apt-get "${apt_trixie[@]}" update -q >/dev/null
  fi
  (cd "$trixie_work" && apt-get "${apt_trixie[@]}" download -q "$1" >/dev/null)
  dpkg-deb -x "$trixie_work/$1"_*.deb "$trixie_work/root"
}

# Compose v2, so the container tests run the README's `docker compose` as well as v1.
# Bookworm packages only v1; trixie has v2, installed as a Docker CLI plugin only.
if ! docker compose version >/dev/null 2>&1; then
  echo "installing compose v2 (Debian trixie's docker-compose, as a CLI plugin)"
  trixie_download docker-compose
  install -D -m 0755 "$trixie_work/root/usr/libexec/docker/cli-plugins/docker-compose" \
    /usr/local/lib/docker/cli-plugins/docker-compose
fi
docker compose version

# kustomize renders deploy/kubernetes/ for tests/deployment/test_kubernetes_manifests.py.
# Bookworm has none (its kubernetes-client 1.20 embeds kustomize 2.0, too old for these
# kustomizations); trixie's kustomize package is 5.6.
if ! command -v kustomize >/dev/null; then
  echo "installing kustomize (Debian trixie's kustomize)"
  trixie_download kustomize
  install -D -m 0755 "$trixie_work/root/usr/bin/kustomize" /usr/local/bin/kustomize
fi
echo "kustomize: $(command -v kustomize)"
