#!/usr/bin/env bash
# Scan the image for known vulnerabilities with Trivy, and gate on the result.
#
#   scripts/scan-image.sh IMAGE [REPORT_DIR]          # REPORT_DIR default: build/scan
#
# 1. Exports the image's SBOM (CycloneDX, /usr/local/share/regression-analyzer/sbom.cdx.json)
#    and its Debian update records into REPORT_DIR: the build artifact, also when no scan can
#    run.
# 2. Fetches Trivy's vulnerability database (or uses TRIVY_DB_REPOSITORY, a mirror).
# 3. Scans the image (`trivy image`) and the SBOM (`trivy sbom`) into JSON reports.
# 4. scripts/scan-gate.py fails on Critical, and on High with a fix available, except what
#    the ignore file (SCAN_IGNORE_FILE, default scripts/scan-ignore.toml) lets through; each of
#    its entries has a reason and an expiry date.
#
# Exit codes: 0 passed; 1 blocking findings; 2 usage error or invalid ignore file;
# 3 could not scan: no Trivy, or no vulnerability database reachable. 3 is never a pass.
#
# Trivy: `trivy` on PATH, else the official image (TRIVY_IMAGE, default aquasec/trivy:0.74.0)
# run through Docker with the engine's socket. TRIVY_CACHE_DIR (default ~/.cache/trivy) keeps
# the database between runs. docs/container.md, "Security scan".
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
IMAGE=${1:-}
REPORT_DIR=${2:-build/scan}
IGNORE_FILE=${SCAN_IGNORE_FILE:-$root/scripts/scan-ignore.toml}
TRIVY_IMAGE=${TRIVY_IMAGE:-aquasec/trivy:0.74.0}
CACHE_DIR=${TRIVY_CACHE_DIR:-$HOME/.cache/trivy}
PYTHON=${PYTHON:-python3}
CANNOT_SCAN=3
log() { echo "[scan-image] $*"; }
usage() { echo "usage: scripts/scan-image.sh IMAGE [REPORT_DIR]" >&2; exit 2; }
cannot_scan() {
  echo "[scan-image] COULD NOT SCAN: $*" >&2
  echo "[scan-image] Nothing was checked for known vulnerabilities: this is not a pass (exit $CANNOT_SCAN)." >&2
  exit "$CANNOT_SCAN"
}

[ -n "$IMAGE" ] && [ "$IMAGE" != -h ] && [ "$IMAGE" != --help ] || usage
docker image inspect "$IMAGE" >/dev/null 2>&1 || { echo "[scan-image] no image $IMAGE on this engine" >&2; exit 2; }
# The ignore file first: an invalid one is an error whether or not a scan can run.
"$PYTHON" "$root/scripts/scan-gate.py" --ignore-file "$IGNORE_FILE" >/dev/null || exit 2

mkdir -p "$REPORT_DIR" "$CACHE_DIR"
REPORT_DIR=$(cd "$REPORT_DIR" && pwd)
container=$(docker create "$IMAGE")
trap 'docker rm -f "$container" >/dev/null 2>&1 || true' EXIT
for file in sbom.cdx.json os-updates.txt os-packages.txt; do
  docker cp "$container:/usr/local/share/regression-analyzer/$file" "$REPORT_DIR/$file"
done
log "SBOM and update records of $IMAGE in $REPORT_DIR"

# The scanner: a local trivy, else its official image (the engine's socket lets it read IMAGE).
if command -v trivy >/dev/null; then
  trivy() { command trivy --cache-dir "$CACHE_DIR" "$@"; }
elif docker image inspect "$TRIVY_IMAGE" >/dev/null 2>&1 || pull=$(docker pull -q "$TRIVY_IMAGE" 2>&1); then
  trivy() {
    docker run --rm -v /var/run/docker.sock:/var/run/docker.sock -v "$CACHE_DIR:/cache" \
      -v "$REPORT_DIR:$REPORT_DIR" -e TRIVY_DB_REPOSITORY -e TRIVY_JAVA_DB_REPOSITORY \
      "$TRIVY_IMAGE" --cache-dir /cache "$@"
  }
else
  cannot_scan "Trivy is not installed and its image $TRIVY_IMAGE cannot be pulled (${pull:-no answer})." \
    "Install Trivy (https://trivy.dev) or give this machine a registry, and a route to the vulnerability database."
fi

log "fetching the vulnerability database"
if ! db_log=$(trivy image --download-db-only 2>&1); then
  cannot_scan "the vulnerability database could not be fetched: $(echo "$db_log" | grep -iE 'error|fatal' | tail -1)." \
    "A networked CI, or a mirror of it (TRIVY_DB_REPOSITORY), is needed."
fi

log "scanning $IMAGE and its SBOM"
trivy image --skip-db-update --scanners vuln --format json --output "$REPORT_DIR/trivy-image.json" "$IMAGE"
trivy sbom --skip-db-update --format json --output "$REPORT_DIR/trivy-sbom.json" "$REPORT_DIR/sbom.cdx.json"
"$PYTHON" "$root/scripts/scan-gate.py" --ignore-file "$IGNORE_FILE" \
  "$REPORT_DIR/trivy-image.json" "$REPORT_DIR/trivy-sbom.json" | tee "$REPORT_DIR/gate.txt"
