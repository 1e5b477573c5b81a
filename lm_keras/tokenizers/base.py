"""The interface every tokenizer shares.

Encode and decode are TensorFlow ops (TensorFlow-only: `tf.strings`, `tf.lookup`), so a
tokenizer can later live inside a SavedModel. A tokenizer is a `tf.Module`, which makes
its lookup tables trackable for export.

Ids 0-3 are reserved in every vocabulary:

    0 [PAD]  padding            2 [BOS]  begin of a document
    1 [UNK]  unknown token      3 [EOS]  end of a document

(`PAD_ID`, `UNK_ID`, `BOS_ID`, `EOS_ID`; `banned_mask` keeps [PAD] and [BOS] out of samples.)
Every kind of tokenizer is registered here once (`register_tokenizer`), and
`create_tokenizer` and `load_tokenizer` both look it up (`tokenizer_class`).
"""

import collections
import importlib
import json
from pathlib import Path

import numpy as np
import tensorflow as tf

from lm_keras.config import PRETRAINED_TOKENIZER_KINDS
from lm_keras.utils.atomic import atomic_file

PAD, UNK, BOS, EOS = "[PAD]", "[UNK]", "[BOS]", "[EOS]"
RESERVED_TOKENS = (PAD, UNK, BOS, EOS)
PAD_ID, UNK_ID, BOS_ID, EOS_ID = range(len(RESERVED_TOKENS))  # their ids, the same in every vocabulary
TOKENIZER_FILE = "tokenizer.json"


def banned_mask(vocabulary_size, banned_ids=(PAD_ID, BOS_ID)):
    """(vocabulary_size,) float32 tensor, -inf at `banned_ids` and 0 elsewhere: added to the logits
    before sampling, it makes those tokens impossible (by default [PAD] and [BOS], which a model
    must never produce)."""
    mask = np.zeros(vocabulary_size, np.float32)
    mask[list(banned_ids)] = -np.inf
    return tf.constant(mask)


# The one tokenizer registry: kind -> the module that defines (and registers) its class. A module
# is imported when its kind is first asked for, so tensorflow_text loads only for "subword" (and
# KerasHub for GPT-2's byte-level BPE, which comes with a pretrained model and is never trained here).
_MODULES = {"char": "lm_keras.tokenizers.char", "word": "lm_keras.tokenizers.word",
            "subword": "lm_keras.tokenizers.subword", "gpt2_bpe": "lm_keras.pretrained.tokenizer"}
_CLASSES = {}


def register_tokenizer(cls):
    """Class decorator: `cls.kind` becomes a kind that `create_tokenizer` and `load_tokenizer` know."""
    _MODULES.setdefault(cls.kind, cls.__module__)
    _CLASSES[cls.kind] = cls
    return cls


def tokenizer_kinds():
    """The kinds `create_tokenizer` trains on a corpus, in registration order: ("char", "word", "subword").
    A pretrained tokenizer (`PRETRAINED_TOKENIZER_KINDS`: GPT-2's byte-level BPE) is there for
    `load_tokenizer` only."""
    return tuple(kind for kind in _MODULES if kind not in PRETRAINED_TOKENIZER_KINDS)


def tokenizer_class(kind):
    """The class of tokenizer `kind`, importing its module on first use."""
    if kind not in _MODULES:
        raise ValueError(f"tokenizer kind={kind!r} is invalid: must be one of {tokenizer_kinds()}")
    if kind not in _CLASSES:
        importlib.import_module(_MODULES[kind])
    return _CLASSES[kind]


def create_tokenizer(kind, texts, max_vocabulary_size=None, min_frequency=1, lowercase=False):
    """Train a tokenizer of `kind` (one of `tokenizer_kinds()`) on `texts` (str or list of str).

    `lowercase` goes to the kinds that take it (`train_options`: word, subword); a
    character tokenizer keeps every character as it is. Subword's default size is 4000.
    """
    cls = tokenizer_class(kind)
    options = {"lowercase": lowercase} if "lowercase" in cls.train_options else {}
    return cls.train(texts, max_vocabulary_size, min_frequency, **options)


class TextCodec:
    """`encode` and `decode` for one text or a batch, around a subclass's `encode_batch` and `decode_batch`."""

    def encode(self, texts):
        """Text -> int32 ids: a scalar string (or `str`) gives (num_tokens,), strings (batch,) ragged (batch, None)."""
        texts = tf.convert_to_tensor(texts, dtype=tf.string)
        if texts.shape.rank == 0:
            return self.encode(texts[tf.newaxis])[0]
        return self.encode_batch(texts)

    def decode(self, ids):
        """Ids -> text: 1-D ids give a scalar string, (batch, None) ids (dense or ragged) give (batch,)."""
        if not isinstance(ids, tf.RaggedTensor):
            ids = tf.convert_to_tensor(ids)
            if ids.shape.rank == 1:
                return self.decode(ids[tf.newaxis])[0]
            ids = tf.RaggedTensor.from_tensor(ids)
        return self.decode_batch(ids)


class Tokenizer(TextCodec, tf.Module):
    """Base class. Subclasses define `kind`, `split` (text -> token strings) and `join`.

    Args:
        vocabulary: list of token strings; must start with the four reserved tokens.
    """

    kind = None
    #: the options of `create_tokenizer` (besides sizes) that `train` takes, e.g. ("lowercase",)
    train_options = ()
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
    pad_id, unk_id, bos_id, eos_id = PAD_ID, UNK_ID, BOS_ID, EOS_ID

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

    def encode_batch(self, texts):
        """tf.string (batch,) -> int32 ids (batch, None) ragged. Unknown tokens map to `unk_id`."""
        return tf.cast(self._table.lookup(self.split(texts)), tf.int32)

    def decode_batch(self, ids):
        """Ragged ids (batch, None) -> tf.string (batch,). Padding, begin and end tokens are
        dropped; unknown ids become `unknown_text`."""
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
    if payload.get("kind") not in _MODULES:
        raise ValueError(f"{path}: unknown tokenizer kind {payload.get('kind')!r}; known: {sorted(_MODULES)}")
    return tokenizer_class(payload["kind"])(payload["vocabulary"], **payload.get("config", {}))
