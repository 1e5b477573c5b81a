"""Plain dataclass configurations, validated on construction.

Every invalid value raises `ConfigError` naming the field, the value and why, e.g.

    >>> TrainConfig(batch_size=0)
    ConfigError: TrainConfig.batch_size = 0 is invalid: must be >= 1
"""

import dataclasses
import json
from dataclasses import dataclass, field

from lm_keras.errors import ConfigError

RNN_CELLS = ("lstm", "gru", "simple_rnn")
TOKENIZER_KINDS = ("char", "word", "subword")   # trained on the corpus
PRETRAINED_TOKENIZER_KINDS = ("gpt2_bpe",)      # brought by a pretrained model (recorded, never trained)
SAMPLING_MODES = ("random", "sequential")
POSITION_ENCODINGS = ("learned", "sinusoidal", "rotary")
OPTIMIZERS = ("adam", "adamw")
SCHEDULES = ("constant", "cosine", "linear")
PRECISIONS = ("auto", "float32", "mixed_float16", "mixed_bfloat16")
DISTRIBUTIONS = ("auto", "none", "mirrored", "tpu", "multi_worker")
DECODERS = ("lstm", "gru", "transformer")
KL_ANNEALING = ("none", "linear", "cyclical")
LATENT_CONDITIONING = ("input_and_state", "input", "state", "none")
GAN_LOSSES = ("wgan_gp", "non_saturating")
CLASSIFIER_POOLINGS = ("last", "mean", "max")

# The optimisation defaults of every model without a recipe of its own (RNNs, the VAE,
# classifiers, GANs, the alignment trainers); a model family may have its own (lm_keras.families).
GENERIC_TRAINING = dict(learning_rate=2e-3, optimizer="adam", schedule="constant", warmup_steps=0, beta_2=0.999,
                        jit_compile=False)
ADAMW_WEIGHT_DECAY = 0.1   # AdamW's weight decay when none is given (nanoGPT's)
# A family's XLA applies to runs of at least this many steps. XLA's compile costs the nanoGPT-sized
# Transformer 2.2 s more than a plain graph's trace, on 2 CPU cores, and saves 10 ms a step
# (21 against 31 ms; docs/benchmarks.md): it repays itself after about 220 steps.
XLA_MIN_STEPS = 250
SUBWORD_VOCABULARY_SIZE = 4000   # a subword vocabulary's size when none is given


def option(default, help, choices=None, flag=None, cli=True, default_text=None):
    """A dataclass field with what the command line needs: `help` (its `--help` text), `choices`,
    `flag` (default: `--field-name`), `default_text` (how --help states a default that None stands
    for), and `cli=False` for a field the CLI sets itself."""
    return field(default=default, metadata={"help": help, "choices": choices, "flag": flag, "cli": cli,
                                            "default_text": default_text})


def _fail(obj, name, why):
    value = getattr(obj, name)
    raise ConfigError(f"{type(obj).__name__}.{name} = {value!r} is invalid: {why}")


def _int_at_least(obj, name, low, optional=False):
    value = getattr(obj, name)
    if value is None and optional:
        return
    if isinstance(value, bool) or not isinstance(value, int):
        _fail(obj, name, "must be an integer")
    if value < low:
        _fail(obj, name, f"must be >= {low}")


def _float_in(obj, name, low, high, low_open=False, high_open=False):
    value = getattr(obj, name)
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        _fail(obj, name, "must be a number")
    if value != value:  # NaN
        _fail(obj, name, "must not be NaN")
    too_low = value <= low if low_open else value < low
    too_high = value >= high if high_open else value > high
    if too_low or too_high:
        lo, hi = "(" if low_open else "[", ")" if high_open else "]"
        _fail(obj, name, f"must be in {lo}{low}, {high}{hi}")


def _choice(obj, name, choices):
    if getattr(obj, name) not in choices:
        _fail(obj, name, f"must be one of {', '.join(map(repr, choices))}")


