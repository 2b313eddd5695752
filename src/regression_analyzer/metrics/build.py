"""What the build-info metric says: the version /health reports and the dependency lock's hash,
the same sha256 the image is labelled with (io.github.regression-analyzer.lock-sha256)."""

from __future__ import annotations

import hashlib
import sys
from pathlib import Path

# The image keeps the lock it installed from in its venv (Dockerfile: /opt/venv/requirements.lock).
LOCK_FILE = "requirements.lock"
# What the role reports for an image without the label: the same word here.
NO_LOCK = "none"


def lock_sha256(prefix: Path | None = None) -> str:
    """sha256 of the lock this environment was installed from (`<venv>/requirements.lock`);
    "none" where there is none (a development venv, installed from pyproject.toml)."""
    path = (prefix or Path(sys.prefix)) / LOCK_FILE
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError:
        return NO_LOCK


def version() -> str:
    """The version /api/v1/health reports (the image's, or the installed package's)."""
    from .. import __version__

    return str(__version__)
