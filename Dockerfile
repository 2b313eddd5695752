# regression-analyzer web service. Builds with the classic builder (no BuildKit features)
# and with BuildKit (compose v2). No `# syntax=` line: it makes BuildKit fetch its
# Dockerfile frontend from Docker Hub, which a registry-less site cannot.
# Registry-less sites: scripts/build-base-image.sh, then
#   docker build --build-arg BASE_IMAGE=regression-analyzer/python-base:3.11 .
# Air-gapped / private index: docs/container.md.

# Every stage starts from the same base: the venv's python is a symlink to its interpreter.
# The `os` stage comes first so that `docker build --target os` builds it alone (the
# classic builder builds every stage above the target).
ARG BASE_IMAGE=python:3.11-slim

# ---------------------------------------------------------------------------------------
# os: the base with every pending Debian update installed, from the release's -updates and
# -security suites too (scripts/os-updates.sh; it fails the build when anything stays
# upgradable), and without what the service never uses: the base interpreter's own pip,
# setuptools and wheel (Debian's python3-pip, or python.org's in /usr/local) and every
# setuid/setgid bit (the service runs as uid 1000 and never changes identity).
# OS_UPDATES_STAMP is only recorded, but a new value re-runs this stage: the build cache
# would otherwise keep the first build's packages forever (docs/container.md, "Security
# updates": the role passes the date, at most every regression_analyzer_os_updates_max_age_days).
# OS_UPDATES=0: a build without any Debian mirror (air-gapped), as patched as its base; the
# record says so.
FROM ${BASE_IMAGE} AS os
SHELL ["/bin/bash", "-o", "pipefail", "-c"]
ARG OS_UPDATES=1
ARG OS_UPDATES_STAMP=
ARG DEBIAN_SECURITY_URI=http://deb.debian.org/debian-security
COPY scripts/os-updates.sh /usr/local/lib/regression-analyzer/os-updates.sh
RUN { dpkg-query -W -f '${Package} ${db:Status-Abbrev}\n' python3-pip python3-setuptools python3-wheel python3-pkg-resources 2>/dev/null || true; } \
        | awk '$2 == "ii" { print $1 }' | DEBIAN_FRONTEND=noninteractive xargs -r dpkg --purge >/dev/null; \
    for dist in pip setuptools wheel _distutils_hack pkg_resources distutils-precedence.pth; do \
        rm -rf /usr/local/lib/python3*/site-packages/"${dist}" /usr/local/lib/python3*/site-packages/"${dist}"-*.dist-info; \
    done; \
    rm -f /usr/local/bin/pip /usr/local/bin/pip3*; \
    if [ "$OS_UPDATES" = 1 ]; then \
        bash /usr/local/lib/regression-analyzer/os-updates.sh; \
    else \
        mkdir -p /usr/local/share/regression-analyzer; \
        printf '# OS_UPDATES=0: no Debian updates applied at build time (%s); as patched as the base image\n' \
            "$(date -u +%Y-%m-%dT%H:%M:%SZ)" >>/usr/local/share/regression-analyzer/os-updates.txt; \
        dpkg-query -W -f '${Package} ${Version} ${Architecture}\n' | sort >/usr/local/share/regression-analyzer/os-packages.txt; \
    fi; \
    find / -xdev -type f -perm /6000 -printf 'setuid/setgid bit removed: %p\n' -exec chmod ug-s {} +

# ---------------------------------------------------------------------------------------
# deps: a virtual environment with the runtime dependencies only, exactly as locked in
# requirements.lock (versions and sha256 hashes): every host that builds the image gets the
# same numerical stack. Its cache key is the lock (+ wheelhouse/), so a code-only change
# reuses it. The lock stays in the venv, so `sha256sum /opt/venv/requirements.lock` in a
# container names the dependency set it runs.
FROM ${BASE_IMAGE} AS deps
SHELL ["/bin/bash", "-o", "pipefail", "-c"]
# Package sources. Build args only live in the build stages (never in the runtime image
# config), but a URL with credentials is visible in these stages' history: prefer a
# wheelhouse or a netrc-less token proxy for secrets.
ARG PIP_INDEX_URL
ARG PIP_EXTRA_INDEX_URL
ARG PIP_TRUSTED_HOST
ARG PIP_NO_INDEX
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_ROOT_USER_ACTION=ignore \
    PYTHONDONTWRITEBYTECODE=1
