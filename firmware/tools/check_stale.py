#!/usr/bin/env python3
"""Check that the committed firmware ELFs (bin/<board>/<app>.elf) match the sources.

    python3 tools/check_stale.py [--keep] [-j N] [make VAR=value ...]
    make -C firmware check

Builds the whole firmware afresh into a temporary directory (same Makefile, same sources,
BUILD_DIR/BIN_DIR pointed elsewhere, so the committed files are not touched) and compares
what a loader sees of every ELF: the entry point and each PT_LOAD segment's physical and
virtual address, memory and file size, and bytes. Debug information is not compared.

Exit status: 0 when all match; 1 naming every stale, missing or orphaned ELF; 2 when the
fresh build itself fails. If the toolchain differs from the one recorded in
bin/TOOLCHAIN.txt that is said too, since the bytes then differ for that reason alone.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
from pathlib import Path

FIRMWARE = Path(__file__).resolve().parent.parent


def loadable(path: Path) -> tuple:
    """What a loader sees of an ELF: entry point and (paddr, vaddr, memsz, filesz, data) per PT_LOAD."""
    from elftools.elf.elffile import ELFFile

    with path.open("rb") as f:
        elf = ELFFile(f)
        segments = tuple(
            (seg["p_paddr"], seg["p_vaddr"], seg["p_memsz"], seg["p_filesz"], seg.data())
            for seg in elf.iter_segments()
            if seg["p_type"] == "PT_LOAD"
        )
        return elf["e_entry"], segments


def describe_difference(old: tuple, new: tuple) -> str:
    if old[0] != new[0]:
        return f"entry point {old[0]:#x} -> {new[0]:#x}"
    if len(old[1]) != len(new[1]):
        return f"{len(old[1])} -> {len(new[1])} loadable segments"
    for (pa, va, ms, fs, data), (pb, vb, mt, ft, datb) in zip(old[1], new[1]):
        if (pa, va, ms, fs) != (pb, vb, mt, ft):
            return f"segment at {pa:#x} (memsz {ms:#x}) -> {pb:#x} (memsz {mt:#x})"
        if data != datb:
            first = next(i for i, (x, y) in enumerate(zip(data, datb)) if x != y) if len(data) == len(datb) else 0
            return f"segment at {pa:#x}: bytes differ from offset {first:#x}"
    return "differs"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--keep", action="store_true", help="keep the temporary build and print its path")
    ap.add_argument("-j", "--jobs", type=int, default=os.cpu_count() or 1)
    ap.add_argument("make_vars", nargs="*", help="extra VAR=value for make (e.g. BOARDS=nrf52840)")
    args = ap.parse_args(argv)

    try:
        import elftools  # noqa: F401
    except ImportError:
        print("check_stale: pyelftools is needed (pip install pyelftools)", file=sys.stderr)
        return 2

    committed_dir = FIRMWARE / "bin"
    tmp = Path(tempfile.mkdtemp(prefix="simcore-fw-check-"))
    fresh_dir = tmp / "bin"
    dirs = [f"BUILD_DIR={tmp / 'build'}", f"BIN_DIR={fresh_dir}"]
    cmd = ["make", "-C", str(FIRMWARE), f"-j{args.jobs}", "--no-print-directory", *dirs, *args.make_vars, "all"]
    env = {k: v for k, v in os.environ.items() if k not in ("MAKEFLAGS", "MFLAGS", "MAKELEVEL")}
    build = subprocess.run(cmd, env=env, capture_output=True, text=True)
    if build.returncode != 0:
        sys.stderr.write(build.stdout[-4000:] + build.stderr[-4000:])
        print(f"check_stale: the fresh build failed ({' '.join(cmd)})", file=sys.stderr)
        return 2

    committed = {p.relative_to(committed_dir).as_posix() for p in committed_dir.glob("*/*.elf")}
    fresh = {p.relative_to(fresh_dir).as_posix() for p in fresh_dir.glob("*/*.elf")}
    stale, missing, orphaned = [], sorted(fresh - committed), sorted(committed - fresh)
    for name in sorted(fresh & committed):
        old, new = loadable(committed_dir / name), loadable(fresh_dir / name)
        if old != new:
            stale.append((name, describe_difference(old, new)))

    for name, why in stale:
        print(f"STALE    bin/{name}: {why}")
    for name in missing:
        print(f"MISSING  bin/{name}: built from the sources but not committed")
    for name in orphaned:
        print(f"ORPHANED bin/{name}: committed but no longer built (remove it)")

    bad = bool(stale or missing or orphaned)
    recorded, current = committed_dir / "TOOLCHAIN.txt", fresh_dir / "TOOLCHAIN.txt"
    if bad and recorded.exists() and current.exists() and recorded.read_text() != current.read_text():
        print("check_stale: note: your toolchain differs from the one the committed ELFs were built with;")
        print("  recorded (bin/TOOLCHAIN.txt):\n    " + recorded.read_text().strip().replace("\n", "\n    "))
        print("  yours:\n    " + current.read_text().strip().replace("\n", "\n    "))

    if args.keep:
        print(f"check_stale: fresh build kept in {tmp}")
    else:
        subprocess.run(["rm", "-rf", str(tmp)], check=False)

    if bad:
        n = len(stale) + len(missing) + len(orphaned)
        print(f"check_stale: {n} ELF(s) out of date: run `make -C firmware` and commit firmware/bin")
        return 1
    print(f"check_stale: all {len(fresh)} committed ELFs match the sources")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
