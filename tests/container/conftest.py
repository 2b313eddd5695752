"""Container tests: build the image once per session and run it on the real Docker engine.

No skipping: when the engine is unreachable or the base image is missing, the tests FAIL
with a message that says what to run (scripts/start-docker-engine.sh,
scripts/build-base-image.sh). Environment:

  REGRESSION_ANALYZER_BASE_IMAGE  base for the build (default regression-analyzer/python-base:3.11,
                                  built by scripts/build-base-image.sh; python:3.11-slim elsewhere)
  REGRESSION_ANALYZER_TEST_IMAGE  use this already built image instead of building one
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
import uuid
from collections.abc import Callable, Iterator

import pytest

from tests.helpers.containers import (
    DEFAULT_BASE,
    OS_UPDATES_STAMP,
    ROOT,
    TAG,
    VERSION,
    Container,
    base_image,
    docker,
    host_dir,
)


@pytest.fixture(scope="session")
def engine() -> None:
    if shutil.which("docker") is None:
        pytest.fail("docker CLI not found: run scripts/start-docker-engine.sh (installs docker.io)")
    info = subprocess.run(["docker", "info"], capture_output=True, text=True, timeout=30)
    if info.returncode != 0:
        pytest.fail(
            "Docker engine unreachable (`docker info` failed): start it with "
            f"scripts/start-docker-engine.sh\n{info.stderr.strip()}"
        )


@pytest.fixture(scope="session")
def image(engine: None) -> str:
    """regression-analyzer:test, built once per session from the working tree."""
    prebuilt = os.environ.get("REGRESSION_ANALYZER_TEST_IMAGE")
    if prebuilt:
        return prebuilt
    base = base_image()
    if docker("image", "inspect", base, check=False).returncode != 0 and base == DEFAULT_BASE:
        pytest.fail(
            f"base image {base} missing: build it with scripts/build-base-image.sh "
            "(or set REGRESSION_ANALYZER_BASE_IMAGE, e.g. python:3.11-slim where a registry works)"
        )
    rev = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, cwd=ROOT
    ).stdout.strip()
    start = time.monotonic()
    docker(
        "build",
        "--build-arg", f"BASE_IMAGE={base}",
        "--build-arg", f"VERSION={VERSION}",
        "--build-arg", f"VCS_REF={rev or 'unknown'}",
        "--build-arg", f"BUILD_DATE={time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime())}",
        "--build-arg", f"OS_UPDATES_STAMP={OS_UPDATES_STAMP}",
        "-t", TAG, str(ROOT),
        timeout=3600,
    )  # fmt: skip
    print(f"\nimage {TAG} built from {base} in {time.monotonic() - start:.0f} s")
    return TAG


@pytest.fixture(scope="session")
def run_container(
    image: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Callable[..., Container]]:
    """Factory: start the image with host dirs on /data and /output; removed at session end."""
    started: list[str] = []

    def start(*options: str, env: dict[str, str] | None = None) -> Container:
        name = f"ra-test-{uuid.uuid4().hex[:8]}"
        data, output = host_dir(tmp_path_factory, "data"), host_dir(tmp_path_factory, "output")
        c = Container(name, data, output)
        args = ["run", "-d", "--name", name, "-p", "127.0.0.1::8000"]
        args += ["-v", f"{c.data}:/data", "-v", f"{c.output}:/output"]
        for key, value in (env or {}).items():
            args += ["-e", f"{key}={value}"]
        docker(*args, *options, image)
        started.append(name)
        c.wait_http()
        return c

    yield start
    for name in started:
        docker("rm", "-f", "-v", name, check=False)
