"""Claiming an output folder before any work, so that two commands never write into one folder.

``sim-run`` claims its run folder (or its sweep folder) before Hydra writes anything there: an exclusive
``flock`` on ``.sim-run.lock`` in the folder, holding the claimant's process id. The kernel drops the lock
when the process ends, however it ends (even ``kill -9``), so a folder is never left locked by a dead
command; the lock file is removed on a normal exit. A second command that finds the folder claimed is
refused with one line naming the process that holds it.
"""

from __future__ import annotations

import fcntl
import os
from pathlib import Path

from .tables import RunFolderError

LOCK_NAME = ".sim-run.lock"


class FolderBusy(RunFolderError):
    """The folder is claimed by another running command."""


class Claim:
    """An exclusive claim on a folder (see the module's docstring). Release it with :meth:`release`, or use it
    as a context manager."""

    def __init__(self, folder: Path) -> None:
        self.folder = Path(folder)
        self.path = self.folder / LOCK_NAME
        self.fd: int | None = None

    def acquire(self) -> Claim:
        """Create the folder if needed and take the claim.

        Raises:
            FolderBusy: another process holds it (the message names its pid).
        """
        self.folder.mkdir(parents=True, exist_ok=True)
        for _ in range(20):  # retried only when the lock file is replaced under us (see below)
            fd = os.open(self.path, os.O_CREAT | os.O_RDWR, 0o666)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                holder = _read_pid(fd)
                os.close(fd)
                raise FolderBusy(
                    f"{self.folder}: another sim-run{f' (pid {holder})' if holder else ''} is writing into "
                    f"this folder; wait for it to end or choose another folder"
                ) from None
            # the holder before us may have removed the file after we opened it: then our lock is on a
            # file nobody else sees; start again on the current one
            try:
                same = os.fstat(fd).st_ino == os.stat(self.path).st_ino
            except FileNotFoundError:
                same = False
            if not same:
                os.close(fd)
                continue
            os.ftruncate(fd, 0)
            os.write(fd, f"{os.getpid()}\n".encode())
            self.fd = fd
            return self
        raise FolderBusy(f"{self.folder}: the claim keeps changing hands; try again")

    def release(self) -> None:
        """Remove the lock file and drop the claim (idempotent)."""
        if self.fd is None:
            return
        try:
            self.path.unlink(missing_ok=True)
        finally:
            os.close(self.fd)  # closing the descriptor drops the flock
            self.fd = None

    def __enter__(self) -> Claim:
        return self.acquire() if self.fd is None else self

    def __exit__(self, *exc) -> None:
        self.release()


def _read_pid(fd: int) -> int | None:
    try:
        text = os.pread(fd, 32, 0).decode("ascii", "replace").strip()
        return int(text) if text.isdigit() else None
    except OSError:
        return None


def claim(folder: Path) -> Claim:
    """Claim ``folder`` (see :class:`Claim`); raises :class:`FolderBusy` when another command holds it."""
    return Claim(folder).acquire()
