"""The training engine at scale: distribution, mixed precision, gradient accumulation, resume, monitoring."""

import json
import os
import signal
import subprocess
import sys
import time

import keras
import numpy as np
import pytest
import tensorflow as tf

from lm_keras.config import RunConfig, TrainConfig
from lm_keras.errors import ConfigError
from lm_keras.generation import Generator
from lm_keras.models import build_model
from lm_keras.tokenizers import CharTokenizer
from lm_keras.training import (GenerateSamples, check_global_batch, compile_language_model, fit_language_model,
                               resolve_precision, resolve_strategy, train_run)

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
TEXT = "the quick brown fox jumps over the lazy dog. " * 40
SMALL = {"transformer": dict(context_length=16, num_layers=1, num_heads=2, d_model=32),
         "rnn": dict(cell_type="lstm", embedding_dim=16, hidden_dim=32)}

MIRRORED = r"""
import json, sys
import tensorflow as tf
cpu = tf.config.list_physical_devices("CPU")[0]
tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
import keras, numpy as np
from lm_keras.config import TrainConfig
from lm_keras.models import build_model
from lm_keras.training import compile_language_model, fit_language_model, resolve_strategy

SMALL = json.loads(sys.argv[1])
rng = np.random.default_rng(0)
x = rng.integers(4, 40, (16, 12)).astype("int32")
y = np.roll(x, -1, axis=1)


def first_step(model_type, strategy):
    keras.utils.set_random_seed(0)
    with strategy.scope():
        model = build_model(model_type, vocabulary_size=40, **SMALL[model_type])
        model(np.zeros((1, 1), "int32"))
        # SGD with learning rate 1: the change of every weight is minus its gradient
        model.compile(keras.optimizers.SGD(1.0), keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    before = [w.numpy().copy() for w in model.trainable_weights]
    loss = float(model.train_on_batch(x, y))
    return loss, [b - w.numpy() for b, w in zip(before, model.trainable_weights)]


mirrored = resolve_strategy("mirrored")
out = {"replicas": mirrored.num_replicas_in_sync}
text_ids = np.tile(np.arange(4, 30, dtype="int32"), 200)
for model_type in SMALL:
    loss_1, grads_1 = first_step(model_type, tf.distribute.get_strategy())
    loss_2, grads_2 = first_step(model_type, mirrored)
    config = TrainConfig(context_length=12, batch_size=16, steps=40, eval_interval=20, eval_batches=2,
                         learning_rate=1e-2)
    keras.utils.set_random_seed(0)
    with mirrored.scope():
        model = build_model(model_type, vocabulary_size=40, **SMALL[model_type])
        model(np.zeros((1, 1), "int32"))
        compile_language_model(model, config)
    history = fit_language_model(model, text_ids[:4000], text_ids[4000:], config, verbose=0)
    out[model_type] = {"loss_difference": abs(loss_1 - loss_2),
                       "gradient_difference": max(float(np.abs(a - b).max()) for a, b in zip(grads_1, grads_2)),
                       "gradient_scale": max(float(np.abs(a).max()) for a in grads_1),
                       "losses": history.history["loss"]}
print(json.dumps(out))
"""


@pytest.mark.slow
def test_mirrored_strategy_over_two_cpus_matches_one_device_and_trains():
    result = subprocess.run([sys.executable, "-c", MIRRORED, json.dumps(SMALL)], capture_output=True, text=True,
                            timeout=600, cwd=ROOT)
    assert result.returncode == 0, result.stderr[-3000:]
    out = json.loads(result.stdout.strip().splitlines()[-1])
    assert out["replicas"] == 2
    for model_type in SMALL:
        r = out[model_type]
        print(model_type, r)
        # the same global batch of 16, split 8 + 8 over two replicas: same loss and gradients (float32 sums)
        assert r["loss_difference"] < 1e-5
        assert r["gradient_difference"] < 1e-5 and r["gradient_scale"] > 1e-3
        assert r["losses"][-1] < r["losses"][0] - 0.5


