"""A KerasHub GPT-2 through the project's own `export_saved_model`: the exported `generate` gives the text
of the in-process `Generator` for the same seed and settings, `score` the in-process score, and plain
TensorFlow (+ tensorflow_text, for the BPE pre-split) loads it without keras_hub or lm_keras."""

import json
import subprocess
import sys

import numpy as np
import pytest
import tensorflow as tf

from lm_keras.evaluation import score_texts
from lm_keras.export import export_saved_model, load
from lm_keras.generation import Generator
from lm_keras.pretrained import build_tiny_gpt2, from_keras_hub

PROMPTS = ["the cat", "hello there, world", "", "床前"]
SETTINGS = {
    "greedy": dict(temperature=0.0),
    "top_k": dict(temperature=1.5, top_k=5),
    "top_p": dict(temperature=1.5, top_p=0.6),
    "temperature": dict(temperature=0.8),
}


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    model, tokenizer = from_keras_hub(build_tiny_gpt2())
    path = export_saved_model(model, tokenizer, tmp_path_factory.mktemp("gpt2") / "export", add_special_tokens=True,
                              max_new_tokens_limit=32)
    return model, tokenizer, path


@pytest.fixture(scope="module")
def loaded(exported):
    return load(exported[2])


def test_export_records_what_a_loader_needs(exported):
    _, _, path = exported
    info = json.loads((path / "assets" / "export.json").read_text())
    assert info["model_class"] == "KerasHubLanguageModel" and info["tokenizer_kind"] == "gpt2_bpe"
    assert info["needs_tensorflow_text"] and info["context_length"] == 64 and info["vocabulary_size"] == 283
    with pytest.raises(FileExistsError, match="overwrite=True"):
        export_saved_model(*exported)


@pytest.mark.parametrize("name", list(SETTINGS))
def test_exported_generate_equals_the_generator_for_the_same_seed(exported, loaded, name):
    model, tokenizer, _ = exported
    in_process = Generator(model, tokenizer)(PROMPTS, max_new_tokens=20, seed=11, **SETTINGS[name])
    assert loaded(PROMPTS, max_new_tokens=20, seed=11, **SETTINGS[name]) == in_process
    assert [text[:len(prompt)] for text, prompt in zip(in_process, PROMPTS)] == PROMPTS


def test_exported_score_equals_the_in_process_score(exported, loaded):
    model, tokenizer, _ = exported
    texts = ["the cat sat on the mat", "床前明月光", ""]
    expected = score_texts(model, tokenizer, tf.constant(texts), add_special_tokens=True)
    got = loaded.score(texts)
    np.testing.assert_allclose(got["log_likelihood"], expected["log_likelihood"].numpy(), rtol=1e-5)
    # <|endoftext|> text <|endoftext|>: every token of the text and the end are predicted
    assert got["num_tokens"].tolist() == [len(tokenizer.encode_to_numpy(t)) + 1 for t in texts]


LOADER = """
import json, sys
import tensorflow as tf
import tensorflow_text  # registers the BPE pre-split ops
model = tf.saved_model.load(sys.argv[1])
text = model.generate(tf.constant(json.loads(sys.argv[2])), tf.constant(20), tf.constant(1.5), tf.constant(5),
                      tf.constant(1.0), tf.constant(11))["text"]
print(json.dumps({"text": [t.decode("utf-8") for t in text.numpy()],
                  "imported": [m for m in ("keras_hub", "lm_keras") if m in sys.modules]}))
"""


@pytest.mark.slow
def test_plain_tensorflow_loads_it_and_gives_the_same_text(exported, tmp_path):
    model, tokenizer, path = exported
    run = subprocess.run([sys.executable, "-c", LOADER, str(path), json.dumps(PROMPTS)], capture_output=True,
                         text=True, cwd=tmp_path, timeout=600)
    assert run.returncode == 0, run.stderr[-3000:]
    result = json.loads(run.stdout.strip().splitlines()[-1])
    assert result["imported"] == []
    assert result["text"] == Generator(model, tokenizer)(PROMPTS, max_new_tokens=20, seed=11, **SETTINGS["top_k"])
