"""Pretrained GPT-2 through KerasHub: load (offline-friendly), generate, score, LoRA fine-tune, export.

    causal_lm = load_gpt2("gpt2_base_en", dtype="auto")  # or a directory; dtype: the precision to fine-tune in
    generate(causal_lm, "The meaning of life is", max_length=40, sampler="top_p", seed=1)
    score_texts(causal_lm, texts)["nll_per_character"]   # comparable with the char models
    finetune(causal_lm, texts, TrainConfig(steps=200, batch_size=8), lora_rank=4)
    export_gpt2(causal_lm, "saved_models/gpt2_export")
"""

from lm_keras.pretrained.export import GPT2Server, export_gpt2
from lm_keras.pretrained.finetune import check_precision, count_trainable, enable_lora, finetune
from lm_keras.pretrained.generation import SAMPLERS, generate, make_sampler, score_texts, tokens_per_character
from lm_keras.pretrained.loading import gpt2_presets, load_gpt2
from lm_keras.pretrained.shims import kaggle_cache_path
from lm_keras.pretrained.tiny import build_tiny_gpt2

__all__ = ["GPT2Server", "SAMPLERS", "build_tiny_gpt2", "check_precision", "count_trainable", "enable_lora",
           "export_gpt2", "finetune", "generate", "gpt2_presets", "kaggle_cache_path", "load_gpt2", "make_sampler",
           "score_texts", "tokens_per_character"]