RUN python3 -m venv /opt/venv
WORKDIR /build
COPY wheelhouse/ /wheelhouse/
COPY requirements.lock /opt/venv/requirements.lock
# --find-links /wheelhouse (PIP_FIND_LINKS) when the wheelhouse holds wheels; empty PIP_*
# build args are unset (an empty PIP_INDEX_URL would otherwise mean "no index URL").
# --no-deps: the lock already lists the whole closure, so nothing unlocked can slip in.
RUN [ -n "${PIP_INDEX_URL:-}" ] || unset PIP_INDEX_URL; \
    [ -n "${PIP_EXTRA_INDEX_URL:-}" ] || unset PIP_EXTRA_INDEX_URL; \
    [ -n "${PIP_TRUSTED_HOST:-}" ] || unset PIP_TRUSTED_HOST; \
    [ -n "${PIP_NO_INDEX:-}" ] || unset PIP_NO_INDEX; \
    if ls /wheelhouse/*.whl >/dev/null 2>&1; then export PIP_FIND_LINKS=/wheelhouse; fi; \
    /opt/venv/bin/pip install --no-cache-dir --no-compile --require-hashes --no-deps \
        --requirement /opt/venv/requirements.lock; \
    du -sm /opt/venv | awk '{print "SIZE venv with dependencies: " $1 " MB"}'

# ---------------------------------------------------------------------------------------
# app: build the project wheel (setuptools and wheel as locked in requirements-build.lock)
# and install it, without dependencies, into a staging root that the runtime stage copies
# as one small layer.
FROM deps AS app
SHELL ["/bin/bash", "-o", "pipefail", "-c"]
ARG PIP_INDEX_URL
ARG PIP_EXTRA_INDEX_URL
ARG PIP_TRUSTED_HOST
ARG PIP_NO_INDEX
# The SBOM tools (requirements-sbom.lock) get a venv of their own here too: the `sbom` stage
# copies it, so the package-index settings above are handled in two stages only.
# Both venvs are made without pip (`--without-pip`) and filled by the dependency venv's pip
# (`--python`): each ensurepip cost ~2.5 CPU-seconds per cold build.
COPY requirements-build.lock requirements-sbom.lock ./
RUN [ -n "${PIP_INDEX_URL:-}" ] || unset PIP_INDEX_URL; \
    [ -n "${PIP_EXTRA_INDEX_URL:-}" ] || unset PIP_EXTRA_INDEX_URL; \
    [ -n "${PIP_TRUSTED_HOST:-}" ] || unset PIP_TRUSTED_HOST; \
    [ -n "${PIP_NO_INDEX:-}" ] || unset PIP_NO_INDEX; \
    if ls /wheelhouse/*.whl >/dev/null 2>&1; then export PIP_FIND_LINKS=/wheelhouse; fi; \
    python3 -m venv --without-pip /opt/buildtools; \
    /opt/venv/bin/pip --python /opt/buildtools/bin/python install --no-cache-dir --require-hashes \
        --no-deps --requirement requirements-build.lock; \
    python3 -m venv --without-pip /opt/sbomtools; \
    /opt/venv/bin/pip --python /opt/sbomtools/bin/python install --no-cache-dir --require-hashes \
        --no-deps --requirement requirements-sbom.lock
COPY pyproject.toml README.md ./
COPY src/ src/
RUN /opt/venv/bin/pip --python /opt/buildtools/bin/python wheel --no-cache-dir --no-deps \
        --no-build-isolation --wheel-dir /dist . \
    && /opt/venv/bin/pip install --no-cache-dir --no-deps --no-compile --no-warn-script-location \
        --root /staging /dist/*.whl \
    && /opt/venv/bin/python -m compileall -q -j 0 --invalidation-mode unchecked-hash -s /staging -p / /staging

# ---------------------------------------------------------------------------------------
# slim: the dependency venv without build tools, caches and the dependencies' test suites,
# extension modules stripped, and bytecode compiled for every dependency module the service
# imports, so that a read-only root filesystem starts fast. Each step reports what it saved
# in the build log ("TRIM ..."). Still only depends on the lock: cached across code
# changes. STRIP=0 skips stripping (it needs binutils: from the base image, else apt).
FROM deps AS slim
SHELL ["/bin/bash", "-o", "pipefail", "-c"]
ARG STRIP=1
COPY scripts/container-bytecode.py /usr/local/lib/container-bytecode.py
# binutils is only used in this throw-away stage, so its version is not pinned (DL3008);
# the single-quoted step commands are expanded later by eval on purpose (SC2016).
# hadolint ignore=DL3008,SC2016
RUN size() { du -sm --apparent-size /opt/venv | cut -f1; }; \
    step() { local name=$1 cmd=$2 before; before=$(size); eval "$cmd" || { echo "TRIM ${name}: FAILED"; exit 1; }; echo "TRIM ${name}: saved $((before - $(size))) MB, venv now $(size) MB"; }; \
    echo "TRIM start: venv $(size) MB"; \
    step "pip/setuptools/wheel (build tools)" \
        'rm -rf /opt/venv/lib/python3*/site-packages/{pip,setuptools,wheel,_distutils_hack,pkg_resources}{,-*.dist-info} /opt/venv/lib/python3*/site-packages/distutils-precedence.pth /opt/venv/bin/pip*'; \
    step "dependency test suites" \
        'find /opt/venv/lib/python3*/site-packages/{numpy,pandas,scipy,statsmodels,matplotlib,pydantic,anthropic,openai,openpyxl} -depth -type d -name tests -prune -exec rm -rf {} + 2>/dev/null || true'; \
    step "C sources, headers, Cython and type stubs" \
        'find /opt/venv/lib/python3*/site-packages \( -name "*.pyi" -o -name "*.pxd" -o -name "*.pyx" -o -name "*.h" -o -name "*.c" -o -name "*.cpp" \) -type f -delete'; \
    if [ "$STRIP" = 1 ] && ! command -v strip >/dev/null && command -v apt-get >/dev/null; then \
        { apt-get update -qq && apt-get install -y -qq --no-install-recommends binutils && rm -rf /var/lib/apt/lists/*; } >/dev/null 2>&1 \
            || echo "TRIM binutils not installable (no Debian mirror?): not stripping"; \
    fi; \
    if [ "$STRIP" = 1 ] && command -v strip >/dev/null; then \
        step "strip extension modules (not the auditwheel *.libs: stripping breaks them)" \
            'find /opt/venv -name "*.so" -type f -not -path "*.libs/*" -exec strip --strip-unneeded {} +'; \
    fi; \
    step "bytecode for imported modules (adds)" \
        'MPLCONFIGDIR=$(mktemp -d) /opt/venv/bin/python /usr/local/lib/container-bytecode.py /opt/venv'

