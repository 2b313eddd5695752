"""What a refused start-up printed: `serve` on the host and the image's entrypoint alike."""

from __future__ import annotations

import subprocess


def one_line(result: subprocess.CompletedProcess[str]) -> str:
    """The one line a refused start printed (stdout and stderr together), after exit code 2."""
    output = result.stdout + result.stderr
    assert result.returncode == 2, (result.returncode, output)
    lines = output.strip().splitlines()
    assert len(lines) == 1, output
    assert "Traceback" not in output and "internal error" not in output
    return lines[0]
