"""Load a pretrained GPT-2 from a KerasHub preset name or a local preset directory, offline-friendly.

A preset name (`gpt2_base_en`, ...) is a Kaggle Models handle that KerasHub downloads once
into the kagglehub cache (`~/.cache/kagglehub`, or `$KAGGLEHUB_CACHE`); a preset directory
is what `causal_lm.save_to_preset(dir)` writes. Without internet only the cache and
directories work, and every failure is a `ModelLoadError` that says how to get the preset.
"""

import os
from pathlib import Path

from lm_keras.errors import ModelLoadError
from lm_keras.pretrained.shims import KAGGLE_PREFIX, kaggle_cache_path


def gpt2_presets():
    """{preset name: Kaggle handle} of KerasHub's built-in GPT-2 presets."""
    import keras_hub

    return {name: spec["kaggle_handle"] for name, spec in keras_hub.models.GPT2CausalLM.presets.items()}


def _looks_like_path(preset):
    return isinstance(preset, os.PathLike) or (
        "://" not in preset and (os.sep in preset or "/" in preset or preset.startswith((".", "~"))))


def _how_to_get(preset, handle):
    return (f"Run once with internet (e.g. on Colab): `keras_hub.models.GPT2CausalLM.from_preset({preset!r})"
            f".save_to_preset('gpt2_preset')`, copy that folder here and pass its path, "
            f"load_gpt2('gpt2_preset'); or point $KAGGLEHUB_CACHE at a cache that holds {handle}.")


def load_gpt2(preset, dtype=None, download=True):
    """A `keras_hub.models.GPT2CausalLM` with its `GPT2CausalLMPreprocessor`.

    Args:
        preset: a KerasHub GPT-2 preset name (`gpt2_base_en`, `gpt2_medium_en`, ...), a
            `kaggle://` / `hf://` handle, or a local preset directory.
        dtype: a Keras dtype policy (`"float32"`, `"mixed_bfloat16"`, `"bfloat16"`, ...),
            `"auto"` for the project's choice for this device (`resolve_precision`), or None
            for the global policy.
        download: allow downloading a preset that is not cached; False fails at once.

    Raises:
        ModelLoadError: the directory is missing or not a preset, the name is unknown, or
            the preset is neither cached nor downloadable; the message names the preset
            and how to get it.
    """
    import keras_hub

    if dtype == "auto":
        from lm_keras.training.devices import resolve_precision

        dtype = resolve_precision("auto")
    return _from_preset(keras_hub.models.GPT2CausalLM, preset, download, dtype=dtype)


def load_gpt2_tokenizer(preset, download=True):
    """The `KerasHubTokenizer` of a GPT-2 preset (its vocabulary and merges only, no weights)."""
    import keras_hub

    from lm_keras.pretrained.tokenizer import KerasHubTokenizer

    return KerasHubTokenizer.from_keras_hub(_from_preset(keras_hub.models.GPT2Tokenizer, preset, download))


def _from_preset(cls, preset, download, **options):
    """`cls.from_preset` of a preset name, handle or directory; every failure is a `ModelLoadError`."""
    if _looks_like_path(preset):
        directory = Path(preset).expanduser()
        if not (directory / "config.json").is_file():
            raise ModelLoadError(f"{directory} is not a KerasHub preset directory (no config.json); write one "
                                 f"with `causal_lm.save_to_preset({str(directory)!r})`.")
        source, handle = str(directory), None
    else:
        presets = gpt2_presets()
        if preset not in presets and "://" not in preset:
            raise ModelLoadError(f"Unknown GPT-2 preset {preset!r}: use one of {', '.join(sorted(presets))}, "
                                 f"a kaggle:// or hf:// handle, or a local preset directory.")
        handle = presets.get(preset, preset)
        cached = kaggle_cache_path(handle) if handle.startswith(KAGGLE_PREFIX) else None
        if cached is None and not download:
            raise ModelLoadError(f"The GPT-2 preset {preset!r} ({handle}) is not in the KerasHub/Kaggle cache and "
                                 f"download=False. " + _how_to_get(preset, handle))
        # A cached preset is read as a directory: through the handle, KerasHub would ask Kaggle
        # about optional files that the preset does not have, which fails offline.
        source = cached or handle
    try:
        return cls.from_preset(source, **options)
    except Exception as e:  # noqa: BLE001  (network, HTTP, file and format errors all end here)
        reason = (str(e).strip().splitlines() or [type(e).__name__])[0][:300]
        if handle is None:
            raise ModelLoadError(f"The preset directory {source} could not be loaded ({reason}).") from e
        if source != handle:
            raise ModelLoadError(f"The cached copy of the GPT-2 preset {preset!r} at {source} could not be loaded "
                                 f"({reason}); delete that folder and load it again with internet.") from e
        raise ModelLoadError(f"Could not load the GPT-2 preset {preset!r} ({handle}): it is not in the "
                             f"KerasHub/Kaggle cache and the download failed ({reason}). "
                             + _how_to_get(preset, handle)) from e
