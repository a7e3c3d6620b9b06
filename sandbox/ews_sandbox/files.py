"""The data folder holds passwords, private keys and mail: it and those files are private to their owner.

Created 0700 / 0600, and tightened when an older sandbox (or a careless copy) left them looser.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

PRIVATE_DIR = 0o700
PRIVATE_FILE = 0o600


def private_dir(path: Path) -> Path:
    """Create ``path`` (and its parents) if missing; the folder itself is made 0700."""
    path.mkdir(mode=PRIVATE_DIR, parents=True, exist_ok=True)
    _tighten(path, PRIVATE_DIR)
    return path


def private_file(path: Path) -> Path:
    """Create ``path`` empty and 0600 if missing, else make it 0600; before anything secret is written to it."""
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT, PRIVATE_FILE)
    os.close(descriptor)
    _tighten(path, PRIVATE_FILE)
    return path


def write_private(path: Path, data: bytes | str) -> None:
    """Replace the content of ``path``, which is 0600 before the first byte is written."""
    private_file(path)
    if isinstance(data, str):
        path.write_text(data, encoding="utf-8")
    else:
        path.write_bytes(data)


def readable_by_others(path: Path) -> bool:
    return bool(path.stat().st_mode & (stat.S_IRWXG | stat.S_IRWXO))


def _tighten(path: Path, mode: int) -> None:
    if stat.S_IMODE(path.stat().st_mode) != mode:
        path.chmod(mode)
