#!/usr/bin/env python3
"""Print what identifies the cross toolchain for a reproducible firmware build.

    python3 tools/toolchain_id.py [OUT]

The committed ELFs in bin/ are reproducible only with the same compiler and the same
prebuilt newlib/libgcc. This prints the compiler's version line and the SHA-256 of the
libraries the firmware links (for the Cortex-M4F hard-float multilib), so
tools/check_stale.py can tell "the sources changed" apart from "your toolchain differs".
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from pathlib import Path

from simcore.ldgen import write_if_changed  # firmware/Makefile puts the checkout on PYTHONPATH

ARCH = ["-mcpu=cortex-m4", "-mthumb", "-mfpu=fpv4-sp-d16", "-mfloat-abi=hard"]
LIBS = ["libc_nano.a", "libm.a", "libgcc.a"]


def toolchain_id(cross: str | None = None) -> str:
    cross = cross if cross is not None else os.environ.get("CROSS_COMPILE", "arm-none-eabi-")
    cc = cross + "gcc"
    version = subprocess.run([cc, "--version"], check=True, capture_output=True, text=True).stdout
    lines = [f"compiler: {version.splitlines()[0].replace(cc, 'arm-none-eabi-gcc', 1)}"]
    for lib in LIBS:
        path = subprocess.run(
            [cc, *ARCH, f"-print-file-name={lib}"], check=True, capture_output=True, text=True
        ).stdout.strip()
        try:
            digest = hashlib.sha256(Path(path).read_bytes()).hexdigest()
        except OSError:
            digest = "missing"
        lines.append(f"{lib}: sha256 {digest}")
    return "\n".join(lines) + "\n"


def main(argv: list[str]) -> int:
    text = toolchain_id()
    if argv:
        write_if_changed(Path(argv[0]), text)
    else:
        sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
