"""The text VAE on the project's road: train_run / CLI, generate from codes, export, NaN handling."""

import json
import os
import subprocess
import sys

import keras
import numpy as np
import pytest
import tensorflow as tf

from lm_keras.config import RunConfig, TokenizerConfig, TrainConfig
from lm_keras.data.corpus import Corpus
from lm_keras.errors import TrainingError
from lm_keras.generation import LatentGenerator
from lm_keras.runs import load_run
from lm_keras.training import train_run
from lm_keras.training.run import backup_dir_for

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
A = "白日依山盡，黃河入海流。欲窮千里目，更上一層樓。"
B = "床前明月光，疑是地上霜。舉頭望明月，低頭思故鄉。"


def _cli(*args):
    return subprocess.run([sys.executable, "-m", "lm_keras", *map(str, args)], capture_output=True, text=True,
                          cwd=ROOT, timeout=600)


@pytest.fixture(scope="module")
def vae_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("runs") / "vae"
    result = _cli("train", "--corpus", "tang_quatrains", "--model", "vae", "--vocab-size", 1500, "--decoder-dim", 96,
                  "--embedding-dim", 48, "--encoder-dim", 48, "--latent-dim", 8, "--batch-norm-gamma", 0.6,
                  "--steps", 40, "--eval-interval", 20, "--eval-batches", 2, "--out", out, "--quiet")
    assert result.returncode == 0, result.stderr
    assert "Validation: reconstruction" in result.stdout and "active units" in result.stdout
    return out


@pytest.mark.slow
def test_cli_trains_a_vae_run_that_reloads(vae_run):
    config = json.loads((vae_run / "config.json").read_text())
    assert config["model_type"] == "vae" and config["model"]["batch_norm_gamma"] == 0.6
    assert config["model"]["context_length"] == config["train"]["context_length"]
    run = load_run(vae_run)
    assert {"reconstruction", "kl", "elbo", "active_units", "mutual_information"} <= set(run.evaluation)
    assert {"val_reconstruction", "val_kl", "val_elbo"} <= set(run.history)
    assert len(run.samples) == 3


@pytest.mark.slow
def test_cli_generates_from_codes(vae_run):
    result = _cli("generate", vae_run, "--interpolate", A, B, "--steps", 3)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.strip().splitlines()
    assert [line.split()[0] for line in lines] == ["0.00", "0.50", "1.00"]
    first = _cli("generate", vae_run, "--sample", 2, "--seed", 7, "--temperature", 0.8)
    again = _cli("generate", vae_run, "--sample", 2, "--seed", 7, "--temperature", 0.8)
    assert first.returncode == 0 and first.stdout == again.stdout and len(first.stdout.strip().splitlines()) == 2


@pytest.mark.parametrize("args,message", [
    (["train", "--model", "vae", "--free-bits", "-1"], "VAEConfig.free_bits = -1.0 is invalid"),
    (["train", "--model", "vae", "--word-dropout", "1"], "VAEConfig.word_dropout = 1.0 is invalid"),
    (["train", "--model", "vae", "--beta", "-0.5"], "VAEConfig.beta = -0.5 is invalid"),
    (["train", "--model", "vae", "--corpus", "tiny_shakespeare"], "needs a corpus of one document per line"),
    (["generate", "no/such/run", "--interpolate", "a", "b"], "No run directory"),
    (["train", "--model", "vae", "--hidden-dim", "64"], "--hidden-dim do(es) not apply to --model vae"),
])
def test_cli_bad_vae_input_is_one_clear_line(args, message):
    result = _cli(*args)
    assert result.returncode == 2
    last_line = result.stderr.strip().splitlines()[-1]
    assert last_line.startswith("error:") and message in last_line


def test_latent_generator_bad_input(vae_run):
    run = load_run(vae_run)
    codes = LatentGenerator(run.model, run.tokenizer)
    with pytest.raises(ValueError, match=r"texts\[1\] = '' is empty"):
        codes.encode([A, ""])
    with pytest.warns(UserWarning, match="truncated"):
        long_mean, _ = codes.encode(A * 5)
    np.testing.assert_allclose(long_mean, codes.encode(A * 6)[0], atol=1e-5)  # both cut to the context (100)
    unknown_mean, _ = codes.encode("ΩΩΩ，ΨΨΨ。")  # characters the vocabulary never saw: [UNK]
    assert np.all(np.isfinite(unknown_mean))
    with pytest.raises(ValueError, match="steps=1 is invalid"):
        codes.interpolate(A, B, steps=1)


