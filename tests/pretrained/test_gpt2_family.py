"""GPT-2 on the road every family takes: `train_run(RunConfig(model_type="gpt2"))` fine-tunes a preset with
the family's recipe, on the preset's own tokenizer; the run directory loads back with its LoRA factors
trainable, generates the text of the in-process model for the same seed, and exports with `export_run`."""

import numpy as np
import pytest

from lm_keras.config import RunConfig, TrainConfig
from lm_keras.errors import ConfigError
from lm_keras.evaluation import evaluate_language_model
from lm_keras.export import export_run, load
from lm_keras.families import family
from lm_keras.pretrained import count_trainable
from lm_keras.runs import load_run
from lm_keras.training import prepare_data, train_run
from lm_keras.training.run import check_model_options

POEMS = ["床前明月光，疑是地上霜。舉頭望明月，低頭思故鄉。", "白日依山盡，黃河入海流。欲窮千里目，更上一層樓。",
         "the cat sat on the mat", "a stitch in time saves nine"] * 20


def gpt2_config(preset_dir, **model):
    return RunConfig(corpus="poems.txt", line_level=True, model_type="gpt2",
                     model={"preset": str(preset_dir), "lora_rank": 2, **model},
                     train=TrainConfig(context_length=32, batch_size=4, steps=6, eval_interval=3, eval_batches=2,
                                       jit_compile=False, seed=0))


@pytest.fixture(scope="module")
def run_dir(preset_dir, tmp_path_factory):
    from lm_keras.data.corpus import Corpus

    corpus = Corpus(name="poems", text="\n".join(POEMS), line_level=True, source="poems.txt")
    out = tmp_path_factory.mktemp("gpt2_run") / "run"
    run = train_run(gpt2_config(preset_dir), out=out, corpus=corpus, verbose=0, notice=lambda *_: None)
    return run, out, corpus


@pytest.mark.slow
def test_the_run_records_the_preset_the_recipe_and_the_presets_tokenizer(run_dir, preset_dir, wrapped):
    run, _, _ = run_dir
    config = run.config
    assert config.tokenizer.kind == "gpt2_bpe" and run.tokenizer.vocabulary == wrapped[1].vocabulary
    assert config.model == {"preset": str(preset_dir), "lora_rank": 2, "context_length": 32}
    recipe = {k: v for k, v in family("gpt2").train_defaults.items() if k != "jit_compile"}  # set off here
    assert {k: getattr(config.train, k) for k in recipe} == recipe
    assert config.train.weight_decay == 0.1   # AdamW's default decay
    # only the LoRA factors and the biases KerasHub leaves trainable were trained
    assert count_trainable(run.model) < count_trainable(wrapped[0]) / 10


@pytest.mark.slow
def test_the_saved_run_loads_with_lora_and_generates_the_same_text(run_dir):
    run, out, corpus = run_dir
    loaded = load_run(out)
    assert count_trainable(loaded.model) == count_trainable(run.model)
    assert {w.path for w in loaded.model.trainable_weights} == {w.path for w in run.model.trainable_weights}
    for settings in (dict(temperature=0.0), dict(temperature=1.2, top_k=8)):
        assert (loaded.generator()(["床前", ""], max_new_tokens=12, seed=5, **settings)
                == run.generator()(["床前", ""], max_new_tokens=12, seed=5, **settings))
    _, _, ids, chars = prepare_data(corpus, loaded.config, loaded.tokenizer)
    again = evaluate_language_model(loaded.model, ids["validation"], 32, 4, chars["validation"])
    assert np.isclose(again["loss"], run.evaluation["loss"], rtol=1e-5)


@pytest.mark.slow
def test_export_run_serves_the_runs_text(run_dir, tmp_path):
    run, out, _ = run_dir
    exported = load(export_run(out, tmp_path / "export", max_new_tokens_limit=16))
    for settings in (dict(temperature=0.0), dict(temperature=0.9, top_p=0.8)):
        assert exported(["床前"], max_new_tokens=10, seed=2, **settings) == run.generator()(
            ["床前"], max_new_tokens=10, seed=2, **settings)


def test_wrong_gpt2_options_are_config_errors_before_any_weights_load(preset_dir):
    with pytest.raises(ConfigError, match="lora_rank"):
        check_model_options(gpt2_config(preset_dir, lora_rank=0))
    with pytest.raises(ConfigError, match="num_layers"):
        check_model_options(gpt2_config(preset_dir, num_layers=2))
    with pytest.raises(ConfigError, match="reads at most 64 tokens"):
        family("gpt2").build(preset=str(preset_dir), context_length=65)
