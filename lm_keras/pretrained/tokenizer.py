"""GPT-2's byte-level BPE tokenizer (KerasHub's `GPT2Tokenizer`) with the project's `Tokenizer` interface.

GPT-2 has one special token, `<|endoftext|>`: it begins and ends a document, so it is
`bos_id` and `eos_id`, and it pads (`pad_id`), where decoding drops it like the project's
[PAD]/[BOS]/[EOS]. Byte-level BPE covers every byte, so there is no unknown token
(`unk_id` is None). Ids are GPT-2's own: the project's reserved ids 0-3 do not apply.

Encode and decode run KerasHub's TensorFlow ops inside `tf.function`s, so they give tensors
eagerly too and go into a SavedModel with the lookup tables. Decoded text is valid UTF-8
(a sequence cut inside a character ends in U+FFFD), the same in Python and in an export.
The BPE pre-split is a `tensorflow_text` op: a process that loads an export runs
`import tensorflow_text` first (`lm_keras.export.load` does).
"""

import types

import numpy as np
import tensorflow as tf

from lm_keras.tokenizers.base import Tokenizer, register_tokenizer


@register_tokenizer
class KerasHubTokenizer(Tokenizer):
    """GPT-2 byte-level BPE as an lm_keras tokenizer.

    Args:
        vocabulary: the tokens in id order (GPT-2's byte-level strings, `<|endoftext|>` included).
        merges: the BPE merge rules, "a b" strings in rank order.
        tokenizer: an existing KerasHub `GPT2Tokenizer` with that vocabulary and those merges
            (used as it is instead of building its tables again; see `from_keras_hub`).
    """

    kind = "gpt2_bpe"
    #: its export must `import tensorflow_text` before loading (the BPE pre-split op lives there)
    needs_tensorflow_text = True
    unk_id = None

    def __init__(self, vocabulary, merges, tokenizer=None, name=None):
        import keras_hub

        # Not the base class's __init__: its vocabulary must start with [PAD] [UNK] [BOS] [EOS].
        tf.Module.__init__(self, name=name or "gpt2_bpe_tokenizer")
        self.vocabulary, self.merges = list(vocabulary), list(merges)
        if tokenizer is None:
            tokenizer = keras_hub.models.GPT2Tokenizer(vocabulary={t: i for i, t in enumerate(self.vocabulary)},
                                                       merges=self.merges)
        # The Keras layer stays out of the saved object graph (a plain namespace is not tracked), as
        # in `SavedModelServer`; its lookup tables are listed instead, so that a SavedModel saves and
        # restores every table its graphs read.
        self._keras = types.SimpleNamespace(bpe=tokenizer)
        self.tables = [value for key, value in vars(tokenizer).items() if not key.startswith("_") and isinstance(
            value, (tf.Module, tf.saved_model.experimental.TrackableResource))]
        self.pad_id = self.bos_id = self.eos_id = int(tokenizer.end_token_id)
        self.special_ids = tuple(sorted(int(i) for i in tokenizer.special_token_ids))
        # Graph functions: KerasHub returns Python lists when called eagerly, tensors in a graph.
        self._tokenize = tf.function(self._tokenize_ops, input_signature=[tf.TensorSpec([None], tf.string)])
        self._detokenize = tf.function(self._detokenize_ops,
                                       input_signature=[tf.RaggedTensorSpec([None, None], tf.int32)])

    @classmethod
    def from_keras_hub(cls, tokenizer):
        """Wrap a KerasHub `GPT2Tokenizer` (e.g. `causal_lm.preprocessor.tokenizer`)."""
        return cls(tokenizer.get_vocabulary(), tokenizer.merges, tokenizer=tokenizer)

    @property
    def keras_hub_tokenizer(self):
        """The KerasHub `GPT2Tokenizer` underneath."""
        return self._keras.bpe

    @classmethod
    def train(cls, texts, max_vocabulary_size=None, min_frequency=1, **options):
        raise ValueError("A GPT-2 tokenizer is not trained here: take the one of a pretrained model, "
                         "`from_keras_hub(load_gpt2(preset))`.")

    def token_to_id(self, token):
        return int(self._keras.bpe.token_to_id(token))

    def _tokenize_ops(self, texts):
        return tf.cast(self._keras.bpe.tokenize(texts), tf.int32)

    def _detokenize_ops(self, ids):
        special = tf.reduce_any(ids.flat_values[:, tf.newaxis] == tf.constant(self.special_ids), axis=-1)
        kept = tf.ragged.boolean_mask(ids, ids.with_flat_values(~special))
        return tf.strings.unicode_transcode(self._keras.bpe.detokenize(kept), "UTF-8", "UTF-8", errors="replace")

    def encode_batch(self, texts):
        """tf.string (batch,) -> int32 ids (batch, None) ragged, KerasHub's byte-level BPE."""
        return self._tokenize(texts)

    def decode_batch(self, ids):
        """Ragged ids (batch, None) -> tf.string (batch,), valid UTF-8; `<|endoftext|>` is dropped."""
        return self._detokenize(tf.cast(ids, tf.int32))

    def get_config(self):
        return {"merges": self.merges}

    def __repr__(self):
        return f"{type(self).__name__}(vocabulary_size={self.vocabulary_size}, merges={len(self.merges)})"


def tokens_per_character(tokenizer, texts):
    """Tokens of `texts` (no special tokens) per character (Unicode code point), for any lm_keras tokenizer.

    A character tokenizer gives 1; GPT-2's byte-level BPE up to 3 on Chinese (3 UTF-8 bytes a character).
    """
    texts = [texts] if isinstance(texts, str) else list(texts)
    characters = sum(len(text) for text in texts)
    if characters == 0:
        raise ValueError("texts is invalid: it has no characters")
    return int(np.sum(tokenizer.encode(tf.constant(texts)).row_lengths())) / characters