def test_interpolation_ends_decode_the_two_posterior_means_and_neighbours_find_the_poem(vae_run):
    run = load_run(vae_run)
    codes = LatentGenerator(run.model, run.tokenizer)
    path = codes.interpolate(A, B, steps=4)
    assert [t for t, _ in path] == pytest.approx([0, 1 / 3, 2 / 3, 1])
    assert path[0][1] == codes.reconstruct(A)[0] and path[-1][1] == codes.reconstruct(B)[0]
    neighbours = codes.nearest_neighbours(A, [B, "春眠不覺曉，處處聞啼鳥。夜來風雨聲，花落知多少。", A], k=2)
    # A is encoded alone and inside a batch of three: the codes may differ in the last float bits
    assert neighbours[0][0] == A and neighbours[0][1] == pytest.approx(0.0, abs=1e-4)
    assert neighbours[1][1] > 1e-2


@pytest.mark.slow
def test_export_serves_encode_reconstruct_sample_interpolate_with_plain_tensorflow(vae_run, tmp_path):
    export = tmp_path / "vae_export"
    result = _cli("export", vae_run, "--out", export)
    assert result.returncode == 0, result.stderr
    assert "encode, reconstruct, sample, interpolate" in result.stdout
    script = f"""
import json, tensorflow as tf
m = tf.saved_model.load({str(export)!r})
enc = m.encode(tf.constant([{A!r}, {B!r}]))
s1 = m.sample(tf.constant(3), tf.constant(0.9), tf.constant(5))["text"].numpy().tolist()
s2 = m.sample(tf.constant(3), tf.constant(0.9), tf.constant(5))["text"].numpy().tolist()
path = m.interpolate(tf.constant({A!r}), tf.constant({B!r}), tf.constant(5))
rec = m.reconstruct(tf.constant([{A!r}]), tf.constant(0.0), tf.constant(0))["text"].numpy()[0].decode()
print(json.dumps({{"z_mean": enc["z_mean"].numpy().tolist(), "same_samples": s1 == s2, "n": len(s1),
                  "path": [t.decode() for t in path["text"].numpy()], "t": path["t"].numpy().tolist(),
                  "reconstruction": rec, "signatures": sorted(m.signatures)}}))
"""
    plain = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=600)
    assert plain.returncode == 0, plain.stderr
    served = json.loads(plain.stdout.strip().splitlines()[-1])
    assert served["signatures"] == ["encode", "generate", "interpolate", "reconstruct", "sample", "serving_default"]
    assert served["same_samples"] and served["n"] == 3 and served["t"] == pytest.approx([0, .25, .5, .75, 1])
    run = load_run(vae_run)
    codes = LatentGenerator(run.model, run.tokenizer)
    np.testing.assert_allclose(served["z_mean"], codes.encode([A, B])[0], atol=1e-5)
    assert served["reconstruction"] == codes.reconstruct(A)[0]
    assert served["path"][0] == codes.reconstruct(A)[0] and served["path"][-1] == codes.reconstruct(B)[0]


