"""Output files (``--json FILE``, profile exports) checked before a run and written safely.

The rules (issue 11, item 1):

* ``-`` is standard output.
* A path is checked before anything runs: its directory must exist and be a directory
  that simcore can write into, and an existing file must be writable. A problem is a
  :class:`BadInputError` (exit 2) that names the option and the path.
* Character devices, FIFOs and sockets (``/dev/null``, ``/dev/stdout``, a named pipe) are
  written through, never replaced; a symbolic link is followed and its target written, the
  link itself is never replaced.
* A regular file is written to a temporary file in the same directory and renamed over the
  target, so that a failed write never leaves a partial file; the temporary file is removed
  on every path, including errors and Ctrl-C.
"""

from __future__ import annotations

import os
import stat
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from simcore.errors import BadInputError

STDOUT = "-"


@dataclass(frozen=True)
class OutputFile:
    """A checked destination for one output; ``write`` puts the whole text there."""

    option: str  # the option that named it, for messages ("--json")
    given: str  # the path as the user gave it
    target: Path | None  # where the bytes go (symbolic links resolved); None for standard output
    stream: bool  # write through (device, FIFO, socket) instead of replacing

    def write(self, text: str) -> None:
        """Write ``text``; a failure is a :class:`BadInputError` naming the path and the reason."""
        if self.target is None:
            sys.stdout.write(text)
            sys.stdout.flush()
            return
        data = text.encode("utf-8")
        try:
            if self.stream:
                _write_through(self.target, data)
            else:
                _replace(self.target, data)
        except OSError as exc:
            raise BadInputError(f"{self.option} {self.given}: cannot write it ({exc.strerror or exc})") from None

    def __str__(self) -> str:
        return self.given


def output_file(path: str | os.PathLike[str], option: str) -> OutputFile:
    """Check an output path before the run (see the module docstring); raise BadInputError if unusable."""
    given = os.fspath(path)
    if given == STDOUT or _std_fd(given) == 1:
        return OutputFile(option, given, None, stream=True)
    if not given or "\0" in given:
        raise BadInputError(f"{option} {given!r}: not a usable file name")

    def refuse(why: str) -> BadInputError:
        return BadInputError(f"{option} {given}: {why}. Nothing was run.")

    try:
        st = os.stat(given)  # follows symbolic links, also /proc's /dev/stdout -> pipe:[...]
    except (FileNotFoundError, NotADirectoryError):  # a new file; its directory is checked below
        st = None
    except (OSError, ValueError) as exc:
        raise refuse(f"cannot use this path ({getattr(exc, 'strerror', None) or exc})") from None
    if st is not None:
        if stat.S_ISDIR(st.st_mode):
            raise refuse("is a directory; give a file name")
        if stat.S_ISCHR(st.st_mode) or stat.S_ISFIFO(st.st_mode) or stat.S_ISSOCK(st.st_mode):
            if not os.access(given, os.W_OK):
                raise refuse("the device or pipe is not writable")
            return OutputFile(option, given, Path(given), stream=True)
        if not stat.S_ISREG(st.st_mode):
            raise refuse("is neither a regular file nor a device or pipe")
        if not os.access(given, os.W_OK):
            raise refuse("the file exists and is not writable")
    if _std_fd(given) is not None:  # /dev/stderr, /dev/fd/N on a regular file: append, never replace
        return OutputFile(option, given, Path(given), stream=True)
    # a regular file (or a new one): replaced through its real path, so a symbolic link stays a link
    target = Path(os.path.realpath(given))
    parent = target.parent
    if not parent.exists():
        raise refuse(f"the directory {parent} does not exist")
    if not parent.is_dir():
        raise refuse(f"{parent} is not a directory")
    try:  # the honest check (also as root, on read-only file systems): can a file be made there?
        fd, probe = tempfile.mkstemp(dir=parent, prefix=f".{target.name}.", suffix=".tmp")
        os.close(fd)
        os.unlink(probe)
    except OSError as exc:
        raise refuse(f"cannot create a file in {parent} ({exc.strerror or exc})") from None
    return OutputFile(option, given, target, stream=False)


def _std_fd(given: str) -> int | None:
    """The descriptor named by /dev/stdout, /dev/stderr, /dev/fd/N or /proc/self/fd/N, else None."""
    names = {"/dev/stdout": 1, "/dev/stderr": 2}
    if given in names:
        return names[given]
    for prefix in ("/dev/fd/", "/proc/self/fd/"):
        if given.startswith(prefix) and given[len(prefix):].isdigit():
            return int(given[len(prefix):])
    return None


def _write_through(target: Path, data: bytes) -> None:
    """Write into an existing device, FIFO or socket without creating or truncating anything.

    A standard descriptor (/dev/stderr, /dev/fd/N) is written at its current position: it may be
    a regular file the shell redirected, which reopening would overwrite from its start.
    """
    std = _std_fd(str(target))
    if std == 2:
        sys.stderr.write(data.decode("utf-8"))
        sys.stderr.flush()
        return
    if std is not None:
        _write_all(std, data)
        return
    fd = os.open(target, os.O_WRONLY | getattr(os, "O_NOCTTY", 0))
    try:
        _write_all(fd, data)
    finally:
        os.close(fd)


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        n = os.write(fd, view)
        view = view[n:]


def _replace(target: Path, data: bytes) -> None:
    """Write a regular file atomically: a temporary file in the same directory renamed over it."""
    mode = None
    try:
        mode = stat.S_IMODE(os.stat(target).st_mode)
    except FileNotFoundError:
        pass
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
        if mode is not None:
            os.chmod(tmp, mode)
        else:  # mkstemp makes 0600; a new file gets the usual umask-based mode
            umask = os.umask(0)
            os.umask(umask)
            os.chmod(tmp, 0o666 & ~umask)
        os.replace(tmp, target)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise
