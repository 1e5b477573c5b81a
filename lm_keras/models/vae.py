"""Text variational autoencoder (Bowman et al. 2016) with the usual remedies for posterior collapse.

    token ids (b, t): [BOS] poem [EOS] [PAD]...
      encoder:  Embedding -> bidirectional GRU -> last states (b, 2·encoder_dim)
                -> Dense heads: z_mean μ, z_log_var log σ²          (b, latent_dim) each
                   (BN-VAE: μ = γ · BatchNorm(μ) with γ fixed)
      sample:   z = μ + exp(½·log σ²) ⊙ ε,  ε ~ N(0, I)              (b, latent_dim)
      decoder:  the project's LSTM/GRU or Transformer language model reading ids[:, :-1],
                with W_in·z added to every input embedding and, for an RNN, tanh(W_s·z) as
                its initial state                                   -> logits (b, t - 1, vocab)

    loss per poem = reconstruction (−Σ_t log p(x_t | x_<t, z)) + β_t · KL(q(z|x) ‖ N(0, I))

Why z enters at every input and not only as the initial state: an LSTM started from z
soon writes over it, and a strong decoder then learns to ignore z altogether (Bowman et
al.'s collapse); a term added at every step keeps z one matrix multiply away from every
prediction. The decoder reuses the project's generation (samplers, cache, beam search):
`prefill(ids, mask, condition=z)` and `step` make the VAE a language model conditioned on z.
"""

import keras
import tensorflow as tf
from keras import ops

from lm_keras.config import VAEConfig
from lm_keras.layers.latent import LatentSampling, gaussian_kl
from lm_keras.models.rnn_lm import RNNLanguageModel
from lm_keras.models.tracking import TrackedModel
from lm_keras.models.transformer_lm import TransformerLanguageModel
from lm_keras.tokenizers.base import PAD_ID, UNK_ID


