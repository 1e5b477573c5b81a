"""Export a language model as a SavedModel that serves strings, and load it back.

    <export>/
        saved_model.pb, variables/     the graphs (generate, score) and the weights
        assets/tokenizer.json           the vocabulary (the graph holds it in lookup tables)
        assets/export.json              what was exported: model, tokenizer kind, defaults, limits
        assets.extra/model.keras        the Keras model, for further training

Loading needs only TensorFlow: `tf.saved_model.load(path)`; a model with the subword or the
GPT-2 tokenizer also needs `import tensorflow_text` first (its ops live there; export.json
says so in `needs_tensorflow_text`, and `load` imports it).
"""

import json
import tempfile
from pathlib import Path

import tensorflow as tf

import lm_keras
from lm_keras.errors import ConfigError, ModelLoadError, OutputExistsError
from lm_keras.export.classifier_server import ClassifierServer
from lm_keras.export.server import DEFAULTS, LanguageModelServer
from lm_keras.export.vae_server import VAEServer
from lm_keras.utils.atomic import atomic_directory

EXPORT_INFO = "export.json"
KERAS_FILE = "model.keras"


SIGNATURES = {
    "generate": "prompt string[batch], max_new_tokens int32, temperature float32, top_k int32, "
                "top_p float32, seed int32 -> text string[batch]",
    "score": "text string[batch] -> log_likelihood float32[batch], num_tokens int32[batch], "
             "perplexity float32[batch]",
    "serving_default": "prompt string[batch] -> text string[batch] (generate with the defaults)",
}
VAE_SIGNATURES = {
    "encode": "text string[batch] -> z_mean float32[batch, latent_dim], z_log_var float32[batch, latent_dim]",
    "reconstruct": "text string[batch], temperature float32, seed int32 -> text string[batch] (decoded from z_mean)",
    "sample": "count int32, temperature float32, seed int32 -> text string[count] (z from the prior N(0, I))",
    "interpolate": "text_a string, text_b string, steps int32 -> text string[steps], t float32[steps]",
    "generate": SIGNATURES["generate"] + " (given z = 0)",
    "serving_default": SIGNATURES["serving_default"],
}


CLASSIFIER_SIGNATURES = {
    "classify": "text string[batch] -> label string[batch], class_id int32[batch], "
                "probabilities float32[batch, num_classes]",
    "serving_default": "the same as classify",
}
CLASSIFIER_CLASSES = ("LSTMClassifier", "NaiveBayesClassifier", "TransformerClassifier")


def export_saved_model(model, tokenizer, path, overwrite=False, add_special_tokens=False,
                       max_new_tokens_limit=1024, jit_compile=True, run_config=None, labels=None, max_length=None):
    """Write `model` + `tokenizer` as a SavedModel directory at `path`, atomically.

    Any lm_keras language model, VAE or classifier, and a pretrained GPT-2 wrapped by
    `lm_keras.pretrained.from_keras_hub` (with `add_special_tokens=True`).

    Args:
        overwrite: replace an existing `path` (otherwise that is an error, and nothing is written).
        add_special_tokens: the model was trained on `[BOS] document [EOS]` lines (GPT-2: `<|endoftext|>`
            around each text); texts are scored that way and generation may end at [EOS].
        max_new_tokens_limit: the most new tokens one `generate` call may ask for.
        jit_compile: XLA-compile the decode loop inside the SavedModel.
        run_config: optional `RunConfig`, recorded in export.json.
        labels: a classifier's class names, in class-id order (required for a classifier).
        max_length: a classifier reads the first `max_length` tokens of a text, as in
            training (default: its context length, else 512).

    Returns:
        The `Path` of the export.
    """
    path = Path(path)
    if path.exists() and not overwrite:
        raise OutputExistsError(f"{path} already exists; pass overwrite=True (CLI: --overwrite) to replace it.")
    if not 1 <= max_new_tokens_limit <= 65536:
        raise ConfigError(f"max_new_tokens_limit={max_new_tokens_limit} is invalid: must be in [1, 65536]")
    is_vae = getattr(model, "latent_dim", None) is not None
    is_classifier = type(model).__name__ in CLASSIFIER_CLASSES
    if is_classifier:
        labels = [str(label) for label in labels] if labels is not None else None
        if labels is None or len(labels) != model.num_classes:
            raise ConfigError(f"labels={labels!r} is invalid: a classifier of {model.num_classes} classes needs "
                             f"labels, a list of {model.num_classes} class names")
        max_length = max_length or getattr(model, "context_length", None) or 512
        if not 2 <= max_length <= (getattr(model, "context_length", None) or max_length):
            raise ConfigError(f"max_length={max_length} is invalid: must be in [2, the model's context length]")
    info = {
        "lm_keras_version": lm_keras.__version__,
        "model_class": type(model).__name__,
        "model_config": model.get_config(),
        "tokenizer_kind": tokenizer.kind,
        "needs_tensorflow_text": bool(getattr(tokenizer, "needs_tensorflow_text", tokenizer.kind == "subword")),
        "vocabulary_size": tokenizer.vocabulary_size,
        "context_length": getattr(model, "context_length", None),
        "add_special_tokens": add_special_tokens,
        "max_new_tokens_limit": max_new_tokens_limit,
        "generate_defaults": DEFAULTS,
        "run_config": run_config.to_dict() if run_config is not None else None,
        "signatures": CLASSIFIER_SIGNATURES if is_classifier else VAE_SIGNATURES if is_vae else SIGNATURES,
    }
    if is_classifier:
        info.update(labels=labels, max_length=max_length)
    with tempfile.TemporaryDirectory() as scratch, atomic_directory(path, overwrite=overwrite) as directory:
        tokenizer.save(scratch)
        (Path(scratch) / EXPORT_INFO).write_text(json.dumps(info, indent=2, ensure_ascii=False), encoding="utf-8")
        assets = {"tokenizer_json": Path(scratch) / "tokenizer.json", "export_json": Path(scratch) / EXPORT_INFO}
        if is_classifier:
            server = ClassifierServer(model, tokenizer, labels, max_length, assets=assets)
        elif is_vae:
            server = VAEServer(model, tokenizer, jit_compile, assets=assets)
        else:
            server = LanguageModelServer(model, tokenizer, add_special_tokens, max_new_tokens_limit, jit_compile,
                                         assets=assets)
        tf.saved_model.save(server, str(directory), signatures=server.signatures())
        (Path(directory) / "assets.extra").mkdir()
        model.save(Path(directory) / "assets.extra" / KERAS_FILE)
    return path


