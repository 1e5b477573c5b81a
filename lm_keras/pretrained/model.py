"""A KerasHub GPT-2 causal LM with the project's language-model interface, so that the project's own
`Generator`, `evaluate`, `fit_language_model` and `export_saved_model` serve it unchanged.

    causal_lm = load_gpt2("gpt2_base_en")           # keras_hub.models.GPT2CausalLM
    model, tokenizer = from_keras_hub(causal_lm)     # KerasHubLanguageModel, KerasHubTokenizer
    Generator(model, tokenizer)("The meaning of life is", max_new_tokens=40, top_p=0.9, seed=1)

`call` and `score` run KerasHub's own forward pass; `prefill` and `step` run the same weights
over a key/value cache (`shims.cached_forward`: KerasHub's `call_with_cache` with a padding
mask and per-row positions), in the slot layout of `CachedLanguageModel`.
"""

import keras
import numpy as np
from keras import ops

from lm_keras.errors import ConfigError
from lm_keras.models.base import CachedLanguageModel
from lm_keras.pretrained.shims import cached_forward, empty_layer_caches


@keras.saving.register_keras_serializable(package="lm_keras")
class KerasHubLanguageModel(CachedLanguageModel):
    """A KerasHub GPT-2 causal LM (`keras_hub.models.GPT2CausalLM`, its weights and LoRA factors) as an
    lm_keras language model: logits from token ids, `score`, `prefill`/`step`.

    Args:
        causal_lm: the KerasHub model (its preprocessor is not used: ids go in, logits come out).
        context_length: the cache's capacity and the scoring window, at most (and by default)
            the model's `max_sequence_length`; smaller saves memory when generating.
        preset, lora_rank: where the weights came from and the rank of the LoRA factors enabled on
            them (`from_preset`), recorded in `config` (the `gpt2` family's `GPT2Config`).
    """

    def __init__(self, causal_lm, context_length=None, preset=None, lora_rank=None, **kwargs):
        super().__init__(**kwargs)
        limit = causal_lm.backbone.max_sequence_length
        context_length = limit if context_length is None else context_length
        if isinstance(context_length, bool) or not isinstance(context_length, int) or not 1 <= context_length <= limit:
            raise ValueError(f"context_length={context_length!r} is invalid: must be an integer in [1, {limit}] "
                             f"(the model's max_sequence_length)")
        self.causal_lm = causal_lm
        self.context_length = context_length   # the cache's capacity and the scoring window
        self.vocabulary_size = causal_lm.backbone.vocabulary_size
        self.preset, self.lora_rank = preset, lora_rank
        self.built = True  # the KerasHub model is built; this one adds no weights

    @classmethod
    def from_preset(cls, preset, vocabulary_size=None, context_length=None, lora_rank=None):
        """The GPT-2 of a KerasHub preset (`load_gpt2`), with rank-`lora_rank` LoRA enabled (None: every weight
        trains); `vocabulary_size`, when given, must be the preset's (its tokenizer's, `load_gpt2_tokenizer`)."""
        from lm_keras.pretrained.loading import load_gpt2
        from lm_keras.pretrained.lora import enable_lora

        causal_lm = load_gpt2(preset)
        limit = causal_lm.backbone.max_sequence_length
        if context_length is not None and context_length > limit:
            raise ConfigError(f"context_length = {context_length} is invalid for the GPT-2 preset {preset!r}: it "
                              f"reads at most {limit} tokens (TrainConfig.context_length, CLI --context)")
        model = cls(causal_lm, context_length, preset=str(preset), lora_rank=lora_rank)
        if vocabulary_size is not None and vocabulary_size != model.vocabulary_size:
            raise ValueError(f"vocabulary_size={vocabulary_size} is invalid: the preset {preset!r} has "
                             f"{model.vocabulary_size} tokens")
        if lora_rank is not None:
            enable_lora(model, lora_rank)
        return model

    @property
    def config(self):
        """Its `GPT2Config` (the `gpt2` family's options)."""
        from lm_keras.config import GPT2Config

        return GPT2Config(preset=self.preset or "(not from a preset)", lora_rank=self.lora_rank,
                          context_length=self.context_length)

    @property
    def backbone(self):
        """The KerasHub backbone (a property, not an attribute: Keras would save its weights twice)."""
        return self.causal_lm.backbone

    def call(self, token_ids, training=None):
        """token_ids (b, t), t <= context_length -> float32 logits (b, t, vocabulary_size), KerasHub's forward pass."""
        inputs = {"token_ids": token_ids, "padding_mask": ops.ones(ops.shape(token_ids), "bool")}
        return ops.cast(self.causal_lm(inputs, training=training), "float32")

    def empty_layer_cache(self, batch_size):
        return empty_layer_caches(self.backbone, batch_size, self.context_length, self.causal_lm.compute_dtype)

    def forward_with_cache(self, token_ids, positions, attention_mask, layer_cache, index):
        return cached_forward(self.backbone, token_ids, positions, attention_mask, layer_cache, index)

    def project(self, states):
        """Final hidden states -> float32 logits, through the tied token embedding."""
        return ops.cast(self.backbone.token_embedding(states, reverse=True), "float32")

    # ----- weights files from which a fine-tuning resumes exactly (`fit_language_model(backup_dir=...)`) -----

    def resume_variables(self):
        """What Keras's weights files leave out or change, in a fixed order: the variables of every LoRA-enabled
        layer (Keras saves it merged, kernel + BA, and zeroes its factors when loading, which would restart a
        resumed fine-tuning from B = A = 0, where no gradient reaches them) and the dropout seed states (so
        that a resumed run draws the dropout masks of an uninterrupted one)."""
        lora = {v.path.rsplit("/", 1)[0] for v in self.weights if v.path.endswith(("/lora_kernel_a", "/lora_kernel_b"))}
        return ([v for v in self.weights if v.path.rsplit("/", 1)[0] in lora]
                + [v for v in self.variables if v.path.endswith("seed_generator_state")])

    def save_own_variables(self, store):
        for i, variable in enumerate(self.resume_variables()):
            store[str(i)] = variable

    def load_own_variables(self, store):
        # The layers load after this; `load_weights` puts these values back on top of theirs.
        self._resume_values = tuple(np.array(store[str(i)]) for i in range(len(store.keys())))

    def load_weights(self, filepath, skip_mismatch=False, **kwargs):
        self._resume_values = ()
        super().load_weights(filepath, skip_mismatch=skip_mismatch, **kwargs)
        variables = self.resume_variables()
        if [tuple(v.shape) for v in variables] == [tuple(value.shape) for value in self._resume_values]:
            for variable, value in zip(variables, self._resume_values):
                variable.assign(value)
        self._resume_values = ()

    def get_config(self):
        causal_lm = keras.saving.serialize_keras_object(self.causal_lm)
        causal_lm.pop("compile_config", None)  # KerasHub compiles a task when built; this model compiles itself
        return {**super().get_config(), "causal_lm": causal_lm,
                "context_length": self.context_length, "preset": self.preset, "lora_rank": self.lora_rank}

    @classmethod
    def from_config(cls, config):
        import keras_hub  # noqa: F401  (registers the KerasHub classes the config names)

        model = cls(**{**config, "causal_lm": keras.saving.deserialize_keras_object(config["causal_lm"])})
        if model.lora_rank:
            # Keras saves a LoRA layer's kernel merged (kernel + BA) and its layers come back without
            # factors: enabled again, they start at B = 0, the same function, and train as before.
            from lm_keras.pretrained.lora import enable_lora

            enable_lora(model, model.lora_rank)
        return model


def from_keras_hub(causal_lm, context_length=None):
    """(`KerasHubLanguageModel`, `KerasHubTokenizer`) of a KerasHub GPT-2 causal LM with its preprocessor."""
    from lm_keras.pretrained.tokenizer import KerasHubTokenizer

    if getattr(causal_lm, "preprocessor", None) is None:
        raise ValueError("causal_lm is invalid: it has no preprocessor, so no tokenizer (load it with load_gpt2)")
    return KerasHubLanguageModel(causal_lm, context_length), KerasHubTokenizer.from_keras_hub(
        causal_lm.preprocessor.tokenizer)
