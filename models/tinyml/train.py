"""Train, quantize and evaluate simcore's TinyML models; write everything into models/trained/.

    python -m models.tinyml.train                  # every model (or: make -C models)
    python -m models.tinyml.train --only kws       # some of them (kws gestures machine person sine)
    python -m models.tinyml.train --smoke --only gestures --out /tmp/smoke   # a few steps, tiny data

For each model ``<name>`` it writes ``<name>.tflite`` (int8, int8 input and output),
``<name>.eval.npz`` (the held-out evaluation set as the model's int8 inputs ``x`` and labels
``y``), ``<name>.inputs.npy`` (a few test vectors for model_runner) and, for the streaming apps,
the demo recording and its ground truth; ``metrics.json`` gets one entry per model (seed,
versions, float and int8 metrics, sizes, sha256 of every file). Every model's input tensor is
quantized with zero point 0 and a power-of-two scale, so the firmware feeds its integer
features unchanged (checked here).

Needs TensorFlow (the ``models`` extra), tflite-micro, and ``espeak-ng`` for ``kws``.
Deterministic: each model re-seeds python, numpy and TensorFlow with its own seed, op
determinism on, CPU only. Run it niced on a shared machine: ``nice -n 10 make -C models``.
"""

from __future__ import annotations

import argparse
import platform
import sys
import tempfile
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from models.reference import quiet_fds
from models.tf_setup import import_tf, set_seeds  # before TensorFlow: it sets the environment TF reads
from models.tinyml import TRAINED, common

BASE_SEED = 1300
TESTED_TF = "2.21.0"

tf, keras = import_tf(intra_op_threads=2)
L = keras.layers


# --- training, conversion, evaluation ------------------------------------------------------
@dataclass
class Ctx:
    """What a task needs: where to write, its seed, and whether this is a smoke run."""

    name: str
    seed: int
    out: Path
    smoke: bool
    log: list[str] = field(default_factory=list)

    def rng(self, k: int) -> np.random.Generator:
        return np.random.default_rng(self.seed * 1000 + k)

    cache: Path | None = None

    def cached(self, key: str, make: Callable[[], dict[str, np.ndarray]]) -> dict[str, np.ndarray]:
        """``make()`` (a dict of arrays), or what an earlier run with the same --cache saved
        (for development only: a regeneration from scratch runs without a cache)."""
        if self.cache is None:
            return make()
        path = self.cache / f"{self.name}-{key}-{self.seed}{'-smoke' if self.smoke else ''}.npz"
        if path.exists():
            with np.load(path) as z:
                return {k: z[k] for k in z.files}
        data = make()
        self.cache.mkdir(parents=True, exist_ok=True)
        np.savez(path, **data)
        return data

    def say(self, msg: str) -> None:
        line = f"[{self.name}] {msg}"
        self.log.append(line)
        print(line, flush=True)


def fit(ctx: Ctx, model: Any, x: np.ndarray, y: Any, epochs: int, batch: int, lr: float, loss: str,
        val: tuple[np.ndarray, Any] | None = None, metrics: tuple[str, ...] = ("accuracy",)) -> float:
    """Adam with a cosine-decayed learning rate; returns the training time in seconds."""
    if ctx.smoke:  # four steps of 16
        epochs, batch, x, y = 1, 16, x[:64], y[:64]
    steps = epochs * int(np.ceil(len(x) / batch))
    model.compile(optimizer=keras.optimizers.Adam(keras.optimizers.schedules.CosineDecay(lr, steps)), loss=loss,
                  metrics=list(metrics))
    t0 = time.time()
    hist = model.fit(x, y, batch_size=batch, epochs=epochs, validation_data=val, verbose=0, shuffle=True)
    took = time.time() - t0
    last = {k: round(float(v[-1]), 4) for k, v in hist.history.items()}
    ctx.say(f"trained {epochs} epochs x {int(np.ceil(len(x) / batch))} steps in {took:.0f} s: {last}")
    return took


