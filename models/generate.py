"""Generate simcore's model suite: small op models and the MLPerf Tiny architectures.

Usage (from the repository root):

    python models/generate.py                 # every model, writes into models/
    python models/generate.py --only kws_dscnn
    python models/generate.py --out /tmp/models --list

Writes, for each model ``<name>``: ``<name>.tflite`` and ``<name>.inputs.npy`` (test
vectors of shape (N, *input_shape_without_batch), dtype = the model input dtype), and
rewrites ``manifest.json`` (entries of models not regenerated are kept).

Deterministic: every model is built, trained and converted after re-seeding python,
numpy and TensorFlow with its own seed (``BASE_SEED + index``), with
``TF_DETERMINISTIC_OPS=1`` and op determinism enabled, on the CPU only. So
``--only NAME`` gives the same bytes as a full run.

Needs TensorFlow (the project's ``models`` optional extra) and tflite-micro.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import reference  # noqa: E402  (models/reference.py)
from tf_setup import import_tf, set_seeds  # noqa: E402  (models/tf_setup.py, before TensorFlow)

BASE_SEED = 1234
TESTED_TF = "2.21.0"  # the committed .tflite files are byte-identical when regenerated with it
N_CALIBRATION = 64  # representative-dataset samples per model
FC_PER_TENSOR = True  # FULLY_CONNECTED int8 weights: one scale per tensor


tf, keras = import_tf()
L = keras.layers


# --------------------------------------------------------------------------------------
# model specs
# --------------------------------------------------------------------------------------

@dataclass
class Spec:
    name: str
    build: Callable[[], keras.Model]
    mode: str = "int8"  # "int8" | "int8_float_io" | "float32"
    description: str = ""
    n_vectors: int = 4
    data: str = "uniform"  # input distribution: "uniform" [-1,1), "image" [0,1), "normal"
    train: str | None = None  # None | "classify" | "autoencode"
    train_steps: int = 0
    covers: list[str] = field(default_factory=list)
    seed: int = 0


_BATCH: list[int | None] = [1]  # batch dimension of the model being built


def _inp(shape):
    # batch 1 for the converted model (static shapes in the .tflite); None while training
    return keras.Input(shape, batch_size=_BATCH[0], name="input")


def build(spec: Spec, batch: int | None):
    _BATCH[0] = batch
    try:
        return spec.build()
    finally:
        _BATCH[0] = 1


# ---- small op models -----------------------------------------------------------------

def conv2d_variants():
    i = _inp((16, 16, 3))
    x = L.Conv2D(8, 3, strides=1, padding="same", activation="relu", name="same_s1_relu")(i)
    x = L.Conv2D(8, 3, strides=1, padding="valid", activation=None, name="valid_s1_none")(x)
    x = L.Conv2D(8, 3, strides=2, padding="same", activation="relu6", name="same_s2_relu6")(x)
    x = L.Conv2D(6, 3, strides=2, padding="valid", activation="relu", name="valid_s2_relu")(x)
    x = L.Conv2D(4, (1, 3), strides=1, padding="same", activation="relu6", name="same_1x3_relu6")(x)
    x = L.Conv2D(4, (3, 2), strides=2, padding="valid", activation=None, name="valid_s2_3x2_none")(x)
    return keras.Model(i, x, name="conv2d_variants")


def depthwise_conv():
    i = _inp((10, 10, 4))
    x = L.DepthwiseConv2D(3, strides=1, padding="same", depth_multiplier=1, activation="relu")(i)
    x = L.DepthwiseConv2D(3, strides=2, padding="valid", depth_multiplier=2, activation="relu6")(x)
    x = L.DepthwiseConv2D(3, strides=2, padding="same", depth_multiplier=1, activation=None)(x)
    x = L.DepthwiseConv2D(2, strides=1, padding="valid", depth_multiplier=2, activation=None)(x)
    return keras.Model(i, x, name="depthwise_conv")


def fully_connected():
    i = _inp((4, 4, 2))
    x = L.Flatten()(i)
    x = L.Dense(16, activation="relu")(x)
    x = L.Dense(12, activation=None)(x)
    x = L.Dense(10, activation=None)(x)
    x = L.Softmax()(x)
    return keras.Model(i, x, name="fully_connected")


def pooling():
    i = _inp((12, 12, 4))
    x = L.AveragePooling2D(2, strides=2, padding="valid")(i)  # 6x6
    x = L.MaxPooling2D(3, strides=1, padding="same")(x)  # 6x6
    x = L.MaxPooling2D(2, strides=2, padding="valid")(x)  # 3x3
    x = L.AveragePooling2D(2, strides=1, padding="same")(x)  # 3x3
    x = L.GlobalAveragePooling2D()(x)  # MEAN
    return keras.Model(i, x, name="pooling")


def add_mul():
    i = _inp((4, 4, 8))
    a = L.Conv2D(8, 1, name="branch")(i)
    s = L.Add()([i, a])
    m = L.Multiply()([s, a])
    scale = np.linspace(0.5, 1.5, 8, dtype=np.float32).reshape(1, 1, 1, 8)
    bias = np.linspace(-0.25, 0.25, 8, dtype=np.float32).reshape(1, 1, 1, 8)
    m = L.Lambda(lambda t: t * scale, name="broadcast_mul")(m)
    m = L.Lambda(lambda t: t + bias, name="broadcast_add")(m)
    return keras.Model(i, m, name="add_mul")


def activations():
    i = _inp((4, 4, 8))
    x = L.Activation("sigmoid")(i)
    x = L.Conv2D(8, 1)(x)
    x = L.Activation("tanh")(x)
    return keras.Model(i, x, name="activations")


def concat_pad():
    i = _inp((6, 6, 4))
    a = L.Conv2D(4, 1, activation="relu", name="branch")(i)
    c = L.Concatenate(axis=-1)([i, a])
    p = L.ZeroPadding2D(((1, 2), (0, 1)))(c)
    return keras.Model(i, p, name="concat_pad")


def reshape_mean():
    i = _inp((8, 6))
    x = L.Reshape((4, 2, 6))(i)
    x = L.Conv2D(4, 1)(x)
    x = L.Lambda(lambda t: tf.reduce_mean(t, axis=[1], keepdims=True), name="mean_h")(x)
    x = L.Reshape((2, 4))(x)
    return keras.Model(i, x, name="reshape_mean")


def requantize():
    i = _inp((4, 4, 4))
    a = L.Activation("sigmoid")(i)  # int8 output fixed at scale 1/256, zero point -128
    b = L.Activation("tanh")(i)  # int8 output fixed at scale 1/128, zero point 0
    c = L.Concatenate(axis=-1)([a, b])  # one scale for both: QUANTIZE int8->int8 inserted
    return keras.Model(i, c, name="requantize")


def quant_dequant():
    i = _inp((6, 6, 2))
    x = L.Conv2D(4, 3, padding="same", activation="relu")(i)
    x = L.GlobalAveragePooling2D()(x)
    x = L.Dense(4)(x)
    return keras.Model(i, x, name="quant_dequant")


def float_cnn():
    i = _inp((12, 12, 3))
    x = L.Conv2D(8, 3, padding="same", activation="relu")(i)
    x = L.DepthwiseConv2D(3, strides=2, padding="valid", depth_multiplier=2, activation="relu6")(x)
    x = L.Conv2D(8, 1, strides=1, padding="valid")(x)
    x = L.MaxPooling2D(2)(x)
    x = L.AveragePooling2D(2, strides=1, padding="same")(x)
    x = L.Flatten()(x)
    x = L.Dense(10)(x)
    x = L.Softmax()(x)
    return keras.Model(i, x, name="float_cnn")


def float_elementwise():
    i = _inp((6, 6, 4))
    a = L.Conv2D(4, 1, name="branch")(i)
    s = L.Add()([i, a])
    m = L.Multiply()([i, a])
    s = L.Activation("sigmoid")(s)
    m = L.Activation("tanh")(m)
    c = L.Concatenate(axis=-1)([s, m])
    p = L.ZeroPadding2D(1)(c)
    g = L.GlobalAveragePooling2D()(p)
    return keras.Model(i, g, name="float_elementwise")


# ---- MLPerf Tiny reference architectures ----------------------------------------------

def _bn():
    # momentum 0.8 (Keras default 0.99) so that the few synthetic training steps move the
    # moving statistics to the real activation statistics; the folded weights then look
    # like a trained network's rather than an identity BN's
    return L.BatchNormalization(momentum=0.8)


def _dw_init():
    # Zero-mean random 3x3 depthwise filters are high-pass: stacked, they erase the input
    # (only zero-padding edges survive, the same for every input) and the outputs stop
    # depending on the input. Trained depthwise filters have a low-pass part; give the
    # random ones one too (mean 1/9, i.e. a box filter, plus noise).
    return keras.initializers.RandomNormal(mean=1.0 / 9.0, stddev=0.1)


def kws_dscnn():
    """MLPerf Tiny keyword spotting: DS-CNN small (mlcommons/tiny kws keras_model.py)."""
    i = _inp((49, 10, 1))
    x = L.Conv2D(64, (10, 4), strides=(2, 2), padding="same", use_bias=False)(i)
    x = _bn()(x)
    x = L.ReLU()(x)
    for _ in range(4):
        x = L.DepthwiseConv2D(3, padding="same", use_bias=False, depthwise_initializer=_dw_init())(x)
        x = _bn()(x)
        x = L.ReLU()(x)
        x = L.Conv2D(64, 1, padding="same", use_bias=False)(x)
        x = _bn()(x)
        x = L.ReLU()(x)
    x = L.AveragePooling2D(pool_size=(25, 5))(x)
    x = L.Flatten()(x)
    x = L.Dense(12, activation="softmax")(x)
    return keras.Model(i, x, name="kws_dscnn")


def vww_mobilenet_v1_025():
    """MLPerf Tiny visual wake words: MobileNetV1 alpha 0.25, 96x96x3, 2 classes."""
    i = _inp((96, 96, 3))
    x = L.Conv2D(8, 3, strides=2, padding="same", use_bias=False)(i)
    x = _bn()(x)
    x = L.ReLU(6.0)(x)
    for filters, stride in [(16, 1), (32, 2), (32, 1), (64, 2), (64, 1), (128, 2), (128, 1),
                            (128, 1), (128, 1), (128, 1), (128, 1), (256, 2), (256, 1)]:
        x = L.DepthwiseConv2D(3, strides=stride, padding="same", use_bias=False,
                              depthwise_initializer=_dw_init())(x)
        x = _bn()(x)
        x = L.ReLU(6.0)(x)
        x = L.Conv2D(filters, 1, padding="same", use_bias=False)(x)
        x = _bn()(x)
        x = L.ReLU(6.0)(x)
    x = L.AveragePooling2D(pool_size=x.shape[1:3])(x)
    x = L.Flatten()(x)
    x = L.Dense(2, activation="softmax")(x)
    return keras.Model(i, x, name="vww_mobilenet_v1_025")


def ic_resnet8():
    """MLPerf Tiny image classification: ResNet-8 (CIFAR-10, 32x32x3, 10 classes)."""
    i = _inp((32, 32, 3))
    x = L.Conv2D(16, 3, padding="same")(i)
    x = _bn()(x)
    x = L.ReLU()(x)
    for filters, stride in [(16, 1), (32, 2), (64, 2)]:
        y = L.Conv2D(filters, 3, strides=stride, padding="same")(x)
        y = _bn()(y)
        y = L.ReLU()(y)
        y = L.Conv2D(filters, 3, padding="same")(y)
        y = _bn()(y)
        if stride != 1 or x.shape[-1] != filters:
            x = L.Conv2D(filters, 1, strides=stride, padding="same")(x)
        x = L.Add()([x, y])
        x = L.ReLU()(x)
    x = L.AveragePooling2D(pool_size=x.shape[1:3])(x)
    x = L.Flatten()(x)
    x = L.Dense(10, activation="softmax")(x)
    return keras.Model(i, x, name="ic_resnet8")


def ad_autoencoder():
    """MLPerf Tiny anomaly detection: FC autoencoder on 640 inputs (5 frames x 128 mels)."""
    i = _inp((640,))
    x = i
    for units in (128, 128, 128, 128, 8, 128, 128, 128, 128):
        x = L.Dense(units)(x)
        x = _bn()(x)
        x = L.ReLU()(x)
    x = L.Dense(640)(x)
    return keras.Model(i, x, name="ad_autoencoder")


SPECS: list[Spec] = [
    Spec("conv2d_variants", conv2d_variants,
         description="CONV_2D: SAME/VALID x stride 1/2 x RELU/RELU6/NONE, 3x3, 1x3, 3x2 kernels",
         covers=["CONV_2D"]),
    Spec("depthwise_conv", depthwise_conv,
         description="DEPTHWISE_CONV_2D: SAME/VALID, stride 1/2, depth multiplier 1 and 2",
         covers=["DEPTHWISE_CONV_2D"]),
    Spec("fully_connected", fully_connected,
         description="RESHAPE (flatten), FULLY_CONNECTED (RELU/NONE), SOFTMAX",
         covers=["RESHAPE", "FULLY_CONNECTED", "SOFTMAX"]),
    Spec("pooling", pooling,
         description="AVERAGE_POOL_2D and MAX_POOL_2D (SAME/VALID, stride 1/2), MEAN (global average)",
         covers=["AVERAGE_POOL_2D", "MAX_POOL_2D", "MEAN"]),
    Spec("add_mul", add_mul,
         description="ADD and MUL of two int8 tensors with different scales, and with broadcast constants",
         covers=["ADD", "MUL"]),
    Spec("activations", activations,
         description="LOGISTIC and TANH (fixed int8 output scales), around a 1x1 CONV_2D",
         covers=["LOGISTIC", "TANH"]),
    Spec("concat_pad", concat_pad,
         description="CONCATENATION on channels (the converter gives both inputs the output's "
                     "scale), asymmetric PAD",
         covers=["CONCATENATION", "PAD"]),
    Spec("reshape_mean", reshape_mean,
         description="RESHAPE 2-D <-> 4-D, MEAN over one axis (keep_dims)",
         covers=["RESHAPE", "MEAN"]),
    Spec("requantize", requantize,
         description="QUANTIZE int8->int8 (requantize) of fixed-scale LOGISTIC/TANH outputs "
                     "into one CONCATENATION scale",
         covers=["LOGISTIC", "TANH", "QUANTIZE", "CONCATENATION"]),
    Spec("quant_dequant", quant_dequant, mode="int8_float_io",
         description="float32 in/out around an int8 body: QUANTIZE (float->int8) and DEQUANTIZE",
         covers=["QUANTIZE", "DEQUANTIZE"]),
    Spec("float_cnn", float_cnn, mode="float32",
         description="float32: CONV_2D, DEPTHWISE_CONV_2D (depth multiplier 2), MAX/AVERAGE_POOL_2D, "
                     "RESHAPE, FULLY_CONNECTED, SOFTMAX"),
    Spec("float_elementwise", float_elementwise, mode="float32",
         description="float32: CONV_2D, ADD, MUL, LOGISTIC, TANH, CONCATENATION, PAD, MEAN"),
    Spec("kws_dscnn", kws_dscnn, n_vectors=2, data="spectrogram", train="classify", train_steps=16,
         description="MLPerf Tiny KWS: DS-CNN small, 49x10x1 -> 12 classes"),
    Spec("vww_mobilenet_v1_025", vww_mobilenet_v1_025, n_vectors=2, data="image",
         train="classify", train_steps=12,
         description="MLPerf Tiny VWW: MobileNetV1 alpha 0.25, 96x96x3 -> 2 classes"),
    Spec("ic_resnet8", ic_resnet8, n_vectors=2, data="image", train="classify", train_steps=16,
         description="MLPerf Tiny IC: ResNet-8, 32x32x3 -> 10 classes"),
    Spec("ad_autoencoder", ad_autoencoder, n_vectors=4, data="normal", train="autoencode",
         train_steps=16,
         description="MLPerf Tiny AD: FC autoencoder 640-128x4-8-128x4-640"),
]
for _k, _s in enumerate(SPECS):
    _s.seed = BASE_SEED + _k

#: every op the suite must contain, somewhere (checked after a full run)
REQUIRED_OPS = [
    "CONV_2D", "DEPTHWISE_CONV_2D", "FULLY_CONNECTED", "AVERAGE_POOL_2D", "MAX_POOL_2D",
    "SOFTMAX", "RESHAPE", "ADD", "MUL", "QUANTIZE", "DEQUANTIZE", "LOGISTIC", "TANH",
    "MEAN", "CONCATENATION", "PAD",
]


# --------------------------------------------------------------------------------------
# data, training, conversion
# --------------------------------------------------------------------------------------

def sample(rng: np.random.Generator, kind: str, shape) -> np.ndarray:
    """Synthetic inputs of shape ``shape`` (leading axes: samples).

    "uniform": i.i.d. U[-1, 1). "normal": i.i.d. N(0, 1). "image": pixels in [0, 1) with
    coarse structure (8x8-pixel blocks) and a per-sample brightness and contrast.
    "spectrogram": N(0, 1)-scaled features with 4x4-cell structure and per-sample gain
    and offset. Structured inputs matter for the big models: i.i.d. noise gives globally
    pooled features that do not depend on the input, and so outputs that do not either.
    """
    shape = tuple(shape)
    if kind == "uniform":
        return rng.uniform(-1.0, 1.0, shape).astype(np.float32)
    if kind == "normal":
        return rng.standard_normal(shape, dtype=np.float32)
    lead = shape[:-3]
    per_sample = (*lead, 1, 1, 1)
    if kind == "image":
        coarse = _coarse(rng, shape, 8, rng.random)
        offset = rng.uniform(-0.25, 0.25, per_sample)
        gain = rng.uniform(0.3, 1.0, per_sample)
        x = 0.5 + offset + gain * (coarse - 0.5) + 0.1 * (rng.random(shape) - 0.5)
        return np.clip(x, 0.0, 0.999).astype(np.float32)
    if kind == "spectrogram":
        coarse = _coarse(rng, shape, 4, rng.standard_normal)
        offset = rng.uniform(-0.5, 0.5, per_sample)
        gain = rng.uniform(0.5, 1.5, per_sample)
        return (offset + gain * coarse + 0.3 * rng.standard_normal(shape)).astype(np.float32)
    raise ValueError(f"unknown data kind {kind!r}")


def _coarse(rng: np.random.Generator, shape: tuple, cell: int, draw) -> np.ndarray:
    """Noise constant over cell x cell blocks of the H, W axes (shape [..., H, W, C])."""
    h, w = shape[-3], shape[-2]
    small = draw((*shape[:-3], -(-h // cell), -(-w // cell), shape[-1]))
    big = np.repeat(np.repeat(small, cell, axis=-3), cell, axis=-2)
    return big[..., :h, :w, :]


TRAIN_BATCH = 16


def train_briefly(spec: Spec, rng: np.random.Generator):
    """The batch-1 model, after a few optimizer steps on synthetic data (if any).

    Training runs on a copy built with a free batch dimension and batches of
    TRAIN_BATCH (BatchNormalization needs real batch statistics); its weights are then
    copied into the batch-1 model that gets converted.
    """
    model = build(spec, 1)
    if not spec.train or not spec.train_steps:
        randomize_biases(model, rng)
        return model
    infer = model
    model = build(spec, None)
    in_shape = tuple(model.input.shape[1:])
    n = spec.train_steps * TRAIN_BATCH
    x = sample(rng, spec.data, (n, *in_shape))
    if spec.train == "classify":
        classes = int(model.output.shape[-1])
        y = rng.integers(0, classes, size=(n,))
        model.compile(optimizer=keras.optimizers.Adam(1e-3), loss="sparse_categorical_crossentropy")
    else:
        y = x
        model.compile(optimizer=keras.optimizers.Adam(1e-3), loss="mse")
    # batch_size 1 everywhere: the models have a fixed batch dimension of 1
    model.fit(x, y, batch_size=TRAIN_BATCH, epochs=1, shuffle=False, verbose=0)
    infer.set_weights(model.get_weights())
    if spec.train == "classify":
        spread_logits(infer, sample(rng, spec.data, (32, *in_shape)))
    return infer


def randomize_biases(model, rng: np.random.Generator, amplitude: float = 0.2) -> None:
    """Give untrained layers non-zero biases (Keras initialises them to zero).

    The converter drops an all-zero FULLY_CONNECTED bias, and zero biases would leave
    the runtime's bias path untested.
    """
    for layer in model.layers:
        bias = getattr(layer, "bias", None)
        if bias is not None:
            shape = tuple(bias.shape)
            bias.assign(rng.uniform(-amplitude, amplitude, shape).astype(np.float32))


def spread_logits(model, x: np.ndarray, target_std: float = 2.0) -> None:
    """Rescale the softmax head so that its logits depend visibly on the input.

    Random or briefly trained weights give near-uniform softmax outputs, which in int8
    (scale 1/256) leave only a few distinct output codes: a weak test signal. Scale the
    final Dense kernel so that the input-dependent part of the logits has standard
    deviation ``target_std``, and centre the bias so no class always wins.
    """
    head = model.layers[-1]
    if not isinstance(head, L.Dense):
        return
    feats = np.asarray(keras.Model(model.input, head.input).predict(x, batch_size=1, verbose=0))
    w, b = (np.asarray(v) for v in head.get_weights())
    logits = feats @ w
    std = float(np.std(logits - logits.mean(axis=0)))
    if std <= 0:
        return
    w = w * (target_std / std)
    b = -(feats @ w).mean(axis=0)
    head.set_weights([w.astype(np.float32), b.astype(np.float32)])


def convert(model, spec: Spec, rng: np.random.Generator) -> bytes:
    in_shape = tuple(model.input.shape[1:])
    calib = sample(rng, spec.data, (N_CALIBRATION, 1, *in_shape))

    def representative():
        for c in calib:
            yield [c]

    conv = tf.lite.TFLiteConverter.from_keras_model(model)
    if spec.mode != "float32":
        conv.optimizations = [tf.lite.Optimize.DEFAULT]
        conv.representative_dataset = representative
        conv.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
        # Conv/depthwise weights stay per-channel (the converter's default). TF >= 2.16
        # also makes FULLY_CONNECTED weights per-channel by default; keep them per-tensor,
        # as the MLPerf Tiny reference models and CMSIS-NN's classic FC path have them.
        if not hasattr(conv, "_experimental_disable_per_channel_quantization_for_dense_layers"):
            raise RuntimeError(f"TensorFlow {tf.__version__} cannot keep FULLY_CONNECTED "
                               "weights per-tensor; use TensorFlow >= 2.16")
        conv._experimental_disable_per_channel_quantization_for_dense_layers = FC_PER_TENSOR
        if spec.mode == "int8":
            conv.inference_input_type = tf.int8
            conv.inference_output_type = tf.int8
        else:
            conv.inference_input_type = tf.float32
            conv.inference_output_type = tf.float32
    else:
        conv.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS]
    # the converter is chatty on stdout/stderr (saved-model endpoints): keep our log clean
    with warnings.catch_warnings(), reference.quiet_fds():
        warnings.simplefilter("ignore")
        return conv.convert()


def test_vectors(spec: Spec, desc: dict, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """(float vectors, vectors in the model's input dtype)."""
    inp = desc["inputs"][0]
    shape = tuple(inp["shape"][1:])
    x = sample(rng, spec.data, (spec.n_vectors, *shape))
    if inp["dtype"] == "float32":
        return x, x
    q = inp["quantization"]
    info = np.iinfo(np.dtype(inp["dtype"]))
    xq = np.round(x / q["scale"]) + q["zero_point"]
    return x, np.clip(xq, info.min, info.max).astype(inp["dtype"])


def float_agreement(model, desc: dict, x: np.ndarray, model_path: Path) -> dict:
    """How close the converted model (run by TFLM, dequantized) is to the Keras model."""
    want = np.asarray(model.predict(x, batch_size=1, verbose=0), dtype=np.float64)
    got = reference.tflm_reference(model_path, _as_model_input(desc, x))[0].astype(np.float64)
    q = desc["outputs"][0]["quantization"]
    if desc["outputs"][0]["dtype"] != "float32" and q:
        got = (got - q["zero_point"]) * q["scale"]
    span = float(np.ptp(want)) or 1.0
    return {"max_abs_err": float(np.max(np.abs(got - want))), "float_output_span": span,
            "relative_err": float(np.max(np.abs(got - want)) / span)}


def _as_model_input(desc: dict, x: np.ndarray) -> np.ndarray:
    inp = desc["inputs"][0]
    if inp["dtype"] == "float32":
        return x
    q = inp["quantization"]
    return np.clip(np.round(x / q["scale"]) + q["zero_point"], -128, 127).astype(inp["dtype"])


def generate_one(spec: Spec, out_dir: Path) -> dict:
    t0 = time.time()
    set_seeds(spec.seed)
    keras.backend.clear_session()
    set_seeds(spec.seed)
    model = train_briefly(spec, np.random.default_rng(spec.seed))
    tfl = convert(model, spec, np.random.default_rng(spec.seed + 10_000))
    desc = reference.describe_model(tfl)
    xf, vectors = test_vectors(spec, desc, np.random.default_rng(spec.seed + 20_000))

    path = out_dir / f"{spec.name}.tflite"
    path.write_bytes(tfl)
    np.save(out_dir / f"{spec.name}.inputs.npy", vectors)
    agree = float_agreement(model, desc, xf, path)
    if agree["relative_err"] > 0.25:
        print(f"WARNING: {spec.name}: converted model far from the Keras model: {agree}")

    arena = reference.tflm_arena_bytes(tfl)
    entry = {
        "name": spec.name,
        "file": f"{spec.name}.tflite",
        "inputs_file": f"{spec.name}.inputs.npy",
        "description": spec.description,
        "scheme": {"int8": "int8 (full integer, int8 in/out, per-channel conv weights)",
                         "int8_float_io": "int8 body, float32 in/out (QUANTIZE/DEQUANTIZE)",
                         "float32": "none (float32)"}[spec.mode],
        "mode": spec.mode,
        "ops": desc["ops"],
        "op_details": desc["op_details"],
        "inputs": desc["inputs"],
        "outputs": desc["outputs"],
        "macs": desc["macs"],
        "params": int(model.count_params()),
        "size_bytes": len(tfl),
        "sha256": hashlib.sha256(tfl).hexdigest(),
        "n_vectors": int(vectors.shape[0]),
        "arena_hint_bytes": arena,
        "seed": spec.seed,
        "train_steps": spec.train_steps if spec.train else 0,
        "vs_keras_float": agree,
    }
    print(f"{spec.name:24s} {len(tfl):8d} B  {desc['macs']:10,d} MACs  arena {arena:8d} B  "
          f"{time.time() - t0:5.1f} s  vs keras {agree['relative_err']:.3f}  ops: {' '.join(desc['ops'][:12])}"
          f"{' ...' if len(desc['ops']) > 12 else ''}", flush=True)
    return entry


def check_coverage(entries: list[dict]) -> list[str]:
    """Problems with the suite's op coverage (empty list: all covered)."""
    problems = []
    int8_ops = set()
    for e in entries:
        if e["mode"] != "float32":
            int8_ops.update(e["ops"])
    for op in REQUIRED_OPS:
        if op not in int8_ops:
            problems.append(f"no quantized model contains {op}")
    for e in entries:
        spec = next((s for s in SPECS if s.name == e["name"]), None)
        for op in (spec.covers if spec else []):
            if op not in e["ops"]:
                problems.append(f"{e['name']} should contain {op} but has {e['ops']}")
    conv = [d for e in entries if e["mode"] == "int8" for d in e["op_details"] if d["op"] == "CONV_2D"]
    for key, values in (("padding", {"SAME", "VALID"}), ("strideW", {1, 2}),
                        ("activation", {"RELU", "RELU6", "NONE"})):
        seen = {d.get(key) for d in conv}
        if not values <= seen:
            problems.append(f"CONV_2D {key}: want {sorted(map(str, values))}, have {sorted(map(str, seen))}")
    dw = [d for e in entries if e["mode"] == "int8" for d in e["op_details"]
          if d["op"] == "DEPTHWISE_CONV_2D"]
    if not any(d.get("depthMultiplier") == 2 for d in dw):
        problems.append("no int8 DEPTHWISE_CONV_2D with depth multiplier 2")
    return problems


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--only", action="append", metavar="NAME",
                    help="generate only this model (repeatable)")
    ap.add_argument("--out", default=str(Path(__file__).resolve().parent),
                    help="output directory (default: the models/ folder)")
    ap.add_argument("--list", action="store_true", help="list model names and exit")
    args = ap.parse_args(argv)

    if args.list:
        for s in SPECS:
            print(f"{s.name:24s} {s.description}")
        return 0
    names = {s.name for s in SPECS}
    for n in args.only or []:
        if n not in names:
            ap.error(f"unknown model {n!r}; choose from {', '.join(sorted(names))}")
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)

    if tf.__version__ != TESTED_TF:
        print(f"note: TensorFlow {tf.__version__}; the committed models were made with "
              f"{TESTED_TF}, other versions may give different (equally valid) bytes")
    t0 = time.time()
    todo = [s for s in SPECS if not args.only or s.name in args.only]
    fresh = {s.name: generate_one(s, out) for s in todo}

    manifest_path = out / "manifest.json"
    old = {}
    if manifest_path.exists() and args.only:
        old = {m["name"]: m for m in json.loads(manifest_path.read_text())["models"]}
    entries = [fresh.get(s.name) or old.get(s.name) for s in SPECS]
    entries = [e for e in entries if e]
    import importlib.metadata as md

    manifest = {
        "generator": "models/generate.py",
        "base_seed": BASE_SEED,
        "tensorflow": tf.__version__,
        "keras": keras.__version__,
        "tflite_micro": md.version("tflite-micro"),
        "weights": "int8 symmetric; CONV_2D/DEPTHWISE_CONV_2D per-channel (axis 0 / 3), "
                   "FULLY_CONNECTED per-tensor; int32 biases",
        "arena_hint_note": "bytes TFLM's RecordingMicroAllocator reports on the 64-bit host "
                           "build after one invoke; a 32-bit target needs somewhat less",
        "models": entries,
    }
    manifest_path.write_text(json.dumps(manifest, indent=1) + "\n")
    print(f"wrote {len(fresh)} model(s) to {out} in {time.time() - t0:.1f} s")

    if len(entries) == len(SPECS):
        problems = check_coverage(entries)
        for p in problems:
            print("COVERAGE:", p)
        if problems:
            return 1
        print("coverage: all required ops and CONV_2D/DEPTHWISE variants present")
    return 0


if __name__ == "__main__":
    sys.exit(main())