def export_run(run_path, out, overwrite=False, max_new_tokens_limit=1024, jit_compile=True):
    """Export a run directory written by `train_run` / `python -m lm_keras train`."""
    from lm_keras.runs import load_run

    run = load_run(run_path)
    classifier = {"labels": run.labels, "max_length": run.config.train.context_length} if run.labels else {}
    return export_saved_model(run.model, run.tokenizer, out, overwrite=overwrite,
                              add_special_tokens=run.config.line_level, max_new_tokens_limit=max_new_tokens_limit,
                              jit_compile=jit_compile, run_config=run.config, **classifier)


def read_export_info(path):
    """The export.json of an export directory, or ModelLoadError naming what is missing."""
    path = Path(path)
    if not path.is_dir():
        raise ModelLoadError(f"No SavedModel directory at {path}. Export one with "
                             f"`python -m lm_keras export RUN_DIR --out {path}`.")
    missing = [name for name in ("saved_model.pb", "variables/variables.index", f"assets/{EXPORT_INFO}")
               if not (path / name).is_file()]
    if missing:
        raise ModelLoadError(f"{path} is not a complete lm_keras export (missing {', '.join(missing)}); "
                             f"export it again.")
    try:
        return json.loads((path / "assets" / EXPORT_INFO).read_text(encoding="utf-8"))
    except ValueError as e:
        raise ModelLoadError(f"{path / 'assets' / EXPORT_INFO} is corrupted ({e}); export it again.") from e


def load_saved_model(path):
    """`tf.saved_model.load` with clear errors (and `tensorflow_text` imported when the export needs it)."""
    info = read_export_info(path)
    if info.get("needs_tensorflow_text", info.get("tokenizer_kind") == "subword"):
        try:
            import tensorflow_text  # noqa: F401  (registers the WordPiece / BPE pre-split ops the graph uses)
        except ImportError as e:
            raise ModelLoadError(f"{path} uses the {info['tokenizer_kind']} tokenizer, whose ops are in "
                                 f"tensorflow-text: `pip install tensorflow-text` (same version as tensorflow).") from e
    try:
        return tf.saved_model.load(str(path)), info
    except (tf.errors.OpError, ValueError, OSError, KeyError) as e:
        first_line = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        raise ModelLoadError(f"{path} is corrupted or incomplete and cannot be loaded ({first_line[:300]}).") from e


