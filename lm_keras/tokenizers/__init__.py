"""Tokenizers: char, word (CJK-aware) and subword (WordPiece), one interface.

    tokenizer = create_tokenizer("char", corpus_text)
    ids = tokenizer.encode("To be, or not to be")      # tf.Tensor int32 (num_tokens,)
    text = tokenizer.decode(ids)                        # tf.string scalar
    tokenizer.save("saved_models/run"); load_tokenizer("saved_models/run")
"""

from lm_keras.tokenizers.base import (BOS, EOS, PAD, RESERVED_TOKENS, UNK, Tokenizer,
                                      load_tokenizer)
from lm_keras.tokenizers.char import CharTokenizer
from lm_keras.tokenizers.word import WordTokenizer

TOKENIZER_CLASSES = {"char": CharTokenizer, "word": WordTokenizer}


def _subword():
    from lm_keras.tokenizers.subword import SubwordTokenizer  # imports tensorflow_text

    return SubwordTokenizer


def create_tokenizer(kind, texts, max_vocabulary_size=None, min_frequency=1, lowercase=False):
    """Train a tokenizer of `kind` ("char", "word", "subword") on `texts` (str or list of str)."""
    if kind == "char":
        return CharTokenizer.train(texts, max_vocabulary_size, min_frequency)
    if kind == "word":
        return WordTokenizer.train(texts, max_vocabulary_size, min_frequency, lowercase=lowercase)
    if kind == "subword":
        return _subword().train(texts, max_vocabulary_size or 4000, min_frequency, lowercase=lowercase)
    raise ValueError(f"tokenizer kind={kind!r} is invalid: must be 'char', 'word' or 'subword'")


def __getattr__(name):
    if name == "SubwordTokenizer":
        return _subword()
    raise AttributeError(name)


__all__ = ["BOS", "EOS", "PAD", "RESERVED_TOKENS", "UNK", "CharTokenizer", "SubwordTokenizer",
           "Tokenizer", "WordTokenizer", "create_tokenizer", "load_tokenizer"]
