"""Where and in what number format a model trains: the precision policy and the tf.distribute strategy.

Both are chosen once, before the model is built (Keras layers read the global dtype policy
when they are created, and variables must be created inside the strategy's scope).
"""

import json
import os

import keras
import tensorflow as tf

from lm_keras.config import DISTRIBUTIONS, PRECISIONS
from lm_keras.errors import ConfigError

_TPU = {}
_STRATEGIES = {}


def _tpu_hint():
    """True where a TPU may be attached (Colab/Kaggle/GCE TPU settings or a TPU VM's device files);
    elsewhere the resolver is not even tried, as it may wait for a cloud metadata server."""
    names = ("COLAB_TPU_ADDR", "TPU_NAME", "TPU_ACCELERATOR_TYPE", "TPU_WORKER_ID")
    return any(n in os.environ for n in names) or os.path.exists("/dev/accel0") or os.path.exists("/dev/vfio/0")


def find_tpu():
    """A `TPUClusterResolver` connected and initialised once, or None when there is no TPU."""
    if "resolver" not in _TPU:
        if not _tpu_hint():
            _TPU["resolver"] = None
            return None
        try:
            remote = "COLAB_TPU_ADDR" in os.environ or "TPU_NAME" in os.environ
            resolver = tf.distribute.cluster_resolver.TPUClusterResolver(*(() if remote else ("local",)))
            tf.config.experimental_connect_to_cluster(resolver)
            tf.tpu.experimental.initialize_tpu_system(resolver)
            _TPU["resolver"] = resolver
        except (ValueError, tf.errors.NotFoundError, tf.errors.UnavailableError, RuntimeError):
            _TPU["resolver"] = None
    return _TPU["resolver"]


def resolve_precision(name="auto"):
    """A Keras dtype policy name for `name`.

    `auto`: bfloat16 on a TPU and on GPUs that compute in it (compute capability >= 8.0,
    Ampere and later), float16 with loss scaling on older GPUs (>= 7.0, with tensor
    cores), float32 otherwise (CPUs gain nothing from 16-bit formats).
    """
    if name not in PRECISIONS:
        raise ConfigError(f"precision = {name!r} is invalid: must be one of {', '.join(map(repr, PRECISIONS))}")
    if name != "auto":
        return name
    if find_tpu() is not None:
        return "mixed_bfloat16"
    capabilities = [tf.config.experimental.get_device_details(gpu).get("compute_capability", (0, 0))
                    for gpu in tf.config.list_physical_devices("GPU")]
    if capabilities and min(capabilities) >= (8, 0):
        return "mixed_bfloat16"
    if capabilities and min(capabilities) >= (7, 0):
        return "mixed_float16"
    return "float32"


def resolve_strategy(name="auto"):
    """A `tf.distribute.Strategy` for `name`.

    - `none`: the default strategy (one device).
    - `mirrored`: data parallel over every GPU, or over the logical CPU devices when there
      is no GPU (how the tests run it).
    - `tpu`: `TPUStrategy` on the TPU found by `TPUClusterResolver` (Colab, Kaggle).
    - `multi_worker`: `MultiWorkerMirroredStrategy`, configured by the `TF_CONFIG`
      environment variable that every worker sets.
    - `auto`: a TPU if there is one, `mirrored` with more than one GPU, else `none`.

    One strategy per name is kept for the whole process: two `MirroredStrategy` objects in
    one process can collide in their collective-op keys.
    """
    if name not in DISTRIBUTIONS:
        raise ConfigError(f"distribution = {name!r} is invalid: must be one of "
                          f"{', '.join(map(repr, DISTRIBUTIONS))}")
    if name == "auto":
        if find_tpu() is not None:
            name = "tpu"
        else:
            name = "mirrored" if len(tf.config.list_logical_devices("GPU")) > 1 else "none"
    if name == "none":
        return tf.distribute.get_strategy()
    if name not in _STRATEGIES:
        _STRATEGIES[name] = _new_strategy(name)
    return _STRATEGIES[name]


