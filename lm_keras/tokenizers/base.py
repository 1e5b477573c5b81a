"""The interface every tokenizer shares.

Encode and decode are TensorFlow ops (TensorFlow-only: `tf.strings`, `tf.lookup`), so a
tokenizer can later live inside a SavedModel. A tokenizer is a `tf.Module`, which makes
its lookup tables trackable for export.

Ids 0-3 are reserved in every vocabulary:

    0 [PAD]  padding            2 [BOS]  begin of a document
    1 [UNK]  unknown token      3 [EOS]  end of a document
"""

import collections
import json
from pathlib import Path

import numpy as np
import tensorflow as tf

from lm_keras.utils.atomic import atomic_file

PAD, UNK, BOS, EOS = "[PAD]", "[UNK]", "[BOS]", "[EOS]"
RESERVED_TOKENS = (PAD, UNK, BOS, EOS)
TOKENIZER_FILE = "tokenizer.json"

_REGISTRY = {}


def register_tokenizer(cls):
    _REGISTRY[cls.kind] = cls
    return cls


class Tokenizer(tf.Module):
    """Base class. Subclasses define `kind`, `split` (text -> token strings) and `join`.

    Args:
        vocabulary: list of token strings; must start with the four reserved tokens.
    """

    kind = None
    #: what an unknown id decodes to
    unknown_text = UNK

    def __init__(self, vocabulary, name=None):
        super().__init__(name=name or f"{self.kind}_tokenizer")
        vocabulary = list(vocabulary)
        if tuple(vocabulary[:4]) != RESERVED_TOKENS:
            raise ValueError(f"vocabulary must start with {RESERVED_TOKENS}, got {vocabulary[:4]}")
        if len(set(vocabulary)) != len(vocabulary):
            dupes = [t for t, c in collections.Counter(vocabulary).items() if c > 1][:5]
            raise ValueError(f"vocabulary has duplicate tokens, e.g. {dupes}")
        self.vocabulary = vocabulary
        self._token_to_id = {t: i for i, t in enumerate(vocabulary)}
        self._table = tf.lookup.StaticHashTable(
            tf.lookup.KeyValueTensorInitializer(
                tf.constant(vocabulary), tf.range(len(vocabulary), dtype=tf.int64)
            ),
            default_value=self.unk_id,
        )
        display = [""] * 4 + vocabulary[4:]
        display[self.unk_id] = self.unknown_text
        self._display = tf.constant(display)

    # ----- vocabulary -------------------------------------------------------------------------
    pad_id, unk_id, bos_id, eos_id = 0, 1, 2, 3

    @property
    def vocabulary_size(self):
        return len(self.vocabulary)

    def token_to_id(self, token):
        return self._token_to_id.get(token, self.unk_id)

    def id_to_token(self, token_id):
        return self.vocabulary[int(token_id)]

    @classmethod
    def count_tokens(cls, texts, **options):
        """Token frequencies over `texts`, using the same split as `encode`."""
        tokenizer = cls(list(RESERVED_TOKENS), **options)
        counts = collections.Counter()
        for start in range(0, len(texts), 2048):
            pieces = tokenizer.split(tf.constant(texts[start : start + 2048])).flat_values.numpy()
            counts.update(pieces)
        return {k.decode("utf-8"): v for k, v in counts.items()}

    @classmethod
    def train(cls, texts, max_vocabulary_size=None, min_frequency=1, **options):
        """Build the vocabulary from `texts` (a string or a list of strings).

        Tokens are kept by decreasing frequency (ties in code-point order), at least
        `min_frequency` times, at most `max_vocabulary_size` ids including the 4 reserved.
        """
        texts = [texts] if isinstance(texts, str) else list(texts)
        counts = cls.count_tokens(texts, **options)
        ranked = sorted((t for t, c in counts.items() if c >= min_frequency and t not in RESERVED_TOKENS),
                        key=lambda t: (-counts[t], t))
        if max_vocabulary_size is not None:
            ranked = ranked[: max(0, max_vocabulary_size - len(RESERVED_TOKENS))]
        return cls(list(RESERVED_TOKENS) + ranked, **options)

    # ----- encode / decode (TensorFlow ops) ---------------------------------------------------
    def split(self, texts):
        """tf.string (batch,) -> tf.RaggedTensor of token strings (batch, None)."""
        raise NotImplementedError

    def join(self, tokens):
        """tf.RaggedTensor of token strings (batch, None) -> tf.string (batch,)."""
        raise NotImplementedError

    def encode(self, texts):
        """Text -> int32 token ids.

        A scalar string (or Python `str`) gives a 1-D Tensor (num_tokens,); a batch of
        strings gives a `tf.RaggedTensor` (batch, None). Unknown tokens map to `unk_id`.
        """
        texts = tf.convert_to_tensor(texts, dtype=tf.string)
        if texts.shape.rank == 0:
            return self.encode(texts[tf.newaxis])[0]
        return tf.cast(self._table.lookup(self.split(texts)), tf.int32)

    def decode(self, ids):
        """Token ids -> text. 1-D ids give a scalar string; (batch, None) ids give (batch,).

        Padding, begin and end tokens are dropped; unknown ids become `unknown_text`.
        """
        if not isinstance(ids, tf.RaggedTensor):
            ids = tf.convert_to_tensor(ids)
            if ids.shape.rank == 1:
                return self.decode(ids[tf.newaxis])[0]
            ids = tf.RaggedTensor.from_tensor(ids)
        ids = tf.cast(ids, tf.int32)
        tokens = tf.gather(self._display, tf.clip_by_value(ids, 0, self.vocabulary_size - 1))
        tokens = tf.ragged.boolean_mask(tokens, tf.strings.length(tokens) > 0)
        return self.join(tokens)

    def __call__(self, texts):
        return self.encode(texts)

    def encode_to_numpy(self, text):
        """Python convenience: one string -> np.ndarray of int32 ids."""
        return self.encode(text).numpy().astype(np.int32)

    def decode_to_str(self, ids):
        """Python convenience: a sequence of ids -> str."""
        return self.decode(np.asarray(ids, dtype=np.int32)).numpy().decode("utf-8")

    # ----- persistence ------------------------------------------------------------------------
    def get_config(self):
        """Constructor arguments other than the vocabulary."""
        return {}

    def save(self, directory):
        """Write `tokenizer.json` (kind, options, vocabulary) into `directory`, atomically."""
        path = Path(directory) / TOKENIZER_FILE
        payload = {"kind": self.kind, "config": self.get_config(), "vocabulary": self.vocabulary}
        with atomic_file(path) as f:
            json.dump(payload, f, ensure_ascii=False, indent=0)
        return path

    def __repr__(self):
        return f"{type(self).__name__}(vocabulary_size={self.vocabulary_size}, {self.get_config()})"


def load_tokenizer(directory):
    """Rebuild the tokenizer that `Tokenizer.save(directory)` wrote."""
    path = Path(directory) / TOKENIZER_FILE
    if not path.is_file():
        raise FileNotFoundError(f"No tokenizer at {path}")
    payload = json.loads(path.read_text(encoding="utf-8"))
    if payload.get("kind") == "subword":
        import lm_keras.tokenizers.subword  # noqa: F401  (registers it; needs tensorflow_text)
    cls = _REGISTRY.get(payload.get("kind"))
    if cls is None:
        raise ValueError(f"{path}: unknown tokenizer kind {payload.get('kind')!r}; known: {sorted(_REGISTRY)}")
    return cls(payload["vocabulary"], **payload.get("config", {}))