# ---------------------------------------------------------------------------------------
# sbom: the CycloneDX SBOM of exactly what the runtime stage holds (scripts/container-sbom.py):
# the slim venv with the app, and the `os` stage's dpkg database. Written into the image and
# exported by scripts/scan-image.sh.
FROM slim AS sbom
SHELL ["/bin/bash", "-o", "pipefail", "-c"]
COPY --from=app /opt/sbomtools /opt/sbomtools
COPY --from=app /staging/ /
COPY --from=os /var/lib/dpkg /sbom/dpkg
COPY --from=os /etc/debian_version /sbom/debian_version
COPY scripts/container-sbom.py /sbom/container-sbom.py
ARG VERSION=
RUN /opt/sbomtools/bin/python /sbom/container-sbom.py --venv /opt/venv --dpkg-admindir /sbom/dpkg \
        --debian-version /sbom/debian_version --version "${VERSION}" --out /sbom/sbom.cdx.json

# ---------------------------------------------------------------------------------------
# runtime: the updated base (os), the slim venv, the app. No compilers, no pip, no caches.
FROM os AS runtime
SHELL ["/bin/bash", "-o", "pipefail", "-c"]
RUN groupadd --gid 1000 appuser \
    && useradd --uid 1000 --gid 1000 --no-create-home --home-dir /nonexistent \
        --shell /usr/sbin/nologin appuser \
    && mkdir -p /data /output /opt/mplconfig \
    && chown 1000:1000 /data /output /opt/mplconfig
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    MPLBACKEND=Agg \
    MPLCONFIGDIR=/opt/mplconfig \
    DATA_DIR=/data \
    OUTPUT_DIR=/output \
    PORT=8000 \
    LOG_LEVEL=INFO
