#!/usr/bin/env bash
# Install every pending update of a Debian system, from its release's -updates and -security
# suites as well as the release itself, and record what was used. Runs as root inside an
# image: the debootstrap root of scripts/build-base-image.sh (chroot) and the Dockerfile's
# `os` stage, whatever the base (our debootstrap base, python:3.11-slim).
#
# A base whose apt sources lack `CODENAME-updates` or `CODENAME-security` (debootstrap sets up
# only the release) gets them here: -updates from the release's own mirror, -security from
# DEBIAN_SECURITY_URI. The build fails when anything is still upgradable afterwards, or when a
# suite cannot be read: an image is never quietly left unpatched.
#
# Writes, in RECORD_DIR (default /usr/local/share/regression-analyzer):
#   os-updates.txt   when, the stamp, the apt sources, each suite's Release date (what a
#                    rebuild from snapshot.debian.org needs), the packages this run upgraded
#   os-packages.txt  every installed package: name version architecture (dpkg's database)
# and leaves no apt lists or caches behind.
#
# Environment:
#   OS_UPDATES_STAMP     recorded as is (the Dockerfile's build argument of that name)
#   DEBIAN_SECURITY_URI  security mirror when the base has none (http://deb.debian.org/debian-security)
#   RECORD_DIR           where the two records go
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive LC_ALL=C
RECORD_DIR=${RECORD_DIR:-/usr/local/share/regression-analyzer}
SECURITY_URI=${DEBIAN_SECURITY_URI:-http://deb.debian.org/debian-security}
APT_OPTS=(-q -y -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold)
log() { echo "[os-updates] $*"; }
fail() { echo "[os-updates] ERROR: $*" >&2; exit 1; }

# shellcheck source=/dev/null
. /etc/os-release
[ "${ID:-}" = debian ] || fail "not a Debian system (ID=${ID:-?}); this script knows Debian's suites only"
codename=${VERSION_CODENAME:?/etc/os-release has no VERSION_CODENAME}

# --error-on=any: a suite that cannot be read (404, bad signature) fails the build instead of
# leaving its updates out unnoticed.
apt_update() { apt-get update -q --error-on=any >/dev/null || fail "apt-get update failed (see above)"; }
suites() { apt-get indextargets --format '$(RELEASE)' | sort -u; }

apt_update
main_uri=$(apt-get indextargets --format '$(REPO_URI) $(RELEASE)' | awk -v s="$codename" '$2 == s { print $1; exit }')
[ -n "$main_uri" ] || fail "no apt source for the release '$codename' itself"
keyring=/usr/share/keyrings/debian-archive-keyring.gpg
added=()
add_suite() {  # add_suite SUITE URI
  {
    echo "Types: deb"
    echo "URIs: $2"
    echo "Suites: $1"
    echo "Components: main"
    [ -r "$keyring" ] && echo "Signed-By: $keyring"
    echo
  } >>/etc/apt/sources.list.d/os-updates.sources
  added+=("$1")
}
suites | grep -qx "$codename-updates" || add_suite "$codename-updates" "$main_uri"
suites | grep -qx "$codename-security" || add_suite "$codename-security" "$SECURITY_URI"
if ((${#added[@]})); then
  log "the base had no ${added[*]}: added in /etc/apt/sources.list.d/os-updates.sources"
  apt_update
fi
for suite in "$codename" "$codename-updates" "$codename-security"; do
  suites | grep -qx "$suite" || fail "suite $suite missing after apt-get update"
done

before=$(dpkg-query -W -f '${Package} ${Version}\n' | sort)
# The maintainer scripts' chatter (debconf, tzdata) is shown only when the upgrade fails.
upgrade_log=$(mktemp)
apt-get "${APT_OPTS[@]}" --no-install-recommends full-upgrade >"$upgrade_log" 2>&1 || {
  cat "$upgrade_log" >&2; fail "apt-get full-upgrade failed"; }
rm -f "$upgrade_log"
after=$(dpkg-query -W -f '${Package} ${Version}\n' | sort)
pending=$(apt-get -s full-upgrade | awk '/^Inst /{ print $2 }')
[ -z "$pending" ] || fail "still upgradable after the upgrade: $(echo "$pending" | tr '\n' ' ')"
upgraded=$(join -a 2 <(echo "$before") <(echo "$after") | awk 'NF == 3 && $2 != $3 { print $1, $2, "->", $3 } NF == 2 { print $1, "(new)", $2 }')
log "$(printf '%s\n' "$upgraded" | grep -c . || true) packages upgraded or added"

mkdir -p "$RECORD_DIR"
{
  echo "# Debian updates applied to this image (scripts/os-updates.sh)"
  echo "date: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
  echo "stamp: ${OS_UPDATES_STAMP:-}"
  echo "release: $codename (Debian $(cat /etc/debian_version))"
  echo
  echo "## suites read (Release files as apt fetched them)"
  for release in /var/lib/apt/lists/*Release; do
    [ -f "$release" ] || continue
    # The first stanza holds the suite's fields (an InRelease file starts with a PGP header).
    awk -v f="$(basename "$release")" '
      /^(Suite|Codename|Date):/ { v[$1] = substr($0, index($0, $2)); n++ }
      /^$/ && n { exit }
      END { printf "%s  %s  %s  %s\n", v["Suite:"], v["Codename:"], v["Date:"], f }' "$release"
  done
  echo
  echo "## apt sources"
  for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources; do
    [ -f "$f" ] || continue
    echo "# $f"
    grep -v '^[[:space:]]*#' "$f"
  done
  echo
  echo "## upgraded by this run (package old -> new)"
  printf '%s\n' "${upgraded:-(none)}"
} >"$RECORD_DIR/os-updates.txt"
dpkg-query -W -f '${Package} ${Version} ${Architecture}\n' | sort >"$RECORD_DIR/os-packages.txt"

# No package manager caches in the image: apt's lists and archives, debconf's old templates,
# apt's and dpkg's logs.
apt-get clean
rm -rf /var/lib/apt/lists/* /var/cache/apt/*.bin /var/cache/debconf/*-old \
  /var/log/apt /var/log/dpkg.log /var/log/alternatives.log
log "record in $RECORD_DIR (os-updates.txt, os-packages.txt)"
