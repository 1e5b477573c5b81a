"""SavedModel export: strings in, strings out, identical to the in-memory model, loadable without lm_keras."""

import json
import os
import subprocess
import sys

import numpy as np
import pytest
import tensorflow as tf

from lm_keras.config import RunConfig, TokenizerConfig, TrainConfig
from lm_keras.errors import ModelLoadError
from lm_keras.evaluation import score_texts
from lm_keras.export import export_run, export_saved_model, load
from lm_keras.training import train_run

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
PROMPTS = ["ROMEO:", "", "床前明月光😀", "tab\tand\x01control", "To be, or not to be, that is the question: " * 3]
SHORT = TrainConfig(context_length=32, batch_size=16, steps=60, eval_interval=60, eval_batches=2, seed=0)
MODELS = {
    "transformer": dict(model_type="transformer", model={"num_layers": 1, "num_heads": 2, "d_model": 32},
                        train=TrainConfig(**{**SHORT.to_dict(), "learning_rate": 3e-3, "optimizer": "adamw",
                                             "weight_decay": 0.1, "schedule": "cosine", "warmup_steps": 5})),
    "rnn": dict(model_type="rnn", model={"cell_type": "gru", "embedding_dim": 16, "hidden_dim": 48},
                train=TrainConfig(**{**SHORT.to_dict(), "learning_rate": 1e-2})),
}


@pytest.fixture(scope="module", params=list(MODELS))
def exported(request, tmp_path_factory, shakespeare):
    corpus = type(shakespeare)(name="shakespeare_head", text=shakespeare.text[:60000])
    base = tmp_path_factory.mktemp(request.param)
    run = train_run(RunConfig(corpus="unused", **MODELS[request.param]), out=base / "run", corpus=corpus,
                    verbose=0, notice=lambda *_: None)
    path = export_run(base / "run", base / "export", max_new_tokens_limit=256)
    return run, path


def _in_memory_greedy(run, n=40):
    with pytest.warns(UserWarning, match="cropped") if run.config.model_type == "transformer" else _nothing():
        return run.generator()(PROMPTS, max_new_tokens=n, temperature=0.0)


class _nothing:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


SCRIPT = r"""
import json, sys
import tensorflow as tf
model = tf.saved_model.load(sys.argv[1])
prompts = json.loads(sys.argv[2])
greedy = model.signatures["generate"](prompt=tf.constant(prompts), max_new_tokens=tf.constant(40),
                                      temperature=tf.constant(0.0), top_k=tf.constant(0), top_p=tf.constant(1.0),
                                      seed=tf.constant(0))["text"]
default = model.generate(tf.constant(prompts[:1]))["text"]  # the restored function has defaults
serving = model.signatures["serving_default"](prompt=tf.constant(prompts[:1]))["text"]
scores = model.signatures["score"](text=tf.constant(prompts))
assert "lm_keras" not in sys.modules
print(json.dumps({"greedy": [t.decode("utf-8") for t in greedy.numpy()],
                  "default_len": len(default.numpy()[0].decode("utf-8")),
                  "serving_len": len(serving.numpy()[0].decode("utf-8")),
                  "log_likelihood": scores["log_likelihood"].numpy().tolist(),
                  "num_tokens": scores["num_tokens"].numpy().tolist(),
                  "perplexity": scores["perplexity"].numpy().tolist()}))
"""


@pytest.mark.slow
def test_a_fresh_process_without_lm_keras_gets_the_same_text_and_scores(exported):
    run, path = exported
    result = subprocess.run([sys.executable, "-c", SCRIPT, str(path), json.dumps(PROMPTS)], capture_output=True,
                            text=True, timeout=300, cwd="/")
    assert result.returncode == 0, result.stderr[-3000:]
    served = json.loads(result.stdout.strip().splitlines()[-1])
    assert served["greedy"] == _in_memory_greedy(run)
    assert served["default_len"] > len(PROMPTS[0]) and served["serving_len"] > len(PROMPTS[0])
    expected = score_texts(run.model, run.tokenizer, tf.constant(PROMPTS))
    np.testing.assert_allclose(served["log_likelihood"], expected["log_likelihood"].numpy(), rtol=1e-5, atol=1e-4)
    assert served["num_tokens"] == expected["num_tokens"].numpy().tolist()
    assert served["num_tokens"][1] == 0 and served["perplexity"][1] == 1.0  # an empty text predicts nothing
    assert all(np.isfinite(served["perplexity"]))