COPY --from=slim /opt/venv /opt/venv
# Read-only root: copy the warmed matplotlib cache to /tmp at start (see the script).
COPY scripts/container-mplconfig.py /tmp/container-mplconfig.py
RUN purelib=$(python -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])') \
    && mv /tmp/container-mplconfig.py "${purelib}/_regression_analyzer_mplconfig.py" \
    && echo "import _regression_analyzer_mplconfig" > "${purelib}/_regression_analyzer_mplconfig.pth" \
    && python -m compileall -q --invalidation-mode unchecked-hash "${purelib}/_regression_analyzer_mplconfig.py"
# Warm matplotlib's font cache as the app user, into the directory it owns.
USER 1000:1000
RUN python -c "import matplotlib.font_manager as fm, matplotlib.pyplot as plt; fm.findfont('DejaVu Sans'); plt.figure(); plt.close('all')" \
    && ls /opt/mplconfig
USER 0:0
COPY --from=app /staging/ /
# The probe runs every few seconds in every container: a socket-only script, run with -I -S
# (no site, no matplotlib .pth hook), costs a fraction of `python -c "import urllib..."`.
COPY scripts/container-healthcheck.py /usr/local/lib/regression-analyzer/healthcheck.py
COPY --from=sbom /sbom/sbom.cdx.json /usr/local/share/regression-analyzer/sbom.cdx.json
# Late, so that changing them does not invalidate the layers above. Without VERSION,
# /api/v1/health reports the wheel's version (pyproject.toml), the one source of it.
ARG VERSION=
ARG VCS_REF=unknown
ARG BUILD_DATE=unknown
# No public repository URL is configured in pyproject.toml: pass the real one at build time.
ARG SOURCE_URL=https://github.com/regression-analyzer/regression-analyzer
ARG OS_UPDATES_STAMP=
LABEL org.opencontainers.image.title="regression-analyzer" \
      org.opencontainers.image.description="Understand a table, fit and diagnose a regression, draw the charts and explain the result." \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${VCS_REF}" \
      org.opencontainers.image.created="${BUILD_DATE}" \
      org.opencontainers.image.source="${SOURCE_URL}" \
      org.opencontainers.image.licenses="MIT" \
      io.github.regression-analyzer.os-updates-stamp="${OS_UPDATES_STAMP}"
ENV REGRESSION_ANALYZER_VERSION=${VERSION}
WORKDIR /data
USER 1000:1000
VOLUME ["/data", "/output"]
EXPOSE 8000
# Engine 20.10 probes first one --interval after the start (its builder rejects
# --start-interval), so the interval is what `docker run` -> healthy takes. 4 s: a service
# that misses the first probe (it answers after ~1-2 s, more on a loaded host) still turns
# healthy at the second one, under 10 s; a probe costs ~13 ms of CPU, ~0.3 % of a core at
# this rate. The start period only spares a slow first start from counting failures;
# 3 failed probes (~12 s) mark a hung service unhealthy.
HEALTHCHECK --interval=4s --timeout=3s --start-period=30s --retries=3 \
    CMD ["python", "-I", "-S", "/usr/local/lib/regression-analyzer/healthcheck.py"]
STOPSIGNAL SIGTERM
CMD ["regression-analyzer", "serve", "--host", "0.0.0.0"]
