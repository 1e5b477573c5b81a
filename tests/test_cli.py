"""The command line and the Python API are one road: the same defaults, the same configs, the same errors."""

import dataclasses
import json
import os
import shlex
import subprocess
import sys

import pytest

from lm_keras import cli
from lm_keras.config import RunConfig, TokenizerConfig, TrainConfig
from lm_keras.errors import ConfigError
from lm_keras.families import FAMILIES, family
from lm_keras.training.fit import planned_epochs

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# One config per family with fields away from their defaults (model, tokenizer and training).
CONFIGS = {
    "rnn": RunConfig(corpus="tiny_shakespeare", model_type="rnn", tokenizer=TokenizerConfig("word", 500, 2, True),
                     model={"cell_type": "gru", "hidden_dim": 64, "num_layers": 2, "dropout": 0.1},
                     train=TrainConfig(context_length=32, steps=300, learning_rate=0.01, clip_norm=None,
                                       deterministic=True, seed=3)),
    "transformer": RunConfig(corpus="notes/*.txt", model_type="transformer",
                             model={"num_layers": 2, "num_heads": 2, "d_model": 32, "use_bias": False,
                                    "tie_weights": False, "position_encoding": "rotary"},
                             train=TrainConfig(epochs=3, warmup_steps=10, optimizer="adam", jit_compile="auto",
                                               gradient_accumulation_steps=2)),
    "vae": RunConfig(corpus="my_poems.txt", line_level=True, model_type="vae",
                     model={"latent_dim": 8, "decoder": "gru", "decoder_dim": 64, "batch_norm_gamma": None,
                            "kl_annealing": "linear"},
                     train=TrainConfig(batch_size=16, eval_interval=50, early_stopping_patience=2)),
    "gpt2": RunConfig(corpus="tiny_shakespeare", model_type="gpt2", model={"preset": "presets/my gpt2", "lora_rank": None},
                      train=TrainConfig(context_length=128, steps=200, learning_rate=1e-4, schedule="linear")),
    "lstm_classifier": RunConfig(corpus="reviews.csv", column="review", label_column="stars",
                                 model_type="lstm_classifier", model={"hidden_dim": 32, "pooling": "mean"},
                                 train=TrainConfig(context_length=64, epochs=4, test_fraction=0.2)),
    "transformer_classifier": RunConfig(corpus="ten_poets", model_type="transformer_classifier",
                                        model={"backbone_run": "saved_models/poet lm", "freeze_backbone": True,
                                               "head_dim": 64},
                                        train=TrainConfig(context_length=128, epochs=2, learning_rate=1e-3)),
}


def parse(command):
    words = shlex.split(command)
    assert words[:4] == ["python", "-m", "lm_keras", "train"]
    return cli.run_config_from_args(cli.build_parser().parse_args(words[3:]))


@pytest.mark.parametrize("model_type", CONFIGS)
def test_a_config_written_as_a_command_line_reads_back_the_same(model_type):
    config = CONFIGS[model_type]
    command = cli.train_command(config)
    assert parse(command).to_dict() == config.to_dict(), command


@pytest.mark.parametrize("model_type", FAMILIES)
def test_no_options_give_the_families_own_defaults(model_type):
    model = {"rnn": "lstm"}.get(model_type, model_type)
    config = parse(f"python -m lm_keras train --model {model}")
    assert config.to_dict() == RunConfig(corpus="default", model_type=model_type,
                                         model={"cell_type": "lstm"} if model_type == "rnn" else {}).to_dict()
    expected = family(model_type).train_defaults
    assert {k: getattr(config.train, k) for k in expected} == expected


