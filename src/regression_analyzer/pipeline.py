"""The one analysis pipeline: load -> understand -> fit -> diagnose -> charts -> report.

The CLI and the web service both call run_analysis; nothing else strings the stages together.
"""

from __future__ import annotations

import logging
import threading
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

import numpy as np
import pandas as pd

from . import __version__
from .atomic_files import write_atomic
from .charts.plan import ChartData, PredictorLine, start_charts
from .errors import InputError, LLMError
from .interpretation import facts_for_llm, template_interpretation, ungrounded_numbers
from .llm.schemas import TableUnderstanding
from .loading import LoadedTable, describe_columns, load_table
from .report import ColumnInfo, DroppedColumn, Report, SourceInfo, render_markdown
from .rows_file import ROWS_FILE, write_rows_csv
from .stats.design import Design, build_design
from .stats.diagnostics import diagnose
from .stats.extremes import column_minmax
from .stats.fit import FitResult, fit_model
from .stats.influence import RowDiagnostics, row_diagnostics
from .stats.logit import sigmoid
from .stats.results import Importance, MinMax
from .stats.terms import term_tests
from .understanding import (
    ColumnRole,
    choose_target,
    classify_columns,
    default_features,
    validate_target,
)

if TYPE_CHECKING:  # the LLM layer is imported only when an analysis asks for it
    from .charts.workers import ChartWorkers
    from .llm.base import LLMClient

log = logging.getLogger(__name__)

STAGES = ("loading", "understanding", "fitting", "diagnostics", "charts", "interpreting", "writing")
TOP_PREDICTOR_CHARTS = 3


@dataclass(frozen=True)
class AnalysisOptions:
    target: str | None = None
    features: list[str] | None = None
    context: str | None = None
    sheet: str | None = None
    transpose: bool | None = None  # None: let the heuristic (or the LLM) decide
    robust: bool = False
    event: str | None = None  # the yes/no target's value to code 1; None: decided by rule
    use_llm: bool = True
    provider: str | None = None  # "anthropic" | "openai" | None (whichever key is set)
    model: str | None = None


ProgressCallback = Callable[[str], None]
AnswerT = TypeVar("AnswerT")


class _BackgroundTask:
    """A function run on its own thread; `wait` joins it and re-raises what it raised."""

    def __init__(self, work: Callable[[], None]) -> None:
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, args=(work,), daemon=True)
        self._thread.start()

    def _run(self, work: Callable[[], None]) -> None:
        try:
            work()
        except BaseException as exc:  # handed to the waiting thread
            self._error = exc

    def wait(self) -> None:
        """Block until the work is done; raise its exception if it failed."""
        self._thread.join()
        if self._error is not None:
            raise self._error


@dataclass
class _LLMSession:
    """The optional language model for one analysis, and what went wrong with it."""

    client: LLMClient | None = None
    notes: list[str] = field(default_factory=list)
    used: bool = False

    @classmethod
    def open(cls, options: AnalysisOptions) -> _LLMSession:
        if not options.use_llm:
            return cls(notes=[])
        from .llm import select_client, why_none

        try:
            client = select_client(provider=options.provider, model=options.model)
        except LLMError as exc:
            return cls(notes=[f"LLM not used: {exc}"])
        if client is None:
            reason = why_none(options.provider) or "no API key configured"
            return cls(notes=[f"LLM not used: {reason}; heuristics ran instead."])
        return cls(client=client)

    @property
    def name(self) -> str:
        return getattr(self.client, "name", "none") if self.used else "none"

    def ask(self, what: str, call: Callable[[], AnswerT]) -> AnswerT | None:
        """Run one LLM call; on failure note it and return None so heuristics take over."""
        if self.client is None:
            return None
        try:
            answer = call()
        except LLMError as exc:
            self.notes.append(f"LLM {what} failed ({exc}); heuristics used instead.")
            return None
        self.used = True
        return answer


@dataclass
class _Understanding:
    """What the understand stage decided, and why."""

    table: LoadedTable
    roles: dict[str, ColumnRole]
    target: str
    target_reason: str
    features: list[str] | None
    context: str | None


def _ask_llm(
    table: LoadedTable, roles: dict[str, ColumnRole], options: AnalysisOptions, llm: _LLMSession
) -> TableUnderstanding | None:
    if llm.client is None:
        return None
    summary = {
        "rows": len(table.frame),
        "columns": describe_columns(table.frame),
        "heuristic_roles": roles,
        "sideways_heuristic": {"transposed": table.transposed, "reason": table.transpose_reason},
    }
    client = llm.client
    return llm.ask("table understanding", lambda: client.understand_table(summary, options.context))