@pytest.mark.slow
@pytest.mark.parametrize("model_type", list(SMALL))
@pytest.mark.filterwarnings("ignore:Prompt of")
def test_mixed_bfloat16_trains_and_keeps_float32_logits(model_type):
    tokenizer = CharTokenizer.train(TEXT)
    corpus_run = train_run(
        RunConfig(corpus="unused", model_type=model_type, model=SMALL[model_type],
                  train=TrainConfig(context_length=16, batch_size=16, steps=60, eval_interval=20, eval_batches=2,
                                    learning_rate=1e-2, precision="mixed_bfloat16")),
        corpus=_corpus(), verbose=0, notice=lambda *_: None)
    model = corpus_run.model
    assert model.dtype_policy.name == "mixed_bfloat16"
    assert keras.config.dtype_policy().name == "float32", "the global policy is restored"
    logits = model(tokenizer.encode_to_numpy(TEXT[:16])[None])
    assert logits.dtype == "float32"
    losses = corpus_run.history["loss"]
    assert losses[-1] < losses[0] - 0.5 and np.isfinite(corpus_run.evaluation["loss"])


def _corpus():
    from lm_keras.data.corpus import Corpus

    return Corpus(name="fox", text=TEXT)


@pytest.mark.slow
def test_gradient_accumulation_equals_one_big_batch():
    rng = np.random.default_rng(1)
    x = rng.integers(4, 40, (16, 12)).astype("int32")
    y = np.roll(x, -1, axis=1)
    weights = {}
    for name, steps, batches in (("big", 1, [(x, y)]), ("accumulated", 2, [(x[:8], y[:8]), (x[8:], y[8:])])):
        keras.utils.set_random_seed(0)
        model = build_model("transformer", vocabulary_size=40, **SMALL["transformer"])
        model(np.zeros((1, 1), "int32"))
        compile_language_model(model, TrainConfig(learning_rate=1e-2, optimizer="adam", schedule="constant",
                                                  warmup_steps=0, gradient_accumulation_steps=steps))
        initial = [w.numpy().copy() for w in model.trainable_weights]
        for i, (bx, by) in enumerate(batches):
            model.train_on_batch(bx, by)
            if i < len(batches) - 1:  # nothing changes until the last micro-batch
                assert all(np.array_equal(a, w.numpy()) for a, w in zip(initial, model.trainable_weights))
        weights[name] = [w.numpy() for w in model.trainable_weights]
    # Adam's first step is lr · g / (|g| + ε): float32 rounding in a near-zero gradient can move an
    # element by a few 1e-6 (of a step of lr = 1e-2)
    for a, b in zip(weights["big"], weights["accumulated"]):
        np.testing.assert_allclose(a, b, atol=1e-5)
    assert any(not np.allclose(a, b) for a, b in zip(weights["big"], initial))


def test_invalid_scale_options_are_clear_errors(monkeypatch):
    with pytest.raises(ConfigError, match="precision = 'float8' is invalid"):
        resolve_precision("float8")
    with pytest.raises(ConfigError, match="distribution = 'horovod' is invalid"):
        resolve_strategy("horovod")
    with pytest.raises(ConfigError, match="no TPU was found"):
        resolve_strategy("tpu")
    monkeypatch.delenv("TF_CONFIG", raising=False)
    with pytest.raises(ConfigError, match="needs the TF_CONFIG"):
        resolve_strategy("multi_worker")

    class FourReplicas:
        num_replicas_in_sync = 4

    with pytest.raises(ConfigError, match="batch_size = 10 is invalid: the global batch must be divisible by the 4"):
        check_global_batch(10, FourReplicas())
    assert check_global_batch(12, FourReplicas()) == 3
    with pytest.raises(ConfigError, match="TrainConfig.gradient_accumulation_steps = 0 is invalid"):
        TrainConfig(gradient_accumulation_steps=0)
    assert resolve_precision("auto") == "float32"  # on a CPU