def representative(x: np.ndarray, scale: float, rng: np.random.Generator, n: int = 256) -> np.ndarray:
    """Calibration inputs (float) with one row holding the int8 extremes -128 and 127 times
    ``scale``: the converter then gives the input tensor exactly (scale, zero point 0)."""
    pick = x[rng.choice(len(x), size=min(n, len(x)), replace=False)].astype(np.float32)
    flat = pick[0].reshape(-1)
    flat[0], flat[-1] = -128 * scale, 127 * scale
    return pick


def batch1_converter(model: Any) -> Any:
    """A converter for the model at batch size 1 (static shapes: Flatten becomes one RESHAPE,
    not SHAPE/STRIDED_SLICE/PACK/RESHAPE)."""
    one = keras.models.clone_model(model, input_tensors=keras.Input(batch_shape=(1, *model.input.shape[1:])))
    one.set_weights(model.get_weights())
    return tf.lite.TFLiteConverter.from_keras_model(one)


def convert_int8(model: Any, calib: np.ndarray, input_scale: float | None) -> bytes:
    """Full-integer int8 conversion (int8 input and output, per-channel conv, per-tensor FC)."""
    def data():
        for c in calib:
            yield [c[None, ...]]

    conv = batch1_converter(model)
    conv.optimizations = [tf.lite.Optimize.DEFAULT]
    conv.representative_dataset = data
    conv.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
    conv.inference_input_type = tf.int8
    conv.inference_output_type = tf.int8
    conv._experimental_disable_per_channel_quantization_for_dense_layers = True
    with warnings.catch_warnings(), quiet_fds():
        warnings.simplefilter("ignore")
        tfl = conv.convert()
    scale, zp = common.quant(common.model_stats(tfl)["inputs"][0])
    if input_scale is not None and (zp != 0 or scale != np.float32(input_scale)):
        raise RuntimeError(f"input quantization ({scale}, {zp}) is not the features' ({input_scale}, 0)")
    return tfl


