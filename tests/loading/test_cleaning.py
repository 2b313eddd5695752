"""Values that pandas reads but a regression cannot use: infinities become missing values."""

from __future__ import annotations

import math
from pathlib import Path

from regression_analyzer.loading import load_table


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def test_infinities_become_missing_with_one_warning(tmp_path: Path) -> None:
    text = (
        "price,sales,region\n"
        "1.5,inf,north\n"
        "2.5,10,south\n"
        "-inf,Infinity,west\n"
        "4.5,1e999,east\n"
        "5.5,12,north\n"
    )
    table = load_table(write(tmp_path / "inf.csv", text))
    frame = table.frame
    assert [math.isnan(v) for v in frame["price"]] == [False, False, True, False, False]
    assert [math.isnan(v) for v in frame["sales"]] == [True, False, True, True, False]
    assert frame["price"].dropna().tolist() == [1.5, 2.5, 4.5, 5.5]
    assert frame["sales"].dropna().tolist() == [10.0, 12.0]
    assert frame["region"].tolist() == ["north", "south", "west", "east", "north"]
    infinite = [w for w in table.warnings if w.startswith("Infinite")]
    assert infinite == ["Infinite values read as missing: price (1), sales (3)."]


def test_no_warning_without_infinities(tmp_path: Path) -> None:
    table = load_table(write(tmp_path / "fine.csv", "x,y\n1,2.5\n3,4.5\n"))
    assert not [w for w in table.warnings if w.startswith("Infinite")]


def test_infinities_in_a_sideways_table(tmp_path: Path) -> None:
    text = "metric,2019,2020,2021\nrevenue,100,inf,120\nprice,9.5,9.7,-inf\n"
    table = load_table(write(tmp_path / "side.csv", text))
    assert table.transposed
    assert table.frame["revenue"].iloc[[0, 2]].tolist() == [100, 120]
    assert math.isnan(table.frame["revenue"].iloc[1])
    assert math.isnan(table.frame["price"].iloc[2])
    assert "Infinite values read as missing: revenue (1), price (1)." in table.warnings
