import numpy as np
import pytest

from lm_keras.data import encode_documents, lm_dataset, split_corpus, split_lines, split_text
from lm_keras.errors import CorpusError
from lm_keras.tokenizers import CharTokenizer


def test_contiguous_split_is_a_tail_cut_at_a_line_boundary(shakespeare):
    parts = split_text(shakespeare.text, validation_fraction=0.1, test_fraction=0.05)
    assert "".join(parts.values()) == shakespeare.text
    assert parts["train"].endswith("\n") and parts["validation"].endswith("\n")
    assert abs(len(parts["validation"]) / len(shakespeare.text) - 0.1) < 0.001
    assert split_text(shakespeare.text)["test"] == ""


def test_line_level_split_is_deterministic_and_disjoint(tang_poems):
    a = split_corpus(tang_poems, 0.1, 0.1, seed=3)
    b = split_corpus(tang_poems, 0.1, 0.1, seed=3)
    assert a == b
    assert split_lines(tang_poems.documents, 0.1, 0.1, seed=4)["validation"] != a["validation"]
    assert sum(len(v) for v in a.values()) == len(tang_poems.documents)
    for name in ("validation", "test"):
        assert abs(len(a[name]) - 0.1 * len(tang_poems.documents)) <= 1


def test_windows_are_shifted_by_exactly_one_on_real_text(shakespeare):
    tokenizer = CharTokenizer.train(shakespeare.text)
    text = split_text(shakespeare.text)["train"]
    ids = encode_documents([text], tokenizer)
    for sampling in ("sequential", "random"):
        inputs, targets = next(iter(lm_dataset(ids, 50, 8, sampling=sampling, seed=1)))
        assert inputs.shape == targets.shape == (8, 50)
        np.testing.assert_array_equal(inputs[:, 1:], targets[:, :-1])
        for row_in, row_out in zip(inputs.numpy(), targets.numpy()):
            window = tokenizer.decode_to_str(np.concatenate([row_in, row_out[-1:]]))
            assert window in text


def test_no_window_crosses_the_train_validation_boundary():
    text = "".join(f"line {i:05d}\n" for i in range(3000))
    parts = split_text(text, 0.2)
    boundary = len(parts["train"])
    positions = np.arange(len(text), dtype=np.int32)  # token id == position in the text
    train_ids, validation_ids = positions[:boundary], positions[boundary:]
    for sampling in ("sequential", "random"):
        for ids, low, high in ((train_ids, 0, boundary), (validation_ids, boundary, len(text))):
            for inputs, targets in lm_dataset(ids, 32, 16, sampling=sampling, seed=0).take(20):
                window = np.concatenate([inputs.numpy(), targets.numpy()[:, -1:]], axis=1)
                assert window.min() >= low and window.max() < high
                np.testing.assert_array_equal(np.diff(window, axis=1), 1)  # contiguous


def test_sequential_windows_cover_the_split_once_per_epoch():
    ids = np.arange(1001, dtype=np.int32)
    batches = list(lm_dataset(ids, 10, 4, sampling="sequential", seed=0, drop_remainder=False))
    starts = sorted(int(x) for inputs, _ in batches for x in inputs.numpy()[:, 0])
    assert starts == list(range(0, 991, 10))


def test_same_seed_same_batches():
    ids = np.arange(5000, dtype=np.int32)
    for sampling in ("sequential", "random"):
        a = [x.numpy() for x, _ in lm_dataset(ids, 16, 4, sampling=sampling, seed=7).take(3)]
        b = [x.numpy() for x, _ in lm_dataset(ids, 16, 4, sampling=sampling, seed=7).take(3)]
        c = [x.numpy() for x, _ in lm_dataset(ids, 16, 4, sampling=sampling, seed=8).take(3)]
        np.testing.assert_array_equal(a, b)
        assert not np.array_equal(a, c)


def test_text_shorter_than_one_window_is_a_clear_error():
    with pytest.raises(CorpusError, match=r"has 5 tokens, fewer than one training window of context_length \+ 1 = 11"):
        lm_dataset(np.arange(5), 10, 2)


def test_line_level_documents_are_wrapped_in_begin_and_end_tokens():
    tokenizer = CharTokenizer.train(["春眠不覺曉", "處處聞啼鳥"])
    ids = encode_documents(["春眠", "啼鳥"], tokenizer, add_special_tokens=True)
    b, e = tokenizer.bos_id, tokenizer.eos_id
    expected = [b, *tokenizer.encode_to_numpy("春眠"), e, b, *tokenizer.encode_to_numpy("啼鳥"), e]
    assert ids.tolist() == expected
