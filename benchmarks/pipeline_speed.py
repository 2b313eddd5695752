"""End-to-end speed and memory of `analyze --no-llm`, per stage, on generated tables.

Run by hand (never as a timed test):

    python benchmarks/pipeline_speed.py              # 10k, 100k, 1M rows x 10 numeric columns
    python benchmarks/pipeline_speed.py 100000       # one size
    python benchmarks/pipeline_speed.py --vs-r       # the cold command against R, median of 5
    python benchmarks/pipeline_speed.py --vs-r --repeat 3 100000
    python benchmarks/pipeline_speed.py --imports    # python -X importtime totals, median of 5

Each size runs in a fresh subprocess so peak RSS is that run's own. Prints, per stage, the wall
time and the process's peak RSS (ru_maxrss) when the stage ended.

--vs-r runs, on the same CSV, the whole command `regression-analyzer analyze FILE --target y
--no-llm` and Rscript (Debian's r-base-core) doing read.csv, lm, summary and plot.lm 1:4 to
PNG; each run is a new process (cold), timed from start to exit, with its peak RSS (wait4).
"""

from __future__ import annotations

import itertools
import json
import os
import re
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

SIZES = (10_000, 100_000, 1_000_000)
COLUMNS = 10


def make_table(rows: int, path: Path, seed: int = 0) -> None:
    """A CSV with 9 predictors and a linear target with noise."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(rows, COLUMNS - 1))
    y = 3.0 + x @ np.arange(1, COLUMNS) * 0.5 + rng.normal(scale=2.0, size=rows)
    frame = pd.DataFrame(x, columns=[f"x{i}" for i in range(1, COLUMNS)])
    frame["y"] = y
    frame.to_csv(path, index=False, float_format="%.6f")


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def measure_one(csv: Path, out_dir: Path) -> dict:
    """Run the pipeline in this process, timing each stage through its progress callback."""
    from regression_analyzer.pipeline import AnalysisOptions, run_analysis

    marks: list[tuple[str, float, float]] = []

    def progress(stage: str) -> None:
        marks.append((stage, time.perf_counter(), _peak_rss_mb()))

    start = time.perf_counter()
    run_analysis(csv, AnalysisOptions(target="y", use_llm=False), out_dir, progress=progress)
    marks.append(("end", time.perf_counter(), _peak_rss_mb()))
    stages = {}
    for (name, t0, _), (_, t1, rss) in itertools.pairwise(marks):
        stages[name] = {"seconds": round(t1 - t0, 3), "peak_rss_mb": round(rss, 1)}
    return {"total_seconds": round(marks[-1][1] - start, 3), "stages": stages}


R_SCRIPT = """
args <- commandArgs(trailingOnly = TRUE)
d <- read.csv(args[1])
fit <- lm(y ~ ., data = d)
print(summary(fit))
for (i in 1:4) {
  png(file.path(args[2], sprintf("plot_lm_%d.png", i)), width = 880, height = 550)
  plot(fit, which = i)
  invisible(dev.off())
}
"""


def timed_run(command: list[str]) -> tuple[float, float]:
    """Wall seconds and peak RSS (MiB) of one new process, from start to exit."""
    start = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(process.pid, 0)
    elapsed = time.perf_counter() - start
    stderr = process.stderr.read().decode(errors="replace") if process.stderr else ""
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"{command[0]} failed: {stderr.strip()[-500:]}")
    return elapsed, usage.ru_maxrss / 1024


def median_run(command: list[str], repeat: int) -> tuple[float, float]:
    """Median wall time and the largest peak RSS over `repeat` cold runs."""
    runs = [timed_run(command) for _ in range(repeat)]
    return statistics.median(t for t, _ in runs), max(m for _, m in runs)


def versus_r(sizes: list[int], repeat: int) -> None:
    """Print the cold command's and R's time and memory per size, and R's time / ours."""
    rscript = shutil.which("Rscript")
    if rscript is None:
        raise SystemExit("Rscript not found: apt-get install r-base-core")
    ours = shutil.which("regression-analyzer") or str(
        Path(sys.executable).with_name("regression-analyzer")
    )
    print(f"cold runs, median of {repeat}; peak RSS is the largest of the runs")
    print(f"{'rows':>9} {'ours s':>8} {'ours MiB':>9} {'R s':>8} {'R MiB':>8} {'R / ours':>9}")
    with tempfile.TemporaryDirectory() as tmp:
        script = Path(tmp) / "lm.R"
        script.write_text(R_SCRIPT)
        for rows in sizes:
            csv = Path(tmp) / f"table_{rows}.csv"
            make_table(rows, csv)
            out = Path(tmp) / f"out_{rows}"
            out.mkdir()
            our_cmd = [ours, "analyze", str(csv), "--target", "y", "--no-llm"]
            our_s, our_mb = median_run([*our_cmd, "--output-dir", str(out)], repeat)
            r_s, r_mb = median_run([rscript, str(script), str(csv), str(out)], repeat)
            print(
                f"{rows:>9} {our_s:>8.2f} {our_mb:>9.0f} {r_s:>8.2f} {r_mb:>8.0f} "
                f"{r_s / our_s:>8.1f}x"
            )


def import_times(repeat: int) -> None:
    """Median cumulative import time of the CLI and the pipeline (python -X importtime)."""
    print(f"python -X importtime, cumulative, median of {repeat}")
    for module in ("regression_analyzer.cli", "regression_analyzer.pipeline"):
        totals = []
        for _ in range(repeat):
            out = subprocess.run(
                [sys.executable, "-X", "importtime", "-c", f"import {module}"],
                capture_output=True, text=True, check=True,
            )  # fmt: skip
            last = [line for line in out.stderr.splitlines() if line.endswith(f"| {module}")]
            totals.append(int(re.split(r"\s*\|\s*", last[-1])[1]) / 1e6)
        print(f"{module:<32} {statistics.median(totals):.3f} s")


def _option(args: list[str], name: str, default: int) -> int:
    if name in args:
        i = args.index(name)
        value = int(args[i + 1])
        del args[i : i + 2]
        return value
    return default


def main() -> None:
    args = sys.argv[1:]
    repeat = _option(args, "--repeat", 5)
    if "--imports" in args:
        import_times(repeat)
        return
    if "--vs-r" in args:
        args.remove("--vs-r")
        versus_r([int(a) for a in args] or list(SIZES), repeat)
        return
    if len(sys.argv) == 3 and sys.argv[1] == "--child":
        rows = int(sys.argv[2])
        with tempfile.TemporaryDirectory() as tmp:
            csv = Path(tmp) / "table.csv"
            make_table(rows, csv)
            result = measure_one(csv, Path(tmp) / "out")
        print(json.dumps(result))
        return
    sizes = [int(a) for a in sys.argv[1:]] or list(SIZES)
    print(f"{'rows':>9} {'stage':<14} {'seconds':>8} {'peak RSS MB':>12}")
    for rows in sizes:
        out = subprocess.run(
            [sys.executable, __file__, "--child", str(rows)],
            check=True,
            capture_output=True,
            text=True,
        )
        result = json.loads(out.stdout.strip().splitlines()[-1])
        for name, stage in result["stages"].items():
            print(f"{rows:>9} {name:<14} {stage['seconds']:>8.3f} {stage['peak_rss_mb']:>12.1f}")
        print(f"{rows:>9} {'TOTAL':<14} {result['total_seconds']:>8.3f}")


if __name__ == "__main__":
    main()
