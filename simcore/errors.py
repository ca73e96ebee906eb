"""simcore's errors and the process exit codes they map to (documented in the README)."""

from __future__ import annotations

# Exit codes of `simcore run` other than the firmware's own exit code.
EXIT_OK = 0
EXIT_MARKER_FAIL = 1  # --fail-marker seen on the console
EXIT_BAD_INPUT = 2  # bad ELF, board, option or data file: nothing was run
EXIT_GUEST_ERROR = 122  # --strict: the firmware did something wrong (wrote a read-only register, ...)
EXIT_UNMODELLED = 123  # --strict: the firmware touched something simcore does not implement
EXIT_BUDGET = 124  # instruction or time budget exhausted (like timeout(1))
EXIT_SPINNING = 125  # idle loop or sleeping forever with nothing that could wake it
EXIT_FAULT = 126  # the firmware faulted (no handler, or its handler never returned)
EXIT_INTERNAL = 127  # a bug in simcore: please report it
EXIT_INTERRUPTED = 130  # Ctrl-C (128 + SIGINT, as shells report it)
EXIT_OUTPUT_CLOSED = 141  # the reader of stdout went away (`simcore run ... | head`): 128 + SIGPIPE, as C tools


class SimcoreError(Exception):
    """Base class: one clear paragraph for the user and the exit code that goes with it."""

    exit_code = EXIT_INTERNAL


class BadInputError(SimcoreError):
    """Input that simcore refuses before running anything: ELF, board, options, data files."""

    exit_code = EXIT_BAD_INPUT


class InternalError(SimcoreError):
    """A bug in simcore: an exception where none was expected (the cause carries the traceback)."""

    exit_code = EXIT_INTERNAL


class OutputClosed(SimcoreError):
    """stdout was closed by its reader while the firmware's console was echoed: end quietly."""

    exit_code = EXIT_OUTPUT_CLOSED