class _Config:
    """Mixin: dict / JSON round trip."""

    def to_dict(self):
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, values):
        names = {f.name for f in dataclasses.fields(cls)}
        unknown = set(values) - names
        if unknown:
            raise ConfigError(f"{cls.__name__} has no field(s) {sorted(unknown)}; known: {sorted(names)}")
        return cls(**values)

    def to_json(self):
        return json.dumps(self.to_dict(), indent=2, ensure_ascii=False)


@dataclass
class RNNConfig(_Config):
    """Embedding -> (SimpleRNN | LSTM | GRU) x num_layers -> Dense(vocabulary_size)."""

    vocabulary_size: int
    cell_type: str = option("lstm", "recurrent cell", choices=RNN_CELLS, cli=False)  # the CLI's --model
    embedding_dim: int = option(64, "token embedding size")
    hidden_dim: int = option(256, "recurrent state size")
    num_layers: int = option(1, "stacked recurrent layers", flag="--layers")
    dropout: float = option(0.0, "dropout rate")

    def __post_init__(self):
        _int_at_least(self, "vocabulary_size", 2)
        _choice(self, "cell_type", RNN_CELLS)
        _int_at_least(self, "embedding_dim", 1)
        _int_at_least(self, "hidden_dim", 1)
        _int_at_least(self, "num_layers", 1)
        _float_in(self, "dropout", 0.0, 1.0, high_open=True)


