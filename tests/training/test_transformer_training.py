import keras
import numpy as np
import pytest

from lm_keras.config import RunConfig, TokenizerConfig, TrainConfig
from lm_keras.errors import ConfigError
from lm_keras.evaluation import unigram_entropy
from lm_keras.models import TransformerLanguageModel
from lm_keras.runs import load_run
from lm_keras.training import WarmupDecay, build_optimizer, no_weight_decay_variables, train_run

# The CI budget: a 2-block char Transformer (d_model 64, 4 heads), 300 AdamW steps of
# batch 32 x context 64 on Tiny Shakespeare (about 15 s on 2 CPU cores with XLA).
BUDGET = TrainConfig(context_length=64, batch_size=32, steps=300, eval_interval=150, eval_batches=10,
                     learning_rate=3e-3, optimizer="adamw", weight_decay=0.1, beta_2=0.99, schedule="cosine",
                     warmup_steps=30, jit_compile=True, seed=0)
# Measured with this budget: validation loss about 2.30 nats/char; unigram entropy 3.31.
MAX_VALIDATION_LOSS = 2.5


def test_adamw_decays_kernels_and_embeddings_but_not_norms_or_biases():
    """nanoGPT's rule: every 2-D+ weight (kernels, embeddings) decays, biases and LayerNorms don't."""
    keras.utils.set_random_seed(0)
    model = TransformerLanguageModel(30, context_length=8, num_layers=1, num_heads=2, d_model=8,
                                     position_encoding="learned", tie_weights=False, name="lm")
    model(np.zeros((1, 4), np.int32))
    not_decayed = {"block_0/attention_norm/gamma", "block_0/attention_norm/beta", "block_0/self_attention/qkv/bias",
                   "block_0/self_attention/output/bias", "block_0/mlp_norm/gamma", "block_0/mlp_norm/beta",
                   "block_0/mlp_up/bias", "block_0/mlp_down/bias", "final_norm/gamma", "final_norm/beta"}
    prefix = "lm/"  # a fixed name: an automatic one gets a counter after many models in one process
    assert {v.path.removeprefix(prefix) for v in no_weight_decay_variables(model)} == not_decayed
    assert not_decayed == {v.path.removeprefix(prefix) for v in model.trainable_variables if len(v.shape) < 2}
    for v in model.trainable_variables:  # give every weight a non-zero value to decay
        v.assign(np.ones(v.shape, np.float32))
    optimizer = build_optimizer(model, TrainConfig(optimizer="adamw", weight_decay=0.5, learning_rate=0.1), 10)
    before = {v.path: v.numpy().copy() for v in model.trainable_variables}
    # zero gradients: Adam's step is 0, so whatever changes is the decoupled weight decay
    optimizer.apply_gradients([(np.zeros(v.shape, np.float32), v) for v in model.trainable_variables])
    decayed = {path.removeprefix(prefix) for path, value in before.items()
               if not np.allclose(value, _value(model, path))}
    assert decayed == {v.path.removeprefix(prefix) for v in model.trainable_variables} - not_decayed
    assert {"token_embedding/embeddings", "position_embedding/embeddings", "logits/kernel"} <= decayed
    assert all(np.allclose(_value(model, prefix + p), 1 - 0.1 * 0.5) for p in decayed)


def test_per_head_attention_biases_are_not_decayed():
    """Keras' EinsumDense biases of KerasHub GPT-2 are (heads, head_dim): still biases, not decayed."""
    from lm_keras.pretrained import build_tiny_gpt2

    causal_lm = build_tiny_gpt2(num_layers=1)
    excluded = {v.path for v in no_weight_decay_variables(causal_lm)}
    assert "transformer_layer_0/self_attention/query/bias" in excluded
    assert excluded == {v.path for v in causal_lm.trainable_variables if v.name in ("bias", "gamma", "beta")}
    assert not excluded & {"token_embedding/embeddings", "position_embedding/embeddings"}


def _value(model, path):
    return next(v.numpy() for v in model.trainable_variables if v.path == path)


def test_warmup_then_cosine_or_linear_decay():
    cosine = WarmupDecay(1e-3, total_steps=1100, warmup_steps=100, final=1e-4, shape="cosine")
    assert float(cosine(0)) == pytest.approx(1e-3 / 101)
    assert float(cosine(100)) == pytest.approx(1e-3)
    assert float(cosine(600)) == pytest.approx(5.5e-4)
    assert float(cosine(1100)) == pytest.approx(1e-4) and float(cosine(5000)) == pytest.approx(1e-4)
    linear = WarmupDecay.from_config({**cosine.get_config(), "shape": "linear"})
    assert float(linear(350)) == pytest.approx(1e-3 - 0.25 * 9e-4)
    values = [float(cosine(s)) for s in range(0, 1100, 10)]
    assert values.index(max(values)) == 10 and all(a >= b for a, b in zip(values[10:], values[11:]))


@pytest.mark.parametrize("fields, message", [
    ({"weight_decay": 0.1}, "TrainConfig.weight_decay = 0.1 is invalid: needs optimizer='adamw'"),
    ({"optimizer": "sgd"}, "TrainConfig.optimizer = 'sgd' is invalid"),
    ({"schedule": "step"}, "TrainConfig.schedule = 'step' is invalid"),
    ({"warmup_steps": -1}, "TrainConfig.warmup_steps = -1 is invalid: must be >= 0"),
    ({"min_learning_rate": 0.1}, "TrainConfig.min_learning_rate = 0.1 is invalid"),
])
def test_invalid_training_options_name_the_field(fields, message):
    """A combination is checked once every field is set: here with the generic recipe (Adam, lr 2e-3)."""
    with pytest.raises(ConfigError, match=message):
        TrainConfig(**fields).resolved()
    if "weight_decay" in fields:  # the same decay is the Transformer's own recipe (AdamW)
        assert RunConfig(corpus="x", model_type="transformer", train=TrainConfig(**fields)).train.weight_decay == 0.1


@pytest.fixture(scope="module")
def trained(tmp_path_factory, shakespeare):
    config = RunConfig(corpus="tiny_shakespeare", model_type="transformer",
                       model={"num_layers": 2, "num_heads": 4, "d_model": 64}, train=BUDGET)
    return train_run(config, out=tmp_path_factory.mktemp("runs") / "gpt", corpus=shakespeare, verbose=0,
                     notice=lambda *_: None)


@pytest.mark.slow
def test_transformer_learns_tiny_shakespeare(trained, shakespeare):
    loss = trained.evaluation["loss"]
    print(f"char Transformer validation loss {loss:.3f} nats/char vs unigram entropy "
          f"{unigram_entropy(shakespeare.text):.3f}")
    assert loss < MAX_VALIDATION_LOSS
    assert trained.history["val_loss"][-1] < trained.history["val_loss"][0]
    assert trained.config.model["context_length"] == BUDGET.context_length


@pytest.mark.slow
def test_transformer_run_reloads_with_identical_output(trained):
    again = load_run(trained.path)
    assert isinstance(again.model, TransformerLanguageModel)
    prompts = ["ROMEO:", "To be, or not"]
    for kwargs in ({"temperature": 0.0}, {"num_beams": 3}, {"temperature": 0.8, "top_p": 0.9, "seed": 4}):
        assert again.generator()(prompts, max_new_tokens=80, **kwargs) == trained.generator()(
            prompts, max_new_tokens=80, **kwargs)
    ids = np.arange(4, 40)[None]
    np.testing.assert_array_equal(again.model(ids), trained.model(ids))