@keras.saving.register_keras_serializable(package="lm_keras")
class TextVAE(TrackedModel):
    """Args: see `lm_keras.config.VAEConfig` (validated on construction); `seed` seeds ε and word dropout.

    `fit()` trains it with its own `train_step` (no `loss=` in `compile`) and reports
    `loss` (the objective), `reconstruction` and `kl` (nats per poem), `elbo` (their
    negative sum: a lower bound of log p(x)) and the current `kl_weight` β_t.
    """

    own_loss = True  # compile() takes only the optimizer

    def __init__(self, vocabulary_size, latent_dim=32, embedding_dim=128, encoder_dim=128, decoder="lstm",
                 decoder_dim=256, decoder_layers=1, num_heads=4, context_length=64, dropout=0.0,
                 conditioning="input_and_state", beta=1.0, kl_annealing="cyclical", annealing_steps=1000,
                 word_dropout=0.0, free_bits=0.0, batch_norm_gamma=0.6, seed=None, **kwargs):
        super().__init__(**kwargs)
        self.config = c = VAEConfig(vocabulary_size, latent_dim, embedding_dim, encoder_dim, decoder, decoder_dim,
                                    decoder_layers, num_heads, context_length, dropout, conditioning, beta,
                                    kl_annealing, annealing_steps, word_dropout, free_bits, batch_norm_gamma)
        self.seed = seed
        self.encoder_embedding = keras.layers.Embedding(vocabulary_size, embedding_dim, mask_zero=True,
                                                        name="encoder_embedding")
        self.encoder_rnn = keras.layers.Bidirectional(keras.layers.GRU(encoder_dim), name="encoder")
        self.z_mean_head = keras.layers.Dense(latent_dim, name="z_mean")
        self.z_log_var_head = keras.layers.Dense(latent_dim, name="z_log_var")
        self.z_mean_norm = (keras.layers.BatchNormalization(scale=False, momentum=0.9, epsilon=1e-6, synchronized=True,
                            name="z_mean_batch_norm") if batch_norm_gamma else None)  # synchronized: global stats
        self.sampling = LatentSampling(seed=seed, name="sampling")
        if decoder == "transformer":
            self.decoder = TransformerLanguageModel(vocabulary_size, context_length, decoder_layers, num_heads,
                                                    decoder_dim, dropout=dropout, name="decoder")
            input_dim = decoder_dim
        else:
            self.decoder = RNNLanguageModel(vocabulary_size, decoder, embedding_dim, decoder_dim, decoder_layers,
                                            dropout, name="decoder")
            input_dim = embedding_dim
        uses_input = conditioning in ("input_and_state", "input")
        uses_state = conditioning in ("input_and_state", "state") and decoder != "transformer"
        self.latent_to_input = keras.layers.Dense(input_dim, name="latent_to_input") if uses_input else None
        self.latent_to_state = (keras.layers.Dense(decoder_dim * self.decoder.states_per_layer * decoder_layers,
                                                   activation="tanh", name="latent_to_state")
                                if uses_state else None)
        self.word_dropout_seed = keras.random.SeedGenerator(None if seed is None else seed + 1)
        self.steps_seen = self.add_weight(shape=(), initializer="zeros", dtype="float32", trainable=False,
                                          name="steps_seen", aggregation="only_first_replica")
        self.track("loss", "reconstruction", "kl", "elbo", "kl_weight")

    # --- shapes (the config's, read-only) -----------------------------------------------------
    vocabulary_size = property(lambda self: self.config.vocabulary_size)
    latent_dim = property(lambda self: self.config.latent_dim)
    context_length = property(lambda self: self.config.context_length,
                              doc="Longest row ([BOS] and [EOS] included) it reads; `encode_rows` cuts longer ones.")

    def build(self, input_shape):
        batch, time = input_shape[0], input_shape[1]
        c = self.config
        self.encoder_embedding.build(input_shape)
        self.encoder_rnn.build((batch, time, c.embedding_dim))
        for head in (self.z_mean_head, self.z_log_var_head):
            head.build((batch, 2 * c.encoder_dim))
        if self.z_mean_norm is not None:
            self.z_mean_norm.build((batch, c.latent_dim))
        self.decoder.build((batch, time))
        for projection in (self.latent_to_input, self.latent_to_state):
            if projection is not None:
                projection.build((batch, c.latent_dim))
        self.built = True

    # --- the three parts ------------------------------------------------------------------
    def encode(self, token_ids, training=False):
        """Rows (b, t) of `encode_rows` -> (z_mean, z_log_var), each (b, latent_dim) float32."""
        mask = ops.not_equal(token_ids, PAD_ID)
        hidden = self.encoder_rnn(self.encoder_embedding(token_ids), mask=mask, training=training)
        z_mean = self.z_mean_head(hidden)
        if self.z_mean_norm is not None:
            z_mean = self.config.batch_norm_gamma * self.z_mean_norm(z_mean, training=training)
        return ops.cast(z_mean, "float32"), ops.cast(self.z_log_var_head(hidden), "float32")

    def _conditioning(self, z):
        """z (b, latent_dim) -> (embedding offset (b, input_dim) or None, initial RNN state or None)."""
        offset = None if self.latent_to_input is None else self.latent_to_input(z)
        if self.latent_to_state is None:
            return offset, None
        width = self.config.decoder_dim
        flat = self.latent_to_state(z)
        n = self.decoder.states_per_layer  # an RNN decoder's: 2 for an LSTM (h, c), 1 for a GRU
        pieces = [flat[:, i * width:(i + 1) * width] for i in range(self.config.decoder_layers * n)]
        return offset, tuple(tuple(pieces[i:i + n]) for i in range(0, len(pieces), n))

    def _drop_words(self, inputs):
        """Word dropout (Bowman et al.): replace decoder inputs by [UNK] with probability `word_dropout`.

        [BOS] (the first input) and padding are kept, so the decoder still knows where it is.
        """
        keep = keras.random.uniform(ops.shape(inputs), seed=self.word_dropout_seed) >= self.config.word_dropout
        keep = keep | (ops.arange(ops.shape(inputs)[1]) == 0)[None, :] | ops.equal(inputs, PAD_ID)
        return ops.where(keep, inputs, ops.full_like(inputs, UNK_ID))

    def decode(self, token_ids, z, training=False):
        """Teacher-forced decoding: rows (b, t) and z (b, latent_dim) -> logits (b, t - 1, vocab) for ids[:, 1:]."""
        inputs = token_ids[:, :-1]
        if training and self.config.word_dropout > 0:
            inputs = self._drop_words(inputs)
        offset, state = self._conditioning(z)
        kwargs = {} if state is None else {"initial_cache": state}
        return self.decoder(inputs, training=training, embedding_offset=offset, **kwargs)

    def reconstruction_log_likelihood(self, token_ids, logits):
        """log p(x | z) per row: rows (b, t), logits (b, t - 1, vocab) -> (b,) nats, padding excluded."""
        targets = token_ids[:, 1:]
        nll = keras.losses.sparse_categorical_crossentropy(targets, ops.cast(logits, "float32"), from_logits=True)
        return -ops.sum(nll * ops.cast(ops.not_equal(targets, PAD_ID), "float32"), axis=1)

    def call(self, token_ids, training=None):
        """Rows (b, t) -> logits (b, t - 1, vocab): decoded from a sample of q(z|x) in training, from μ otherwise."""
        z_mean, z_log_var = self.encode(token_ids, training=training)
        z = self.sampling(z_mean, z_log_var, mode="sample" if training else "mean")
        return self.decode(token_ids, z, training=training)

    # --- the objective --------------------------------------------------------------------
    def kl_weight(self):
        """β_t after `steps_seen` training steps, under the configured annealing."""
        c = self.config
        step = ops.convert_to_tensor(self.steps_seen)
        if c.kl_annealing == "linear":
            return c.beta * ops.minimum(1.0, step / c.annealing_steps)
        if c.kl_annealing == "cyclical":  # ramp over the first half of each cycle, then hold β
            phase = ops.mod(step, float(c.annealing_steps)) / c.annealing_steps
            return c.beta * ops.minimum(1.0, 2.0 * phase)
        return ops.convert_to_tensor(float(c.beta))

    def kl_term(self, kl_per_dimension):
        """The KL part of the objective: the batch mean, or with free bits Σ_d max(λ, mean_batch KL_d)."""
        if self.config.free_bits > 0:
            return ops.sum(ops.maximum(ops.mean(kl_per_dimension, axis=0), self.config.free_bits))
        return ops.mean(ops.sum(kl_per_dimension, axis=1))

    def compute_terms(self, token_ids, training=False):
        """One sampled pass: (objective, reconstruction (b,), kl (b,), β_t), in nats per row."""
        z_mean, z_log_var = self.encode(token_ids, training=training)
        z = self.sampling(z_mean, z_log_var, mode="sample")
        reconstruction = -self.reconstruction_log_likelihood(token_ids, self.decode(token_ids, z, training=training))
        kl_per_dimension = gaussian_kl(z_mean, z_log_var)
        weight = self.kl_weight()
        objective = ops.mean(reconstruction) + weight * self.kl_term(kl_per_dimension)
        return objective, reconstruction, ops.sum(kl_per_dimension, axis=1), weight

    def _update_metrics(self, objective, reconstruction, kl, weight):
        return self.report({"loss": objective, "reconstruction": ops.mean(reconstruction), "kl": ops.mean(kl),
                            "elbo": -ops.mean(reconstruction + kl), "kl_weight": weight})

    def train_step(self, data):
        token_ids = data[0] if isinstance(data, (tuple, list)) else data
        with tf.GradientTape() as tape:
            objective, reconstruction, kl, weight = self.compute_terms(token_ids, training=True)
            # Keras sums the replicas' gradients; each replica's share of the global mean:
            scaled = self.optimizer.scale_loss(objective / tf.distribute.get_strategy().num_replicas_in_sync)
        gradients = tape.gradient(scaled, self.trainable_weights)
        self.optimizer.apply(gradients, self.trainable_weights)
        self.steps_seen.assign_add(1.0)
        return self._update_metrics(objective, reconstruction, kl, weight)

    def test_step(self, data):
        token_ids = data[0] if isinstance(data, (tuple, list)) else data
        return self._update_metrics(*self.compute_terms(token_ids, training=False))

    # --- generation: a language model conditioned on z ------------------------------------
    def prefill(self, token_ids, padding_mask=None, condition=None):
        """Read a prompt given z: ids (b, t), mask (b, t), condition z (b, latent_dim) (default 0, the prior's mean)
        -> (last logits (b, vocab), cache). The cache holds the decoder's cache and z's input offset."""
        if condition is None:
            condition = ops.zeros((ops.shape(token_ids)[0], self.latent_dim), "float32")
        offset, state = self._conditioning(ops.cast(condition, "float32"))
        kwargs = {} if state is None else {"initial_cache": state}
        logits, decoder_cache = self.decoder.prefill(token_ids, padding_mask, embedding_offset=offset, **kwargs)
        cache = {"decoder": decoder_cache}
        if offset is not None:
            cache["offset"] = offset
        return logits, cache

    def step(self, token_ids, cache):
        """One new position: ids (b,), cache -> (logits (b, vocab), cache)."""
        logits, decoder_cache = self.decoder.step(token_ids, cache["decoder"], embedding_offset=cache.get("offset"))
        return logits, {**cache, "decoder": decoder_cache}

    def get_config(self):
        return {**super().get_config(), **self.config.to_dict(), "seed": self.seed}
