"""The command line as a user runs it: a real subprocess, real files, exit codes and output."""

from __future__ import annotations

import json
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from tests.helpers.tables import write_linear_table


def run_cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    base_env = {"PATH": "/usr/bin:/bin", "HOME": "/tmp", "MPLBACKEND": "Agg"}
    return subprocess.run(
        [sys.executable, "-m", "regression_analyzer.cli", *args],
        capture_output=True,
        text=True,
        timeout=300,
        env={**base_env, **(env or {})},
    )


def test_analyze_json_reports_the_generating_model(linear_csv: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    result = run_cli(
        "analyze", str(linear_csv), "--target", "revenue", "--json", "--output-dir", str(out)
    )
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)  # stdout holds only the JSON
    coefs = {c["name"]: c for c in report["model"]["coefficients"]}
    assert abs(coefs["ad_spend"]["estimate"] - 2.0) < 0.05
    assert abs(coefs["price"]["estimate"] + 1.5) < 0.1
    assert "Intercept" in coefs
    assert report["model"]["kind"] == "ols"
    assert report["llm"] == "none"
    assert (out / "report.json").is_file() and (out / "report.md").is_file()
    for name in report["charts"]:
        assert (out / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    # progress went to stderr, not stdout
    assert "fitting" in result.stderr


def test_analyze_summary_table_and_auto_target(linear_csv: Path, tmp_path: Path) -> None:
    result = run_cli("analyze", str(linear_csv), "--no-llm", "--output-dir", str(tmp_path / "o"))
    assert result.returncode == 0, result.stderr
    assert "revenue" in result.stdout  # the outcome-like name is picked as target
    assert "Coefficients" in result.stdout and "ad_spend" in result.stdout


def test_binary_target_fits_logit(binary_csv: Path, tmp_path: Path) -> None:
    result = run_cli(
        "analyze",
        str(binary_csv),
        "--target",
        "churned",
        "--json",
        "--no-llm",
        "--output-dir",
        str(tmp_path / "o"),
    )
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["model"]["kind"] == "logit"
    tenure = next(c for c in report["model"]["coefficients"] if c["name"] == "tenure")
    assert tenure["estimate"] < 0 and tenure["odds_ratio"] < 1


def test_providers_lists_configured_without_keys(tmp_path: Path) -> None:
    secret = "sk-ant-test-only-0123456789"
    result = run_cli("providers", env={"ANTHROPIC_API_KEY": secret})
    assert result.returncode == 0, result.stderr
    lines = {line.split()[0]: line for line in result.stdout.splitlines() if line.strip()}
    assert "not configured" not in lines["anthropic"]
    assert "not configured" in lines["openai"]
    assert secret not in result.stdout + result.stderr


def _zip_bomb(path: Path) -> None:
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as z:
        z.writestr("[Content_Types].xml", "<Types/>")
        z.writestr("xl/worksheets/sheet1.xml", b"\0" * (300 * 1024 * 1024))


BAD_INPUTS = {
    "empty file": ("empty.csv", b""),
    "header only": ("header.csv", b"a,b,c\n"),
    "binary junk": ("junk.csv", bytes(range(256)) * 40),
    "wrong extension": ("table.pdf", b"a,b\n1,2\n3,4\n"),
    "missing extension": ("table", b"a,b\n1,2\n3,4\n"),
    "xlsx that is not a zip": ("book.xlsx", b"a,b\n1,2\n"),
    "every value missing": ("missing.csv", b"a,b\nNA,\n,NA\nnull,n/a\n"),
}


@pytest.mark.parametrize("case", sorted(BAD_INPUTS))
def test_bad_files_exit_2_with_one_line(case: str, tmp_path: Path) -> None:
    name, content = BAD_INPUTS[case]
    path = tmp_path / name
    path.write_bytes(content)
    result = run_cli("analyze", str(path), "--no-llm", "--output-dir", str(tmp_path / "o"))
    assert result.returncode == 2, (case, result.stdout, result.stderr)
    assert "Traceback" not in result.stderr
    lines = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert len(lines) == 1, result.stderr


def test_zip_bomb_xlsx_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "bomb.xlsx"
    _zip_bomb(path)
    result = run_cli("analyze", str(path), "--no-llm", "--output-dir", str(tmp_path / "o"))
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (("--target", "nope"), "nope"),
        (("--target", "region"), "region"),
        (("--features", "ad_spend,ghost"), "ghost"),
    ],
)
def test_bad_options_exit_2(
    args: tuple[str, ...], needle: str, linear_csv: Path, tmp_path: Path
) -> None:
    result = run_cli(
        "analyze", str(linear_csv), "--no-llm", *args, "--output-dir", str(tmp_path / "o")
    )
    assert result.returncode == 2, result.stderr
    assert needle in result.stderr and "Traceback" not in result.stderr


def test_fewer_rows_than_parameters_exit_2(tmp_path: Path) -> None:
    path = tmp_path / "tiny.csv"
    path.write_text("y,a,b,c\n1,2,3,4\n2,3,5,7\n3,1,1,2\n")
    result = run_cli(
        "analyze", str(path), "--target", "y", "--no-llm", "--output-dir", str(tmp_path / "o")
    )
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr


def test_missing_file_exit_2(tmp_path: Path) -> None:
    result = run_cli("analyze", str(tmp_path / "absent.csv"))
    assert result.returncode == 2
    assert result.stderr.strip().startswith("error: file not found")


def test_rerun_does_not_lose_other_files(tmp_path: Path) -> None:
    """Writing a report into an existing directory keeps what else is stored there."""
    csv = tmp_path / "t.csv"
    write_linear_table(csv)
    out = tmp_path / "o"
    out.mkdir()
    (out / "notes.txt").write_text("keep me")
    assert (
        run_cli(
            "analyze", str(csv), "--target", "revenue", "--no-llm", "--output-dir", str(out)
        ).returncode
        == 0
    )
    bad = run_cli("analyze", str(csv), "--target", "nope", "--no-llm", "--output-dir", str(out))
    assert bad.returncode == 2
    assert (out / "notes.txt").read_text() == "keep me"
    assert json.loads((out / "report.json").read_text())["target"] == "revenue"
