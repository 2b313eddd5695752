"""Charts drawn by ChartWorkers' processes: the same files, notes and points as in-process."""

from __future__ import annotations

import multiprocessing
from pathlib import Path

import matplotlib.image as mpimg
import pytest

from regression_analyzer.chart_workers import ChartWorkers
from regression_analyzer.charts import render_charts_detailed, start_charts

from .test_charts import make_data


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
