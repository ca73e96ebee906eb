"""model_runner: write the raw bytes of an input file for the firmware's .incbin.

A .npy array (N, *input_shape) is written C-order as it is (its dtype must be the model's
input dtype: int8, uint8, int16, float32...); a .bin / .raw file is copied unchanged.
Usage: npy2bin.py INPUTS OUT
"""
import shutil
import sys
from pathlib import Path


def main() -> int:
    src, dst = Path(sys.argv[1]), Path(sys.argv[2])
    dst.parent.mkdir(parents=True, exist_ok=True)
    if src.suffix == ".npy":
        import numpy as np

        a = np.load(src, allow_pickle=False)
        dst.write_bytes(np.ascontiguousarray(a).tobytes())
    else:
        shutil.copyfile(src, dst)
    return 0


if __name__ == "__main__":
    sys.exit(main())
