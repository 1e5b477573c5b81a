"""Character tokenizer: one token per Unicode code point (Chinese and emoji included)."""

import collections

import tensorflow as tf

from lm_keras.tokenizers.base import RESERVED_TOKENS, Tokenizer, register_tokenizer


@register_tokenizer
class CharTokenizer(Tokenizer):
    """Exact round trip: `decode(encode(x)) == x` whenever every character of x is in the vocabulary.

    Characters not in the vocabulary encode to `[UNK]` and decode to U+FFFD (�).
    """

    kind = "char"
    unknown_text = "\ufffd"

    def split(self, texts):
        return tf.strings.unicode_split(texts, "UTF-8", errors="replace")

    def join(self, tokens):
        return tf.strings.reduce_join(tokens, axis=-1)

    @classmethod
    def count_tokens(cls, texts, **options):
        counts = collections.Counter()
        for text in texts:
            counts.update(text)
        return {t: c for t, c in counts.items() if t not in RESERVED_TOKENS}