class ExportedLanguageModel:
    """A loaded export, ready to use from Python (only TensorFlow runs underneath).

    Example:
        >>> lm = load("saved_models/shakespeare_export")
        >>> lm("ROMEO:", max_new_tokens=100, temperature=0.8, seed=1)
        >>> lm.score(["To be, or not to be"])["perplexity"]
    """

    def __init__(self, path):
        self.path = Path(path)
        self.saved_model, self.info = load_saved_model(path)

    def __call__(self, prompts, max_new_tokens=DEFAULTS["max_new_tokens"], temperature=DEFAULTS["temperature"],
                 top_k=DEFAULTS["top_k"], top_p=DEFAULTS["top_p"], seed=None):
        """Prompt(s) -> prompt + generated text (a str for a str, a list for a list)."""
        single = isinstance(prompts, str)
        batch = tf.constant([prompts] if single else list(prompts), tf.string)
        try:
            result = self.saved_model.generate(batch, tf.constant(max_new_tokens, tf.int32),
                                               tf.constant(temperature, tf.float32), tf.constant(top_k, tf.int32),
                                               tf.constant(top_p, tf.float32),
                                               tf.constant(-1 if seed is None else seed, tf.int32))
        except tf.errors.InvalidArgumentError as e:
            # TensorFlow wraps the assertion's message in a graph execution report: keep its line
            reason = next((line.strip() for line in str(e).splitlines() if "is invalid" in line), str(e))
            raise ConfigError(reason) from None
        texts = [t.decode("utf-8") for t in result["text"].numpy()]
        return texts[0] if single else texts

    generate = __call__

    def score(self, texts):
        """Texts -> {"log_likelihood", "num_tokens", "perplexity"}, NumPy arrays (batch,)."""
        result = self.saved_model.score(tf.constant([texts] if isinstance(texts, str) else list(texts), tf.string))
        return {k: v.numpy() for k, v in result.items()}


class ExportedVAE(ExportedLanguageModel):
    """A loaded text VAE export: `encode`, `reconstruct`, `sample`, `interpolate` (and `generate` given z = 0)."""

    def encode(self, texts):
        """Texts -> (z_mean, z_log_var), NumPy arrays (batch, latent_dim)."""
        result = self.saved_model.encode(tf.constant(list(texts), tf.string))
        return result["z_mean"].numpy(), result["z_log_var"].numpy()

    def reconstruct(self, texts, temperature=0.0, seed=0):
        result = self.saved_model.reconstruct(tf.constant(list(texts), tf.string), tf.constant(temperature, tf.float32),
                                              tf.constant(seed, tf.int32))
        return _strings(result["text"])

    def sample(self, count, temperature=0.0, seed=None):
        result = self.saved_model.sample(tf.constant(count, tf.int32), tf.constant(temperature, tf.float32),
                                         tf.constant(-1 if seed is None else seed, tf.int32))
        return _strings(result["text"])

    def interpolate(self, text_a, text_b, steps=5):
        """-> list of (t, text) for `steps` codes from μ(text_a) to μ(text_b)."""
        result = self.saved_model.interpolate(tf.constant(text_a), tf.constant(text_b), tf.constant(steps, tf.int32))
        return list(zip(result["t"].numpy().tolist(), _strings(result["text"])))

    def score(self, texts):
        raise NotImplementedError("A text VAE export has no `score`: its likelihood is a bound, see "
                                  "lm_keras.evaluation.latent.importance_weighted_log_likelihood.")


def _strings(tensor):
    return [t.decode("utf-8") for t in tensor.numpy()]


class ExportedClassifier:
    """A loaded classifier export (only TensorFlow runs underneath).

    Example:
        >>> poets = load("saved_models/poets_export")
        >>> poets("床前明月光，疑是地上霜。舉頭望明月，低頭思故鄉。")        # -> "李白"
        >>> poets.classify(["..."])["probabilities"]                      # (batch, num_classes)
    """

    def __init__(self, path):
        self.path = Path(path)
        self.saved_model, self.info = load_saved_model(path)
        self.labels = self.info["labels"]

    def classify(self, texts):
        """Texts -> {"label": list of str, "class_id": (batch,), "probabilities": (batch, num_classes)}."""
        result = self.saved_model.classify(tf.constant([texts] if isinstance(texts, str) else list(texts), tf.string))
        return {"label": _strings(result["label"]), "class_id": result["class_id"].numpy(),
                "probabilities": result["probabilities"].numpy()}

    def __call__(self, texts):
        """Text(s) -> the predicted label (a str for a str, a list for a list)."""
        labels = self.classify(texts)["label"]
        return labels[0] if isinstance(texts, str) else labels


def load(path):
    """Load an export written by `export_saved_model` / `python -m lm_keras export`."""
    model_class = read_export_info(path).get("model_class")
    if model_class in CLASSIFIER_CLASSES:
        return ExportedClassifier(path)
    return ExportedVAE(path) if model_class == "TextVAE" else ExportedLanguageModel(path)
