"""read_secret: NAME, else the file named by NAME_FILE; values never logged."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from regression_analyzer.credentials import is_configured, read_secret

VALUE = "sk-live-do-not-log-0123456789"


def test_direct_variable_wins(tmp_path: Path) -> None:
    secret_file = tmp_path / "key"
    secret_file.write_text("from-file")
    env = {"API_KEY": f"  {VALUE}\n", "API_KEY_FILE": str(secret_file)}
    assert read_secret("API_KEY", env) == VALUE


def test_file_used_when_variable_missing_or_empty(tmp_path: Path) -> None:
    secret_file = tmp_path / "key"
    secret_file.write_text(f"{VALUE}\n")
    assert read_secret("API_KEY", {"API_KEY_FILE": str(secret_file)}) == VALUE
    assert read_secret("API_KEY", {"API_KEY": "", "API_KEY_FILE": str(secret_file)}) == VALUE
    assert is_configured("API_KEY", {"API_KEY_FILE": str(secret_file)})


def test_nothing_configured() -> None:
    assert read_secret("API_KEY", {}) is None
    assert read_secret("API_KEY", {"API_KEY": "   "}) is None
    assert not is_configured("API_KEY", {})


def test_unreadable_file_warns_with_name_not_value(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    missing = tmp_path / "nope"
    assert read_secret("API_KEY", {"API_KEY_FILE": str(missing)}) is None
    assert "API_KEY_FILE" in caplog.text


def test_empty_file_is_not_a_secret(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    secret_file = tmp_path / "key"
    secret_file.write_text("\n\n")
    assert read_secret("API_KEY", {"API_KEY_FILE": str(secret_file)}) is None
    assert "empty" in caplog.text


def test_value_never_logged(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    secret_file = tmp_path / "key"
    secret_file.write_text(VALUE)
    read_secret("API_KEY", {"API_KEY_FILE": str(secret_file)})
    read_secret("API_KEY", {"API_KEY": VALUE})
    # A directory is unreadable as a file: the warning path must not leak the value either.
    read_secret("API_KEY", {"API_KEY": "", "API_KEY_FILE": str(tmp_path)})
    assert VALUE not in caplog.text
    assert "API_KEY_FILE" in caplog.text


def test_defaults_to_process_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RA_TEST_SECRET", VALUE)
    assert read_secret("RA_TEST_SECRET") == VALUE
