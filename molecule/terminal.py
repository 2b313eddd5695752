"""The runbook's lines as an operator types them (TEST-ONLY helpers of the Molecule tests).

docs/operations.md gives commands such as `ssh -t deploy@HOST sudo docker ps`: sudo asks for
deploy's password on a terminal. The scenarios' tests take those lines from the runbook
itself and run them on a pseudo-terminal, answering the prompts, so that a line that cannot
work as written (no terminal for sudo, a typed secret echoed) fails a test.
"""

from __future__ import annotations

import os
import pty
import select
import subprocess
import time
from pathlib import Path

RUNBOOK = Path(__file__).resolve().parents[1] / "docs" / "operations.md"


def runbook_lines(after: str, count: int, runbook: Path = RUNBOOK) -> list[str]:
    """The first `count` lines of the first ```bash block after the text `after` in
    docs/operations.md (indented blocks of numbered steps included, indentation kept), or in
    another release's copy of it."""
    text = runbook.read_text().split(after, 1)[1]
    fence = text.index("```bash\n")
    indent = text[text.rfind("\n", 0, fence) + 1 : fence]
    block = text[fence + len("```bash\n") :].split(f"{indent}```", 1)[0]
    lines = [line.removeprefix(indent) for line in block.splitlines()]
    assert len(lines) >= count, block
    return lines[:count]


def on_a_terminal(
    command: str,
    answers: dict[str, str],
    cwd: Path,
    timeout: float = 180,
    env: dict[str, str] | None = None,
) -> tuple[int, str]:
    """`bash -c COMMAND` on a pseudo-terminal, as the operator types it: each prompt in
    `answers` (a text the command prints) is answered once, when it appears. `env` adds to or
    overrides the environment (e.g. the operator's HOME). Returns the exit code and everything
    the terminal showed."""
    controller, terminal = pty.openpty()
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("ANSIBLE_", "MOLECULE_"))},
        **(env or {}),
    }
    process = subprocess.Popen(
        ["bash", "-c", command],
        stdin=terminal,
        stdout=terminal,
        stderr=terminal,
        cwd=cwd,
        env=env,
        start_new_session=True,
    )
    os.close(terminal)
    output, pending = b"", dict(answers)
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            if select.select([controller], [], [], 0.5)[0]:
                try:
                    chunk = os.read(controller, 65536)
                except OSError:  # EIO: the command and its children closed the terminal
                    break
                if not chunk:
                    break
                output += chunk
                for prompt in [p for p in pending if p.encode() in output]:
                    os.write(controller, pending.pop(prompt).encode() + b"\n")
            elif process.poll() is not None:
                break
        else:
            process.kill()
            raise AssertionError(f"{command!r} still runs after {timeout} s")
        return process.wait(timeout=30), output.decode(errors="replace")
    finally:
        os.close(controller)