def tflite_ref(tfl: bytes, x: np.ndarray) -> np.ndarray:
    """TensorFlow Lite's reference kernels on every row (to check that TF and TFLM agree)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # tf.lite.Interpreter's deprecation notice
        interp = tf.lite.Interpreter(model_content=tfl, num_threads=1,
                                     experimental_op_resolver_type=tf.lite.experimental.OpResolverType.BUILTIN_REF)
    interp.allocate_tensors()
    i, o = interp.get_input_details()[0], interp.get_output_details()[0]
    rows = []
    for row in x:
        interp.set_tensor(i["index"], row.reshape(i["shape"]))
        interp.invoke()
        rows.append(np.array(interp.get_tensor(o["index"])[0], copy=True))
    return np.stack(rows)


def predict(model: Any, x: np.ndarray, batch: int = 256) -> np.ndarray:
    return model.predict(x, batch_size=batch, verbose=0)


def agreement(ctx: Ctx, tfl: bytes, xq: np.ndarray) -> dict[str, Any]:
    """TFLM's int8 outputs vs TensorFlow Lite's reference kernels on the evaluation inputs."""
    a = common.Tflm(tfl)(xq)
    b = tflite_ref(tfl, xq)
    d = np.abs(a.astype(np.int32) - b.astype(np.int32))
    rows = np.nonzero(d.reshape(len(d), -1).max(axis=1) > 0)[0]
    res: dict[str, Any] = {"rows": int(len(xq)), "rows_differing": int(len(rows)), "max_lsb": int(d.max()) if d.size
                           else 0}
    if len(rows):  # where the two first split (models/check.py), on up to 20 of those rows
        from models.check import first_divergence

        with tempfile.TemporaryDirectory() as tmp, warnings.catch_warnings():
            warnings.simplefilter("ignore")
            path = Path(tmp) / "m.tflite"
            path.write_bytes(tfl)
            res["first_split_ops"] = sorted({first_divergence(path, xq[r])[1] for r in rows[:20]})
    ctx.say(f"TFLM vs TFLite reference kernels: {res}")
    return res


def finish(ctx: Ctx, tfl: bytes, eval_x: np.ndarray, eval_y: np.ndarray, vectors: np.ndarray,
           entry: dict[str, Any]) -> dict[str, Any]:
    """Write the model, its evaluation set and test vectors; complete its metrics entry."""
    path = ctx.out / f"{ctx.name}.tflite"
    path.write_bytes(tfl)
    np.savez_compressed(ctx.out / f"{ctx.name}.eval.npz", x=eval_x, y=eval_y)
    np.save(ctx.out / f"{ctx.name}.inputs.npy", vectors)
    st = common.model_stats(tfl)
    files = {f.name: common.sha256(f) for f in sorted(ctx.out.glob(f"{ctx.name}[._]*")) if f.is_file()}
    entry = {"name": ctx.name, "seed": ctx.seed, **entry, "params": st["params"],
             "int8_weight_bytes": st["int8_weight_bytes"], "macs": st["macs"], "size_bytes": st["size_bytes"],
             "ops": st["ops"], "input": st["inputs"][0], "output": st["outputs"][0],
             "eval_sha256": common.array_sha256(eval_x, eval_y), "files": files}
    ctx.say(f"{st['size_bytes']} B .tflite, {st['params']} parameters ({st['int8_weight_bytes']} B int8 weights), "
            f"{st['macs']:,} MACs")
    return entry


def load_data(ctx: Ctx, sizes: dict[str, Any], make_one: Callable[[int, str, Any], tuple[np.ndarray, np.ndarray]]
              ) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """(x, y) per split, each made by ``make_one(index, split, size)`` (kept with --cache)."""
    def make() -> dict[str, np.ndarray]:
        out = {}
        for k, (name, n) in enumerate(sizes.items()):
            out[name + "_x"], out[name + "_y"] = make_one(k, name, n)
        return out

    raw = ctx.cached("data", make)
    return {k: (raw[k + "_x"], raw[k + "_y"]) for k in sizes}


def train_classifier(ctx: Ctx, model: Any, data: dict[str, tuple[np.ndarray, np.ndarray]], scale: float,
                     epochs: int, batch: int, lr: float,
                     augment: Callable[[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]] | None = None
                     ) -> tuple[bytes, float, float, float, np.ndarray]:
    """Train on the int8 features times ``scale``, convert, and compare the float and int8
    accuracy on the test split: (tflite, float %, int8 %, training s, int8 predictions)."""
    f = {k: (v[0].astype(np.float32) * scale, v[1].astype(np.int32)) for k, v in data.items()}
    xt, yt = augment(*f["train"]) if augment else f["train"]
    took = fit(ctx, model, xt, yt, epochs=epochs, batch=batch, lr=lr, loss="sparse_categorical_crossentropy",
               val=f["val"])
    tfl = convert_int8(model, representative(f["train"][0], scale, ctx.rng(10)), scale)
    xq, y = data["test"]
    pred_q = common.Tflm(tfl)(xq).argmax(1)
    acc_f = common.accuracy(predict(model, f["test"][0]).argmax(1), y)
    acc_q = common.accuracy(pred_q, y)
    check_close(ctx, acc_f, acc_q)
    return tfl, acc_f, acc_q, took, pred_q


def check_close(ctx: Ctx, float_metric: float, int8_metric: float, what: str = "accuracy") -> None:
    ctx.say(f"{what}: float {float_metric:.2f}, int8 {int8_metric:.2f}")
    if not ctx.smoke and abs(float_metric - int8_metric) > 2.0:
        raise RuntimeError(f"{ctx.name}: int8 {what} {int8_metric:.2f} is more than 2 points from float "
                           f"{float_metric:.2f}")


# --- keyword spotting -------------------------------------------------------------------------
KWS_SCALE = 1.0 / 64  # int8 feature q means q / 64 to the float model


def kws_net(channels: int = 48) -> Any:
    """DS-CNN (Zhang et al., "Hello Edge", 2017): conv 10x4 stride 2, four depthwise-separable blocks."""
    i = L.Input((49, 10, 1))
    x = L.Conv2D(channels, (10, 4), strides=(2, 2), padding="same", use_bias=False)(i)
    x = L.ReLU()(L.BatchNormalization()(x))
    for _ in range(4):
        x = L.DepthwiseConv2D(3, padding="same", use_bias=False)(x)
        x = L.ReLU()(L.BatchNormalization()(x))
        x = L.Conv2D(channels, 1, use_bias=False)(x)
        x = L.ReLU()(L.BatchNormalization()(x))
    x = L.AveragePooling2D((25, 5))(x)
    x = L.Dropout(0.2)(L.Flatten()(x))
    return keras.Model(i, L.Dense(12, activation="softmax")(x), name="kws")


def task_kws(ctx: Ctx) -> dict[str, Any]:
    from models.tinyml import data_kws as dk
    from models.tinyml import demos, kws_frontend

    fe = kws_frontend()
    splits = dk.split_variants(ctx.seed)
    sizes = {"train": (400, 800, 400), "val": (40, 80, 40), "test": (100, 100, 100)}
    if ctx.smoke:
        sizes = {k: (3, 6, 3) for k in sizes}

    def make_one(k: int, name: str, n: tuple[int, int, int]) -> tuple[np.ndarray, np.ndarray]:
        clips, y = dk.make_split(ctx.rng(k), splits[name], *n)
        return fe.features_batch(clips)[..., None], y

    t0 = time.time()
    data = load_data(ctx, sizes, make_one)
    ctx.say(f"data: {', '.join(f'{k} {len(v[1])}' for k, v in data.items())} clips in {time.time() - t0:.0f} s "
            f"(test voices: {len(splits['test'])} held-out variants x {len(dk.ACCENTS)} accents)")
    set_seeds(ctx.seed)
    tfl, acc_f, acc_q, took, _ = train_classifier(ctx, kws_net(), data, KWS_SCALE, epochs=20, batch=64, lr=3e-3)
    xq, y = data["test"]
    if not ctx.smoke and acc_q < 90.0:
        raise RuntimeError(f"kws: int8 accuracy {acc_q:.2f}% on held-out voices is below 90%")
    entry: dict[str, Any] = {
        "task": "12-class keyword spotting (10 words, silence, unknown) on espeak-ng speech",
        "metric": "accuracy", "float": round(acc_f, 2), "int8": round(acc_q, 2), "classes": list(dk.LABELS),
        "eval": f"{len(y)} clips, voices held out of training ({len(splits['test'])} espeak-ng variants x "
                f"{len(dk.ACCENTS)} accents)", "train_seconds": round(took, 1), "input_scale": KWS_SCALE,
        "splits": {k: list(v) for k, v in splits.items()},
        "tflm_vs_tflite": agreement(ctx, tfl, xq),
    }
    vectors = xq[[int(np.nonzero(y == c)[0][0]) for c in (9, 3, 10, 11)]]
    if not ctx.smoke:
        entry["detector_val"] = demos.kws_detector_check(ctx, tfl, splits["val"])
        entry["demo"] = demos.kws_demo(ctx, tfl, splits["test"])
    return finish(ctx, tfl, xq, y, vectors, entry)


# --- gestures ------------------------------------------------------------------------------------
IMU_SCALE = 1.0 / 64


def gesture_net() -> Any:
    """A small 1-D CNN over time (as CONV_2D with 5x1 kernels): 64 frames x 6 axes -> 5 classes."""
    i = L.Input((64, 1, 6))
    x = i
    for ch, k in ((16, 5), (32, 5), (32, 3)):
        x = L.Conv2D(ch, (k, 1), padding="same", use_bias=False)(x)
        x = L.ReLU()(L.BatchNormalization()(x))
        if ch != 32 or k != 3:
            x = L.MaxPooling2D((2, 1))(x)
    x = L.AveragePooling2D((16, 1))(x)
    x = L.Dropout(0.2)(L.Flatten()(x))
    return keras.Model(i, L.Dense(5, activation="softmax")(x), name="gestures")


def task_gestures(ctx: Ctx) -> dict[str, Any]:
    from models.tinyml import data_imu as di
    from models.tinyml import demos

    rng = ctx.rng(0)
    persons = [di.random_person(rng) for _ in range(80)]
    groups = {"train": persons[:60], "val": persons[60:66], "test": persons[66:]}
    sizes = {"train": 700, "val": 60, "test": 150} if not ctx.smoke else {"train": 12, "val": 4, "test": 4}
    t0 = time.time()
    data = load_data(ctx, sizes, lambda k, name, n: di.make_split(ctx.rng(1 + k), groups[name], n))
    ctx.say(f"data: {', '.join(f'{k} {len(v[1])}' for k, v in data.items())} windows in {time.time() - t0:.0f} s "
            f"(test: {len(groups['test'])} persons not in training)")
    set_seeds(ctx.seed)
    tfl, acc_f, acc_q, took, _ = train_classifier(ctx, gesture_net(), data, IMU_SCALE, epochs=30, batch=64, lr=3e-3)
    xq, y = data["test"]
    entry: dict[str, Any] = {
        "task": "gesture recognition (wing, ring, slope, shake, idle) from a 50 Hz accelerometer + gyroscope",
        "metric": "accuracy", "float": round(acc_f, 2), "int8": round(acc_q, 2), "classes": list(di.LABELS),
        "eval": f"{len(y)} windows of {len(groups['test'])} persons held out of training",
        "train_seconds": round(took, 1), "input_scale": IMU_SCALE, "tflm_vs_tflite": agreement(ctx, tfl, xq),
    }
    vectors = xq[[int(np.nonzero(y == c)[0][0]) for c in range(5) if (y == c).any()][:4]]
    if not ctx.smoke:
        entry["demo"] = demos.gesture_demo(ctx, tfl, groups["test"])
    return finish(ctx, tfl, xq, y, vectors, entry)


# --- machine monitoring -------------------------------------------------------------------------
MACHINE_SCALE = 1.0 / 32


def machine_net() -> Any:
    """Fully connected autoencoder on 4 windows x 32 log band energies: 128-64-16-64-128."""
    i = L.Input((128,))
    x = i
    for n in (64, 16, 64):
        x = L.Dense(n, activation="relu")(x)
    return keras.Model(i, L.Dense(128)(x), name="machine")


def task_machine(ctx: Ctx) -> dict[str, Any]:
    from models.tinyml import apps, demos, twins
    from models.tinyml import data_machine as dm

    rng = ctx.rng(0)
    machines = [dm.random_machine(rng) for _ in range(40)]
    train_m, test_m = machines[:30], machines[30:]
    secs = {"train": 12.0, "val": 6.0, "test": 8.0} if not ctx.smoke else {"train": 1.0, "val": 1.0, "test": 1.0}

    def inputs(m: Any, cond: str, seconds: float, r: np.random.Generator) -> np.ndarray:
        return twins.machine_inputs(twins.machine_features(dm.to_codes(m, dm.vibration(r, m, cond, seconds))))

    def make() -> dict[str, np.ndarray]:
        r = ctx.rng(1)
        out = {"train_x": np.concatenate([inputs(m, "healthy", secs["train"], r) for m in train_m]),
               "val_x": np.concatenate([inputs(m, "healthy", secs["val"], r) for m in train_m])}
        xs, conds = [], []
        for m in test_m:
            for c, cond in enumerate(dm.CONDITIONS):
                x = inputs(m, cond, secs["test"], r)
                xs.append(x)
                conds.append(np.full(len(x), c, np.int8))
        out["test_x"], out["test_c"] = np.concatenate(xs), np.concatenate(conds)
        return out

    t0 = time.time()
    d = ctx.cached("data", make)
    ctx.say(f"data: {len(d['train_x'])} healthy training windows ({len(train_m)} machines), {len(d['test_x'])} test "
            f"windows ({len(test_m)} other machines, healthy and 3 faults) in {time.time() - t0:.0f} s")
    f = {k: d[k].astype(np.float32) * MACHINE_SCALE for k in ("train_x", "val_x", "test_x")}
    set_seeds(ctx.seed)
    model = machine_net()
    took = fit(ctx, model, f["train_x"], f["train_x"], epochs=60, batch=32, lr=2e-3, loss="mse",
               val=(f["val_x"], f["val_x"]), metrics=())
    tfl = convert_int8(model, representative(f["train_x"], MACHINE_SCALE, ctx.rng(10)), MACHINE_SCALE)
    zo, mult = apps.machine_rescale(tfl)
    run = common.Tflm(tfl)

    def float_scores(x: np.ndarray) -> np.ndarray:
        return ((predict(model, x) - x) ** 2).sum(axis=1) / MACHINE_SCALE ** 2

    def int8_scores(xq: np.ndarray) -> np.ndarray:
        return twins.machine_scores(xq, run(xq), zo, mult)

    y = (d["test_c"] > 0).astype(np.int8)
    # the threshold: 1.1 x the 99.5th percentile of the scores of healthy validation windows
    thr_f = float(np.quantile(float_scores(f["val_x"]), 0.995) * 1.1)
    thr_q = int(np.quantile(int8_scores(d["val_x"]), 0.995) * 1.1)
    sf, sq = float_scores(f["test_x"]), int8_scores(d["test_x"])
    auc_f, auc_q = common.auc(sf, y), common.auc(sq, y)
    check_close(ctx, auc_f, auc_q, "AUC")
    pf, rf = common.precision_recall(sf > thr_f, y)
    pq, rq = common.precision_recall(sq > thr_q, y)
    per_cond = {c: round(100.0 * float(np.mean(sq[d["test_c"] == k] > thr_q)), 1) for k, c in enumerate(dm.CONDITIONS)}
    ctx.say(f"threshold {thr_q}: precision {pq:.1f}% recall {rq:.1f}% (float {pf:.1f}% / {rf:.1f}%); windows over "
            f"the threshold per condition: {per_cond}")
    entry: dict[str, Any] = {
        "task": "anomaly detection on motor vibration (imbalance, misalignment, bearing faults) from a 4 kHz ADC",
        "metric": "AUC", "float": round(auc_f, 2), "int8": round(auc_q, 2), "threshold": thr_q,
        "out_zero_point": zo, "out_mult": mult,
        "precision": round(pq, 2), "recall": round(rq, 2), "float_precision": round(pf, 2),
        "float_recall": round(rf, 2), "flagged_per_condition": per_cond, "classes": ["healthy", "faulty"],
        "eval": f"{len(y)} windows of {len(test_m)} machines held out of training (healthy and each fault, "
                f"{secs['test']:g} s each)", "train_seconds": round(took, 1), "input_scale": MACHINE_SCALE,
        "tflm_vs_tflite": agreement(ctx, tfl, d["test_x"]),
    }
    vectors = d["test_x"][[int(np.nonzero(d["test_c"] == c)[0][0]) for c in range(4)]]
    if not ctx.smoke:
        entry["demo"] = demos.machine_demo(ctx, tfl, test_m, thr_q)
    return finish(ctx, tfl, d["test_x"], d["test_c"], vectors, entry)


# --- person detection -----------------------------------------------------------------------------
VISION_SCALE = 1.0 / 128
PERSON_COMMITTED = 200  # test images committed as the evaluation set (the rest is regenerated only)


PERSON_BLOCKS = ((16, 1), (32, 2), (32, 1), (64, 2), (64, 1), (128, 2), (128, 1))


def person_net(blocks: tuple[tuple[int, int], ...] = PERSON_BLOCKS) -> Any:
    """MobileNetV1 at alpha 0.25 (8 to 128 channels) with 7 of its 13 depthwise-separable blocks:
    3x3 stride-2 conv, (depthwise 3x3, pointwise 1x1) x 7, global average, 2 classes."""
    i = L.Input((96, 96, 1))
    x = L.Conv2D(8, 3, strides=2, padding="same", use_bias=False)(i)
    x = L.ReLU(6.0)(L.BatchNormalization()(x))
    for ch, stride in blocks:
        x = L.DepthwiseConv2D(3, strides=stride, padding="same", use_bias=False)(x)
        x = L.ReLU(6.0)(L.BatchNormalization()(x))
        x = L.Conv2D(ch, 1, use_bias=False)(x)
        x = L.ReLU(6.0)(L.BatchNormalization()(x))
    x = L.GlobalAveragePooling2D(keepdims=True)(x)
    x = L.Dropout(0.1)(L.Flatten()(x))
    return keras.Model(i, L.Dense(2, activation="softmax")(x), name="person")


def task_person(ctx: Ctx) -> dict[str, Any]:
    from models.tinyml import data_vision as dv
    from models.tinyml import demos

    sizes = {"train": 6000, "val": 400, "test": 1000} if not ctx.smoke else {"train": 48, "val": 8, "test": 8}

    def make_one(k: int, name: str, n: int) -> tuple[np.ndarray, np.ndarray]:
        frames, y = dv.make_split(ctx.rng(1 + k), n)
        return dv.to_input(frames), y

    def mirrored(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return np.concatenate([x, x[:, :, ::-1]]), np.concatenate([y, y])

    t0 = time.time()
    data = load_data(ctx, sizes, make_one)
    ctx.say(f"data: {', '.join(f'{k} {len(v[1])}' for k, v in data.items())} scenes in {time.time() - t0:.0f} s")
    set_seeds(ctx.seed)
    tfl, acc_f, acc_q, took, pred_q = train_classifier(ctx, person_net(), data, VISION_SCALE, epochs=8, batch=64,
                                                       lr=3e-3, augment=mirrored)
    xq, y = data["test"]
    k = min(PERSON_COMMITTED, len(y))
    entry: dict[str, Any] = {
        "task": "person detection (visual wake words style) on synthesized 96x96 grayscale scenes",
        "metric": "accuracy", "float": round(acc_f, 2), "int8": round(acc_q, 2), "classes": list(dv.LABELS),
        "eval": f"{len(y)} scenes drawn independently of the training scenes; the first {k} are committed",
        "committed_eval": {"n": k, "int8": round(common.accuracy(pred_q[:k], y[:k]), 2)},
        "train_seconds": round(took, 1), "input_scale": VISION_SCALE,
        "tflm_vs_tflite": agreement(ctx, tfl, xq[:k]),
    }
    vectors = xq[[int(np.nonzero(y == c)[0][0]) for c in (0, 1)]]
    if not ctx.smoke:
        entry["demo"] = demos.person_demo(ctx, tfl)
    return finish(ctx, tfl, xq[:k], y[:k], vectors, entry)


# --- sine ------------------------------------------------------------------------------------------
def sine_net() -> Any:
    """TFLite Micro's "hello world": y = sin(x) on [0, 2 pi] with two hidden layers of 16."""
    i = L.Input((1,))
    x = L.Dense(16, activation="relu")(i)
    x = L.Dense(16, activation="relu")(x)
    return keras.Model(i, L.Dense(1)(x), name="sine")


