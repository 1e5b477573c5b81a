"""Pretrained GPT-2 through KerasHub, on the project's road: load it (offline-friendly), wrap it, and the
project's own generation, evaluation, training and export serve it.

    causal_lm = load_gpt2("gpt2_base_en")            # or a local preset directory; build_tiny_gpt2() offline
    model, tokenizer = from_keras_hub(causal_lm)      # the project's LanguageModel and Tokenizer interfaces
    Generator(model, tokenizer)("The meaning of life is", max_new_tokens=40, top_p=0.9, seed=1)
    score_texts(model, tokenizer, texts, add_special_tokens=True)     # lm_keras.evaluation
    enable_lora(model, 4); compile_language_model(model, config); fit_language_model(model, ...)
    export_saved_model(model, tokenizer, "saved_models/gpt2", add_special_tokens=True)
"""

from lm_keras.pretrained.loading import gpt2_presets, load_gpt2
from lm_keras.pretrained.lora import count_trainable, enable_lora
from lm_keras.pretrained.model import KerasHubLanguageModel, from_keras_hub
from lm_keras.pretrained.shims import kaggle_cache_path
from lm_keras.pretrained.tiny import build_tiny_gpt2
from lm_keras.pretrained.tokenizer import KerasHubTokenizer, tokens_per_character

__all__ = ["KerasHubLanguageModel", "KerasHubTokenizer", "build_tiny_gpt2", "count_trainable", "enable_lora",
           "from_keras_hub", "gpt2_presets", "kaggle_cache_path", "load_gpt2", "tokens_per_character"]
