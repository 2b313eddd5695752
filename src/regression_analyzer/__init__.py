"""regression-analyzer: understand a table, fit and diagnose a regression, explain it."""

import os
from importlib.metadata import PackageNotFoundError, version


def _version() -> str:
    # The container passes its build-time VERSION through the environment so that
    # /api/v1/health reports the image's version, not just the wheel's.
    override = os.environ.get("REGRESSION_ANALYZER_VERSION")
    if override:
        return override
    try:
        return version("regression-analyzer")
    except PackageNotFoundError:  # running from a source tree without install
        return "0.0.0+unknown"


__version__ = _version()