def _pick_target(
    frame: pd.DataFrame,
    roles: dict[str, ColumnRole],
    options: AnalysisOptions,
    answer: TableUnderstanding | None,
    warns: list[str],
) -> tuple[str, str]:
    """The user's target, else the LLM's if usable, else the heuristic's."""
    if options.target is not None:
        validate_target(frame, roles, options.target, named_by_user=True)
        return options.target, "chosen by the user"
    if answer is not None and answer.target:
        try:
            validate_target(frame, roles, answer.target)
            return answer.target, f"recommended by the language model: {answer.target_reason}"
        except InputError as exc:  # an unusable LLM pick falls back to the heuristic
            warns.append(f"The language model's target {answer.target!r} is unusable: {exc}.")
    return choose_target(frame, roles)


def _understand(
    table: LoadedTable,
    table_path: Path,
    options: AnalysisOptions,
    llm: _LLMSession,
    warns: list[str],
) -> _Understanding:
    """Decide orientation, column roles, target and predictors (LLM first, heuristics after)."""
    roles = classify_columns(table.frame)
    answer = _ask_llm(table, roles, options, llm)
    if (
        answer is not None
        and options.transpose is None
        and answer.sideways is not None
        and answer.sideways != table.transposed
    ):
        verdict = "sees a sideways table" if answer.sideways else "rejects the sideways layout"
        warns.append(
            f"The language model {verdict} against the heuristic "
            f"({answer.sideways_reason}); the table was re-read accordingly."
        )
        table = load_table(table_path, sheet=options.sheet, transpose=answer.sideways)
        roles = classify_columns(table.frame)
    if answer is not None:
        # The LLM may only mark columns as identifiers or free text (to leave them out);
        # numeric/categorical typing stays with the data-driven heuristics.
        for judged in answer.columns:
            if (
                judged.name in roles
                and judged.role in ("id", "text")
                and judged.name != options.target
            ):
                roles[judged.name] = judged.role

    target, reason = _pick_target(table.frame, roles, options, answer, warns)
    features = options.features
    if features is None and answer is not None:
        usable = set(default_features(table.frame, roles, target))
        features = [name for name in answer.predictors if name in usable] or None
    context = options.context or (answer.business_context if answer is not None else None)
    return _Understanding(table, roles, target, reason, features, context)


def _chart_data(
    design: Design,
    fit: FitResult,
    per_row: RowDiagnostics,
    importance: list[Importance],
    minmax: list[MinMax],
    frame: pd.DataFrame,
) -> ChartData:
    """Gather what the charts need from the fit, as plain arrays."""
    coefs = [
        (c.name, c.estimate, c.ci_low, c.ci_high)
        for c in fit.summary.coefficients
        if c.name != "Intercept"
    ]
    X = design.X
    params = {c.name: c.estimate for c in fit.summary.coefficients}
    means = X.mean()
    top: list[PredictorLine] = []
    for item in importance:
        name = item.name
        if name not in X.columns or len(top) >= TOP_PREDICTOR_CHARTS:
            continue
        x = X[name].to_numpy(dtype=float)
        line_x = np.linspace(np.nanmin(x), np.nanmax(x), 50)
        # The model's line for this predictor with every other predictor held at its mean.
        base = params.get("Intercept", 0.0) + sum(
            params[col] * means[col] for col in X.columns if col != name and col in params
        )
        eta = base + params.get(name, 0.0) * line_x
        line_y = sigmoid(eta) if design.kind == "logit" else eta
        top.append((name, x, design.y.to_numpy(dtype=float), line_x, line_y))
    numeric = frame.select_dtypes(include="number")
    return ChartData(
        target=design.target,
        kind=design.kind,
        y=np.asarray(fit.y, dtype=float),
        fitted=np.asarray(fit.fitted, dtype=float),
        residuals=(
            per_row.residual if per_row.deviance_residual is None else per_row.deviance_residual
        ),
        coefficients=coefs,
        importance=[(i.name, i.importance) for i in importance],
        importance_method=importance[0].method if importance else "",
        correlation=_correlation(numeric),
        top_predictors=top,
        minmax=[(m.column, m.min, m.max, _mean(frame[m.column])) for m in minmax],
    )


def _correlation(numeric: pd.DataFrame) -> pd.DataFrame:
    """Pearson correlations over complete rows.

    numpy on complete rows, because pandas' pairwise-complete corr is about 20 times slower
    on a million rows and the heatmap does not need pairwise deletion.
    """
    complete = numeric.dropna()
    if numeric.shape[1] < 2 or len(complete) < 3:
        return pd.DataFrame()
    # np.corrcoef's arithmetic on one copy of the data (it makes two more of a million rows):
    # centre the columns in place, one BLAS product, scale by the standard deviations.
    values = complete.to_numpy(dtype=float, copy=True)
    values -= values.mean(axis=0)
    products = values.T @ values
    with np.errstate(invalid="ignore", divide="ignore"):  # constant columns give NaN cells
        spread = np.sqrt(np.diag(products))
        matrix = np.clip(products / np.outer(spread, spread), -1.0, 1.0)
    return pd.DataFrame(matrix, index=numeric.columns, columns=numeric.columns)