def test_tensorboard_logs_and_samples_while_training(tmp_path):
    tokenizer = CharTokenizer.train(TEXT)
    ids = tokenizer.encode_to_numpy(TEXT)
    keras.utils.set_random_seed(0)
    model = build_model("rnn", vocabulary_size=tokenizer.vocabulary_size, **SMALL["rnn"])
    config = TrainConfig(context_length=16, batch_size=8, steps=20, eval_interval=10, eval_batches=2,
                         learning_rate=1e-2, schedule="cosine", warmup_steps=2)
    compile_language_model(model, config)
    printed = []
    samples = GenerateSamples(Generator(model, tokenizer), "the ", every=10, max_new_tokens=12, printer=printed.append)
    history = fit_language_model(model, ids[:1500], ids[1500:], config, callbacks=[samples], verbose=0,
                                 tensorboard_dir=tmp_path / "tb")
    assert [step for step, _ in samples.samples] == [10, 20] and all("the " in p for p in printed)
    assert history.history["learning_rate"][1] < history.history["learning_rate"][0]  # cosine decay
    assert all(v > 0 for v in history.history["tokens_per_second"])
    tags = set()
    for path in (tmp_path / "tb").rglob("events.out.tfevents*"):
        for record in tf.data.TFRecordDataset(str(path)):
            event = tf.compat.v1.Event.FromString(record.numpy())
            tags.update(v.tag for v in event.summary.value)
    assert {"epoch_loss", "epoch_perplexity", "epoch_learning_rate", "epoch_tokens_per_second"} <= tags


def _train_command(corpus, out):
    return [sys.executable, "-m", "lm_keras", "train", "--corpus", str(corpus), "--model", "gru",
            "--embedding-dim", "16", "--hidden-dim", "64", "--context", "32", "--batch-size", "16",
            "--steps", "300", "--eval-interval", "50", "--eval-batches", "2", "--learning-rate", "0.005",
            "--deterministic", "--precision", "float32", "--distribution", "none", "--seed", "3", "--quiet",
            "--out", str(out)]


@pytest.mark.slow
def test_a_killed_run_resumes_and_ends_with_the_same_weights(tmp_path, shakespeare):
    corpus = tmp_path / "text.txt"
    corpus.write_text(shakespeare.text[:100000], encoding="utf-8")
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}

    uninterrupted = subprocess.run(_train_command(corpus, tmp_path / "a"), capture_output=True, text=True,
                                   timeout=600, cwd=ROOT, env=env)
    assert uninterrupted.returncode == 0, uninterrupted.stderr[-2000:]

    out = tmp_path / "b"
    metadata = tmp_path / "b.backup" / "training_metadata.json"
    process = subprocess.Popen(_train_command(corpus, out), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                               cwd=ROOT, env=env)
    deadline = time.time() + 300
    while time.time() < deadline and process.poll() is None:
        if metadata.is_file() and json.loads(metadata.read_text() or "{}").get("epoch", 0) >= 2:
            process.send_signal(signal.SIGKILL)  # mid-run, after the second checkpoint
            break
        time.sleep(0.02)
    process.wait(timeout=60)
    assert process.returncode == -signal.SIGKILL, "the run finished before it could be killed"
    assert not out.exists() and metadata.is_file()

    resumed = subprocess.run(_train_command(corpus, out), capture_output=True, text=True, timeout=600, cwd=ROOT,
                             env=env)
    assert resumed.returncode == 0, resumed.stderr[-2000:]
    assert "Resuming from the checkpoint" in resumed.stdout
    expected = json.loads((tmp_path / "a" / "evaluation.json").read_text())["loss"]
    got = json.loads((out / "evaluation.json").read_text())["loss"]
    print(f"uninterrupted {expected:.8f}, killed and resumed {got:.8f}")
    assert abs(got - expected) < 1e-6
    assert not (tmp_path / "b.backup").exists(), "the checkpoint is removed once the run is complete"
    metrics = (out / "metrics.csv").read_text().strip().splitlines()
    assert len(metrics) == 1 + 6  # header + every evaluation interval, before and after the kill
