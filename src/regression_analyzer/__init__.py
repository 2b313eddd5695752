"""regression-analyzer: understand a table, fit and diagnose a regression, explain it."""

import os


def _version() -> str:
    # The container passes its build-time VERSION through the environment so that
    # /api/v1/health reports the image's version, not just the wheel's.
    override = os.environ.get("REGRESSION_ANALYZER_VERSION")
    if override:
        return override
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("regression-analyzer")
    except PackageNotFoundError:  # running from a source tree without install
        return "0.0.0+unknown"


def __getattr__(name: str) -> str:
    # __version__ is looked up when first used: importlib.metadata takes ~60 ms to import,
    # which every process importing the package (drawing processes too) would pay.
    if name == "__version__":
        value = _version()
        globals()["__version__"] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
