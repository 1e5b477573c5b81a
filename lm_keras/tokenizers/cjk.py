"""Which characters are CJK: one definition, for the tokenizers' TensorFlow regexes and for Python code.

The definition is a regex character class in RE2's syntax (what `tf.strings.regex_replace`
reads), by Unicode script, so it follows Unicode rather than a hand-kept list of blocks:

    HAN  Han ideographs: unified, extensions A-H, compatibility, radicals, 々 〇
    CJK  HAN, hiragana, katakana, CJK punctuation (U+3000-303F: 。、「」)
         and half- and full-width forms (U+FF00-FFEF: ，！Ａｱ)

Python's `re` has no `\\p{Han}`, so Python code (the quatrain judge, the subword
tokenizer's vocabulary budget) asks RE2 itself: `code_points(class)` is the set of code
points the class matches, computed once with TensorFlow, and `is_han` / `is_cjk` test
one character against it. The tokenizers and the judge cannot disagree about a character.
"""

import functools

import numpy as np
import tensorflow as tf

HAN = r"\p{Han}"
CJK = HAN + r"\p{Hiragana}\p{Katakana}\x{3000}-\x{303F}\x{FF00}-\x{FFEF}"


@functools.cache
def code_points(character_class):
    """frozenset of the code points that RE2 matches with `[character_class]` (about 1 s, once per class)."""
    every = np.concatenate([np.arange(0xD800), np.arange(0xE000, 0x110000)]).astype(np.int32)  # no surrogates
    characters = tf.strings.unicode_encode(tf.constant(every[:, None]), "UTF-8")
    matches = tf.strings.regex_full_match(characters, f"[{character_class}]").numpy()
    return frozenset(every[matches].tolist())


def is_han(character):
    """Is this one-character str a Han ideograph (`HAN`)?"""
    return ord(character) in code_points(HAN)


def is_cjk(character):
    """Is this one-character str CJK (`CJK`): Han, kana, CJK punctuation or a full-width form?"""
    return ord(character) in code_points(CJK)