@dataclass
class TransformerConfig(_Config):
    """GPT: token (+ position) embedding -> pre-LN decoder blocks x num_layers -> LayerNorm -> logits."""

    vocabulary_size: int
    context_length: int = option(256, "positions the model can attend over", cli=False)  # the training windows'
    num_layers: int = option(4, "decoder blocks", flag="--layers")
    num_heads: int = option(4, "attention heads", flag="--heads")
    d_model: int = option(128, "width of the residual stream")
    mlp_ratio: int = option(4, "MLP hidden size / d_model")
    dropout: float = option(0.0, "dropout rate")
    position_encoding: str = option("learned", "how positions are encoded", choices=POSITION_ENCODINGS)
    tie_weights: bool = option(True, "output matrix = the token embedding (--no-tie-weights: a separate one)")
    use_bias: bool = option(True, "biases in Dense and LayerNorm", flag="--bias")
    layer_norm_epsilon: float = option(1e-5, "LayerNorm epsilon")

    def __post_init__(self):
        _int_at_least(self, "vocabulary_size", 2)
        _int_at_least(self, "context_length", 1)
        _int_at_least(self, "num_layers", 1)
        _int_at_least(self, "num_heads", 1)
        _int_at_least(self, "d_model", 1)
        if self.d_model % self.num_heads:
            _fail(self, "d_model", f"must be divisible by num_heads = {self.num_heads}")
        _int_at_least(self, "mlp_ratio", 1)
        _float_in(self, "dropout", 0.0, 1.0, high_open=True)
        _choice(self, "position_encoding", POSITION_ENCODINGS)
        if self.position_encoding == "rotary" and (self.d_model // self.num_heads) % 2:
            _fail(self, "position_encoding", f"rotary needs an even head size, but d_model / num_heads = "
                                             f"{self.d_model // self.num_heads}")
        for name in ("tie_weights", "use_bias"):
            if not isinstance(getattr(self, name), bool):
                _fail(self, name, "must be True or False")
        _float_in(self, "layer_norm_epsilon", 0.0, 1.0, low_open=True)


@dataclass
class VAEConfig(_Config):
    """Text VAE: bidirectional GRU encoder -> (mu, z_log_var) -> z -> autoregressive decoder.

    `decoder` is the project's LSTM/GRU language model or its Transformer (`decoder_layers`
    layers of width `decoder_dim`, `num_heads` heads, `context_length` positions).
    `conditioning` says where z enters the decoder: "input_and_state" (a projection of z
    added to every input embedding, and for an RNN also its initial state), "input",
    "state" (RNN only, Bowman et al. 2016) or "none" (the decoder ignores z: a plain LM
    with a KL term that goes to 0, the baseline).

    Loss per poem: reconstruction (summed token cross-entropy) + beta_t * KL. Anti-collapse:
    `kl_annealing` "linear" (beta_t rises from 0 to `beta` over `annealing_steps`) or
    "cyclical" (Fu et al. 2019: that ramp over the first half of every `annealing_steps`,
    then `beta` for the second half); `word_dropout` replaces that fraction of decoder input
    tokens with [UNK] while training (Bowman et al.); `free_bits` is a per-dimension KL
    floor in nats (Kingma et al. 2016: each dimension's batch-mean KL counts as at least
    that); `batch_norm_gamma` > 0 batch-normalises mu to mu = gamma·(mu_hat + b) with gamma
    fixed and the shift b learned (BN-VAE, Zhu et al. 2020), which keeps the expected KL
    above d·gamma²/2.

    The defaults (BN-VAE with gamma 0.6 and cyclical annealing) are, with BN-VAE alone, the
    best bound among the configurations that keep every unit of z active in
    `benchmarks/vae_quatrains.py` (docs/vae.md);
    the vanilla VAE of the formulas is `kl_annealing="none", batch_norm_gamma=None`, and it
    collapses (KL < 0.5 nats per poem there).
    """

    vocabulary_size: int
    latent_dim: int = option(32, "size of z")
    embedding_dim: int = option(128, "token embedding size")
    encoder_dim: int = option(128, "units of each direction of the GRU encoder")
    decoder: str = option("lstm", "the decoder language model", choices=DECODERS)
    decoder_dim: int = option(256, "width of the decoder (RNN state or Transformer d_model)")
    decoder_layers: int = option(1, "decoder layers or blocks")
    num_heads: int = option(4, "attention heads of a Transformer decoder", flag="--heads")
    context_length: int = option(64, "tokens per document, [BOS] and [EOS] included", cli=False)  # the windows'
    dropout: float = option(0.0, "dropout rate")
    conditioning: str = option("input_and_state", "where z enters the decoder", choices=LATENT_CONDITIONING)
    beta: float = option(1.0, "weight of the KL term")
    kl_annealing: str = option("cyclical", "KL weight schedule", choices=KL_ANNEALING)
    annealing_steps: int = option(1000, "length of the KL ramp (linear) or cycle (cyclical)")
    word_dropout: float = option(0.0, "fraction of decoder inputs replaced by [UNK] while training")
    free_bits: float = option(0.0, "per-dimension KL floor in nats")
    batch_norm_gamma: float | None = option(0.6, "BN-VAE: batch-normalise mu with this fixed scale ('none': off)")

    def __post_init__(self):
        _int_at_least(self, "vocabulary_size", 5)
        for name in ("latent_dim", "embedding_dim", "encoder_dim", "decoder_dim", "decoder_layers", "num_heads",
                     "context_length", "annealing_steps"):
            _int_at_least(self, name, 1)
        _choice(self, "decoder", DECODERS)
        if self.decoder == "transformer" and self.decoder_dim % self.num_heads:
            _fail(self, "decoder_dim", f"must be divisible by num_heads = {self.num_heads} for a Transformer decoder")
        _float_in(self, "dropout", 0.0, 1.0, high_open=True)
        _choice(self, "conditioning", LATENT_CONDITIONING)
        if self.decoder == "transformer" and self.conditioning == "state":
            _fail(self, "conditioning", "'state' needs an RNN decoder (a Transformer has no recurrent state)")
        _float_in(self, "beta", 0.0, 1e6)
        _choice(self, "kl_annealing", KL_ANNEALING)
        _float_in(self, "word_dropout", 0.0, 1.0, high_open=True)
        _float_in(self, "free_bits", 0.0, 1e6)
        if self.batch_norm_gamma is not None:
            _float_in(self, "batch_norm_gamma", 0.0, 1e3, low_open=True)


@dataclass
class GPT2Config(_Config):
    """A pretrained KerasHub GPT-2, fine-tuned (whole, or through LoRA factors); it brings its own tokenizer."""

    preset: str = option("gpt2_base_en", "KerasHub GPT-2 preset name, or a local preset directory")
    lora_rank: int | None = option(8, "rank of the LoRA factors on attention query/value; none: train every weight")
    context_length: int | None = option(None, "the cache's capacity and scoring window", cli=False,
                                        default_text="the training windows'")

    def __post_init__(self):
        if not isinstance(self.preset, str) or not self.preset:
            _fail(self, "preset", "must be a preset name or a directory")
        _int_at_least(self, "lora_rank", 1, optional=True)
        _int_at_least(self, "context_length", 1, optional=True)


@dataclass
class LatentGANConfig(_Config):
    """A GAN on the code space of a text autoencoder (ARAE, Zhao et al. 2018).

    The generator maps noise (`noise_dim`) through `num_layers` ReLU layers of `hidden_dim`
    to a code (`latent_dim`); the critic maps a code through the same depth to one score.
    `loss` "wgan_gp" (Gulrajani et al. 2017: Wasserstein critic with a gradient penalty of
    weight `gradient_penalty`, `n_critic` critic updates per generator update) or
    "non_saturating" (Goodfellow et al. 2014's −log D(G(z)) generator loss).
    """

    latent_dim: int = 32
    noise_dim: int = 32
    hidden_dim: int = 256
    num_layers: int = 2
    loss: str = "wgan_gp"
    gradient_penalty: float = 10.0
    n_critic: int = 5

    def __post_init__(self):
        for name in ("latent_dim", "noise_dim", "hidden_dim", "num_layers", "n_critic"):
            _int_at_least(self, name, 1)
        _choice(self, "loss", GAN_LOSSES)
        _float_in(self, "gradient_penalty", 0.0, 1e6)


@dataclass
class SequenceGANConfig(_Config):
    """A sequence GAN trained with policy gradients (SeqGAN, Yu et al. 2017; ScratchGAN, de Masson d'Autume et al. 2019).

    The generator samples `max_length` tokens per text; the discriminator scores every prefix.
    `dense_rewards`: each token's reward is the discriminator's log-odds of the prefix up to
    it (ScratchGAN); otherwise every token gets that of the whole text. Returns are
    discounted by `discount`; the baseline is a moving average per position
    (`baseline_decay`); `entropy_weight` adds an entropy bonus and
    `mle_weight` mixes in the maximum-likelihood loss on the real batch.
    """

    max_length: int = 33
    discriminator_dim: int = 128
    dense_rewards: bool = True
    discount: float = 0.95
    baseline_decay: float = 0.95
    entropy_weight: float = 0.0
    mle_weight: float = 0.0

    def __post_init__(self):
        _int_at_least(self, "max_length", 1)
        _int_at_least(self, "discriminator_dim", 1)
        if not isinstance(self.dense_rewards, bool):
            _fail(self, "dense_rewards", "must be True or False")
        _float_in(self, "discount", 0.0, 1.0)
        _float_in(self, "baseline_decay", 0.0, 1.0, high_open=True)
        _float_in(self, "entropy_weight", 0.0, 1e3)
        _float_in(self, "mle_weight", 0.0, 1e3)


@dataclass
class TokenizerConfig(_Config):
    """Which tokenizer to train on the corpus and how big its vocabulary may be."""

    kind: str = option("char", "token unit", choices=TOKENIZER_KINDS, flag="--tokenizer")
    max_vocabulary_size: int | None = option(None, "most tokens, the 4 reserved ids included", flag="--vocab-size",
                                             default_text=f"every token; subword {SUBWORD_VOCABULARY_SIZE}")
    min_frequency: int = option(1, "drop rarer tokens")
    lowercase: bool = option(False, "lower-case the text (word and subword)")

    def __post_init__(self):
        _choice(self, "kind", TOKENIZER_KINDS + PRETRAINED_TOKENIZER_KINDS)
        _int_at_least(self, "max_vocabulary_size", 8, optional=True)
        _int_at_least(self, "min_frequency", 1)
        if self.kind == "subword" and self.max_vocabulary_size is None:
            self.max_vocabulary_size = SUBWORD_VOCABULARY_SIZE


@dataclass
class TrainConfig(_Config):
    """How to cut the corpus into windows and how long to train.

    Training runs `steps` optimizer steps, validating every `eval_interval` steps on
    `eval_batches` batches (each validation is one Keras "epoch"; an interval longer than
    the run is the whole run). With `sampling="random"` windows start at random offsets
    (nanoGPT style); with `"sequential"` the training split is cut into non-overlapping
    windows, shuffled. Setting `epochs` instead trains that many full passes over the
    sequential windows (and validates after each pass); `steps` and `eval_interval` are
    then ignored.

    Optimisation fields left at None take the model family's recipe when the config is
    used (`resolved`; `lm_keras.families`: the Transformer trains with nanoGPT's AdamW,
    warm-up, cosine decay and XLA, everything else with Adam at 2e-3, constant).
    `optimizer` "adam" or "adamw" (decoupled `weight_decay`, applied to weight matrices
    and embeddings, never to LayerNorm or biases); the learning rate rises linearly from 0 over
    `warmup_steps`, then follows `schedule` ("constant", "cosine" or "linear" decay to
    `min_learning_rate`, default learning_rate / 10) until the last step; `clip_norm`
    clips the global gradient norm (under a distribution strategy Keras clips each
    replica's gradient before they are summed, so the threshold is up to
    replicas × clip_norm); `jit_compile` compiles the train step with XLA (True, False,
    or "auto": Keras's choice, on for a single GPU or TPU, off on CPUs and under a
    distribution strategy; True is not applied to a step mirrored over several GPUs or
    CPUs, which TensorFlow cannot compile). Left unset, it is the family's, for runs of
    `XLA_MIN_STEPS` steps or more, and off for shorter ones, which would not repay the compile.

    Scale: `batch_size` is the *global* batch, split evenly over the replicas of the
    `distribution` strategy ("auto": a TPU if present, all GPUs if more than one, else one
    device; "none", "mirrored", "tpu", "multi_worker" from TF_CONFIG). The learning rate is
    used as given: when you multiply the global batch by k, multiply the learning rate by
    about √k for Adam(W) (k for SGD) and keep the warm-up. `gradient_accumulation_steps`
    sums that many batches into one optimizer update (an effective batch of
    batch_size × steps on a small device); `steps` still counts batches. `precision`
    ("auto", "float32", "mixed_float16", "mixed_bfloat16") sets the Keras dtype policy;
    logits stay float32 and float16 training scales the loss. `deterministic` turns on
    TensorFlow's op determinism (same seed, same weights; slower). With
    `early_stopping_patience` training stops when the validation loss has not improved
    for that many evaluations.
    """

    context_length: int = option(100, "tokens per training window", flag="--context")
    batch_size: int = option(64, "windows per step (the global batch)")
    steps: int = option(1000, "optimizer steps")
    epochs: int | None = option(None, "full passes over the training text (instead of --steps)")
    eval_interval: int = option(200, "steps between validations")
    eval_batches: int = option(20, "batches per validation")
    learning_rate: float | None = option(None, "peak learning rate")
    clip_norm: float | None = option(1.0, "clip the global gradient norm ('none': do not clip)")
    optimizer: str | None = option(None, "adam, or adamw (decoupled weight decay)", choices=OPTIMIZERS)
    weight_decay: float | None = option(None, "AdamW decay of matrices and embeddings, never of norms or biases",
                                        default_text=f"{ADAMW_WEIGHT_DECAY} with adamw, else 0")
    beta_2: float | None = option(None, "Adam second-moment decay")
    schedule: str | None = option(None, "learning-rate decay after the warm-up", choices=SCHEDULES)
    warmup_steps: int | None = option(None, "linear warm-up steps")
    min_learning_rate: float | None = option(None, "where the decay ends", default_text="learning_rate / 10")
    jit_compile: bool | str | None = option(None, "compile the train step with XLA (auto: Keras decides); a family's "
                                                  f"on applies to runs of {XLA_MIN_STEPS} steps or more",
                                            choices=(True, False, "auto"))
    gradient_accumulation_steps: int = option(1, "batches summed into one optimizer update", flag="--grad-accum")
    precision: str = option("auto", "dtype policy; auto: bfloat16 on TPUs and Ampere+ GPUs, float16 on older "
                                    "GPUs, float32 on CPUs", choices=PRECISIONS)
    distribution: str = option("auto", "tf.distribute strategy (--batch-size is the global batch)",
                               choices=DISTRIBUTIONS)
    deterministic: bool = option(False, "TensorFlow op determinism (reproducible, slower)")
    early_stopping_patience: int | None = option(None, "stop after N evaluations without a better validation "
                                                       "loss", flag="--early-stopping")
    sampling: str | None = option(None, "random window offsets (nanoGPT), or sequential non-overlapping windows",
                                  choices=SAMPLING_MODES, default_text="random; with --epochs: sequential")
    validation_fraction: float = option(0.1, "held-out fraction (the tail of the text)")
    test_fraction: float = option(0.0, "test fraction, before the validation part")
    seed: int = option(0, "seed for splits, shuffling, initial weights and samples")

    def __post_init__(self):
        _int_at_least(self, "context_length", 1)
        _int_at_least(self, "batch_size", 1)
        _int_at_least(self, "steps", 1)
        _int_at_least(self, "epochs", 1, optional=True)
        _int_at_least(self, "eval_interval", 1)
        _int_at_least(self, "eval_batches", 1)
        if self.learning_rate is not None:
            _float_in(self, "learning_rate", 0.0, 10.0, low_open=True)
        if self.clip_norm is not None:
            _float_in(self, "clip_norm", 0.0, float("inf"), low_open=True)
        if self.optimizer is not None:
            _choice(self, "optimizer", OPTIMIZERS)
        if self.weight_decay is not None:
            _float_in(self, "weight_decay", 0.0, 10.0)
            if self.weight_decay > 0 and self.optimizer == "adam":
                _fail(self, "weight_decay", "needs optimizer='adamw' (Adam has no decoupled weight decay)")
        if self.beta_2 is not None:
            _float_in(self, "beta_2", 0.0, 1.0, low_open=True, high_open=True)
        if self.schedule is not None:
            _choice(self, "schedule", SCHEDULES)
        _int_at_least(self, "warmup_steps", 0, optional=True)
        if self.min_learning_rate is not None:
            _float_in(self, "min_learning_rate", 0.0, self.learning_rate or 10.0)
        if self.jit_compile is not None and not isinstance(self.jit_compile, bool) and self.jit_compile != "auto":
            _fail(self, "jit_compile", "must be True, False or 'auto'")
        _int_at_least(self, "gradient_accumulation_steps", 1)
        _choice(self, "precision", PRECISIONS)
        _choice(self, "distribution", DISTRIBUTIONS)
        if not isinstance(self.deterministic, bool):
            _fail(self, "deterministic", "must be True or False")
        _int_at_least(self, "early_stopping_patience", 1, optional=True)
        if self.sampling is None:  # unset: what the length of the run is counted in decides
            self.sampling = "sequential" if self.epochs else "random"
        _choice(self, "sampling", SAMPLING_MODES)
        if self.epochs and self.sampling != "sequential":
            _fail(self, "sampling", "must be 'sequential' with epochs (an epoch is one pass over the windows in "
                                    "order); leave it unset")
        _float_in(self, "validation_fraction", 0.0, 0.5, low_open=True)
        _float_in(self, "test_fraction", 0.0, 0.5)
        _int_at_least(self, "seed", 0)

    def resolved(self, defaults=None):
        """This config with every unset (None) optimisation field set from `defaults` (a model family's
        recipe, `lm_keras.families`; default `GENERIC_TRAINING`); AdamW's weight decay defaults to
        `ADAMW_WEIGHT_DECAY`, Adam's to 0; a family's XLA is used for runs of `XLA_MIN_STEPS` steps or more."""
        values = {k: v for k, v in (defaults or GENERIC_TRAINING).items() if getattr(self, k) is None}
        if values.get("jit_compile") is True and not self.epochs and self.steps < XLA_MIN_STEPS:
            values["jit_compile"] = False   # too short a run to repay XLA's compile
        config = dataclasses.replace(self, **values)
        if config.weight_decay is None:
            config.weight_decay = ADAMW_WEIGHT_DECAY if config.optimizer == "adamw" else 0.0
        config.__post_init__()  # the combinations, now that every field is set
        return config


@dataclass
class RunConfig(_Config):
    """Everything needed to reproduce a run: corpus, tokenizer, model and training."""

    corpus: str
    column: str | None = None  # text column of a table corpus
    label_column: str | None = None  # label column of a table corpus (a classifier's)
    line_level: bool = False  # one document per line, encoded as [BOS] document [EOS]
    tokenizer: TokenizerConfig = field(default_factory=TokenizerConfig)
    model: dict = field(default_factory=dict)
    model_type: str = "rnn"
    train: TrainConfig = field(default_factory=TrainConfig)

    def __post_init__(self):
        from lm_keras.families import family  # the registry imports this module

        self.train = self.train.resolved(family(self.model_type).train_defaults)

    @classmethod
    def from_dict(cls, values):
        values = dict(values)
        values["tokenizer"] = TokenizerConfig.from_dict(values.get("tokenizer", {}))
        values["train"] = TrainConfig.from_dict(values.get("train", {}))
        return cls(**values)


@dataclass
class LSTMClassifierConfig(_Config):
    """Embedding(mask_zero) -> LSTM -> pooling -> Dense(dense_dim, relu) -> Dense(num_classes) logits.

    `pooling` "last": the LSTM's state after each text's last real token; "mean" / "max":
    masked pooling over every step of `return_sequences=True` (padding never counts).
    """

    vocabulary_size: int
    num_classes: int
    embedding_dim: int = option(64, "token embedding size")
    hidden_dim: int = option(128, "LSTM state size")
    dense_dim: int = option(64, "width of the Dense layer before the logits")
    dropout: float = option(0.0, "dropout rate")
    pooling: str = option("last", "what the LSTM's states become: the last real one, or their masked mean or max",
                          choices=CLASSIFIER_POOLINGS)

    def __post_init__(self):
        _int_at_least(self, "vocabulary_size", 2)
        _int_at_least(self, "num_classes", 2)
        for name in ("embedding_dim", "hidden_dim", "dense_dim"):
            _int_at_least(self, name, 1)
        _float_in(self, "dropout", 0.0, 1.0, high_open=True)
        _choice(self, "pooling", CLASSIFIER_POOLINGS)


@dataclass
class NaiveBayesConfig(_Config):
    """Multinomial naive Bayes over token 1- and 2-grams, with add-`alpha` smoothing.

    `num_bigrams` is the number of different bigrams seen in training (set by `fit`).
    Bigram ids are (first id) · V + second id in int32, so V is at most 46,340.
    """

    vocabulary_size: int
    num_classes: int
    alpha: float = 0.1
    num_bigrams: int = 0

    def __post_init__(self):
        _int_at_least(self, "vocabulary_size", 2)
        if self.vocabulary_size > 46340:
            _fail(self, "vocabulary_size", "must be <= 46340 (bigram ids are int32)")
        _int_at_least(self, "num_classes", 2)
        _float_in(self, "alpha", 0.0, 1e6, low_open=True)
        _int_at_least(self, "num_bigrams", 0)


@dataclass
class TransformerClassifierConfig(_Config):
    """The head on a Transformer LM backbone: pooled states -> [Dense(head_dim, gelu)] -> Dense(num_classes).

    `pooling` "mean": the mean of the states of the real tokens; "last": the state of the
    last real token (the only one that has seen the whole text, with causal attention).
    `head_dim` None gives a linear head. `backbone_run`: the run directory the backbone and
    its tokenizer came from (`TransformerClassifier.from_run`; None for a backbone passed in).
    """

    num_classes: int
    pooling: str = option("mean", "what the backbone's states become: their masked mean, or the last real one",
                          choices=("mean", "last"))
    head_dim: int | None = option(None, "hidden Dense layer of the head (none: a linear head)")
    dropout: float = option(0.0, "dropout rate")
    backbone_run: str | None = option(None, "run directory of the pretrained Transformer LM (its tokenizer too)",
                                      flag="--backbone")
    freeze_backbone: bool = option(False, "train the head only (--no-freeze-backbone: every weight)")

    def __post_init__(self):
        _int_at_least(self, "num_classes", 2)
        _choice(self, "pooling", ("mean", "last"))
        if not isinstance(self.freeze_backbone, bool):
            _fail(self, "freeze_backbone", "must be True or False")
        _int_at_least(self, "head_dim", 1, optional=True)
        _float_in(self, "dropout", 0.0, 1.0, high_open=True)


POLICY_GRADIENT_ALGORITHMS = ("rloo", "ppo")


@dataclass
class PolicyGradientConfig(_Config):
    """RL fine-tuning of a language model against a reward model, with a KL penalty to a frozen reference.

    Per prompt, `samples_per_prompt` completions (of at most `max_new_tokens` tokens,
    sampled at `temperature`) are scored R = r_φ(x, y) − β · KL(π‖π_ref)(y); the baseline
    of each is the mean of the others' R (RLOO). "ppo" takes `ppo_epochs` steps on each
    batch of samples with the probability ratio clipped to [1 − clip_ratio, 1 + clip_ratio].
    """

    algorithm: str = "rloo"
    samples_per_prompt: int = 4
    beta: float = 0.05
    max_new_tokens: int = 34
    temperature: float = 1.0
    clip_ratio: float = 0.2
    ppo_epochs: int = 2

    def __post_init__(self):
        _choice(self, "algorithm", POLICY_GRADIENT_ALGORITHMS)
        _int_at_least(self, "samples_per_prompt", 2)  # a leave-one-out baseline needs another sample
        _float_in(self, "beta", 0.0, 1e3, low_open=True)
        _int_at_least(self, "max_new_tokens", 1)
        _float_in(self, "temperature", 0.0, 100.0, low_open=True)
        _float_in(self, "clip_ratio", 0.0, 1.0, low_open=True, high_open=True)
        _int_at_least(self, "ppo_epochs", 1)


@dataclass
class DPOConfig(_Config):
    """Direct preference optimisation (Rafailov et al. 2023): β scales the implicit reward β·log(π/π_ref)."""

    beta: float = 0.1

    def __post_init__(self):
        _float_in(self, "beta", 0.0, 1e3, low_open=True)


@dataclass
class PreferenceConfig(_Config):
    """Noisy Bradley–Terry labels from the judge: P(a ≻ b) = σ((s_a − s_b) / temperature)."""

    temperature: float = 0.5

    def __post_init__(self):
        _float_in(self, "temperature", 0.0, 1e3, low_open=True)