@pytest.mark.slow
def test_score_agrees_with_the_held_out_evaluation(exported, shakespeare):
    from lm_keras.evaluation import evaluate_language_model

    run, path = exported
    if run.config.model_type != "transformer":
        pytest.skip("windows only matter for a model with a context length")
    text = shakespeare.text[100000 : 100000 + 1 + 32 * 20]  # exactly 20 windows of the context
    scores = load(path).score([text])
    reference = evaluate_language_model(run.model, run.tokenizer.encode_to_numpy(text), 32)
    assert scores["num_tokens"][0] == reference["num_tokens"] == 640
    assert -scores["log_likelihood"][0] / 640 == pytest.approx(reference["loss"], rel=1e-5)


@pytest.mark.slow
def test_same_seed_same_text_and_different_seeds_differ(exported):
    _, path = exported
    lm = load(path)
    a = lm("ROMEO:", max_new_tokens=60, temperature=1.0, seed=7)
    assert a == lm("ROMEO:", max_new_tokens=60, temperature=1.0, seed=7)
    others = {lm("ROMEO:", max_new_tokens=60, temperature=1.0, seed=s) for s in (8, 9, 10)}
    assert a not in others and len(others) == 3
    assert lm("ROMEO:", max_new_tokens=20, temperature=0.0) == lm("ROMEO:", max_new_tokens=20, temperature=-1.0)
    assert lm(["ROMEO:"] * 2, max_new_tokens=20, temperature=1.0, top_k=1, seed=3) == [
        lm("ROMEO:", max_new_tokens=20, temperature=0.0)] * 2


@pytest.mark.parametrize("kwargs, message", [
    ({"top_k": -1}, "top_k is invalid"), ({"top_p": 0.0}, "top_p is invalid"), ({"top_p": 1.5}, "top_p is invalid"),
    ({"max_new_tokens": 257}, "max_new_tokens is invalid: must be <= 256"),
    ({"max_new_tokens": -1}, "max_new_tokens is invalid"), ({"temperature": float("nan")}, "temperature is invalid"),
])
@pytest.mark.slow
def test_out_of_range_arguments_are_clear_errors_from_the_signature(exported, kwargs, message):
    _, path = exported
    lm = load(path)
    with pytest.raises(ValueError, match=message):
        lm("ROMEO:", **kwargs)
    args = {"max_new_tokens": 5, "temperature": 1.0, "top_k": 0, "top_p": 1.0, "seed": 0, **kwargs}
    specs = {"max_new_tokens": tf.int32, "temperature": tf.float32, "top_k": tf.int32, "top_p": tf.float32,
             "seed": tf.int32}
    with pytest.raises(tf.errors.InvalidArgumentError, match=message):  # what a server sees
        lm.saved_model.signatures["generate"](prompt=tf.constant(["ROMEO:"]),
                                              **{k: tf.constant(v, specs[k]) for k, v in args.items()})


@pytest.mark.slow
def test_unseeded_calls_differ_and_stream_models_never_stop_early(exported):
    run, path = exported
    lm = load(path)
    texts = {lm("ROMEO:", max_new_tokens=40, temperature=1.0) for _ in range(3)}
    assert len(texts) == 3  # seed -1: a fresh seed per call, also in a fresh process
    # a model of one text stream never saw [EOS]: it is banned, every row runs to max_new_tokens
    assert not run.config.line_level
    out = lm(["ROMEO:"] * 4, max_new_tokens=50, temperature=1.5, seed=1)
    assert all(len(t) == len("ROMEO:") + 50 for t in out)


