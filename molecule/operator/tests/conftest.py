"""molecule/ on sys.path (appended: the stdlib stays first), for the helpers the scenarios'
tests share: terminal.py, operator_steps.py, galaxy_server.py (TEST-ONLY)."""

import sys
from pathlib import Path

sys.path.append(str(Path(__file__).resolve().parents[2]))
