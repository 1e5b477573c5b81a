"""Scores of generated text that train a model: the reverse-LM NLL, and the whole quality–diversity row.

They live here, above `lm_keras.evaluation` (whose scores only read a model), because they
train a language model with `fit_language_model`.
"""

import keras

from lm_keras.data.pipeline import encode_documents
from lm_keras.errors import ConfigError
from lm_keras.evaluation.compare import evaluate
from lm_keras.evaluation.text_quality import distinct_n, judge_nll, self_bleu
from lm_keras.models import build_model
from lm_keras.training.fit import compile_language_model, fit_language_model


def reverse_lm_nll(generated, reference, tokenizer, config, model_type="rnn", **model_options):
    """Diversity and coverage: NLL per token (nats) of the real `reference` texts under an LM trained on `generated`.

    The LM is built from `model_type`/`model_options` and trained with `config` (a
    `TrainConfig`; its `context_length` is the window) on the generated texts only, each
    read as `[BOS] text [EOS]`; it never sees a real text. A generator that produced a
    few texts over and over gives a reverse LM that finds the real test texts unlikely.
    """
    train_ids = encode_documents(list(generated), tokenizer, add_special_tokens=True)
    keras.utils.set_random_seed(config.seed)
    model = build_model(model_type, vocabulary_size=tokenizer.vocabulary_size, **model_options)
    compile_language_model(model, config)
    # the generated texts are also the "validation" data: the real texts stay unseen until the end
    fit_language_model(model, train_ids, train_ids, config, verbose=0)
    return evaluate(model, tokenizer, list(reference), line_level=True, context_length=config.context_length)["loss"]


def score_generations(texts, judge, tokenizer, references, reverse_config, self_bleu_count=None, expected=None,
                      **reverse_model_options):
    """Every score of `lm_keras.evaluation.text_quality` and the reverse-LM NLL for one set of generated `texts` -> dict (one row of a quality–diversity table).

    Args:
        texts: generated strings; empty ones are dropped (and counted in "empty").
        judge, tokenizer: the judge LM and its tokenizer (quality).
        references: the real held-out texts the reverse LM is scored on (diversity).
        reverse_config: `TrainConfig` of the reverse LM; `reverse_model_options` its
            `build_model` arguments (e.g. `hidden_dim`).
        self_bleu_count: score Self-BLEU on a seeded sample of this many texts.
        expected: how many texts were asked for (default `len(texts)`).
    """
    kept = [t for t in texts if t.strip()]
    if len(kept) < 2:
        raise ConfigError(f"Only {len(kept)} of {len(texts)} generated texts are non-empty: nothing to score.")
    return {"quality: judge NLL/token": judge_nll(judge, tokenizer, kept),
            "diversity: reverse-LM NLL/token": reverse_lm_nll(kept, references, tokenizer, reverse_config,
                                                              **reverse_model_options),
            "Self-BLEU": self_bleu(kept, max_count=self_bleu_count), "distinct-2": distinct_n(kept, 2),
            "empty": 1 - len(kept) / (expected or len(texts))}