def task_sine(ctx: Ctx) -> dict[str, Any]:
    rng = ctx.rng(0)
    n = 2000 if not ctx.smoke else 64
    x = rng.uniform(0, 2 * np.pi, (n, 1)).astype(np.float32)
    y = (np.sin(x) + rng.normal(0, 0.1, x.shape)).astype(np.float32)  # noisy training data, as in TFLM's example
    xt = np.linspace(0, 2 * np.pi, 1000, dtype=np.float32)[:, None]
    yt = np.sin(xt)
    set_seeds(ctx.seed)
    model = sine_net()
    took = fit(ctx, model, x, y, epochs=400, batch=64, lr=1e-2, loss="mse", metrics=())
    calib = rng.uniform(0, 2 * np.pi, (256, 1)).astype(np.float32)
    calib[0, 0], calib[1, 0] = 0.0, 2 * np.pi
    tfl = convert_int8(model, calib, None)
    st = common.model_stats(tfl)
    si, zi = common.quant(st["inputs"][0])
    so, zo = common.quant(st["outputs"][0])
    xq = np.clip(np.round(xt / si) + zi, -128, 127).astype(np.int8)
    yq = (common.Tflm(tfl)(xq).astype(np.float32) - zo) * so
    r_f, r_q = common.r2(predict(model, xt), yt), common.r2(yq, yt)
    check_close(ctx, r_f, r_q, "R^2")
    entry: dict[str, Any] = {
        "task": "regression y = sin(x) on [0, 2 pi] (TFLite Micro's hello world)", "metric": "R^2 %",
        "float": round(r_f, 2), "int8": round(r_q, 2),
        "eval": f"{len(xt)} points evenly spaced on [0, 2 pi] against the exact sine",
        "train_seconds": round(took, 1), "tflm_vs_tflite": agreement(ctx, tfl, xq),
    }
    conv = batch1_converter(model)
    with warnings.catch_warnings(), quiet_fds():
        warnings.simplefilter("ignore")
        tfl_float = conv.convert()
    (ctx.out / "sine_float.tflite").write_bytes(tfl_float)
    np.save(ctx.out / "sine_float.inputs.npy", xt[::125])
    y_float = common.Tflm(tfl_float)(xt)
    entry["float_model"] = {"file": "sine_float.tflite", "size_bytes": len(tfl_float),
                            "r2_tflm": round(common.r2(y_float, yt), 2)}
    return finish(ctx, tfl, xq, yt.astype(np.float32), xq[::125], entry)


