"""Who wrote this poem? Every classifier on both poet tasks, same splits, with bootstrap 95% intervals.

    python benchmarks/poet_attribution.py                  # the full table (2 CPU cores: the pretraining alone takes about 17 min)
    python benchmarks/poet_attribution.py --quick          # tiny sizes, to try the script (~3 min)
    python benchmarks/poet_attribution.py --pretrained saved_models/poet_lm   # reuse a pretrained LM

Tasks (`lm_keras.data.classification.poet_task`, stratified 80/10/10 split by poem, seed 0):
李白 vs 杜甫, and the ten named poets with the most poems. Models, all char-level with one
tokenizer (built from the pretraining text), reading at most `max_length` tokens of a poem:
1. the majority class (the floor);
2. multinomial naive Bayes over char 1- and 2-grams (α chosen on the validation split);
3. the documents' Embedding → LSTM → Dense → Dense, corrected (one answer per poem);
4. the project's Transformer LM, pretrained on every Tang poem except the validation and
   test poems of both tasks, with a classification head: the backbone frozen (head only),
   and fully fine-tuned with a lower learning rate.
Prints the table (accuracy and macro-F1 with their intervals, training time, examples/s),
writes it as JSON.
"""

import argparse
import json
import os
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from common import device_name  # noqa: E402
from lm_keras.config import RunConfig, TokenizerConfig, TrainConfig  # noqa: E402
from lm_keras.data import load_corpus  # noqa: E402
from lm_keras.data.classification import encode_texts, poet_task, pretraining_poems  # noqa: E402
from lm_keras.evaluation.classification import evaluate_classifier  # noqa: E402
from lm_keras.models import LSTMClassifier, NaiveBayesClassifier, TransformerClassifier  # noqa: E402
from lm_keras.runs import load_run  # noqa: E402
from lm_keras.training import compile_classifier, fit_classifier, pretrain_language_model  # noqa: E402

SIZES = {
    "full": dict(max_length=128, layers=4, heads=4, d_model=128, pretrain_steps=1200, pretrain_batch=32,
                 lstm=dict(embedding_dim=128, hidden_dim=256, dense_dim=128, dropout=0.2), lstm_epochs=6,
                 head_epochs=4, finetune_epochs=4, bootstrap=1000),
    "quick": dict(max_length=64, layers=1, heads=2, d_model=32, pretrain_steps=60, pretrain_batch=16,
                  lstm=dict(embedding_dim=16, hidden_dim=32, dense_dim=16, dropout=0.0), lstm_epochs=1,
                  head_epochs=1, finetune_epochs=1, bootstrap=200),
}
ALPHAS = (0.01, 0.03, 0.1, 0.3, 1.0)


