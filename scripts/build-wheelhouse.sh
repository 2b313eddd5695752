#!/usr/bin/env bash
# Fill a wheelhouse for air-gapped image builds: exactly the files requirements.lock,
# requirements-build.lock and requirements-sbom.lock pin (runtime dependencies, setuptools and
# wheel, the SBOM tools), as wheels for the
# image's platform (Linux x86_64, CPython 3.11), on a machine that can reach an index.
# --require-hashes: pip refuses any file whose sha256 the locks do not list, so the wheelhouse
# holds what every other build installs.
#
#   scripts/build-wheelhouse.sh [DIR]          # default DIR: wheelhouse/ (in the build context)
#   docker build --network none --build-arg PIP_NO_INDEX=1 \
#       --build-arg BASE_IMAGE=regression-analyzer/python-base:3.11 -t regression-analyzer .
#
# Uses the host's pip configuration (index URL, proxy CA...). Env: PYTHON (default python3),
# PY_VERSION (3.11), PLATFORMS (manylinux tags, space-separated).
set -euo pipefail
cd "$(dirname "$0")/.."
DIR=${1:-wheelhouse}
PYTHON=${PYTHON:-python3}
PY_VERSION=${PY_VERSION:-3.11}
PLATFORMS=${PLATFORMS:-"manylinux_2_28_x86_64 manylinux_2_17_x86_64 manylinux2014_x86_64 linux_x86_64"}
mkdir -p "$DIR"
platform_args=()
for p in $PLATFORMS; do platform_args+=(--platform "$p"); done
# The locks already hold the whole dependency closure: --no-deps resolves nothing new.
"$PYTHON" -m pip download --disable-pip-version-check --only-binary=:all: --no-deps \
  --require-hashes --python-version "$PY_VERSION" --implementation cp "${platform_args[@]}" \
  --dest "$DIR" --requirement requirements.lock --requirement requirements-build.lock \
  --requirement requirements-sbom.lock
echo "[build-wheelhouse] $(find "$DIR" -name '*.whl' | wc -l) wheels, $(du -sh "$DIR" | cut -f1) in $DIR"
