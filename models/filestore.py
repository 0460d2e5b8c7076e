"""Submitted files, stored once by their SHA-256 under the data folder (never by their name)."""

import hashlib
import os
from pathlib import Path


def root(data_dir: Path) -> Path:
    """The file store inside the data folder."""
    return data_dir / "files"


def store(root: Path, content: bytes) -> str:
    """Write `content` (if not there yet) and return its SHA-256."""
    digest = hashlib.sha256(content).hexdigest()
    path = path_of(root, digest)
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.with_suffix(".tmp")
        temporary.write_bytes(content)
        os.replace(temporary, path)
    return digest


def path_of(root: Path, digest: str) -> Path:
    return root / digest[:2] / digest
