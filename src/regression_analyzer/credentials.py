"""Secrets from the environment: ``NAME`` directly, or the file named by ``NAME_FILE``.

The ``_FILE`` form is how Docker and Kubernetes mount secrets. Values never reach logs,
exceptions or reprs: only variable names do.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from pathlib import Path

log = logging.getLogger(__name__)


def read_secret(name: str, env: Mapping[str, str] | None = None) -> str | None:
    """Return the secret ``name`` or None when it is not configured.

    ``env[name]`` wins when it is non-empty (after stripping whitespace); otherwise the
    stripped contents of the file named by ``env[name + "_FILE"]``. An unreadable or empty
    file gives None and a warning that names the variable, never the value.
    """
    source = os.environ if env is None else env
    direct = (source.get(name) or "").strip()
    if direct:
        return direct
    file_var = f"{name}_FILE"
    file_name = (source.get(file_var) or "").strip()
    if not file_name:
        return None
    try:
        value = Path(file_name).read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError) as exc:
        # The path is not secret, but the exception text is left out anyway: it is enough to
        # say which variable points nowhere useful and why in one word.
        log.warning("%s points to a file that cannot be read (%s)", file_var, type(exc).__name__)
        return None
    if not value:
        log.warning("%s points to an empty file", file_var)
        return None
    return value


def is_configured(name: str, env: Mapping[str, str] | None = None) -> bool:
    """True when read_secret(name, env) would return a value (without keeping it around)."""
    return read_secret(name, env) is not None