@pytest.mark.slow
def test_export_never_damages_an_existing_one(exported, tmp_path, monkeypatch):
    run, path = exported
    target = tmp_path / "export"
    export_saved_model(run.model, run.tokenizer, target, max_new_tokens_limit=64)
    before = sorted(p.name for p in target.iterdir())
    with pytest.raises(FileExistsError, match="--overwrite"):
        export_saved_model(run.model, run.tokenizer, target)

    def fail(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(tf.saved_model, "save", fail)
    with pytest.raises(RuntimeError, match="disk full"):
        export_saved_model(run.model, run.tokenizer, target, overwrite=True)
    monkeypatch.undo()
    assert sorted(p.name for p in target.iterdir()) == before
    assert sorted(os.listdir(tmp_path)) == ["export"], "no temporary directory is left behind"
    assert load(target)("ROMEO:", max_new_tokens=5, temperature=0.0).startswith("ROMEO:")


def test_corrupted_or_half_written_exports_are_clear_errors(exported, tmp_path):
    _, path = exported
    with pytest.raises(ModelLoadError, match="No SavedModel directory"):
        load(tmp_path / "nothing")
    half = tmp_path / "half"
    half.mkdir()
    (half / "saved_model.pb").write_bytes((path / "saved_model.pb").read_bytes())
    with pytest.raises(ModelLoadError, match="not a complete lm_keras export"):
        load(half)
    broken = tmp_path / "broken"
    subprocess.run(["cp", "-r", str(path), str(broken)], check=True)
    pb = broken / "saved_model.pb"
    pb.write_bytes(pb.read_bytes()[:2000])
    with pytest.raises(ModelLoadError, match="corrupted or incomplete"):
        load(broken)


def _cli(*args):
    return subprocess.run([sys.executable, "-m", "lm_keras", *map(str, args)], capture_output=True, text=True,
                          cwd=ROOT, timeout=600)


@pytest.mark.slow
def test_cli_export_and_saved_model_cli(exported, tmp_path):
    run, _ = exported
    if run.config.model_type != "transformer":
        pytest.skip("one model is enough for the command line")
    out = tmp_path / "cli_export"
    result = _cli("export", run.path, "--out", out)
    assert result.returncode == 0, result.stderr
    assert f"Exported to {out}" in result.stdout
    again = _cli("export", run.path, "--out", out)
    assert again.returncode == 2 and "--overwrite" in again.stderr.strip().splitlines()[-1]
    cli = os.path.join(os.path.dirname(sys.executable), "saved_model_cli")
    show = subprocess.run([cli, "show", "--dir", out, "--all"], capture_output=True, text=True, timeout=300)
    assert show.returncode == 0, show.stderr
    for expected in ("signature_def['generate']", "signature_def['score']", "signature_def['serving_default']",
                     "inputs['max_new_tokens'] tensor_info:", "dtype: DT_STRING", "dtype: DT_INT32",
                     "outputs['perplexity']"):
        assert expected in show.stdout
    inputs = 'prompt=["ROMEO:"];max_new_tokens=12;temperature=0.0;top_k=0;top_p=1.0;seed=0'
    ran = subprocess.run([cli, "run", "--dir", out, "--tag_set", "serve", "--signature_def", "generate",
                          "--input_exprs", inputs], capture_output=True, text=True, timeout=300)
    assert ran.returncode == 0, ran.stderr
    expected = run.generator()("ROMEO:", max_new_tokens=12, temperature=0.0)
    assert repr(expected.encode("utf-8"))[2:-1] in ran.stdout


@pytest.mark.slow
def test_subword_export_needs_tensorflow_text_and_says_so(tmp_path, shakespeare):
    corpus = type(shakespeare)(name="shakespeare_head", text=shakespeare.text[:30000])
    run = train_run(RunConfig(corpus="unused", tokenizer=TokenizerConfig("subword", 300),
                              model={"cell_type": "gru", "embedding_dim": 8, "hidden_dim": 16},
                              train=TrainConfig(context_length=16, batch_size=8, steps=3, eval_interval=3,
                                                eval_batches=1)),
                    out=tmp_path / "run", corpus=corpus, verbose=0, notice=lambda *_: None)
    path = export_run(tmp_path / "run", tmp_path / "export")
    script = ("import sys, tensorflow as tf, tensorflow_text; m = tf.saved_model.load(sys.argv[1]); "
              "print(m.generate(tf.constant(['KING']), tf.constant(5), tf.constant(0.0), tf.constant(0), "
              "tf.constant(1.0), tf.constant(0))['text'].numpy()[0].decode())")
    result = subprocess.run([sys.executable, "-c", script, str(path)], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    expected = run.generator()("KING", max_new_tokens=5, temperature=0.0)
    assert result.stdout.strip().splitlines()[-1] == expected
    info = json.loads((path / "assets" / "export.json").read_text())
    assert info["tokenizer_kind"] == "subword" and (path / "assets" / "tokenizer.json").is_file()
    assert (path / "assets.extra" / "model.keras").is_file()
