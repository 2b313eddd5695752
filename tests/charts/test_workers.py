"""Charts drawn by ChartWorkers' processes: the same files, notes and points as in-process."""

from __future__ import annotations

import json
import multiprocessing
from pathlib import Path

import matplotlib.image as mpimg
import pytest

from regression_analyzer.charts.plan import render_charts_detailed, start_charts
from regression_analyzer.charts.workers import ChartWorkers
from tests.helpers.chart_data import make_data
from tests.helpers.tables import write_linear_table


@pytest.mark.parametrize("kind", ["ols", "logit"])
def test_processes_draw_what_this_process_draws(tmp_path: Path, kind: str) -> None:
    data = make_data(kind, n=20_000)
    here = render_charts_detailed(data, tmp_path / "here", max_points=2000)
    with ChartWorkers.start(2) as workers:
        assert workers.processes == 2
        there = render_charts_detailed(data, tmp_path / "there", workers=workers, max_points=2000)
        pids = {p.pid for p in multiprocessing.active_children()}
    assert there.files == here.files
    assert there.points_plotted == here.points_plotted
    assert there.notes == here.notes
    for name in there.files:
        a = mpimg.imread(tmp_path / "here" / name)
        b = mpimg.imread(tmp_path / "there" / name)
        # Same drawing code, same data: the same pixels.
        assert a.shape == b.shape and (a == b).all(), name
    # The drawing processes are gone once the workers are closed.
    assert pids and not pids & {p.pid for p in multiprocessing.active_children()}


def test_file_names_are_known_before_the_drawing_ends(tmp_path: Path) -> None:
    with ChartWorkers.start(2) as workers:
        pending = start_charts(make_data(), tmp_path, workers=workers)
        names = list(pending.files)
        result = pending.wait()
    assert names == result.files
    assert all((tmp_path / name).stat().st_size > 1000 for name in names)


def test_a_drawing_error_reaches_the_caller(tmp_path: Path) -> None:
    data = make_data()
    blocked = tmp_path / "out"
    blocked.mkdir()
    (blocked / "qq_plot.png").mkdir()  # a folder where a chart goes: savefig fails
    with ChartWorkers.start(2) as workers, pytest.raises(IsADirectoryError):
        render_charts_detailed(data, blocked, workers=workers)


def test_one_core_draws_in_this_process() -> None:
    assert ChartWorkers.start(1).processes == 1


def test_a_killed_drawing_process_costs_time_not_the_charts(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    # The kernel's OOM killer or an operator's kill -9 on a drawing process: the charts it
    # would have drawn are drawn in this process, and every file is there.
    import os
    import signal

    data = make_data(n=5_000)
    with ChartWorkers.start(2) as workers:
        # Both processes up (a first drawing starts them), then killed.
        render_charts_detailed(data, tmp_path / "warm", workers=workers)
        drawing = multiprocessing.active_children()
        assert len(drawing) == 2, drawing
        for child in drawing:
            os.kill(child.pid, signal.SIGKILL)  # type: ignore[arg-type]
        result = render_charts_detailed(data, tmp_path / "after", workers=workers)
    expected = render_charts_detailed(data, tmp_path / "here")
    assert result.files == expected.files and result.notes == expected.notes
    assert all((tmp_path / "after" / name).stat().st_size > 1000 for name in result.files)
    # Found dead while drawing, or already when the charts were handed out: either way, here.
    assert "process died" in caplog.text or "drawing charts in this process" in caplog.text


def test_no_drawing_processes_means_drawing_here(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # No /dev/shm (the pool's semaphores), as in some sandboxes: the command still works.
    import regression_analyzer.charts.workers as chart_workers

    def refuse(*args: object, **kwargs: object) -> None:
        raise OSError(38, "Function not implemented")

    monkeypatch.setattr(chart_workers, "ProcessPoolExecutor", refuse)
    workers = ChartWorkers.start(2)
    assert workers.processes == 1
    names = render_charts_detailed(make_data(), tmp_path, workers=workers).files
    assert all((tmp_path / name).is_file() for name in names)


def test_the_command_starts_its_drawing_processes_first_thing(tmp_path: Path) -> None:
    # Watched from outside: while `analyze` runs, a forkserver with charts.drawing pre-loaded
    # is its child (started before the table is read), and the charts come out complete.
    import subprocess
    import sys
    import time

    import psutil

    table = tmp_path / "t.csv"
    write_linear_table(table, rows=300_000)
    out = tmp_path / "out"
    command = [sys.executable, "-m", "regression_analyzer.cli", "analyze", str(table), "--no-llm"]
    process = subprocess.Popen(
        [*command, "--output-dir", str(out)], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    seen: set[str] = set()
    parent = psutil.Process(process.pid)
    while process.poll() is None:
        try:
            for child in parent.children(recursive=True):
                seen.add(" ".join(child.cmdline()))
        except psutil.Error:
            pass
        time.sleep(0.02)
    assert process.returncode == 0, process.stderr.read() if process.stderr else ""
    assert any(
        "multiprocessing.forkserver" in cmd and "regression_analyzer.charts.drawing" in cmd
        for cmd in seen
    ), seen
    charts = json.loads((out / "report.json").read_text())["charts"]
    assert len(charts) >= 8
    assert sorted(p.name for p in out.glob("*.png")) == sorted(charts)
