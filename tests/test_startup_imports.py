"""Start-up stays lean: the heavy libraries load where they are used, not on import.

Checked in a fresh interpreter (this test process has imported everything already).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

HEAVY = ("matplotlib", "statsmodels", "statsmodels.api", "scipy.stats", "scipy.optimize")


def _loaded_after(module: str) -> list[str]:
    probe = (
        f"import json, sys; import {module}; "
        f"print(json.dumps([m for m in {list(HEAVY)!r} if m in sys.modules]))"
    )
    out = subprocess.run(
        [sys.executable, "-c", probe], check=True, capture_output=True, text=True, timeout=120
    )
    return list(json.loads(out.stdout.strip().splitlines()[-1]))


@pytest.mark.parametrize("module", ["regression_analyzer.cli", "regression_analyzer.pipeline"])
def test_import_does_not_load_plotting_or_whole_stats_packages(module: str) -> None:
    # matplotlib loads in the chart stage (or a drawing process); scipy.stats and
    # statsmodels.api pull in every distribution and model; scipy.optimize only small tables
    # and logit fits need.
    assert _loaded_after(module) == []


def test_cli_import_loads_no_analysis_library() -> None:
    probe = (
        "import json, sys; import regression_analyzer.cli; "
        "print(json.dumps([m for m in ('pandas', 'numpy', 'scipy', 'pydantic') "
        "if m in sys.modules]))"
    )
    out = subprocess.run(
        [sys.executable, "-c", probe], check=True, capture_output=True, text=True, timeout=120
    )
    # `--help`, `providers` and `serve` never pay for the analysis stack.
    assert json.loads(out.stdout.strip().splitlines()[-1]) == []


def test_job_system_and_its_shared_child_load_no_web_framework_nor_arq(tmp_path: Path) -> None:
    # The analysis child in shared mode writes its job's state to Redis: it opens the shared
    # store (redis-py), never arq's worker; and nothing of the job system loads FastAPI.
    probe = (
        "import json, sys; import regression_analyzer.jobs.child, regression_analyzer.jobs.local; "
        "from regression_analyzer.jobs.wiring import open_job_store; "
        "from regression_analyzer.settings import Settings; "
        "store = open_job_store(Settings()); "
        "print(json.dumps([type(store).__name__, sorted(m for m in sys.modules "
        "if m.split('.')[0] in ('arq', 'fastapi', 'starlette'))]))"
    )
    env = {
        **os.environ,
        "QUEUE_URL": "redis://127.0.0.1:1/0",  # never reached: opening a store connects to nothing
        "OUTPUT_DIR": str(tmp_path),
    }
    out = subprocess.run(
        [sys.executable, "-c", probe],
        check=True,
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
    )
    assert json.loads(out.stdout.strip().splitlines()[-1]) == ["SharedJobStore", []]