def pretrain(poems, size, out):
    config = RunConfig(corpus="pretraining", model_type="transformer", tokenizer=TokenizerConfig("char", 5000),
                       model=dict(num_layers=size["layers"], num_heads=size["heads"], d_model=size["d_model"],
                                  dropout=0.1, context_length=size["max_length"]),
                       train=TrainConfig(context_length=size["max_length"], batch_size=size["pretrain_batch"],
                                         steps=size["pretrain_steps"],
                                         eval_interval=max(1, size["pretrain_steps"] // 6), eval_batches=20,
                                         optimizer="adamw", learning_rate=1e-3, weight_decay=0.1, beta_2=0.99,
                                         schedule="cosine", warmup_steps=min(200, size["pretrain_steps"] // 10),
                                         jit_compile=True, validation_fraction=0.02, seed=0))
    return pretrain_language_model(poems, config, out=out, overwrite=True, verbose=0, name="Tang poems (pretraining)")


def timed_fit(model, data, rows, config, **options):
    start = time.perf_counter()
    history = fit_classifier(model, rows["train"], data.targets["train"], rows["validation"],
                             data.targets["validation"], config, **options)
    seconds = time.perf_counter() - start
    epochs = len(history.history["loss"])
    return seconds, epochs * len(rows["train"]) / seconds


def row(name, model, data, rows, size, seconds=0.0, examples_per_second=None):
    report = evaluate_classifier(model, rows["test"], data.targets["test"], data.labels, size["bootstrap"])
    result = {"model": name, "accuracy": report["accuracy"], "accuracy 95% CI": report["accuracy_ci"],
              "macro-F1": report["macro_f1"], "macro-F1 95% CI": report["macro_f1_ci"],
              "train s": round(seconds, 1), "examples/s": examples_per_second}
    print(json.dumps({"task": data.name, **result}, ensure_ascii=False), flush=True)
    return result


def run_task(data, tokenizer, backbone_run, size):
    rows = {split: encode_texts(texts, tokenizer, size["max_length"]) for split, texts in data.texts.items()}
    majority = data.majority_class()
    table = [{"model": "majority class", "accuracy": data.majority_baseline("test"),
              "macro-F1": evaluate_classifier_constant(data, majority)}]

    # naive Bayes: α chosen on the validation split
    start = time.perf_counter()
    best = max(ALPHAS, key=lambda a: np.mean(
        NaiveBayesClassifier(tokenizer.vocabulary_size, data.num_classes, alpha=a)
        .fit(rows["train"], data.targets["train"]).predict_probabilities(rows["validation"]).argmax(1)
        == data.targets["validation"]))
    naive_bayes = NaiveBayesClassifier(tokenizer.vocabulary_size, data.num_classes, alpha=best)
    naive_bayes.fit(rows["train"], data.targets["train"])
    seconds = time.perf_counter() - start
    table.append(row(f"naive Bayes, char 1-2-grams (α={best})", naive_bayes, data, rows, size, seconds,
                     len(ALPHAS) * len(rows["train"]) / seconds))

    keras.utils.set_random_seed(0)
    config = TrainConfig(batch_size=32, epochs=size["lstm_epochs"], learning_rate=2e-3, schedule="cosine",
                         early_stopping_patience=2, seed=0)
    lstm = LSTMClassifier(tokenizer.vocabulary_size, data.num_classes, **size["lstm"])
    compile_classifier(lstm, config, len(rows["train"]))
    table.append(row("Embedding → LSTM → Dense (documents', corrected)", lstm, data, rows, size,
                     *timed_fit(lstm, data, rows, config)))

    for name, frozen, epochs, learning_rate in (("frozen backbone + head", True, size["head_epochs"], 1e-3),
                                                ("fully fine-tuned", False, size["finetune_epochs"], 1e-4)):
        keras.utils.set_random_seed(0)
        backbone = keras.saving.load_model(backbone_run.path / "model.keras", compile=False) \
            if backbone_run.path else backbone_run.model
        classifier = TransformerClassifier(backbone, data.num_classes, pooling="mean", dropout=0.1)
        classifier.freeze_backbone(frozen)
        config = TrainConfig(batch_size=32, epochs=epochs, optimizer="adamw", learning_rate=learning_rate,
                             weight_decay=0.01, schedule="cosine", warmup_steps=50, early_stopping_patience=2,
                             jit_compile=True, seed=0)
        compile_classifier(classifier, config, len(rows["train"]))
        table.append(row(f"pretrained Transformer LM, {name}", classifier, data, rows, size,
                         *timed_fit(classifier, data, rows, config)))
    return table


def evaluate_classifier_constant(data, class_id):
    from lm_keras.evaluation.classification import macro_f1

    return macro_f1(data.targets["test"], np.full(len(data.targets["test"]), class_id), data.num_classes)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", choices=sorted(SIZES), default="full")
    parser.add_argument("--quick", action="store_true", help="same as --size quick")
    parser.add_argument("--pretrained", help="a run directory of a Transformer LM pretrained by this script")
    parser.add_argument("--pretrain-out", default="saved_models/poet_lm", help="where the pretrained LM is saved")
    parser.add_argument("--out", default="poet_attribution", help="prefix of the JSON written")
    parser.add_argument("--tasks", nargs="+", choices=("li_du", "ten_poets"), default=["li_du", "ten_poets"])
    parser.add_argument("--epochs", type=int, help="at most this many epochs for every trained classifier")
    args = parser.parse_args()
    size = dict(SIZES["quick" if args.quick else args.size])
    if args.epochs:
        size.update({k: min(size[k], args.epochs) for k in ("lstm_epochs", "head_epochs", "finetune_epochs")})
    corpus = load_corpus("tang_poems")
    both = [poet_task("li_du", corpus), poet_task("ten_poets", corpus)]
    poems = pretraining_poems(*both, corpus=corpus)  # always without either task's held-out poems
    tasks = [data for data in both if data.name in args.tasks]
    print(f"{device_name()}; pretraining on {len(poems):,} poems ({sum(map(len, poems)):,} characters), none of "
          f"them a validation or test poem of either task")
    for data in tasks:
        print(data.name, dict(data.counts()["total"]), flush=True)
    start = time.perf_counter()
    if args.pretrained:
        backbone_run = load_run(args.pretrained)
    else:
        backbone_run = pretrain(poems, size, args.pretrain_out)
    pretrain_seconds = time.perf_counter() - start
    print(f"pretrained LM: validation loss {backbone_run.evaluation['loss']:.3f} nats/char "
          f"({pretrain_seconds:.0f} s)", flush=True)

    results = {}
    for data in tasks:
        frame = pd.DataFrame(run_task(data, backbone_run.tokenizer, backbone_run, size)).set_index("model")
        results[data.name] = frame
        with pd.option_context("display.width", 250, "display.max_columns", 20, "display.max_colwidth", 60,
                               "display.float_format", "{:.3f}".format):
            print(f"\n{data.name}: {len(data.targets['test'])} test poems\n{frame}\n", flush=True)
    with open(f"{args.out}.json", "w") as f:
        json.dump({"device": device_name(), "size": size, "pretrain_seconds": pretrain_seconds,
                   "pretrain_validation_loss": backbone_run.evaluation["loss"],
                   "results": {k: v.reset_index().to_dict("records") for k, v in results.items()}},
                  f, indent=2, ensure_ascii=False, default=float)
    print(f"total {time.perf_counter() - start:.0f} s; wrote {args.out}.json")


if __name__ == "__main__":
    main()
