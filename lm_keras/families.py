"""Model families: each one registered once, with everything `train_run`, the CLI and the notebooks need to know.

A family is a `RunConfig.model_type`: its config dataclass (whose fields and defaults are the
model's options, and the CLI's flags), its training recipe (the `TrainConfig` fields whose
default differs from the generic one), the Keras class that builds it, whether it reads whole
documents or windows of a token stream, and, for a pretrained model, where its tokenizer
comes from (otherwise one is trained on the corpus); a classifier reads labelled texts. Adding a family is one `register`
call; nothing else in the package switches on `model_type` for these.

    >>> family("transformer").train_defaults["optimizer"]
    'adamw'
"""

import dataclasses
import importlib

from lm_keras.config import (GENERIC_TRAINING, RNN_CELLS, GPT2Config, LSTMClassifierConfig, RNNConfig,
                             TransformerClassifierConfig, TransformerConfig, VAEConfig)
from lm_keras.errors import ConfigError


@dataclasses.dataclass(frozen=True)
class Family:
    """One model family.

    Args:
        name: its `RunConfig.model_type`.
        config_class: the dataclass of its options (`vocabulary_size` is set from the tokenizer).
        model_class: "module:Class" of the Keras model, imported when first built.
        train_defaults: the `TrainConfig` optimisation fields of its recipe (`GENERIC_TRAINING` + changes).
        documents: reads one whole document per example (a corpus with one document per line).
        labels: a classifier: reads labelled texts (a table's text and label columns, or a poet task)
            and answers a class, not the next token.
        context_from_training: the model's `context_length` defaults to the training windows'.
        summary: one line for `--help`.
        constructor: "module:function" (or "module:Class.method") that builds it from the options
            (default: the class itself).
        pretrained_tokenizer: "module:function" giving the tokenizer of a pretrained model from the
            option named `tokenizer_from`; None: a tokenizer is trained on the data (`RunConfig.tokenizer`).
    """

    name: str
    config_class: type
    model_class: str
    train_defaults: dict
    documents: bool = False
    labels: bool = False
    context_from_training: bool = False
    summary: str = ""
    constructor: str | None = None
    pretrained_tokenizer: str | None = None
    tokenizer_from: str = "preset"

    def model_type(self):
        return _imported(self.model_class)

    def options(self, **given):
        """`given` over the config class's defaults: every option the model is built with."""
        return {**{f.name: f.default for f in self.option_fields()}, **given}

    def build(self, **options):
        """The Keras model for `options` (the config class's fields and `vocabulary_size`)."""
        return _imported(self.constructor or self.model_class)(**self.options(**options))

    def tokenizer(self, **options):
        """The tokenizer that comes with a pretrained model (from its option `tokenizer_from`); None: a
        tokenizer is trained on the data."""
        if not self.pretrained_tokenizer:
            return None
        return _imported(self.pretrained_tokenizer)(self.pretrained_source(**options))

    def pretrained_source(self, **options):
        """Where a pretrained model and its tokenizer come from (its option `tokenizer_from`); a `ConfigError`
        when it is missing. None for a family trained from scratch."""
        if not self.pretrained_tokenizer:
            return None
        source = self.options(**options)[self.tokenizer_from]
        if source is None:
            field = next(f for f in self.option_fields() if f.name == self.tokenizer_from)
            flag = field.metadata.get("flag") or "--" + field.name.replace("_", "-")
            raise ConfigError(f"{self.config_class.__name__}.{self.tokenizer_from} is missing: the {self.name} "
                              f"family starts from a pretrained model (CLI: {flag})")
        return source

    def option_fields(self):
        """The config class's fields a user sets: those with a default (not `vocabulary_size` or
        `num_classes`, which the data sets)."""
        return [f for f in dataclasses.fields(self.config_class) if f.default is not dataclasses.MISSING]


