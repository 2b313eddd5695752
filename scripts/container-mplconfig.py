"""Keep matplotlib's warmed cache usable on a read-only root filesystem (image helper).

The image warms matplotlib's font cache at build time in $MPLCONFIGDIR (/opt/mplconfig,
owned by the app user). With `--read-only` that directory is not writable, and matplotlib
would then warn and rebuild its cache in a random temporary directory in every process.
Installed as a module plus a one-line .pth file in the venv, this runs at interpreter start:
when $MPLCONFIGDIR is not writable it copies the warmed cache once to $TMPDIR (a tmpfs,
/tmp) and points MPLCONFIGDIR there. Nothing happens when the directory is writable.
"""

import os


def _use_writable_mplconfig() -> None:
    configured = os.environ.get("MPLCONFIGDIR")
    if not configured or not os.path.isdir(configured) or os.access(configured, os.W_OK):
        return
    target = os.path.join(os.environ.get("TMPDIR", "/tmp"), f"mplconfig-{os.getuid()}")
    try:
        if not os.path.isdir(target):
            import shutil

            shutil.copytree(configured, target, dirs_exist_ok=True)
    except OSError:
        return
    os.environ["MPLCONFIGDIR"] = target


_use_writable_mplconfig()
