"""TensorFlow for deterministic model making, shared by generate.py and tinyml/train.py.

Importing this module sets the environment TensorFlow reads at import (deterministic ops, CPU
only, oneDNN off: its float rounding varies by CPU, quiet C++ logs), so import it before
TensorFlow. ``import_tf()`` then imports TensorFlow and Keras with op determinism on and one
inter-op thread; ``set_seeds`` seeds python, numpy, TensorFlow and Keras.
"""

from __future__ import annotations

import logging
import os
import random
from typing import Any

import numpy as np

os.environ.setdefault("TF_DETERMINISTIC_OPS", "1")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("CUDA_VISIBLE_DEVICES", "-1")  # CPU only
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")  # oneDNN float rounding varies by CPU


def import_tf(intra_op_threads: int | None = None) -> tuple[Any, Any]:
    """(tensorflow, keras), set up for deterministic runs on the CPU."""
    import tensorflow as tf

    tf.get_logger().setLevel(logging.ERROR)
    tf.config.set_visible_devices([], "GPU")
    tf.config.experimental.enable_op_determinism()
    tf.config.threading.set_inter_op_parallelism_threads(1)
    if intra_op_threads:
        tf.config.threading.set_intra_op_parallelism_threads(intra_op_threads)
    import keras

    return tf, keras


def set_seeds(seed: int) -> None:
    import keras
    import tensorflow as tf

    random.seed(seed)
    np.random.seed(seed)
    tf.random.set_seed(seed)
    keras.utils.set_random_seed(seed)