@dataclass(frozen=True)
class Task:
    name: str
    index: int
    run: Callable[[Ctx], dict[str, Any]]
    description: str


TASKS = [
    Task("kws", 0, task_kws, "DS-CNN keyword spotter on the kws_mic front end (espeak-ng words)"),
    Task("gestures", 1, task_gestures, "1-D CNN gesture classifier on the IMU (synthesized wand motions)"),
    Task("machine", 2, task_machine, "autoencoder anomaly detector on vibration spectra from the ADC"),
    Task("person", 3, task_person, "MobileNetV1-style person detector on 96x96 grayscale camera frames"),
    Task("sine", 4, task_sine, "the sine regression, the smallest example (float and int8)"),
]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--only", action="append", metavar="NAME", help="train only this model (repeatable)")
    ap.add_argument("--out", type=Path, default=TRAINED, help="output directory (default models/trained)")
    ap.add_argument("--smoke", action="store_true", help="tiny data, one short epoch: checks the pipeline only")
    ap.add_argument("--cache", type=Path, help="keep synthesized data here between runs (development)")
    args = ap.parse_args(argv)
    names = [t.name for t in TASKS]
    for n in args.only or []:
        if n not in names:
            ap.error(f"unknown model {n!r}; choose from {', '.join(names)}")
    args.out.mkdir(parents=True, exist_ok=True)
    if tf.__version__ != TESTED_TF:
        print(f"note: TensorFlow {tf.__version__}; the committed models were made with {TESTED_TF}")
    metrics_path = args.out / "metrics.json"
    metrics = common.load_metrics(metrics_path)
    t0 = time.time()
    import importlib.metadata as md

    for t in TASKS:
        if args.only and t.name not in args.only:
            continue
        keras.backend.clear_session()  # fresh layer-name counters: --only NAME gives a full run's bytes
        ctx = Ctx(t.name, BASE_SEED + t.index, args.out, args.smoke, cache=args.cache)
        t1 = time.time()
        entry = t.run(ctx)
        entry["description"] = t.description
        entry["seconds"] = round(time.time() - t1, 1)
        metrics["models"][t.name] = entry
    metrics.update({"generator": "python -m models.tinyml.train", "base_seed": BASE_SEED,
                    "tensorflow": tf.__version__, "keras": keras.__version__,
                    "tflite_micro": md.version("tflite-micro"), "numpy": np.__version__,
                    "python": platform.python_version(), "smoke": args.smoke})
    metrics["models"] = {k: metrics["models"][k] for k in names if k in metrics["models"]}
    common.save_metrics(metrics, metrics_path)
    print(f"done in {time.time() - t0:.0f} s: {metrics_path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
