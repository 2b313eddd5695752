"""End-to-end speed and memory of `analyze --no-llm`, per stage, on generated tables.

Run by hand (never as a timed test):

    python benchmarks/pipeline_speed.py              # 10k, 100k, 1M rows x 10 numeric columns
    python benchmarks/pipeline_speed.py 100000       # one size

Each size runs in a fresh subprocess so peak RSS is that run's own. Prints, per stage, the wall
time and the process's peak RSS (ru_maxrss) when the stage ended.
"""

from __future__ import annotations

import itertools
import json
import resource
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


def main() -> None:
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
