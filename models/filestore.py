"""Submitted files, stored once by their SHA-256 under the data folder (never by their name).

Nothing deletes a file from the store, so a row that names a digest finds its file. The files a
transaction records wait in a folder of its own under `incoming/` and move into the store when
that transaction commits; when it fails, its folder is deleted. A failed submission thus leaves
nothing behind and never touches a file that another submission, committed or not, shares.
"""

import hashlib
import os
import shutil
import time
import uuid
from contextlib import suppress
from pathlib import Path

from sqlalchemy import event, orm
from sqlmodel import Session, select

from models.tables import SubmissionFile

INCOMING = "incoming"
ABANDONED_AFTER_SECONDS = 24 * 3600  # far longer than any transaction that records files
_FOLDER = "filestore.incoming"  # the key of the session's incoming folder in `Session.info`


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


def store_on_commit(session: Session, root: Path, content: bytes) -> str:
    """Return the SHA-256 of `content`, which is in the store once the session's transaction
    commits; if the transaction ends any other way, nothing of it is left."""
    digest = hashlib.sha256(content).hexdigest()
    if not path_of(root, digest).exists():  # a stored file stays there: nothing to wait for
        (_incoming_folder(session, root) / digest).write_bytes(content)
    return digest


def recover_abandoned(session: Session, root: Path) -> None:
    """Settle the incoming folders of processes that died (folders untouched for a day): the
    files a submission refers to (its commit went through) enter the store, the rest is deleted."""
    incoming = root / INCOMING
    cutoff = time.time() - ABANDONED_AFTER_SECONDS
    for folder in incoming.iterdir() if incoming.is_dir() else ():
        try:
            if folder.stat().st_mtime > cutoff:
                continue
            staged = {path.name: path for path in folder.iterdir()}
        except FileNotFoundError:  # another submission settled it meanwhile
            continue
        referenced = session.exec(
            select(SubmissionFile.sha256).where(SubmissionFile.sha256.in_(staged))
        ).all()
        for digest in set(referenced):
            with suppress(FileNotFoundError):  # moved by another submission settling this folder
                _move_into_store(staged[digest], root)
        shutil.rmtree(folder, ignore_errors=True)


def _incoming_folder(session: Session, root: Path) -> Path:
    folder = session.info.get(_FOLDER)
    if folder is None:
        if not session.in_transaction():
            session.begin()  # the transaction whose end settles the folder (it opens no connection)
        folder = root / INCOMING / uuid.uuid4().hex
        folder.mkdir(parents=True)
        session.info[_FOLDER] = folder
    return folder


# Listeners on the Session class, registered once: registering per session is not thread-safe.
@event.listens_for(orm.Session, "after_commit")
def _publish(session: Session) -> None:
    if session.in_nested_transaction():  # a savepoint was released: the transaction goes on
        return
    folder = session.info.pop(_FOLDER, None)
    if folder is not None:
        for staged in folder.iterdir():
            _move_into_store(staged, folder.parent.parent)
        folder.rmdir()


@event.listens_for(orm.Session, "after_transaction_end")
def _discard(session: Session, transaction: orm.SessionTransaction) -> None:
    if transaction.parent is None:  # the outer transaction ended; after a commit, `_publish` ran
        folder = session.info.pop(_FOLDER, None)
        if folder is not None:
            shutil.rmtree(folder, ignore_errors=True)


def _move_into_store(staged: Path, root: Path) -> None:
    target = path_of(root, staged.name)
    target.parent.mkdir(parents=True, exist_ok=True)
    os.replace(staged, target)  # atomic; a racing copy of the same digest has the same bytes
