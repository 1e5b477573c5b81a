"""Corpora, splits and the tf.data pipeline.

    corpus = load_corpus("tiny_shakespeare")
    splits = split_corpus(corpus)                     # {"train": [...], "validation": [...], ...}
    ids = encode_documents(splits["train"], tokenizer)
    ds = lm_dataset(ids, context_length=100, batch_size=64)
"""

from lm_keras.data.corpus import Corpus
from lm_keras.data.loading import load_corpus, load_default_corpus
from lm_keras.data.named import NAMED_CORPORA
from lm_keras.data.pipeline import check_length, encode_documents, lm_dataset
from lm_keras.data.splits import split_corpus, split_lines, split_text

__all__ = [
    "Corpus", "NAMED_CORPORA", "check_length", "encode_documents", "lm_dataset",
    "load_corpus", "load_default_corpus", "split_corpus", "split_lines", "split_text",
]
