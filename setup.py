"""Build the optional native hot path (a plain C library loaded with ctypes; no Python API)."""

import hashlib
from pathlib import Path

from setuptools import Extension, setup

NATIVE = Path(__file__).parent / "simcore" / "native"
SOURCES = sorted(NATIVE.glob("*.c")) + sorted(NATIVE.glob("*.h"))
# The digest of the C sources: block analyses cached by one build are not used by another
# (simcore/blockcache.py; hp_source_digest).
DIGEST = hashlib.sha256(b"".join(p.name.encode() + p.read_bytes() for p in SOURCES)).hexdigest()[:16]

setup(
    ext_modules=[
        Extension(
            "simcore._hotpath",
            sources=["simcore/native/hotpath.c", "simcore/native/thumb.c", "simcore/native/timing.c",
                     "simcore/native/regfile.c"],
            depends=["simcore/native/thumb.h", "simcore/native/timing.h", "simcore/native/abi.h"],
            define_macros=[("HP_SOURCE_DIGEST", f'"{DIGEST}"')],
            # -fno-tree-vectorize: GCC merges the 64-bit counter updates into one 16-byte load/store,
            # which stalls on store forwarding from the previous block's hook (perf: 41% -> 20% of run time)
            extra_compile_args=["-O2", "-std=c11", "-fno-tree-vectorize"],
            optional=True,  # without a C compiler simcore falls back to the Python hook
        ),
        Extension(
            "simcore._png",  # PNG scanline reconstruction of camera frames (simcore/sources/png.py; else Pillow)
            sources=["simcore/native/png.c"],
            extra_compile_args=["-O2", "-std=c11"],
            optional=True,
        ),
        Extension(
            "simcore._pdm",  # PDM modulation of recordings (simcore/devices/pdm.py has its Python twin)
            sources=["simcore/native/pdm.c"],
            # no contraction of a * b + c into an FMA: the up-sampling's roundings are the ones written (pdm.c)
            extra_compile_args=["-O2", "-std=c11", "-ffp-contract=off"],
            libraries=["m"],
            optional=True,
        ),
    ]
)
