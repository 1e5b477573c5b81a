"""Embedding + RNN language model: the documents' first example, done properly.

    token ids (batch, time)
      -> Embedding                      (batch, time, embedding_dim)
      -> [SimpleRNN | LSTM | GRU] x n   (batch, time, hidden_dim), dropout between layers
      -> Dense(vocabulary_size)         (batch, time, vocabulary_size) logits

The model answers the three questions every language model in lm_keras answers:
`call(token_ids) -> logits`, `step(token_ids, cache) -> (logits, cache)` for one new
position (the cache is the recurrent state), and `score(token_ids)` for the
log-likelihood of each token. Generation, evaluation and export only use these.
"""

import keras
from keras import ops

from lm_keras.config import RNNConfig
from lm_keras.models.base import LanguageModel

def left_to_right_padding(token_ids, padding_mask):
    """Move each row's real tokens to the front: left-padded (batch, time) -> right-padded."""
    time = ops.shape(token_ids)[1]
    lengths = ops.sum(ops.cast(padding_mask, "int32"), axis=1, keepdims=True)
    positions = ops.expand_dims(ops.arange(time, dtype="int32"), 0)
    source = (positions + (time - lengths)) % time
    return ops.take_along_axis(token_ids, source, axis=1), positions < lengths


def _offset(x, embedding_offset):
    """(batch, time, d) + (batch, d) broadcast over time; None adds nothing."""
    if embedding_offset is None:
        return x
    return x + ops.expand_dims(ops.cast(embedding_offset, x.dtype), 1)


_LAYERS = {"lstm": keras.layers.LSTM, "gru": keras.layers.GRU, "simple_rnn": keras.layers.SimpleRNN}


@keras.saving.register_keras_serializable(package="lm_keras")
class RNNLanguageModel(LanguageModel):
    """Args: see `lm_keras.config.RNNConfig` (validated on construction)."""

    def __init__(self, vocabulary_size, cell_type="lstm", embedding_dim=64, hidden_dim=256,
                 num_layers=1, dropout=0.0, **kwargs):
        super().__init__(**kwargs)
        self.config = RNNConfig(vocabulary_size, cell_type, embedding_dim, hidden_dim, num_layers, dropout)
        self.embedding = keras.layers.Embedding(vocabulary_size, embedding_dim, name="token_embedding")
        self.rnn_layers = [
            _LAYERS[cell_type](hidden_dim, return_sequences=True, return_state=True, name=f"{cell_type}_{i}")
            for i in range(num_layers)
        ]
        self.dropout_layer = keras.layers.Dropout(dropout, name="dropout")
        # float32 logits also under a mixed-precision policy (a float16 softmax over the vocabulary overflows)
        self.output_projection = keras.layers.Dense(vocabulary_size, name="logits", dtype="float32")

    @property
    def vocabulary_size(self):
        return self.config.vocabulary_size

    @property
    def states_per_layer(self):
        return 2 if self.config.cell_type == "lstm" else 1

    def build(self, input_shape):
        batch, time = input_shape[0], input_shape[1]
        self.embedding.build(input_shape)
        shape = (batch, time, self.config.embedding_dim)
        for layer in self.rnn_layers:
            layer.build(shape)
            shape = (batch, time, self.config.hidden_dim)
        self.output_projection.build(shape)
        self.built = True

    def _run(self, token_ids, initial_cache=None, padding_mask=None, training=None, embedding_offset=None):
        """ids (batch, time) -> (hidden states (batch, time, hidden_dim), final cache)."""
        x = _offset(self.embedding(token_ids), embedding_offset)
        cache = []
        for i, layer in enumerate(self.rnn_layers):
            initial_state = None if initial_cache is None else list(initial_cache[i])
            x, *state = layer(x, initial_state=initial_state, mask=padding_mask, training=training)
            cache.append(tuple(state))
            x = self.dropout_layer(x, training=training)
        return x, tuple(cache)

    def call(self, token_ids, training=None, embedding_offset=None, initial_cache=None):
        """token_ids (batch, time) int -> logits (batch, time, vocabulary_size).

        A conditional model (the VAE's decoder) passes `embedding_offset` (batch,
        embedding_dim), added to every input embedding, and/or its `initial_cache`.
        """
        hidden, _ = self._run(token_ids, initial_cache, training=training, embedding_offset=embedding_offset)
        return self.output_projection(hidden)

    def initial_cache(self, batch_size):
        """Zero recurrent state: a tuple per layer of (batch, hidden_dim) tensors."""
        zeros = ops.zeros((batch_size, self.config.hidden_dim), dtype=self.compute_dtype)
        return tuple(tuple(zeros for _ in range(self.states_per_layer)) for _ in self.rnn_layers)

    def prefill(self, token_ids, padding_mask=None, embedding_offset=None, initial_cache=None):
        """Read a prompt: (batch, time) ids -> (last logits (batch, vocab), cache).

        Prompts of different lengths are left-padded; `padding_mask` (batch, time) is
        False on padding. The rows are re-aligned to right padding, the only masks cuDNN
        accepts, and the recurrent state carries over masked steps, so every row ends in
        exactly the state after its own last token. `embedding_offset` and
        `initial_cache` condition the model as in `call`.
        """
        if padding_mask is not None:
            token_ids, padding_mask = left_to_right_padding(token_ids, padding_mask)
        _, cache = self._run(token_ids, initial_cache, padding_mask, training=False,
                             embedding_offset=embedding_offset)
        return self.output_projection(cache[-1][0]), cache  # an RNN's output is its state h

    def step(self, token_ids, cache, embedding_offset=None):
        """One new position: ids (batch,) and cache -> (logits (batch, vocab), new cache)."""
        x = self.embedding(token_ids)
        if embedding_offset is not None:
            x = x + ops.cast(embedding_offset, x.dtype)
        new_cache = []
        for layer, state in zip(self.rnn_layers, cache):
            x, new_state = layer.cell(x, list(state), training=False)
            new_state = new_state if isinstance(new_state, (list, tuple)) else [new_state]
            new_cache.append(tuple(new_state))
        return self.output_projection(x), tuple(new_cache)

    def get_config(self):
        return {**super().get_config(), **self.config.to_dict()}
