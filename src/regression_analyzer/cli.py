"""The command line: `regression-analyzer analyze | providers | serve`.

A thin shell around pipeline.run_analysis. Errors are mapped here, once: InputError and
ConfigurationError (a bad setting, an unwritable folder) -> exit 2, anything else -> exit 1,
each as one line on stderr and never a traceback (set REGRESSION_ANALYZER_DEBUG=1 to see one).
"""

from __future__ import annotations

import atexit
import contextlib
import json
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn

import click

from .errors import ConfigurationError, InputError

if TYPE_CHECKING:  # the report (pydantic, the stats results) loads only for `analyze`
    from .report import Report

EXIT_OK, EXIT_INTERNAL, EXIT_BAD_INPUT = 0, 1, 2


def _fail(code: int, message: str) -> NoReturn:
    first_line = (message.strip().splitlines() or ["unknown error"])[0]
    click.echo(f"error: {first_line}", err=True)
    sys.exit(code)


def _run_guarded(action: Callable[[], None]) -> None:
    """Run action, turning every exception into one line and the documented exit code."""
    try:
        action()
    except (InputError, ConfigurationError) as exc:
        _fail(EXIT_BAD_INPUT, str(exc))
    except (KeyboardInterrupt, SystemExit):
        raise
    except Exception as exc:
        if os.environ.get("REGRESSION_ANALYZER_DEBUG"):
            raise
        _fail(EXIT_INTERNAL, f"internal error ({type(exc).__name__}): {exc}")


def _split_features(value: str | None) -> list[str] | None:
    if not value:
        return None
    names = [name.strip() for name in value.split(",") if name.strip()]
    return names or None


def _fmt(value: float | None) -> str:
    if value is None:
        return "–"
    if value != 0 and (abs(value) < 1e-3 or abs(value) >= 1e6):
        return f"{value:.3g}"
    return f"{value:.4f}"


def _print_summary(report: Report, output_dir: Path) -> None:
    from rich.console import Console  # rich loads for `analyze` only
    from rich.table import Table

    out = Console(highlight=False)
    m = report.model
    out.print(
        f"[bold]{report.source.file}[/]: {report.rows} rows, target [bold]{report.target}[/] "
        f"({report.target_reason})"
    )
    if m.event is not None:
        out.print(
            f"Event modelled (coded 1): [bold]{m.event}[/] vs {m.non_event} ({m.event_reason})"
        )
    facts = Table(title=f"Model ({m.kind.upper()}, {m.cov_type})", show_header=False)
    label = "R²" if m.kind == "ols" else "pseudo-R²"
    cv = report.diagnostics.cross_validation
    for name, value in [
        ("observations", float(m.n_obs)),
        ("rows dropped (missing)", float(report.rows_dropped)),
        (label, m.r_squared),
        ("adjusted R²", m.adj_r_squared),
        ("residual std. error", m.residual_std_error),
        ("F p-value", m.f_p_value),
        ("accuracy", m.accuracy),
        (f"{cv.folds}-fold CV {cv.metric}" if cv else "CV", cv.r_squared if cv else None),
    ]:
        if value is not None:
            facts.add_row(name, f"{value:g}" if name.startswith(("obs", "rows")) else _fmt(value))
    out.print(facts)
    coefs = Table(title="Coefficients")
    for col in ("term", "estimate", "std. error", "p", "95% CI"):
        coefs.add_column(col, justify="left" if col == "term" else "right")
    for c in m.coefficients:
        coefs.add_row(
            c.name,
            _fmt(c.estimate),
            _fmt(c.std_error),
            _fmt(c.p_value),
            f"[{_fmt(c.ci_low)}, {_fmt(c.ci_high)}]",
        )
    out.print(coefs)
    out.print(f"[bold]Interpretation[/] ({report.interpretation_source}, LLM: {report.llm})")
    out.print(report.interpretation)
    for warning in [*report.warnings, *report.llm_notes]:
        out.print(f"[yellow]warning:[/] {warning}")
    out.print(f"Report and {len(report.charts)} charts written to {output_dir}")


def _print_version(ctx: click.Context, _param: click.Parameter, value: bool) -> None:
    if not value or ctx.resilient_parsing:
        return
    from . import __version__  # looked up only when asked for

    click.echo(f"regression-analyzer, version {__version__}")
    ctx.exit()


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--version",
    is_flag=True,
    expose_value=False,
    is_eager=True,
    callback=_print_version,
    help="Show the version and exit.",
)
def cli() -> None:
    """Find what a table's columns mean, fit and diagnose a regression, and explain it."""


