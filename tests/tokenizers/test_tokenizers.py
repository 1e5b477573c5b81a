import re

import numpy as np
import pytest
import tensorflow as tf

from lm_keras.tokenizers import (RESERVED_TOKENS, CharTokenizer, SubwordTokenizer, WordTokenizer,
                                 create_tokenizer, load_tokenizer)

MIXED = ["To be, or not to be: that is the question.", "床前明月光，疑是地上霜。", "Emoji 😀🎉 and 中文 mixed!"]


def test_char_round_trip_on_all_of_tiny_shakespeare(shakespeare):
    tokenizer = CharTokenizer.train(shakespeare.text)
    assert tokenizer.vocabulary_size == 65 + 4
    ids = tokenizer.encode(shakespeare.text)
    assert ids.dtype == tf.int32 and ids.shape == (1_115_394,)
    assert tokenizer.decode(ids).numpy().decode("utf-8") == shakespeare.text


def test_char_round_trip_on_all_tang_poems(tang_poems):
    tokenizer = CharTokenizer.train(tang_poems.text)
    assert tokenizer.vocabulary_size > 9000
    assert tokenizer.decode(tokenizer.encode(tang_poems.text)).numpy().decode("utf-8") == tang_poems.text
    batch = tokenizer.encode(tf.constant(tang_poems.documents[:100]))
    assert isinstance(batch, tf.RaggedTensor)
    assert [s.decode() for s in tokenizer.decode(batch).numpy()] == tang_poems.documents[:100]


def test_unknown_characters_map_to_unk_instead_of_failing():
    tokenizer = CharTokenizer.train("abc")
    ids = tokenizer.encode_to_numpy("abz😀c").tolist()
    a, b, c = (tokenizer.token_to_id(x) for x in "abc")
    assert ids == [a, b, tokenizer.unk_id, tokenizer.unk_id, c]
    assert tokenizer.decode_to_str(ids) == "ab\ufffd\ufffdc"


def test_reserved_ids_and_vocabulary_caps():
    tokenizer = CharTokenizer.train("aaaabbbcc d", max_vocabulary_size=6)
    assert tokenizer.vocabulary[:4] == list(RESERVED_TOKENS)
    assert (tokenizer.pad_id, tokenizer.unk_id, tokenizer.bos_id, tokenizer.eos_id) == (0, 1, 2, 3)
    assert tokenizer.vocabulary[4:] == ["a", "b"]  # most frequent first
    assert CharTokenizer.train("aaaabbbcc d", min_frequency=2).vocabulary[4:] == ["a", "b", "c"]
    # special tokens vanish when decoding
    assert tokenizer.decode_to_str([2, 4, 5, 3, 0, 0]) == "ab"


@pytest.mark.parametrize("kind", ["char", "word", "subword"])
def test_english_chinese_and_emoji_encode_and_save_load(kind, tmp_path):
    tokenizer = create_tokenizer(kind, MIXED * 3)
    for text in MIXED:
        ids = tokenizer.encode_to_numpy(text)
        assert len(ids) > 0 and tokenizer.unk_id not in ids, (kind, text, ids)
    tokenizer.save(tmp_path)
    again = load_tokenizer(tmp_path)
    assert type(again) is type(tokenizer) and again.vocabulary == tokenizer.vocabulary
    for text in MIXED:
        np.testing.assert_array_equal(again.encode_to_numpy(text), tokenizer.encode_to_numpy(text))


def _no_space(text):
    return re.sub(r"\s+", "", text)


@pytest.mark.parametrize("kind", ["word", "subword"])
def test_word_level_round_trip_up_to_whitespace(kind, shakespeare, tang_poems):
    english = shakespeare.text[:100_000]
    chinese = "\n".join(tang_poems.documents[:300])
    tokenizer = create_tokenizer(kind, [english, chinese], max_vocabulary_size=None if kind == "word" else 3000)
    for text in (english[:20_000], chinese):
        ids = tokenizer.encode(text)
        decoded = tokenizer.decode(ids).numpy().decode("utf-8")
        if tokenizer.unk_id not in ids.numpy():
            assert _no_space(decoded) == _no_space(text)  # only whitespace changes
        # decoding is a faithful inverse at the token level
        np.testing.assert_array_equal(tokenizer.encode(decoded), ids)


@pytest.mark.parametrize("cls", [WordTokenizer, SubwordTokenizer])
def test_word_level_documented_normalisation(cls):
    tokenizer = cls.train(MIXED + ["Hello, world! (Yes.) How are   you?\nFine."])
    assert tokenizer.decode_to_str(tokenizer.encode("Hello, world! (Yes.)")) == "Hello, world! (Yes.)"
    assert tokenizer.decode_to_str(tokenizer.encode("How are   you?\nFine.")) == "How are you? Fine."
    assert tokenizer.decode_to_str(tokenizer.encode("床前明月光，疑是地上霜。")) == "床前明月光，疑是地上霜。"
    assert tokenizer.decode_to_str(tokenizer.encode("Hello zebra")) == "Hello [UNK]"


def test_word_tokenizer_splits_punctuation_and_cjk_and_lowercases():
    tokenizer = WordTokenizer.train(["Hello, World! 床前"], lowercase=True)
    tokens = [tokenizer.id_to_token(i) for i in tokenizer.encode_to_numpy("HELLO, world! 床前")]
    assert tokens == ["hello", ",", "world", "!", "床", "前"]


@pytest.mark.slow
def test_subword_splits_rare_words_into_known_pieces(shakespeare):
    tokenizer = SubwordTokenizer.train(shakespeare.text[:200_000], max_vocabulary_size=1000)
    assert tokenizer.vocabulary_size <= 1000
    assert any(t.startswith("##") for t in tokenizer.vocabulary)
    ids = tokenizer.encode_to_numpy("unproceedingly")
    assert len(ids) > 1 and tokenizer.unk_id not in ids
    assert tokenizer.decode_to_str(ids) == "unproceedingly"


def test_encode_and_decode_run_inside_tf_function():
    tokenizer = CharTokenizer.train("hello world")

    @tf.function(input_signature=[tf.TensorSpec([None], tf.string)])
    def round_trip(texts):
        return tokenizer.decode(tokenizer.encode(texts))

    assert [t.decode() for t in round_trip(tf.constant(["hello", "world!"])).numpy()] == ["hello", "world\ufffd"]


@pytest.mark.slow
@pytest.mark.parametrize("size", [300, 1000, 4000])
def test_subword_vocabulary_size_is_an_upper_bound(size, shakespeare, tang_poems):
    for texts in (shakespeare.text[:100_000], tang_poems.documents[:1500]):
        tokenizer = SubwordTokenizer.train(texts, max_vocabulary_size=size)
        assert tokenizer.vocabulary_size <= size
        if size <= 1000:  # these slices have enough distinct pieces to fill a small vocabulary
            assert tokenizer.vocabulary_size >= size - 50
        # continuations of characters that are always words of their own would be dead ids
        assert "##，" not in tokenizer.vocabulary and "##春" not in tokenizer.vocabulary


@pytest.mark.parametrize("kind", ["word", "subword"])
def test_unknown_words_survive_a_decode_encode_round_trip(kind):
    tokenizer = create_tokenizer(kind, ["hello world, hello there."])
    ids = tokenizer.encode_to_numpy("hello zyzzyva! [UNK] foo[UNK]bar")
    assert tokenizer.unk_id in ids
    np.testing.assert_array_equal(tokenizer.encode_to_numpy(tokenizer.decode_to_str(ids)), ids)
