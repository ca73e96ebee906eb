"""Ending a run from outside the emulator: a wall-clock limit (``--timeout``) and Ctrl-C.

While the firmware runs, the main thread sits in ``uc.emu_start`` with the GIL released, so
a Python signal handler would only run at the next hook that calls back into Python, which
a tight loop in C never does. A watcher thread ends the run instead: it waits for the
deadline or for SIGINT (delivered to it through :func:`signal.set_wakeup_fd`, whose C-level
handler writes the signal number to a pipe at once), then tells the machine to stop
(:meth:`Machine.stop_from_outside`: the hot path's stop fields and ``uc.emu_stop``, which take
effect at the next block). The run loop turns that into a ``timeout`` or ``interrupted``
stop with the place the firmware was running. Without the main thread (an API call from a
worker thread) only the deadline is watched.
"""

from __future__ import annotations

import os
import select
import signal
import threading
import time
from collections.abc import Callable
from typing import Any


class Watchdog:
    """Context manager around one run: ``trip(kind)`` is called once, from the watcher thread."""

    def __init__(self, timeout: float | None, trip: Callable[[str], Any], catch_sigint: bool = True) -> None:
        self.timeout = timeout
        self._trip = trip
        self._catch_sigint = catch_sigint and threading.current_thread() is threading.main_thread()
        self._done = threading.Event()
        self._thread: threading.Thread | None = None
        self._pipe: tuple[int, int] | None = None
        self._old_wakeup = -1
        self._old_handler: Any = None
        self.fired: str | None = None  # "timeout" | "interrupted" once tripped

    def __enter__(self) -> Watchdog:
        if self.timeout is None and not self._catch_sigint:
            return self
        if self._catch_sigint:
            r, w = os.pipe()
            os.set_blocking(w, False)
            self._pipe = (r, w)
            self._old_handler = signal.signal(signal.SIGINT, self._on_sigint)
            self._old_wakeup = signal.set_wakeup_fd(w, warn_on_full_buffer=False)
        deadline = None if self.timeout is None else time.monotonic() + self.timeout
        self._thread = threading.Thread(target=self._watch, args=(deadline,), name="simcore-watchdog", daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._done.set()
        if self._pipe is not None:
            os.write(self._pipe[1], b"\0")  # wakes the watcher
        if self._thread is not None:
            self._thread.join()
        if self._pipe is not None:
            signal.set_wakeup_fd(self._old_wakeup)
            signal.signal(signal.SIGINT, self._old_handler)
            for fd in self._pipe:
                os.close(fd)

    def _on_sigint(self, signum: int, frame: Any) -> None:
        """The Python-level handler: the watcher has already acted on the wakeup byte."""

    def _watch(self, deadline: float | None) -> None:
        while not self._done.is_set():
            wait = None if deadline is None else max(deadline - time.monotonic(), 0.0)
            if self._pipe is None:
                if self._done.wait(wait):
                    return
                self._fire("timeout")
                return
            ready, _, _ = select.select([self._pipe[0]], [], [], wait)
            if self._done.is_set():
                return
            if ready:
                data = os.read(self._pipe[0], 64)
                if any(b == signal.SIGINT for b in data):
                    self._fire("interrupted")
                    return
                continue
            if deadline is not None and time.monotonic() >= deadline:
                self._fire("timeout")
                return

    def _fire(self, kind: str) -> None:
        """Trip, and keep tripping every 50 ms until the run has ended (a request made while the
        main thread was between two ``emu_start`` calls is then never lost)."""
        self.fired = kind
        while True:
            self._trip(kind)
            if self._done.wait(0.05):
                return
