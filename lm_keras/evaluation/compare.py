"""One evaluation for every model of the project, neural or counted, on the same documents."""

import math

import numpy as np

from lm_keras.data.pipeline import encode_documents
from lm_keras.evaluation.perplexity import evaluate_language_model


def evaluate(model, tokenizer, documents, line_level=False, context_length=None, batch_size=64, skip_bos=False):
    """Cross-entropy of `model` on `documents` (a split from `split_corpus`).

    Works for the Keras language models (scored in windows of `context_length`, default
    the model's own) and for `NGramLanguageModel` (every token after the first, with up
    to n − 1 tokens of context). Line-level documents are read as `[BOS] doc [EOS]`;
    `skip_bos` (n-grams): do not charge the prediction of each next document's `[BOS]`, so that a
    document costs its characters and its `[EOS]`, as in a model of whole documents (a VAE).

    Returns:
        dict: `loss` (nats per token), `perplexity`, `bits_per_token`,
        `bits_per_character` (comparable across char, word and subword tokenizers) and
        `num_tokens` predicted.
    """
    from lm_keras.models.ngram import NGramLanguageModel

    ids = encode_documents(documents, tokenizer, add_special_tokens=line_level)
    characters = sum(len(d) + line_level for d in documents)
    if getattr(model, "latent_dim", None) is not None:
        raise TypeError("A text VAE has no exact likelihood: evaluate it with lm_keras.evaluation.evaluate_vae "
                        "(ELBO and the importance-weighted bound).")
    if not isinstance(model, NGramLanguageModel):
        context_length = context_length or getattr(model, "context_length", None)
        if context_length is None:
            raise ValueError(f"{type(model).__name__} has no context length: pass context_length=")
        return evaluate_language_model(model, ids, context_length, batch_size, characters)
    log_probs = model.token_log_probs(ids)
    if skip_bos:
        log_probs = log_probs[ids[1:] != tokenizer.bos_id]   # log_probs[i] predicts ids[i + 1]
    total = -float(np.sum(log_probs, dtype=np.float64))
    loss = total / len(log_probs)
    return {"loss": loss, "perplexity": math.exp(loss), "bits_per_token": loss / math.log(2),
            "num_tokens": len(log_probs), "bits_per_character": total / math.log(2) / characters}


def evaluate_ngrams(orders, tokenizer, splits, line_level=False, split="validation", smoothing="kneser_ney", k=1.0,
                    skip_bos=False):
    """The counted baselines beside a model: an `NGramLanguageModel` of each order in `orders`, counted on
    `splits["train"]` read with `tokenizer`, evaluated on `splits[split]` (`skip_bos`: see `evaluate`)
    -> {order: `evaluate`'s dict}."""
    from lm_keras.models.ngram import NGramLanguageModel

    train_ids = encode_documents(splits["train"], tokenizer, add_special_tokens=line_level)
    return {n: evaluate(NGramLanguageModel(n, tokenizer.vocabulary_size, smoothing, k).fit(train_ids), tokenizer,
                        splits[split], line_level, skip_bos=skip_bos) for n in orders}