def test_the_transformer_trains_with_nanogpts_recipe_in_python_as_on_the_command_line():
    train = RunConfig(corpus="x", model_type="transformer", train=TrainConfig(steps=500)).train
    assert (train.optimizer, train.learning_rate, train.weight_decay, train.schedule, train.warmup_steps,
            train.beta_2, train.jit_compile) == ("adamw", 1e-3, 0.1, "cosine", 100, 0.99, True)
    rnn = RunConfig(corpus="x", train=TrainConfig(steps=500)).train
    assert (rnn.optimizer, rnn.learning_rate, rnn.weight_decay, rnn.schedule, rnn.jit_compile) == (
        "adam", 2e-3, 0.0, "constant", False)
    # what the user sets wins, and AdamW's decay follows the optimizer actually chosen
    mine = RunConfig(corpus="x", model_type="transformer", train=TrainConfig(optimizer="adam", learning_rate=3e-4)).train
    assert (mine.optimizer, mine.learning_rate, mine.weight_decay, mine.schedule) == ("adam", 3e-4, 0.0, "cosine")


def test_a_familys_xla_applies_only_to_runs_long_enough_to_repay_its_compile():
    from lm_keras.config import XLA_MIN_STEPS

    def jit(model_type="transformer", **train):
        return RunConfig(corpus="x", model_type=model_type, train=TrainConfig(**train)).train.jit_compile

    assert (jit(steps=XLA_MIN_STEPS - 1), jit(steps=XLA_MIN_STEPS)) == (False, True)
    assert jit(steps=20, epochs=2) is True             # a run of epochs: its length is the data's
    assert jit(steps=20, jit_compile=True) is True     # what the user sets wins
    assert jit(steps=20, jit_compile="auto") == "auto"
    assert jit("gpt2", steps=XLA_MIN_STEPS) is True and jit("rnn", steps=XLA_MIN_STEPS) is False


def test_compile_language_model_uses_the_models_family_recipe():
    from lm_keras.models import RNNLanguageModel, TransformerLanguageModel
    from lm_keras.training import compile_language_model

    gpt = TransformerLanguageModel(20, context_length=8, num_layers=1, num_heads=2, d_model=8)
    compile_language_model(gpt, TrainConfig(steps=50))
    assert type(gpt.optimizer).__name__ == "AdamW" and gpt.optimizer.weight_decay == pytest.approx(0.1)
    assert float(gpt.optimizer.learning_rate) == pytest.approx(1e-3 / 101)   # step 0 of a 100-step warm-up to 1e-3
    lstm = RNNLanguageModel(20, hidden_dim=8)
    compile_language_model(lstm, TrainConfig(steps=50))
    assert type(lstm.optimizer).__name__ == "Adam"
    assert float(lstm.optimizer.learning_rate) == pytest.approx(2e-3)


def test_every_option_of_every_family_has_one_flag_and_every_flag_one_field():
    parser = cli.build_parser()
    train = next(a for a in parser._subparsers._group_actions[0].choices.values() if a.prog.endswith("train"))
    dests = {a.dest for a in train._actions} - {"help"}
    fields = {f.name for spec in FAMILIES.values() for f in spec.option_fields() if f.metadata.get("cli", True)}
    fields |= {f.name for f in dataclasses.fields(TrainConfig)} | {f.name for f in dataclasses.fields(TokenizerConfig)}
    own = {"corpus", "column", "label_column", "documents", "model", "tensorboard", "sample_every", "no_backup", "out", "overwrite",
           "quiet"}
    assert dests == fields | own


def test_an_option_of_another_family_is_refused_by_name():
    args = cli.build_parser().parse_args(["train", "--model", "lstm", "--d-model", "64", "--latent-dim", "4"])
    with pytest.raises(ConfigError, match="--d-model, --latent-dim do\\(es\\) not apply to --model lstm"):
        cli.run_config_from_args(args)


def test_a_train_config_keeps_the_values_it_was_given():
    config = TrainConfig(steps=10, eval_interval=50)
    assert config.eval_interval == 50 and planned_epochs(config, 0) == (1, 10)   # an interval past the end: one
    assert TrainConfig(epochs=2).sampling == "sequential" and TrainConfig().sampling == "random"
    with pytest.raises(ConfigError, match="TrainConfig.sampling = 'random' is invalid: must be 'sequential' with"):
        TrainConfig(epochs=2, sampling="random")


