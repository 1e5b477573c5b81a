"""Tokenizers: char, word (CJK-aware) and subword (WordPiece), one interface.

    tokenizer = create_tokenizer("char", corpus_text)
    ids = tokenizer.encode("To be, or not to be")      # tf.Tensor int32 (num_tokens,)
    text = tokenizer.decode(ids)                        # tf.string scalar
    tokenizer.save("saved_models/run"); load_tokenizer("saved_models/run")
"""

from lm_keras.tokenizers.base import (BOS, BOS_ID, EOS, EOS_ID, PAD, PAD_ID, RESERVED_TOKENS, UNK, UNK_ID, TextCodec,
                                      Tokenizer, banned_mask, create_tokenizer, load_tokenizer, register_tokenizer,
                                      tokenizer_class, tokenizer_kinds)
from lm_keras.tokenizers.char import CharTokenizer
from lm_keras.tokenizers.word import WordTokenizer


def __getattr__(name):
    if name == "SubwordTokenizer":  # imported on first use: it needs tensorflow_text
        return tokenizer_class("subword")
    raise AttributeError(name)


__all__ = ["BOS", "BOS_ID", "EOS", "EOS_ID", "PAD", "PAD_ID", "RESERVED_TOKENS", "UNK", "UNK_ID", "CharTokenizer",
           "SubwordTokenizer", "TextCodec", "Tokenizer", "WordTokenizer", "banned_mask", "create_tokenizer",
           "load_tokenizer", "register_tokenizer", "tokenizer_class", "tokenizer_kinds"]
