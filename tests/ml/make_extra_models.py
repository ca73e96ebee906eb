"""Generates tests/ml/data/extra_*.tflite: coverage the models/ suite lacks.

Dilated CONV_2D (rate 2, SAME), grouped CONV_2D (groups=2), dilated DEPTHWISE_CONV_2D,
FULLY_CONNECTED + TANH + SOFTMAX, as int8 (full integer) and float32, plus seeded input
vectors. The outputs are committed; rerun only to change them (needs tensorflow-cpu):

    python tests/ml/make_extra_models.py
"""

from pathlib import Path

import numpy as np
import tensorflow as tf

OUT = Path(__file__).resolve().parent / "data"


def build_model() -> tf.keras.Model:
    tf.random.set_seed(1)
    inp = tf.keras.Input((12, 12, 4), batch_size=1)
    x = tf.keras.layers.Conv2D(8, 3, dilation_rate=2, padding="same", activation="relu")(inp)
    x = tf.keras.layers.Conv2D(8, 3, groups=2, padding="valid")(x)
    x = tf.keras.layers.DepthwiseConv2D(3, dilation_rate=(2, 2), padding="same", activation="relu6")(x)
    x = tf.keras.layers.Flatten()(x)
    x = tf.keras.layers.Dense(16, activation="tanh")(x)
    x = tf.keras.layers.Dense(5)(x)
    return tf.keras.Model(inp, tf.keras.layers.Softmax()(x * 0.7))


def convert_int8(model: tf.keras.Model, calib: np.ndarray) -> bytes:
    """Full-integer int8 conversion (int8 input and output), calibrated on ``calib``'s batch-1 samples."""
    def representative():
        for sample in calib:
            yield [sample]

    conv = tf.lite.TFLiteConverter.from_keras_model(model)
    conv.optimizations = [tf.lite.Optimize.DEFAULT]
    conv.representative_dataset = representative
    conv.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
    conv.inference_input_type = tf.int8
    conv.inference_output_type = tf.int8
    return conv.convert()


def main() -> None:
    OUT.mkdir(exist_ok=True)
    model = build_model()
    calib = np.random.default_rng(1).standard_normal((50, 1, 12, 12, 4)).astype(np.float32)
    (OUT / "extra_int8.tflite").write_bytes(convert_int8(model, calib))
    (OUT / "extra_float.tflite").write_bytes(tf.lite.TFLiteConverter.from_keras_model(model).convert())

    rng = np.random.default_rng(3)
    np.save(OUT / "extra_int8.inputs.npy", rng.integers(-128, 128, (8, 12, 12, 4)).astype(np.int8))
    np.save(OUT / "extra_float.inputs.npy", rng.standard_normal((8, 12, 12, 4)).astype(np.float32))


if __name__ == "__main__":
    main()
