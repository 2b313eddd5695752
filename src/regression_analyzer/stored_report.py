"""Read a stored report.json of any schema this release knows, as today's Report.

Reports stay on disk as their release wrote them (a server rolled back after an upgrade must
still read them), so an older schema is upgraded in memory only, every time it is read. A
report whose schema is newer than this release knows is refused with a message that says
which release wrote it and that this server must be upgraded to read it.

What each schema differs in, and how it is read:

- Schema 1 (0.1.x) had no `row_numbering`: its rows (`diagnostics.influential_rows[].row`,
  `minmax[].min_row/max_row`) are 0-based positions in the loaded table, kept as they are
  and named so. Its `diagnostics.durbin_watson` is the bare statistic: read as a test with
  that statistic and no p-value, saying the p-value was not recorded. It wrote non-finite
  floats as null, so a null where today's schema needs a number reads as NaN.
- Schema 2 (0.2.x): today's. A report of schema 2 with fields this release does not know
  (a later release that only added fields) reads: unknown fields are ignored.
"""

from __future__ import annotations

import json
import math
from typing import Any

from .report import SCHEMA_VERSION, Report

READABLE_SCHEMAS = (1, SCHEMA_VERSION)

SCHEMA_1_ROW_NUMBERING = (
    "0-based positions in the loaded table (report schema 1 recorded rows so, not as rows "
    "of the file)"
)
SCHEMA_1_DW_METHOD = "not recorded by report schema 1"
SCHEMA_1_DW_NOTE = "p-value not recorded: report schema 1 stored only the statistic"

# Floats today's schema requires that schema 1 wrote as null when they were not finite.
_REQUIRED_MODEL_FLOATS = ("df_model", "df_resid", "r_squared", "condition_number")
_REQUIRED_COEFFICIENT_FLOATS = ("estimate", "std_error", "ci_low", "ci_high")


class ReportSchemaTooNew(ValueError):
    """A report written by a later release, in a schema this release cannot read."""

    def __init__(self, written_by: str, schema: int) -> None:
        from . import __version__

        self.written_by = written_by
        self.schema = schema
        readable = ", ".join(str(s) for s in READABLE_SCHEMAS)
        super().__init__(
            f"This report was written by regression-analyzer {written_by} in report schema "
            f"{schema}; this server (regression-analyzer {__version__}) reads report schemas "
            f"{readable}: upgrade to read it."
        )


def read_report(text: str) -> Report:
    """The Report in report.json `text`, of any readable schema, as today's model.

    Raises ReportSchemaTooNew for a later schema and ValueError for anything unreadable.
    """
    data = json.loads(text)
    if not isinstance(data, dict):
        raise ValueError("report.json does not hold an object")
    schema = data.get("schema_version", 1)
    if not isinstance(schema, int) or schema < 1:
        raise ValueError(f"report.json has an invalid schema_version {schema!r}")
    if schema > SCHEMA_VERSION:
        raise ReportSchemaTooNew(str(data.get("version", "unknown")), schema)
    if schema == 1:
        data = upgrade_schema_1(data)
    return Report.model_validate(data)


def upgrade_schema_1(data: dict[str, Any]) -> dict[str, Any]:
    """A schema-1 report as a dict of today's schema, with honest values for what schema 1
    did not record (each says so); `version` still names the release that wrote it."""
    upgraded = dict(data)
    upgraded["schema_version"] = SCHEMA_VERSION
    upgraded.setdefault("row_numbering", SCHEMA_1_ROW_NUMBERING)
    model = dict(upgraded.get("model") or {})
    _nan_for_null(model, _REQUIRED_MODEL_FLOATS)
    model["coefficients"] = [
        _nan_for_null(dict(c), _REQUIRED_COEFFICIENT_FLOATS)
        for c in model.get("coefficients") or []
    ]
    upgraded["model"] = model
    diagnostics = dict(upgraded.get("diagnostics") or {})
    statistic = diagnostics.get("durbin_watson")
    if isinstance(statistic, int | float):
        diagnostics["durbin_watson"] = {
            "statistic": statistic,
            "p_value": None,
            "method": SCHEMA_1_DW_METHOD,
            "note": SCHEMA_1_DW_NOTE,
        }
    upgraded["diagnostics"] = diagnostics
    return upgraded


def _nan_for_null(record: dict[str, Any], names: tuple[str, ...]) -> dict[str, Any]:
    """Schema 1 serialised NaN and infinities as null (pydantic's default); today's schema
    requires a number there, and NaN is the one that claims no more than null did."""
    for name in names:
        if name in record and record[name] is None:
            record[name] = math.nan
    return record
