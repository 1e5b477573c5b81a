"""The definitions the tokenizers share with the rest of the library: reserved ids, the banned
mask, CJK, and the one registry of tokenizer kinds."""

import subprocess
import sys

import numpy as np
import pytest
import tensorflow as tf

import lm_keras.config
from lm_keras.alignment.rewards import QuatrainJudge
from lm_keras.tokenizers import (BOS_ID, EOS_ID, PAD_ID, RESERVED_TOKENS, UNK_ID, CharTokenizer, SubwordTokenizer,
                                 WordTokenizer, banned_mask, create_tokenizer, tokenizer_class, tokenizer_kinds)
from lm_keras.tokenizers.cjk import CJK, HAN, code_points, is_cjk, is_han
from lm_keras.tokenizers.word import ALONE, split_words

# character: (is Han, is CJK), by hand
HAND_LIST = {
    "漢": (True, True),         # U+6F22 CJK unified ideograph
    "㐀": (True, True),         # U+3400 extension A
    "𠀀": (True, True),         # U+20000 extension B
    "𰀀": (True, True),         # U+30000 extension G
    "豈": (True, True),         # U+F900 compatibility ideograph
    "〇": (True, True),         # U+3007 ideographic zero
    "あ": (False, True),        # hiragana
    "ア": (False, True),        # katakana
    "ｱ": (False, True),         # U+FF71 half-width katakana
    "。": (False, True),        # U+3002 ideographic full stop
    "「": (False, True),        # U+300C corner bracket
    "，": (False, True),        # U+FF0C full-width comma
    "Ａ": (False, True),        # U+FF21 full-width Latin A
    "한": (False, False),       # Hangul
    "a": (False, False),
    ",": (False, False),
    "é": (False, False),
    "😀": (False, False),
    "\ufffd": (False, False),  # the char tokenizer's unknown mark
}


def test_reserved_ids_are_the_positions_of_the_reserved_tokens():
    assert (PAD_ID, UNK_ID, BOS_ID, EOS_ID) == (0, 1, 2, 3)
    tokenizer = CharTokenizer.train("ab")
    assert [tokenizer.vocabulary[i] for i in (PAD_ID, UNK_ID, BOS_ID, EOS_ID)] == list(RESERVED_TOKENS)


def test_banned_mask_is_minus_infinity_exactly_on_the_banned_ids():
    np.testing.assert_array_equal(banned_mask(6).numpy(), [-np.inf, 0, -np.inf, 0, 0, 0])
    np.testing.assert_array_equal(banned_mask(5, (EOS_ID,)).numpy(), [0, 0, 0, -np.inf, 0])
    assert banned_mask(6).dtype == tf.float32
    # added to logits, it leaves a softmax over the allowed ids only
    probabilities = tf.nn.softmax(tf.zeros(6) + banned_mask(6)).numpy()
    np.testing.assert_allclose(probabilities, [0, 0.25, 0, 0.25, 0.25, 0.25])


def test_the_cjk_definition_against_a_hand_list():
    assert {c: (is_han(c), is_cjk(c)) for c in HAND_LIST} == HAND_LIST
    assert code_points(HAN) < code_points(CJK)


def test_the_word_tokenizer_makes_every_cjk_character_a_word_of_its_own():
    characters = list(HAND_LIST)
    words = split_words(tf.constant([f"x{c}y" for c in characters])).to_list()
    alone = [len(w) == 3 for w in words]
    # CJK characters and punctuation/symbols are split off; letters stay inside the word
    assert alone == [is_cjk(c) or c in ",😀\ufffd" for c in characters]
    for c, w in zip(characters, words):
        if is_cjk(c):
            assert w == [b"x", c.encode(), b"y"]


def test_the_subword_budget_reads_the_same_set_the_word_split_uses():
    # every code point of a few blocks: ASCII, CJK punctuation and kana, ideographs, full-width forms, emoji, Hangul
    sample = [chr(c) for block in [(0x21, 0x7F), (0x3000, 0x3100), (0x4E00, 0x4E40), (0xFF00, 0xFFA0),
                                   (0x20000, 0x20010), (0x1F600, 0x1F610), (0xAC00, 0xAC10)] for c in range(*block)]
    words = split_words(tf.constant([f"x{c}y" for c in sample])).row_lengths().numpy()
    assert [ord(c) in code_points(ALONE) for c in sample] == list(words == 3)


def test_the_judge_uses_the_same_han_characters():
    judge = QuatrainJudge()
    poem = "床前明月光，疑是地上霜。举头望明月，低头思故乡。"
    assert judge.score(poem).format == 1.0
    assert judge.score(poem.replace("地", "𠀀")).format == 1.0  # extension B is Han
    assert judge.score(poem.replace("地", "あ")).format == 0.0  # kana is CJK, not Han
    assert judge.score(poem.replace("地", "Ａ")).format == 0.0


def test_one_registry_with_the_kinds_the_config_accepts():
    assert tokenizer_kinds() == lm_keras.config.TOKENIZER_KINDS
    assert [tokenizer_class(kind) for kind in tokenizer_kinds()] == [CharTokenizer, WordTokenizer, SubwordTokenizer]
    with pytest.raises(ValueError, match="'char', 'word', 'subword'"):
        create_tokenizer("bytes", "text")


def test_create_tokenizer_passes_lowercase_to_the_kinds_that_take_it():
    assert create_tokenizer("word", "Hello hello HELLO", lowercase=True).vocabulary[4:] == ["hello"]
    assert create_tokenizer("word", "Hello hello").vocabulary[4:] == ["Hello", "hello"]
    assert create_tokenizer("char", "Aa", lowercase=True).vocabulary[4:] == ["A", "a"]  # characters are kept
    subword = create_tokenizer("subword", "Hello hello", lowercase=True)
    assert subword.lowercase and subword.encode_to_numpy("HELLO").tolist() == subword.encode_to_numpy("hello").tolist()


@pytest.mark.slow
def test_the_registry_imports_tensorflow_text_only_for_subword():
    script = ("import sys; from lm_keras.tokenizers import create_tokenizer, tokenizer_kinds; "
              "create_tokenizer('word', 'a b'); print('tensorflow_text' in sys.modules, tokenizer_kinds()); "
              "create_tokenizer('subword', 'a b'); print('tensorflow_text' in sys.modules)")
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.splitlines() == ["False ('char', 'word', 'subword')", "True"]