def _new_strategy(name):
    if name == "tpu":
        resolver = find_tpu()
        if resolver is None:
            raise ConfigError("distribution = 'tpu' is invalid here: no TPU was found (on Colab choose "
                              "Runtime > Change runtime type > TPU)")
        return tf.distribute.TPUStrategy(resolver)
    if name == "multi_worker":
        if "TF_CONFIG" not in os.environ:
            raise ConfigError("distribution = 'multi_worker' needs the TF_CONFIG environment variable (the "
                              "cluster and this worker's task), e.g. TF_CONFIG='{\"cluster\": {\"worker\": "
                              "[\"host1:12345\", \"host2:12345\"]}, \"task\": {\"type\": \"worker\", \"index\": 0}}'")
        try:
            json.loads(os.environ["TF_CONFIG"])
        except ValueError as e:
            raise ConfigError(f"TF_CONFIG is not valid JSON ({e})") from e
        return tf.distribute.MultiWorkerMirroredStrategy()
    gpus = tf.config.list_logical_devices("GPU")
    devices = [d.name for d in (gpus or tf.config.list_logical_devices("CPU"))]
    return tf.distribute.MirroredStrategy(devices)


def check_global_batch(batch_size, strategy):
    """The global batch is split evenly over the replicas: per-replica batch = global / replicas."""
    replicas = strategy.num_replicas_in_sync
    if batch_size % replicas:
        raise ConfigError(f"TrainConfig.batch_size = {batch_size} is invalid: the global batch must be divisible "
                          f"by the {replicas} replicas of the distribution strategy")
    return batch_size // replicas


class precision_policy:
    """Context manager: set the global Keras dtype policy, restore the previous one on exit."""

    def __init__(self, name):
        self.name = name

    def __enter__(self):
        self.previous = keras.config.dtype_policy()
        keras.config.set_dtype_policy(self.name)
        return self.name

    def __exit__(self, *exc):
        keras.config.set_dtype_policy(self.previous)
        return False


def strategy_name(strategy):
    """How a strategy reads in a message: its class (`MirroredStrategy`, `TPUStrategy`, ...), or "one device"
    for TensorFlow's default strategy, whose class is private."""
    name = type(strategy).__name__
    return "one device" if name.startswith("_") else name


def describe_devices(verbose=True):
    """The strategy `resolve_strategy("auto")` gives, what it runs on, and the precision `"auto"` picks.

    Returns a dict with `strategy` (the cached `tf.distribute.Strategy` that `train_run` with
    `distribution="auto"` also uses, so a TPU is connected and initialised only once), `device`
    (a description: TPU cores, GPU names and compute capability, or CPU), `replicas`
    (`strategy.num_replicas_in_sync`) and `precision` (the Keras dtype policy of
    `resolve_precision("auto")`). With `verbose`, prints them.
    """
    strategy = resolve_strategy("auto")
    gpus = tf.config.list_physical_devices("GPU")
    if find_tpu() is not None:
        device = f"TPU with {len(tf.config.list_logical_devices('TPU'))} cores"
    elif gpus:
        names = []
        for gpu in gpus:
            details = tf.config.experimental.get_device_details(gpu)
            capability = details.get("compute_capability")
            names.append(details.get("device_name", gpu.name)
                         + (f" (compute capability {capability[0]}.{capability[1]})" if capability else ""))
        device = f"{len(gpus)} GPU(s): " + ", ".join(sorted(set(names)))
    else:
        device = (f"CPU ({os.cpu_count()} cores, {len(tf.config.list_logical_devices('CPU'))} "
                  "logical device(s))")
    info = {"strategy": strategy, "device": device, "replicas": strategy.num_replicas_in_sync,
            "precision": resolve_precision("auto")}
    if verbose:
        print(f"Device:    {info['device']}")
        print(f"Strategy:  {strategy_name(strategy)}, {info['replicas']} replica(s)")
        print(f"Precision: {info['precision']} (the Keras dtype policy that precision='auto' chooses)")
    return info