@cli.command()
@click.argument("file", type=click.Path(path_type=Path, dir_okay=False))
@click.option("--target", help="Column to explain. Default: chosen by heuristic or LLM.")
@click.option("--features", help="Comma-separated predictor columns. Default: all usable.")
@click.option("--context", help="What the table is about, in a sentence (helps the LLM).")
@click.option(
    "--output-dir",
    type=click.Path(path_type=Path, file_okay=False),
    help="Where report.json, report.md and the charts go. Default: ./output/<file name>.",
)
@click.option("--sheet", help="Excel sheet name. Default: the first sheet.")
@click.option(
    "--transpose/--no-transpose",
    default=None,
    help="Force reading the table sideways (variables as rows) or not. Default: detect.",
)
@click.option("--robust", is_flag=True, help="Heteroscedasticity-robust (HC3) standard errors.")
@click.option(
    "--event",
    metavar="VALUE",
    help="For a yes/no target: the value to model (coded 1). Default: yes/true/1/the larger "
    "number or a known event word; the report names it.",
)
@click.option("--no-llm", is_flag=True, help="Never call a language model.")
@click.option("--provider", type=click.Choice(["anthropic", "openai"]), help="LLM provider.")
@click.option("--model", help="LLM model name for the chosen provider.")
@click.option("--json", "as_json", is_flag=True, help="Print only the report JSON on stdout.")
def analyze(
    file: Path,
    target: str | None,
    features: str | None,
    context: str | None,
    output_dir: Path | None,
    sheet: str | None,
    transpose: bool | None,
    robust: bool,
    event: str | None,
    no_llm: bool,
    provider: str | None,
    model: str | None,
    as_json: bool,
) -> None:
    """Analyse FILE (CSV, XLSX, XLSM or XLS) and write a report with charts."""

    def action() -> None:
        if not file.is_file():
            raise InputError(f"file not found: {file}")
        from .charts.workers import ChartWorkers

        # Started first, so the drawing processes load matplotlib while this one loads pandas
        # and reads the table.
        chart_workers = ChartWorkers.start()
        # Imported here so that `--help`, `providers` and `serve` start fast.
        from .pipeline import AnalysisOptions, run_analysis

        options = AnalysisOptions(
            target=target,
            features=_split_features(features),
            context=context,
            sheet=sheet,
            transpose=transpose,
            robust=robust,
            event=event,
            use_llm=not no_llm,
            provider=provider,
            model=model,
        )
        out_dir = output_dir or Path("output") / file.stem
        from rich.console import Console

        stderr = Console(stderr=True, highlight=False)
        with chart_workers, stderr.status("starting") as status:

            def progress(stage: str) -> None:
                status.update(stage)
                stderr.print(f"· {stage}")

            report = run_analysis(
                file, options, out_dir, progress=progress, chart_workers=chart_workers
            )
        if as_json:
            click.echo(report.model_dump_json(indent=2))
        else:
            _print_summary(report, out_dir)

    _run_guarded(action)


@cli.command()
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def providers(as_json: bool) -> None:
    """List which LLM providers are configured (never the keys)."""

    def action() -> None:
        from .llm import configured_providers

        statuses = configured_providers()
        if as_json:
            click.echo(json.dumps([s.model_dump() for s in statuses], indent=2))
            return
        for s in statuses:
            state = "configured" if s.configured else "not configured (no API key)"
            click.echo(f"{s.name:<10} {state:<28} model {s.model}")

    _run_guarded(action)


@cli.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Interface to bind.")
@click.option("--port", type=int, help="Port. Default: $PORT or 8000.")
def serve(host: str, port: int | None) -> None:
    """Start the web service (uvicorn) with settings from the environment."""

    def action() -> None:
        from .api.server import run_server

        run_server(host=host, port=port)

    _run_guarded(action)


def main() -> None:
    """Console-script entry point."""
    try:
        cli(prog_name="regression-analyzer")
    except SystemExit as exc:
        _exit_without_teardown(exc.code)
    _exit_without_teardown(0)


def _exit_without_teardown(code: object) -> NoReturn:
    """Exit with `code` as sys.exit would, minus the interpreter's teardown.

    Tearing down frees every object pandas, scipy and matplotlib made, one module at a time:
    0.1-0.2 s of a 1.7 s command, for memory the exiting process hands back anyway. Every
    file the command writes is closed by then, and the atexit handlers still run (they
    stop child processes and release their semaphores); then the streams are flushed.
    """
    if code is None:
        status = 0
    elif isinstance(code, int):
        status = code
    else:  # sys.exit("message") prints the message and fails
        print(code, file=sys.stderr)
        status = 1
    atexit._run_exitfuncs()
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(Exception):
            stream.flush()
    os._exit(status)


if __name__ == "__main__":
    main()
