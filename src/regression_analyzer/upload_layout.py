"""Where a stored upload's file lies: ``DATA_DIR/uploads/<upload_id>/<sanitized name>``.

The one place that knows that layout and what an upload id looks like; below both the
service's upload store (api/uploads.py) and the job system, which finds a job's upload again
under today's DATA_DIR (jobs/processes.py).
"""

from __future__ import annotations

import re
from pathlib import Path

ID_PATTERN = re.compile(r"^[0-9a-f]{32}$")


class UploadNotFound(Exception):
    """No upload with this id; mapped to 404."""


def stored_upload_path(root: Path, upload_id: str, filename: str) -> Path:
    """Where the upload `upload_id` keeps its file `filename` under the uploads folder `root`
    (the one place that knows the layout); UploadNotFound for an id that is not one."""
    if not ID_PATTERN.match(upload_id):
        raise UploadNotFound(upload_id)
    return root / upload_id / filename
