"""Subword tokenizer: WordPiece learned from the corpus with tensorflow-text.

Text is first split into words exactly as `WordTokenizer` does (so CJK characters and
punctuation are words of their own), then each word is cut into WordPiece pieces
(`play ##ing`). Decoding merges the pieces and applies the word tokenizer's spacing
rules, so the round trip keeps the same normalisation as the word tokenizer.
Needs `tensorflow_text` (also to load a SavedModel that contains it).
"""

import collections

import tensorflow as tf
import tensorflow_text as tf_text
from tensorflow_text.tools.wordpiece_vocab import wordpiece_tokenizer_learner_lib as learner

from lm_keras.config import SUBWORD_VOCABULARY_SIZE
from lm_keras.tokenizers.base import RESERVED_TOKENS, UNK, register_tokenizer
from lm_keras.tokenizers.cjk import code_points
from lm_keras.tokenizers.word import ALONE, WordTokenizer, join_words, split_words

SUFFIX = "##"


def _always_alone(ch):
    """Characters `split_words` always makes words of their own (CJK, punctuation, symbols): its own regex's."""
    return ord(ch) in code_points(ALONE)


def _alphabet_that_fits(word_counts, budget):
    """How many of the most frequent characters fit in `budget` ids (2 each, CJK 1: no `##` form)."""
    counts = collections.Counter()
    for word, count in word_counts:
        for ch in word:
            counts[ch] += count
    used = fitted = 0
    for ch, _ in counts.most_common():
        used += 1 if _always_alone(ch) else 2
        if used > budget:
            break
        fitted += 1
    return max(1, fitted)


def _impossible_continuation(token):
    """`##x` where x is always a word of its own: it can never follow another piece."""
    rest = token[len(SUFFIX):]
    return token.startswith(SUFFIX) and len(rest) == 1 and _always_alone(rest)


@register_tokenizer
class SubwordTokenizer(WordTokenizer):
    """Args: vocabulary (reserved tokens, then pieces; `##x` continues a word); lowercase.

    A `WordTokenizer` whose words are then cut into pieces: `split` gives the words.
    """

    kind = "subword"

    def __init__(self, vocabulary, lowercase=False, name=None):
        super().__init__(vocabulary, lowercase, name=name)
        self._wordpiece = tf_text.WordpieceTokenizer(
            self._table, suffix_indicator=SUFFIX, unknown_token=UNK,
            token_out_type=tf.int64, split_unknown_characters=False,
        )

    @classmethod
    def train(cls, texts, max_vocabulary_size=None, min_frequency=1, lowercase=False):
        """Learn a WordPiece vocabulary of at most `max_vocabulary_size` entries (default `SUBWORD_VOCABULARY_SIZE`, 4000) from `texts`.

        The vocabulary is: the reserved tokens, the alphabet (each character and its `##`
        continuation), then the learned pieces by decreasing frequency, cut to fit. The
        alphabet takes the most frequent characters that fit; for scripts with thousands
        of characters, such as Chinese, the rarest ones become [UNK]. CJK characters,
        punctuation and symbols are words of their own, so their `##` continuations never
        occur and are left out.
        """
        texts = [texts] if isinstance(texts, str) else list(texts)
        max_vocabulary_size = max_vocabulary_size or SUBWORD_VOCABULARY_SIZE
        word_counts = collections.Counter()
        for start in range(0, len(texts), 2048):
            words = split_words(tf.constant(texts[start : start + 2048]), lowercase).flat_values.numpy()
            word_counts.update(words)
        word_counts = [(w.decode("utf-8"), c) for w, c in word_counts.items() if c >= min_frequency]
        learned = learner.learn(
            word_counts, max_vocabulary_size, list(RESERVED_TOKENS), lower_thresh=1,
            max_unique_chars=_alphabet_that_fits(word_counts, max_vocabulary_size - len(RESERVED_TOKENS)),
            max_input_tokens=-1, joiner=SUFFIX,
        )
        vocabulary = [t for t in learned if not _impossible_continuation(t)]
        alphabet = [t for t in vocabulary if t in RESERVED_TOKENS or len(t.removeprefix(SUFFIX)) == 1]
        pieces = [t for t in vocabulary if t not in set(alphabet)]  # already by decreasing count
        if len(alphabet) > max_vocabulary_size:
            raise ValueError(f"max_vocabulary_size={max_vocabulary_size} is too small for the alphabet "
                             f"({len(alphabet)} entries with the reserved tokens)")
        return cls(alphabet + pieces[: max_vocabulary_size - len(alphabet)], lowercase=lowercase)

    def encode_batch(self, texts):
        pieces = self._wordpiece.tokenize(self.split(texts))  # (batch, words, pieces)
        return tf.cast(pieces.merge_dims(-2, -1), tf.int32)

    def decode_batch(self, ids):
        ids = tf.clip_by_value(tf.cast(ids, tf.int64), 0, self.vocabulary_size - 1)
        ids = tf.ragged.boolean_mask(ids, (ids > self.eos_id) | tf.equal(ids, self.unk_id))
        words = self._wordpiece.detokenize(ids)
        return join_words(words)
