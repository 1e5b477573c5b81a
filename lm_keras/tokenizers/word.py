"""Word tokenizer: whitespace-separated words, punctuation split off, every CJK character a token.

Normalisation (what a round trip does not keep): runs of whitespace become one space
(newlines included), spaces before closing punctuation and after opening brackets are
dropped, spaces next to CJK characters are dropped, and with `lowercase=True` text is
lower-cased. Encoding the decoded text gives the same ids again, unknown words
included: the text `[UNK]` is read back as the unknown token.
"""

import tensorflow as tf

from lm_keras.tokenizers.base import UNK, Tokenizer, register_tokenizer
from lm_keras.tokenizers.cjk import CJK

# A private-use character stands in for the text "[UNK]" while punctuation is split off.
UNK_STAND_IN = "\ue000"
# Punctuation, symbols (emoji are \p{So}), the stand-in and CJK characters each become their own token.
ALONE = r"\p{P}\p{S}\x{E000}" + CJK
SPLIT_PATTERN = "([" + ALONE + "])"


def split_words(texts, lowercase=False):
    """tf.string (batch,) -> RaggedTensor of words (batch, None)."""
    texts = tf.strings.regex_replace(texts, r"\[UNK\]", UNK_STAND_IN)
    if lowercase:
        texts = tf.strings.lower(texts, encoding="utf-8")
    words = tf.strings.split(tf.strings.regex_replace(texts, SPLIT_PATTERN, r" \1 "))
    return tf.ragged.map_flat_values(tf.strings.regex_replace, words, UNK_STAND_IN, UNK)


def join_words(words):
    """RaggedTensor of words (batch, None) -> tf.string (batch,), undoing the spacing of `split_words`."""
    text = tf.strings.reduce_join(words, axis=-1, separator=" ")
    text = tf.strings.regex_replace(text, r" ([.,;:!?%)\]}])", r"\1")
    text = tf.strings.regex_replace(text, r"([(\[{]) ", r"\1")
    return tf.strings.regex_replace(text, " ?([" + CJK + "]) ?", r"\1")


@register_tokenizer
class WordTokenizer(Tokenizer):
    """Args: vocabulary; lowercase: lower-case text before splitting."""

    kind = "word"
    train_options = ("lowercase",)

    def __init__(self, vocabulary, lowercase=False, name=None):
        self.lowercase = bool(lowercase)
        super().__init__(vocabulary, name=name)

    def split(self, texts):
        return split_words(texts, self.lowercase)

    def join(self, tokens):
        return join_words(tokens)

    def get_config(self):
        return {"lowercase": self.lowercase}