def _mean(column: pd.Series) -> float:
    return float(pd.to_numeric(column, errors="coerce").mean())


def _interpret(report: Report, llm: _LLMSession) -> tuple[str, str]:
    """An LLM interpretation when one is grounded in the numbers, else the template."""
    if llm.client is not None:
        client = llm.client
        answer = llm.ask("interpretation", lambda: client.interpret(facts_for_llm(report)))
        if answer is not None:
            invented = ungrounded_numbers(answer.text, report)
            if not invented:
                return answer.text, "llm"
            llm.notes.append(
                "The language model's interpretation quoted numbers not in the results "
                f"({', '.join(invented[:5])}); the template interpretation is shown instead."
            )
    return template_interpretation(report), "template"


def run_analysis(
    table_path: Path,
    options: AnalysisOptions,
    output_dir: Path,
    progress: ProgressCallback | None = None,
    chart_workers: ChartWorkers | None = None,
) -> Report:
    """Analyse one table and write report.json, report.md and the charts into output_dir.

    Calls progress(stage) with each name in STAGES as it starts. Raises errors.InputError
    (and subclasses) for input the user can fix; never fails because of the LLM. Charts are
    drawn by chart_workers (ChartWorkers.start() for processes started early) or, without
    them, in this process.
    """
    notify = progress or (lambda stage: None)
    table_path = Path(table_path)
    output_dir = Path(output_dir)
    warns: list[str] = []

    notify("loading")
    table = load_table(table_path, sheet=options.sheet, transpose=options.transpose)

    notify("understanding")
    llm = _LLMSession.open(options)
    understood = _understand(table, table_path, options, llm, warns)
    table, roles, target = understood.table, understood.roles, understood.target
    frame = table.frame

    notify("fitting")
    named = {target} if options.target is not None else set()
    named |= set(options.features or [])
    with warnings.catch_warnings():
        # numpy's numerical chatter is summarised by our own warnings, not printed.
        warnings.simplefilter("ignore")
        design = build_design(
            frame,
            target,
            understood.features,
            roles,
            named=named,
            event=options.event,
            row_numbers=table.row_numbers,
        )
        fit = fit_model(design, robust=options.robust)

        notify("diagnostics")
        per_row = row_diagnostics(fit, design.rows)
        # Written on a thread (numpy releases the GIL) while diagnostics and charts run.
        output_dir.mkdir(parents=True, exist_ok=True)
        rows_csv = _BackgroundTask(lambda: write_rows_csv(output_dir / ROWS_FILE, per_row))
        tests, importance = term_tests(design, fit)
        model = fit.summary.model_copy(update={"term_tests": tests})
        diagnostics = diagnose(design, fit, per_row)
        minmax = column_minmax(frame, table.row_numbers)

    notify("charts")
    # Drawn while the report and its interpretation (perhaps an LLM call) are made.
    charts = start_charts(
        _chart_data(design, fit, per_row, importance, minmax, frame),
        output_dir,
        workers=chart_workers,
    )

    notify("interpreting")
    columns = [
        ColumnInfo(**col, role=roles.get(col["name"], "text")) for col in describe_columns(frame)
    ]
    report = Report(
        version=__version__,
        source=SourceInfo(
            file=table_path.name,
            kind=table.kind,
            sheet=table.sheet,
            encoding=table.encoding,
            delimiter=table.delimiter,
            transposed=table.transposed,
            transpose_reason=table.transpose_reason,
        ),
        rows=len(frame),
        row_numbering=table.row_numbering,
        columns=columns,
        context=understood.context,
        target=target,
        target_reason=understood.target_reason,
        features=list(design.features),
        dropped_columns=[DroppedColumn(name=d.name, reason=d.reason) for d in design.dropped],
        rows_dropped=design.rows_dropped,
        model=model,
        diagnostics=diagnostics,
        importance=importance,
        minmax=minmax,
        charts=charts.files,
        rows_file=ROWS_FILE,
        interpretation="",
        interpretation_source="template",
        llm="none",
        warnings=[*table.warnings, *warns, *design.warnings, *fit.warnings],
    )
    text, source = _interpret(report, llm)
    report = report.model_copy(
        update={
            "interpretation": text,
            "interpretation_source": source,
            "llm": llm.name,
            "llm_notes": llm.notes,
        }
    )

    notify("writing")
    rows_csv.wait()
    charts.wait()
    write_atomic(output_dir / "report.json", report.model_dump_json(indent=2))
    write_atomic(output_dir / "report.md", render_markdown(report))
    return report