@pytest.mark.slow
def test_nan_loss_stops_with_a_clear_message_and_keeps_the_last_good_checkpoint(tmp_path):
    poems = [A, B, "春眠不覺曉，處處聞啼鳥。夜來風雨聲，花落知多少。", "紅豆生南國，春來發幾枝。願君多采擷，此物最相思。"]
    corpus = Corpus(name="poems", text="\n".join(poems * 40), line_level=True)
    config = RunConfig(corpus="poems", tokenizer=TokenizerConfig("char"), model_type="vae",
                       model=dict(latent_dim=4, embedding_dim=8, encoder_dim=8, decoder_dim=16),
                       train=TrainConfig(context_length=40, batch_size=8, steps=6, eval_interval=2, eval_batches=1))

    class ExplodeInThirdInterval(keras.callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            self.explode = epoch == 2

        def on_train_batch_end(self, batch, logs=None):
            if self.explode:
                for w in self.model.trainable_weights:
                    w.assign(w * np.nan)

    out = tmp_path / "run"
    with pytest.raises(TrainingError, match=r"NaN.*last good checkpoint \(after evaluation interval 2\)"):
        train_run(config, out=out, corpus=corpus, callbacks=[ExplodeInThirdInterval()], verbose=0,
                  notice=lambda *_: None)
    assert not out.exists()
    backup = backup_dir_for(out)
    assert json.loads((backup / "training_metadata.json").read_text())["epoch"] == 2
    run = train_run(config, out=out, corpus=corpus, verbose=0, notice=lambda *_: None)  # resumes from it
    assert float(run.model.steps_seen) == 6 and np.isfinite(run.history["loss"]).all()
    assert not backup.exists()
    assert tf.reduce_all(tf.math.is_finite(run.model.encode(tf.constant([[2, 5, 6, 3]]))[0]))


MIRRORED_VAE = r"""
import json
import tensorflow as tf
cpu = tf.config.list_physical_devices("CPU")[0]
tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
import keras, numpy as np
from lm_keras.models import TextVAE
from lm_keras.training import resolve_strategy

rng = np.random.default_rng(0)
rows = np.concatenate([np.full((16, 1), 2), rng.integers(4, 40, (16, 10)), np.full((16, 1), 3)], 1).astype("int32")


def first_step(strategy, precision="float32"):
    keras.utils.set_random_seed(0)
    with strategy.scope():
        vae = TextVAE(40, latent_dim=4, embedding_dim=8, encoder_dim=8, decoder_dim=16, seed=0)
        vae(np.zeros((1, 2), "int32"))
        # σ ≈ 0: z = μ on every replica, so one device and two replicas see the same batch
        vae.z_log_var_head.kernel.assign(np.zeros(vae.z_log_var_head.kernel.shape))
        vae.z_log_var_head.bias.assign(np.full(vae.z_log_var_head.bias.shape, -40.0))
        vae.compile(optimizer=keras.optimizers.SGD(1.0))  # the change of each weight is minus its gradient
    before = [w.numpy().copy() for w in vae.trainable_weights]
    logs = vae.train_on_batch(rows, return_dict=True)
    return logs["loss"], [b - w.numpy() for b, w in zip(before, vae.trainable_weights)], float(vae.steps_seen.numpy())


loss_1, grads_1, _ = first_step(tf.distribute.get_strategy())
loss_2, grads_2, steps = first_step(resolve_strategy("mirrored"))
print(json.dumps({"loss_difference": float(abs(loss_1 - loss_2)), "steps_seen": steps,
                  "gradient_difference": max(float(np.abs(a - b).max()) for a, b in zip(grads_1, grads_2)),
                  "gradient_scale": max(float(np.abs(a).max()) for a in grads_1)}))
"""


@pytest.mark.slow
def test_vae_train_step_over_two_replicas_matches_one_device():
    result = subprocess.run([sys.executable, "-c", MIRRORED_VAE], capture_output=True, text=True, timeout=600,
                            cwd=ROOT)
    assert result.returncode == 0, result.stderr[-3000:]
    out = json.loads(result.stdout.strip().splitlines()[-1])
    print(out)
    assert out["loss_difference"] < 1e-3 and out["steps_seen"] == 1
    assert out["gradient_difference"] < 1e-5 and out["gradient_scale"] > 1e-3


@pytest.mark.slow
def test_vae_trains_under_mixed_bfloat16(quatrains):
    from lm_keras.data.pipeline import document_dataset
    from lm_keras.models import TextVAE
    from lm_keras.training import compile_language_model, precision_policy

    keras.utils.set_random_seed(0)
    with precision_policy("mixed_bfloat16"):
        vae = TextVAE(quatrains["tokenizer"].vocabulary_size, latent_dim=8, embedding_dim=32, encoder_dim=32,
                      decoder_dim=64, free_bits=0.1, seed=0)
        vae(tf.zeros((1, 2), tf.int32))
        compile_language_model(vae, TrainConfig(learning_rate=3e-3))
    history = vae.fit(document_dataset(quatrains["rows"]["train"], 32, repeat=True), steps_per_epoch=20, epochs=2,
                      verbose=0).history
    assert vae.dtype_policy.name == "mixed_bfloat16"
    assert vae(tf.constant(quatrains["rows"]["validation"][:2])).dtype == "float32"
    assert np.isfinite(history["loss"]).all() and history["reconstruction"][-1] < history["reconstruction"][0]


@pytest.mark.slow
def test_cli_evaluates_a_vae_run(vae_run):
    result = _cli("evaluate", vae_run, "--split", "validation", "--iw-samples", 3, "--json")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["split"] == "validation" and report["num_rows"] > 1000
    assert report["nll_iw"] <= -report["elbo"] + 0.5  # the IW bound is at least as tight as the ELBO
    assert report["elbo"] == pytest.approx(-(report["reconstruction"] + report["kl"]))


@pytest.mark.slow
def test_samples_never_contain_unknown_and_match_the_export_for_a_seed(vae_run, tmp_path):
    from lm_keras.export import export_run, load

    run = load_run(vae_run)
    codes = LatentGenerator(run.model, run.tokenizer)
    samples = codes.sample(6, seed=11, temperature=1.0)
    assert not any("\ufffd" in text for text in samples)
    exported = load(export_run(vae_run, tmp_path / "export"))
    assert exported.sample(6, temperature=1.0, seed=11) == samples
    assert exported.interpolate(A, B, steps=3) == codes.interpolate(A, B, steps=3)
