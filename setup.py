"""Build the optional native hot path (a plain C library loaded with ctypes; no Python API)."""

from setuptools import Extension, setup

setup(
    ext_modules=[
        Extension(
            "simcore._hotpath",
            sources=["simcore/native/hotpath.c"],
            extra_compile_args=["-O2", "-std=c11"],
            optional=True,  # without a C compiler simcore falls back to the Python hook
        )
    ]
)
