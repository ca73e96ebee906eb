"""Generates tests/ml/bench_data/wide_int8.tflite: a model too big for the RAM of some parts (simcore bench tests).

A 1x144x144x16 int8 input (324 KiB) through a 1x1 CONV_2D to 4 channels, an average pool, a
FULLY_CONNECTED and a SOFTMAX: the arena must hold the input and the convolution's output at
once (~400 KiB), more than the nRF52840's 256 KiB and the STM32F407's 128 KiB SRAM, less than
the STM32L4R5's 640 KiB. The output is committed; rerun only to change it (needs tensorflow-cpu):

    python tests/ml/make_bench_models.py
"""

from pathlib import Path

import numpy as np
import tensorflow as tf
from make_extra_models import convert_int8  # same folder: run as a script, it is on sys.path

OUT = Path(__file__).resolve().parent / "bench_data"  # not data/: test_tm_runtime runs every model there


def main() -> None:
    tf.random.set_seed(2)
    inp = tf.keras.Input((144, 144, 16), batch_size=1)
    x = tf.keras.layers.Conv2D(4, 1, activation="relu")(inp)
    x = tf.keras.layers.AveragePooling2D(8)(x)
    x = tf.keras.layers.Flatten()(x)
    x = tf.keras.layers.Dense(3)(x)
    model = tf.keras.Model(inp, tf.keras.layers.Softmax()(x))
    calib = np.random.default_rng(2).standard_normal((20, 1, 144, 144, 16)).astype(np.float32)
    OUT.mkdir(exist_ok=True)
    (OUT / "wide_int8.tflite").write_bytes(convert_int8(model, calib))


if __name__ == "__main__":
    main()
