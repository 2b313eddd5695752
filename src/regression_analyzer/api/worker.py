"""What runs inside one analysis process. Imported by the child, never at service start."""

from __future__ import annotations

import contextlib
import logging
import os
from pathlib import Path
from typing import Any

from .jobs import GENERIC_FAILURE, JobStore, now

log = logging.getLogger("regression_analyzer.api.worker")


def run_job(jobs_root: str, job_id: str, upload_path: str, options: dict[str, Any]) -> None:
    """Run the pipeline for one job; record progress and the outcome in its state file."""
    # The pipeline is imported here, in the worker process (and pre-loaded by the forkserver).
    from ..errors import InputError
    from ..pipeline import AnalysisOptions, run_analysis

    logging.basicConfig(level=os.environ.get("LOG_LEVEL", "INFO").upper())
    # Analyses yield the CPU to the service process, so the API stays responsive under load.
    with contextlib.suppress(OSError):
        os.nice(10)
    store = JobStore(Path(jobs_root))

    def progress(stage: str) -> None:
        store.update(job_id, stage=stage)

    opts = AnalysisOptions(
        target=options.get("target"),
        features=options.get("features"),
        context=options.get("context"),
        sheet=options.get("sheet"),
        transpose=options.get("transpose"),
        robust=bool(options.get("robust")),
        event=options.get("event"),
        use_llm=not options.get("skip_llm"),
    )
    try:
        run_analysis(Path(upload_path), opts, store.job_dir(job_id), progress=progress)
    except InputError as exc:
        store.update(job_id, status="failed", error=str(exc), finished_at=now())
        return
    except Exception:
        # The traceback stays in the server log; the user gets one generic line.
        log.exception("analysis %s failed unexpectedly", job_id)
        store.update(job_id, status="failed", error=GENERIC_FAILURE, finished_at=now())
        return
    store.update(job_id, status="completed", stage=None, finished_at=now())