def _imported(path):
    """The object at "module:name" or "module:Class.attribute", its module imported."""
    module, _, names = path.partition(":")
    found = importlib.import_module(module)
    for name in names.split("."):
        found = getattr(found, name)
    return found


FAMILIES = {}


def register(family_spec):
    FAMILIES[family_spec.name] = family_spec
    return family_spec


def family(model_type):
    """The registered `Family` called `model_type`, or a `ConfigError` naming the known ones."""
    if model_type not in FAMILIES:
        raise ConfigError(f"RunConfig.model_type = {model_type!r} is invalid: must be one of "
                          f"{', '.join(map(repr, FAMILIES))}")
    return FAMILIES[model_type]


def family_of(model):
    """The family whose class `model` is an instance of, or None (classifiers, GANs, ...)."""
    for spec in FAMILIES.values():
        if isinstance(model, spec.model_type()):
            return spec
    return None


def training_defaults(model_or_type=None):
    """The optimisation defaults for a model (instance or `model_type`): its family's recipe, else the generic one."""
    if isinstance(model_or_type, str):
        return family(model_or_type).train_defaults
    spec = family_of(model_or_type) if model_or_type is not None else None
    return spec.train_defaults if spec else GENERIC_TRAINING


register(Family(
    "rnn", RNNConfig, "lm_keras.models.rnn_lm:RNNLanguageModel", GENERIC_TRAINING,
    summary=f"Embedding -> recurrent layers ({', '.join(RNN_CELLS)}) -> Dense"))
register(Family(
    "transformer", TransformerConfig, "lm_keras.models.transformer_lm:TransformerLanguageModel",
    {**GENERIC_TRAINING, "learning_rate": 1e-3, "optimizer": "adamw", "schedule": "cosine", "warmup_steps": 100,
     "beta_2": 0.99, "jit_compile": True},   # nanoGPT's recipe (AdamW's decay: ADAMW_WEIGHT_DECAY)
    context_from_training=True, summary="a GPT (nanoGPT's recipe: AdamW, warm-up, cosine decay, XLA)"))
register(Family(
    "vae", VAEConfig, "lm_keras.models.vae:TextVAE", GENERIC_TRAINING, documents=True, context_from_training=True,
    summary="a text VAE (one document per line)"))
register(Family(
    "gpt2", GPT2Config, "lm_keras.pretrained.model:KerasHubLanguageModel",
    {**GENERIC_TRAINING, "learning_rate": 5e-4, "optimizer": "adamw", "schedule": "cosine", "warmup_steps": 50,
     "jit_compile": True},   # LoRA fine-tuning (tutorial 11)
    context_from_training=True, constructor="lm_keras.pretrained.model:KerasHubLanguageModel.from_preset",
    pretrained_tokenizer="lm_keras.pretrained.loading:load_gpt2_tokenizer",
    summary="a pretrained KerasHub GPT-2, fine-tuned (LoRA by default); it brings its own BPE tokenizer"))
register(Family(
    "lstm_classifier", LSTMClassifierConfig, "lm_keras.models.classifier:LSTMClassifier", GENERIC_TRAINING,
    labels=True, summary="the documents' Embedding -> LSTM -> Dense text classifier, corrected (a table with "
                         "--label-column, or a poet task: li_du, ten_poets)"))
register(Family(
    "transformer_classifier", TransformerClassifierConfig, "lm_keras.models.classifier:TransformerClassifier",
    {**GENERIC_TRAINING, "learning_rate": 1e-4, "optimizer": "adamw", "schedule": "cosine", "warmup_steps": 50,
     "jit_compile": True},   # fine-tuning a pretrained LM: a rate ten times below its pretraining's
    labels=True, constructor="lm_keras.training.classifier:classifier_from_run",
    pretrained_tokenizer="lm_keras.tokenizers:load_tokenizer", tokenizer_from="backbone_run",
    summary="a classification head on a pretrained Transformer LM (--backbone RUN_DIR; --freeze-backbone: the "
            "head only)"))