def test_only_the_librarys_own_errors_become_one_line(monkeypatch, capsys):
    def bug(args):
        raise ValueError("an internal bug")

    def user_error(args):
        raise ConfigError("TrainConfig.steps = 0 is invalid")

    for command, raises in ((bug, ValueError), (user_error, None)):
        monkeypatch.setattr(cli, "cmd_download", command)
        if raises:
            with pytest.raises(raises, match="an internal bug"):   # a bug keeps its traceback
                cli.main(["download", "x"])
        else:
            assert cli.main(["download", "x"]) == 2
            assert capsys.readouterr().err == "error: TrainConfig.steps = 0 is invalid\n"
            with pytest.raises(ConfigError):                       # --debug shows where it came from
                cli.main(["--debug", "download", "x"])


def _cli(*args, **env):
    return subprocess.run([sys.executable, "-m", "lm_keras", *map(str, args)], capture_output=True, text=True,
                          cwd=ROOT, timeout=600, env={**os.environ, **env})


@pytest.mark.slow
@pytest.mark.parametrize("model_type", FAMILIES)
def test_the_cli_and_train_run_write_the_same_config(model_type, tmp_path):
    from lm_keras.training import train_run

    poems = tmp_path / "poems.txt"
    poems.write_text("床前明月光，疑是地上霜。舉頭望明月，低頭思故鄉。\n白日依山盡，黃河入海流。欲窮千里目，更上一層樓。\n" * 40,
                     encoding="utf-8")
    small = {"rnn": {"cell_type": "gru", "hidden_dim": 16}, "transformer": {"num_layers": 1, "num_heads": 2, "d_model": 16},
             "vae": {"latent_dim": 4, "embedding_dim": 8, "encoder_dim": 8, "decoder_dim": 16},
             "gpt2": {"preset": str(tmp_path / "tiny_gpt2"), "lora_rank": 2},
             "lstm_classifier": {"hidden_dim": 8, "embedding_dim": 8, "dense_dim": 8},
             "transformer_classifier": {"backbone_run": str(tmp_path / "backbone"), "freeze_backbone": True}
             }[model_type]
    if model_type == "transformer_classifier":   # a pretrained LM to start from
        train_run(RunConfig(corpus=str(poems), line_level=True, model_type="transformer",
                            model={"num_layers": 1, "num_heads": 2, "d_model": 16},
                            train=TrainConfig(context_length=32, batch_size=4, steps=2, eval_interval=1,
                                              eval_batches=1)),
                  out=tmp_path / "backbone", verbose=0, notice=lambda *_: None)
    if model_type == "gpt2":
        from lm_keras.pretrained import build_tiny_gpt2

        build_tiny_gpt2().save_to_preset(small["preset"])
    table = tmp_path / "poets.csv"
    table.write_text("poem,poet\n" + "".join(f"{line}{i},{'李白' if i % 2 else '王之渙'}\n" for i, line in
                                             enumerate(poems.read_text(encoding="utf-8").splitlines())),
                     encoding="utf-8")
    data = ({"corpus": str(table), "column": "poem", "label_column": "poet"} if family(model_type).labels
            else {"corpus": str(poems), "line_level": True})
    config = RunConfig(**data, model_type=model_type, model=small,
                       train=TrainConfig(context_length=32, batch_size=4, steps=2, eval_interval=1, eval_batches=1))
    result = _cli(*shlex.split(cli.train_command(config, out=tmp_path / "cli"))[3:])
    assert result.returncode == 0, result.stderr
    assert "━" not in result.stdout and "Epoch 2/2" in result.stdout   # not a terminal: one line per interval
    assert "cuInit" not in result.stderr and "oneDNN" not in result.stderr   # TensorFlow's start-up lines are off
    train_run(config, out=tmp_path / "api", verbose=0, notice=lambda *_: None)
    written = [json.loads((tmp_path / run / "config.json").read_text()) for run in ("cli", "api")]
    assert written[0] == written[1]
